import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GRDB
import Testing
@testable import StewardCatalog
@testable import StewardServer

/// `steward token …` and `steward serve` through the built binary.
extension ServeTests {
@Suite struct Commands {
    @Test func aTokenIsPrintedOnceAndOnlyItsHashIsStored() async throws {
        let demo = try await ServeDemo.shared.value
        let project = demo.project.dir.path
        let created = try await offPool { try StewardBinary.run(["token", "create", "shop-reader", "--scope", "read", "--expires", "30d", "--project", project]) }
        #expect(created.status == 0, "\(created.stderr)")
        let token = try #require(created.stdout.split(separator: "\n").last.map(String.init))
        #expect(token.hasPrefix("stw_") && token.count > 40)
        #expect(try demo.catalog.authenticateAPIToken(token)?.name == "shop-reader")

        // Nowhere in the catalog's files is the token itself. Read by another process: closing a file
        // descriptor of the catalog in this one would drop the POSIX locks of its SQLite connections.
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: demo.config.catalogURL.path + suffix) {
            let grep = Process()
            grep.executableURL = URL(fileURLWithPath: "/bin/grep")
            grep.arguments = ["-F", "-q", "-a", token, demo.config.catalogURL.path + suffix]
            try grep.run()
            grep.waitUntilExit()
            #expect(grep.terminationStatus == 1, "catalog\(suffix) holds the token")
        }
        let listed = try await offPool { try StewardBinary.run(["token", "list", "--json", "--project", project]) }
        #expect(!listed.stdout.contains(token))
        let rows = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]]
        let row = try #require(rows?.first { $0["name"] as? String == "shop-reader" })
        #expect(row["scope"] as? String == "read" && row["state"] as? String == "active" && row["expires_at"] is String)

        let again = try await offPool { try StewardBinary.run(["token", "create", "shop-reader", "--scope", "pii", "--project", project]) }
        #expect(again.status == 2 && again.stderr.contains("already exists"))
        let badScope = try await offPool { try StewardBinary.run(["token", "create", "x", "--scope", "admin", "--project", project]) }
        #expect(badScope.status == 2 && badScope.stderr.contains("--scope"))

        let revoked = try await offPool { try StewardBinary.run(["token", "revoke", "shop-reader", "--project", project]) }
        #expect(revoked.status == 0)
        #expect(try demo.catalog.authenticateAPIToken(token) == nil)
        let events = try await demo.catalog.pool.read { db in
            try String.fetchAll(db, sql: "SELECT action FROM audit_event WHERE subject = 'token:shop-reader' ORDER BY id")
        }
        #expect(events == ["token_create", "token_revoke"])
    }

    @Test func aNonLoopbackAddressWithoutTLSIsRefused() async throws {
        let demo = try await ServeDemo.shared.value
        let project = demo.project.dir.path
        let refused = try await offPool { try StewardBinary.run(["serve", "--listen", "0.0.0.0:0", "--project", project]) }
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("without TLS") && refused.stderr.contains("--insecure"))
        let half = try await offPool { try StewardBinary.run(["serve", "--tls-cert", "/nonexistent.pem", "--project", project]) }
        #expect(half.status == 2 && half.stderr.contains("--tls-key"))

        #expect(try ServerOptions(listen: "127.0.0.9:8750").isLoopback)
        #expect(try ServerOptions(listen: "[::1]:0").isLoopback)
        #expect(try ServerOptions(listen: ":9000").host == "127.0.0.1")
        #expect(try ServerOptions(listen: "0.0.0.0:8750", insecure: true).isLoopback == false)
        #expect(throws: ServeError.self) { try ServerOptions(listen: "192.168.1.10:8750") }
        #expect(throws: ServeError.self) { try ServerOptions(listen: "127.0.0.1") }
        #expect(throws: ServeError.self) { try ServerOptions(listen: "127.0.0.1:70000") }
    }

    @Test func sigtermStopsTheServerCleanly() async throws {
        let demo = try await ServeDemo.shared.value
        let made = try demo.token(.read)
        let token = made.token
        let project = demo.project.dir.path
        let (process, out, err) = try StewardBinary.start(["serve", "--listen", "127.0.0.1:0", "--project", project])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // The first line names the bound port.
        let line = try await offPool { () -> String in
            var data = Data()
            while !data.contains(UInt8(ascii: "\n")) {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                data.append(chunk)
            }
            return String(decoding: data, as: UTF8.self)
        }
        let port = try #require(line.split(separator: ":").last.flatMap { Int($0.prefix(while: \.isNumber)) }, "\(line)")
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/runs?limit=2")!)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (_, response) = try await RunningServer.plainSession().data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)

        kill(process.processIdentifier, SIGTERM)
        let status = try await offPool { () -> Int32 in
            let deadline = Date().addingTimeInterval(15)
            while process.isRunning && Date() < deadline { usleep(50_000) }
            return process.isRunning ? -1 : process.terminationStatus
        }
        #expect(status == 0)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(stderr.contains("stopped"))
        // The access log names the path, never the query string.
        #expect(stderr.contains("GET /v1/runs 200") && !stderr.contains("limit=2"))
    }

    /// A request still waiting for the catalog when SIGTERM arrives is answered (and its reveal
    /// audited) before the process exits 0: the drain is real, not a quick exit.
    @Test func sigtermDrainsARequestInFlight() async throws {
        let demo = try await ServeDemo.shared.value
        let pii = try demo.token(.pii)
        let id = try demo.someCustomerId()
        let (process, out, _) = try StewardBinary.start(["serve", "--listen", "127.0.0.1:0", "--project", demo.project.dir.path])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let line = try await offPool { String(decoding: out.fileHandleForReading.availableData, as: UTF8.self) }
        let port = try #require(line.split(separator: ":").last.flatMap { Int($0.prefix(while: \.isNumber)) }, "\(line)")
        let before = try demo.auditCount(actor: "token:\(pii.name)", action: "reveal")

        // This test holds the catalog's write lock: the server's reveal (which audits first) waits for it.
        let locked = DispatchSemaphore(value: 0)
        let holder = Task.detached {
            try demo.catalog.pool.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                locked.signal()
                Thread.sleep(forTimeInterval: 2)
                try db.execute(sql: "COMMIT")
            }
        }
        try await offPool { locked.wait() }
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/customers/\(id)?reveal=true")!)
        request.setValue("Bearer \(pii.token)", forHTTPHeaderField: "Authorization")
        let inFlight = Task { try await RunningServer.plainSession().data(for: request) }
        try await Task.sleep(for: .milliseconds(700))
        kill(process.processIdentifier, SIGTERM)

        let (body, response) = try await inFlight.value
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        let object = try JSONSerialization.jsonObject(with: body) as? [String: Any]
        #expect(object?["customer_id"] as? String == id)
        try await holder.value
        let status = try await offPool { () -> Int32 in
            let deadline = Date().addingTimeInterval(15)
            while process.isRunning && Date() < deadline { usleep(50_000) }
            return process.isRunning ? -1 : process.terminationStatus
        }
        #expect(status == 0)
        #expect(try demo.auditCount(actor: "token:\(pii.name)", action: "reveal") == before + 1)
    }
}
}
