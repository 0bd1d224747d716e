import Foundation
import GRDB
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import StewardCatalog
@testable import StewardMetrics

/// A tiny HTTP server on 127.0.0.1 (POSIX sockets) that records each request body and answers 200
/// (or what `answer` sets).
final class WebhookListener: @unchecked Sendable {
    private let fd: Int32
    let port: UInt16
    private let lock = NSLock()
    private var bodies: [String] = []
    private var stopped = false
    private var reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"

    /// Answers every later request with `response` (a whole HTTP response: status line, headers, body).
    func answer(_ response: String) { lock.lock(); reply = response; lock.unlock() }

    init() throws {
        let sock = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard sock >= 0 else { throw POSIXError(.EIO) }
        var yes: Int32 = 1
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(sock, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(sock, 8) == 0 else { close(sock); throw POSIXError(.EADDRINUSE) }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(sock, $0, &len) }
        }
        fd = sock
        port = UInt16(bigEndian: addr.sin_port)
        Thread { [self] in self.serve() }.start()
    }

    var url: String { "http://127.0.0.1:\(port)/hook" }

    var received: [String] { lock.lock(); defer { lock.unlock() }; return bodies }

    func stop() {
        lock.lock(); stopped = true; lock.unlock()
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    deinit { if !stopped { stop() } }

    private func serve() {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 { return }
            var data = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 4096)
            var expected: Int?
            while true {
                let n = read(client, &buffer, buffer.count)
                if n <= 0 { break }
                data += buffer[0..<n]
                let text = String(decoding: data, as: UTF8.self)
                if let headerEnd = text.range(of: "\r\n\r\n") {
                    if expected == nil {
                        let headers = text[..<headerEnd.lowerBound].lowercased()
                        let length = headers.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                        expected = text.utf8.distance(from: text.utf8.startIndex, to: headerEnd.upperBound) + length
                    }
                    if let expected, data.count >= expected { break }
                }
            }
            let text = String(decoding: data, as: UTF8.self)
            if let r = text.range(of: "\r\n\r\n") {
                lock.lock(); bodies.append(String(text[r.upperBound...])); lock.unlock()
            }
            let reply = Array(lock.withLock { self.reply }.utf8)
            _ = reply.withUnsafeBytes { write(client, $0.baseAddress, reply.count) }
            close(client)
        }
    }
}

/// A project with one fresh source without error checks and a manual KPI the test steers.
func kpiProject(webhook: String? = nil) -> TempProject {
    let p = TempProject("kpi")
    p.write("steward.yml", """
    name: kpis
    sources:
      - name: people
        system: crm
        entity: person
        format: csv
        path: people.csv
        key: id
        freshness: {warn_after: 1h, error_after: 24h}
        mapping: {first_name: first, email: email}
        checks:
          - not_null: [id]
    kpis:
      - {name: Marketing ROI, baseline: "2:1", target: "4:1", due: 2099-12-31}
      - {name: Data freshness, target: "< 1 hour"}
    \(webhook.map { "alerts:\n  - webhook: \($0)\n" } ?? "")
    """)
    p.write("people.csv", "id,first,email\n1,Ann,ann@example.com\n2,Bob,bob@example.com\n")
    return p
}

@Suite(.serialized) struct MetricsCLITests: Sendable {
    @Test func checkExitCodesFollowTheWorstProblem() async throws {
        try await offPool {
            let p = kpiProject()
            let dir = p.dir.path
            // Before any run: a warning, not a silent "ok".
            let before = try StewardBinary.run(["check", "--project", dir])
            #expect(before.status == 1)
            #expect(before.stdout.contains("never_run") && before.stdout.contains("never_loaded people"))
            #expect(try StewardBinary.run(["run", "--project", dir]).status == 0)
            // Nothing recorded for the manual KPI: no_data is not a problem.
            let ok = try StewardBinary.run(["check", "--json", "--project", dir])
            #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
            let okJSON = try JSONSerialization.jsonObject(with: Data(ok.stdout.utf8)) as! [String: Any]
            #expect(okJSON["status"] as? String == "ok" && (okJSON["problems"] as? [Any])?.isEmpty == true)

            #expect(try StewardBinary.run(["kpi", "record", "marketing roi", "3:1", "--project", dir]).status == 0)
            let breach = try StewardBinary.run(["check", "--project", dir])
            #expect(breach.status == 2)
            #expect(breach.stdout.contains("kpi_breached Marketing ROI"))

            // 4.1:1 is within 10 % of the 2:1 → 4:1 margin: a warning.
            #expect(try StewardBinary.run(["kpi", "record", "Marketing ROI", "4.1:1", "--project", dir]).status == 0)
            let warn = try StewardBinary.run(["check", "--json", "--project", dir])
            #expect(warn.status == 1)
            let problems = (try JSONSerialization.jsonObject(with: Data(warn.stdout.utf8)) as! [String: Any])["problems"] as! [[String: Any]]
            #expect(problems.map { $0["kind"] as? String } == ["kpi_at_risk"])
            #expect(problems.first?["subject"] as? String == "Marketing ROI")

            #expect(try StewardBinary.run(["kpi", "record", "Marketing ROI", "5:1", "--project", dir]).status == 0)
            #expect(try StewardBinary.run(["check", "--project", dir]).status == 0)

            let kpi = try StewardBinary.run(["kpi", "--json", "--project", dir])
            #expect(kpi.status == 0)
            let list = try JSONSerialization.jsonObject(with: Data(kpi.stdout.utf8)) as! [[String: Any]]
            let roi = try #require(list.first { $0["name"] as? String == "Marketing ROI" })
            #expect(roi["status"] as? String == "met" && roi["actual"] as? Double == 5 && roi["unit"] as? String == "ratio")
            #expect(roi["target"] as? String == "4:1" && roi["due"] as? String == "2099-12-31")
            let fresh = try #require(list.first { $0["name"] as? String == "Data freshness" })
            #expect(fresh["status"] as? String == "met" && fresh["actual"] is Double)

            // Usage errors exit 2 and change nothing.
            #expect(try StewardBinary.run(["kpi", "record", "Nonexistent", "1", "--project", dir]).status == 2)
            #expect(try StewardBinary.run(["kpi", "record", "Data freshness", "5m", "--project", dir]).status == 2)
            #expect(try StewardBinary.run(["kpi", "record", "Marketing ROI", "45%", "--project", dir]).status == 2)
            #expect(try StewardBinary.run(["kpi", "record", "Marketing ROI", "3:1", "--at", "yesterday", "--project", dir]).status == 2)
        }
    }

    @Test func aWebhookGetsOneMessagePerStateChange() async throws {
        let listener = try WebhookListener()
        defer { listener.stop() }
        try await offPool {
            let p = kpiProject(webhook: listener.url)
            let dir = p.dir.path
            #expect(try StewardBinary.run(["run", "--project", dir]).status == 0)
            #expect(listener.received.isEmpty)   // ok → ok: nothing to say
            #expect(try StewardBinary.run(["kpi", "record", "Marketing ROI", "3:1", "--project", dir]).status == 0)
            #expect(try StewardBinary.run(["check", "--project", dir]).status == 2)
            #expect(listener.received.count == 1)
            let first = try JSONSerialization.jsonObject(with: Data(listener.received[0].utf8)) as! [String: Any]
            #expect(first["status"] as? String == "breach")
            #expect((first["text"] as? String)?.contains("Marketing ROI") == true)
            #expect((first["problems"] as? [[String: Any]])?.first?["kind"] as? String == "kpi_breached")
            // The state holds: no repeat, from check or from a run.
            #expect(try StewardBinary.run(["check", "--project", dir]).status == 2)
            #expect(try StewardBinary.run(["run", "--project", dir]).status == 0)
            #expect(listener.received.count == 1)
            // Back to ok: one message.
            #expect(try StewardBinary.run(["kpi", "record", "Marketing ROI", "5:1", "--project", dir]).status == 0)
            #expect(try StewardBinary.run(["check", "--project", dir]).status == 0)
            #expect(listener.received.count == 2)
            let second = try JSONSerialization.jsonObject(with: Data(listener.received[1].utf8)) as! [String: Any]
            #expect(second["status"] as? String == "ok" && second["previous"] as? String == "breach")
        }
    }

    @Test func aDeadWebhookIsLoggedNeverFatalAndRetried() async throws {
        // A port with nobody listening.
        let dead = try WebhookListener()
        let url = dead.url
        dead.stop()
        try await offPool {
            let p = kpiProject(webhook: url)
            let dir = p.dir.path
            #expect(try StewardBinary.run(["run", "--project", dir]).status == 0)
            #expect(try StewardBinary.run(["kpi", "record", "Marketing ROI", "3:1", "--project", dir]).status == 0)
            let check = try StewardBinary.run(["check", "--project", dir])
            #expect(check.status == 2)
            #expect(check.stderr.contains("delivery to \(url) failed"))
            let catalog = try p.catalog()
            #expect(try catalog.pool.read { try String.fetchOne($0, sql: "SELECT status FROM alert_state") } == "ok")
            #expect(try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM audit_event WHERE action = 'alert_failed'") } == 1)
        }
    }

    @Test func runEveryKeepsRunningAndEvaluatesUntilCtrlC() async throws {
        try await offPool {
            let p = kpiProject()
            let process = Process()
            process.executableURL = StewardBinary.url
            process.arguments = ["run", "--every", "1s", "--project", p.dir.path]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            let catalogURL = p.dir.appendingPathComponent(".steward/catalog.sqlite")
            let deadline = Date().addingTimeInterval(30)
            var runs = 0
            while Date() < deadline && runs < 3 {
                usleep(200_000)
                if let c = try? Catalog.open(at: catalogURL, readOnly: true) {
                    runs = (try? c.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM run WHERE status = 'success'") ?? 0 }) ?? 0
                }
            }
            kill(process.processIdentifier, SIGINT)
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(runs >= 3)
            #expect(process.terminationStatus == 0)
            #expect(text.contains("stopped"))
            let c = try p.catalog()
            let (triggers, measured) = try c.pool.read { db in
                (try String.fetchAll(db, sql: "SELECT DISTINCT trigger FROM run"),
                 try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT run_id) FROM kpi_measurement WHERE kpi = 'data freshness'") ?? 0)
            }
            #expect(triggers == ["schedule"])
            #expect(measured >= 3)   // KPIs evaluated after each run
        }
    }
}
