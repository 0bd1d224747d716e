import Foundation
import GRDB
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import StewardCatalog
@testable import StewardConfig
@testable import StewardPipeline
@testable import StewardServer

/// A demo project (vault on) with two `format: http` sources — people signing up on the web shop
/// and its orders — loaded once through the built binary; the intake suites push to it.
final class IntakeDemo: @unchecked Sendable {
    let project: TempProject
    let config: ProjectConfig
    let catalog: Catalog

    static let shared = Task { try await offPool { try IntakeDemo() } }

    static let httpSources = """
        sources:
          - name: web_signups
            system: web
            entity: person
            format: http
            key: user_id
            freshness: {warn_after: 1h, error_after: 24h}
            mapping:
              first_name: first
              last_name: last
              email: email
              phone: phone
              postcode: zip
            checks:
              - not_null: [user_id, email]
              - pattern: {column: email, format: email}
          - name: shop_orders
            system: ecommerce
            entity: transaction
            format: http
            key: order_id
            mapping:
              customer_ref: email
              email: email
              occurred_at: at
              amount: total
            checks:
              - not_null: [order_id]

        """

    private init() throws {
        let project = TempProject("intake")
        let created = try StewardBinary.run(["init", project.dir.path, "--demo", "--customers", "300", "--seed", "19"])
        guard created.status == 0 else { throw ServeTestError("init failed: \(created.stderr)") }
        try project.edit("steward.yml", replacing: "sources:\n", with: Self.httpSources)
        let ran = try StewardBinary.run(["run", "--project", project.dir.path])
        guard ran.status == 0 || ran.status == 1 else { throw ServeTestError("run failed: \(ran.stderr)") }
        self.project = project
        config = try project.config()
        catalog = try Catalog.open(at: config.catalogURL)
    }

    func token(_ scope: APITokenScope) throws -> (name: String, token: String) {
        let name = "\(scope.rawValue)-\(UUID().uuidString.prefix(8).lowercased())"
        return (name, try catalog.createAPIToken(name: name, scope: scope, expiresAt: nil, actor: "test"))
    }

    func text(_ sql: String, _ arguments: StatementArguments = []) throws -> String? {
        try catalog.pool.read { try String.fetchOne($0, sql: sql, arguments: arguments) }
    }

    func count(_ sql: String, _ arguments: StatementArguments = []) throws -> Int {
        try catalog.pool.read { try Int.fetchOne($0, sql: sql, arguments: arguments) ?? 0 }
    }

    /// The first contacts of the demo's CRM file, as written: (first, last, email, phone, zip).
    func crmContacts() throws -> [[String: String]] {
        let dir = project.dir.appendingPathComponent("sources/crm")
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted().first { $0.hasSuffix(".csv") })
        let lines = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            .replacingOccurrences(of: "\u{FEFF}", with: "").split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return lines.dropFirst().compactMap { line -> [String: String]? in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard cells.count == header.count else { return nil }   // a quoted comma: not needed here
            return Dictionary(uniqueKeysWithValues: zip(header, cells))
        }
    }
}

extension RunningServer {
    static func start(_ demo: IntakeDemo, options: ServerOptions? = nil) async throws -> RunningServer {
        let server = try APIServer(config: demo.config, catalog: demo.catalog,
                                   options: try options ?? ServerOptions(listen: "127.0.0.1:0"), log: { _ in })
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let task = Task { try await server.run(signals: []) { port in continuation.yield(port) } }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw ServeTestError("the server did not start") }
        return RunningServer(port: port, task: task, server: server)
    }

    func post(_ path: String, token: String?, body: String) async throws -> Reply {
        try await Self.post(port: port, path, token: token, body: Data(body.utf8))
    }

    static func post(port: Int, _ path: String, token: String?, body: Data) async throws -> Reply {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/x-ndjson", forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await plainSession().data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (k, v) in http.allHeaderFields { fields["\(k)"] = "\(v)" }
        return Reply(status: http.statusCode, headers: fields, body: data)
    }
}

/// `POST /v1/events/{source}` and the incremental matching and lookup behind it, over real HTTP.
extension ServeTests {
@Suite struct Intake {
    @Test func aBadLineIsQuarantinedAReSendIsNotDuplicatedAndAChangeIsANewVersion() async throws {
        let demo = try await IntakeDemo.shared.value
        let server = try await RunningServer.start(demo)
        defer { Task { await server.stop() } }
        let write = try demo.token(.write)
        let tag = UUID().uuidString.prefix(6).lowercased()
        let body = """
            {"user_id": "a-\(tag)", "first": "Ann", "last": "Leary", "email": "ann.\(tag)@example.org", "phone": "(555) 010-4477"}
            {"user_id": "b-\(tag)", "first": "Bo", "last": "Quist"}
            {"user_id": "c-\(tag)", "first": "Cy", "last": "Young", "email": "cy.\(tag)@example.org", "zip": "10001"}
            """
        let before = try demo.count("SELECT COUNT(*) FROM raw_record WHERE source = 'web_signups'")
        let first = try await server.post("/v1/events/web_signups", token: write.token, body: body)
        #expect(first.status == 200)
        #expect(first.object["accepted"] as? Int == 2)
        #expect(first.object["quarantined"] as? Int == 1)
        let rejected = try #require(first.object["rejected"] as? [[String: Any]])
        #expect(rejected.count == 1)
        #expect(rejected.first?["line"] as? Int == 2)
        let reasons = try #require(rejected.first?["reasons"] as? [String])
        #expect(reasons.contains { $0.contains("email is empty") }, "\(reasons)")
        #expect(!String(decoding: first.body, as: UTF8.self).contains("Quist"), "a rejection names columns, never values")
        let requestId = try #require(first.object["request_id"] as? String)
        #expect(first.header("X-Request-Id") == requestId)

        // Lineage: the batch names the request and the token; the bad line sits in quarantine by line.
        let batchId = try #require(first.object["batch_id"] as? Int)
        let file = try demo.text("SELECT file FROM batch WHERE id = ?", [batchId])
        #expect(file == "http:\(requestId) (token:\(write.name))")
        #expect(try demo.count("SELECT COUNT(*) FROM quarantine WHERE batch_id = ? AND line = 2 AND record_key = ?", [batchId, "b-\(tag)"]) == 1)
        #expect(try demo.count("SELECT COUNT(*) FROM raw_record WHERE source = 'web_signups'") == before + 3)
        // The vault seals pushed PII as it seals a file's rows: raw rows holding an email, staged emails.
        let raw = try demo.text("SELECT data FROM raw_record WHERE batch_id = ? AND line = 1", [batchId])
        #expect(raw?.hasPrefix("\"vault1.") == true)
        #expect(raw?.contains(String(tag)) == false)
        let email = try demo.text("SELECT email FROM staged_person WHERE source = 'web_signups' AND record_key = ?", ["a-\(tag)"])
        #expect(email?.hasPrefix("vault1.") == true)

        // Sent again (the client saw no answer): acknowledged, nothing written twice.
        let again = try await server.post("/v1/events/web_signups", token: write.token, body: body)
        #expect(again.status == 200)
        #expect(again.object["accepted"] as? Int == 2)
        #expect(again.object["unchanged"] as? Int == 2)
        #expect(try demo.count("SELECT COUNT(*) FROM staged_person WHERE source = 'web_signups' AND record_key LIKE ?", ["%-\(tag)"]) == 2)
        #expect(try demo.count("SELECT COUNT(*) FROM raw_record WHERE source = 'web_signups'") == before + 3 + 1,
                "only the quarantined line is written again (it was never staged)")

        // The same key with other content, as an array this time: a new version of the record.
        let changed = try await server.post("/v1/events/web_signups", token: write.token,
                                             body: #"[{"user_id": "c-\#(tag)", "first": "Cy", "last": "Young", "email": "cy.\#(tag)@example.org", "zip": "10002"}]"#)
        #expect(changed.object["accepted"] as? Int == 1)
        #expect(changed.object["unchanged"] as? Int == 0)
        let postcode = try demo.text("SELECT postcode FROM staged_person WHERE source = 'web_signups' AND record_key = ?", ["c-\(tag)"])
        #expect(postcode == "10002")
        #expect(try demo.count("SELECT COUNT(*) FROM staged_person WHERE source = 'web_signups' AND record_key = ?", ["c-\(tag)"]) == 1)

        // Freshness and the Sources pane read the pushed batch at once; Runs lists it like a file batch.
        let overview = try #require(try demo.catalog.sourceOverviews().first { $0.name == "web_signups" })
        #expect(overview.lastLoadedAt.map { Date().timeIntervalSince($0) < 60 } == true)
        #expect(overview.freshnessStatus.rawValue == "ok")
        let runs = try demo.catalog.runs(limit: 1)
        #expect(runs.first?.trigger == "http")
        #expect(runs.first?.steps.first?.source == "web_signups")

        // Events (a transaction source) are idempotent too.
        let order = #"{"order_id": "o-\#(tag)", "email": "ann.\#(tag)@example.org", "at": "2026-12-01T10:00:00Z", "total": "19.90"}"#
        #expect(try await server.post("/v1/events/shop_orders", token: write.token, body: order).object["accepted"] as? Int == 1)
        #expect(try await server.post("/v1/events/shop_orders", token: write.token, body: order).object["unchanged"] as? Int == 1)
        #expect(try demo.count("SELECT COUNT(*) FROM staged_activity WHERE source = 'shop_orders' AND record_key = ?", ["o-\(tag)"]) == 1)
    }

    @Test func pushedPeopleAreMatchedIncrementallyAndFoundByLookup() async throws {
        let demo = try await IntakeDemo.shared.value
        let server = try await RunningServer.start(demo)
        defer { Task { await server.stop() } }
        let write = try demo.token(.write), read = try demo.token(.read)
        let contact = try #require(try demo.crmContacts().first { !($0["Email"] ?? "").isEmpty && !($0["Phone"] ?? "").isEmpty && $0["Country"] == "US" })
        let email = try #require(contact["Email"]), phone = try #require(contact["Phone"])
        func lookup(_ query: String) async throws -> RunningServer.Reply {
            try await server.get("/v1/customers/lookup?\(query)", token: read.token)
        }
        func encoded(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! }
        let existing = try await lookup("email=\(encoded(email))")
        #expect(existing.status == 200)
        let customer = try #require(existing.object["customer_id"] as? String)
        // Any way of writing the phone finds the same customer.
        let digits = phone.filter(\.isNumber)
        #expect(try await lookup("phone=\(encoded(phone))").object["customer_id"] as? String == customer)
        #expect(try await lookup("phone=\(encoded("+1 " + digits))").object["customer_id"] as? String == customer)
        #expect(try await lookup("phone=\(digits)").object["customer_id"] as? String == customer)
        let unknown = try await lookup("email=nobody.\(UUID().uuidString.prefix(6))@example.net")
        #expect(unknown.status == 404)
        #expect(unknown.errorCode == "not_found")
        #expect(!String(decoding: unknown.body, as: UTF8.self).contains("nobody"), "the identifier is not echoed")
        #expect(try await lookup("").status == 400)

        let passes = try demo.count("SELECT COUNT(*) FROM identity_run")
        let tag = UUID().uuidString.prefix(6).lowercased()
        let newEmail = "zed.\(tag)@example.org"
        let body = """
            {"user_id": "same-\(tag)", "first": "\(contact["FirstName"]!)", "last": "\(contact["LastName"]!)", "email": "\(email)", "zip": "\(contact["Zip"]!)"}
            {"user_id": "new-\(tag)", "first": "Zed", "last": "Quorra", "email": "\(newEmail)", "phone": "+1 555 019 \(Int.random(in: 1000...9999))"}
            """
        let pushed = try await server.post("/v1/events/web_signups", token: write.token, body: body)
        #expect(pushed.object["accepted"] as? Int == 2)
        // Within a few seconds, without a full pass: the first joins the customer, the second is new.
        var found: String?
        let deadline = Date().addingTimeInterval(10)
        while found == nil && Date() < deadline {
            found = try await lookup("email=\(encoded(newEmail))").object["customer_id"] as? String
            if found == nil { try await Task.sleep(for: .milliseconds(200)) }
        }
        let newCustomer = try #require(found, "the pushed person is found by lookup within 10 s")
        #expect(newCustomer != customer)
        let member = try demo.text("SELECT customer_id FROM identity_member WHERE source = 'web_signups' AND record_key = ?", ["same-\(tag)"])
        #expect(member == customer, "the same person pushed again joins the existing customer")
        #expect(try await lookup("email=\(encoded(email))").object["customer_id"] as? String == customer)
        #expect(try demo.count("SELECT COUNT(*) FROM identity_run") == passes, "no full matching pass ran")
        let show = try await server.get("/v1/customers/\(newCustomer)", token: read.token)
        #expect(show.status == 200)
        #expect((show.object["sources"] as? [[String: Any]])?.first?["record_id"] as? String == "new-\(tag)")
    }

    @Test func limitsAndErrors() async throws {
        let demo = try await IntakeDemo.shared.value
        var options = try ServerOptions(listen: "127.0.0.1:0")
        options.maxBodyBytes = 2_000
        options.requestsPerSecond = 4
        let server = try await RunningServer.start(demo, options: options)
        defer { Task { await server.stop() } }
        let write = try demo.token(.write), read = try demo.token(.read), other = try demo.token(.write), reader = try demo.token(.read)
        func expectError(_ r: RunningServer.Reply, _ status: Int, _ code: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(r.status == status, sourceLocation: sourceLocation)
            #expect(r.errorCode == code, sourceLocation: sourceLocation)
            #expect((r.object["error"] as? [String: Any])?["message"] is String, sourceLocation: sourceLocation)
        }
        expectError(try await server.post("/v1/events/web_signups", token: nil, body: "{}"), 401, "unauthorized")
        expectError(try await server.post("/v1/events/web_signups", token: read.token, body: "{}"), 403, "forbidden")
        expectError(try await server.post("/v1/events/no_such_source", token: other.token, body: "{}"), 404, "unknown_source")
        expectError(try await server.post("/v1/events/crm_contacts", token: other.token, body: "{}"), 409, "not_http_source")
        let big = String(repeating: #"{"user_id": "x", "email": "x@example.org"}"# + "\n", count: 60)
        expectError(try await server.post("/v1/events/web_signups", token: write.token, body: big), 413, "payload_too_large")
        let malformed = try await server.post("/v1/events/web_signups", token: write.token,
                                              body: "{\"user_id\": \"m1\", \"email\": \"m@example.org\"}\n\n{\"user_id\": \"m2\", \"email\": ")
        expectError(malformed, 400, "malformed_json")
        #expect((malformed.object["error"] as? [String: Any])?["message"] as? String == "line 3: not valid JSON (the body is read as NDJSON: one JSON object per line)")
        expectError(try await server.post("/v1/events/web_signups", token: write.token, body: "[1, 2]"), 400, "malformed_json")
        #expect(try demo.count("SELECT COUNT(*) FROM raw_record WHERE record_key = 'm1'") == 0, "a refused body writes nothing")

        // Four requests a second per token: the fifth in a burst waits, told for how long; others are not held up.
        var statuses: [Int] = []
        var retryAfter: String?
        for _ in 0..<6 {
            let r = try await server.get("/v1/sources", token: read.token)
            statuses.append(r.status)
            if r.status == 429 { retryAfter = r.header("Retry-After"); #expect(r.errorCode == "rate_limited") }
        }
        #expect(statuses.contains(429), "\(statuses)")
        #expect(retryAfter.flatMap(Int.init).map { $0 >= 1 } == true)
        #expect(try await server.get("/v1/sources", token: reader.token).status == 200)
    }

    /// kill -9 mid-load: every acknowledged event is in the catalog afterwards, and re-sending every
    /// request (acknowledged or not) duplicates nothing.
    @Test func aKilledServerLosesNothingAcknowledgedAndAReSendDuplicatesNothing() async throws {
        let demo = try await IntakeDemo.shared.value
        let write = try demo.token(.write)
        let tag = UUID().uuidString.prefix(6).lowercased()
        let requests = (0..<40).map { r in
            (0..<25).map { i in #"{"order_id": "k\#(tag)-\#(r)-\#(i)", "email": "k\#(i)@example.org", "at": "2026-12-01T10:00:00Z", "total": "\#(r).\#(i)"}"# }
                .joined(separator: "\n")
        }
        func startServer() async throws -> (Process, Int) {
            let (process, out, _) = try StewardBinary.start(["serve", "--listen", "127.0.0.1:0", "--project", demo.project.dir.path])
            let line = try await offPool { String(decoding: out.fileHandleForReading.availableData, as: UTF8.self) }
            let port = try #require(line.split(separator: ":").last.flatMap { Int($0.prefix(while: \.isNumber)) }, "\(line)")
            return (process, port)
        }
        let (first, port) = try await startServer()
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        let acknowledged = Acknowledged()
        // Four clients push; the server is killed once a dozen requests were acknowledged.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<4 {
                group.addTask {
                    for r in stride(from: client, to: requests.count, by: 4) {
                        guard let reply = try? await RunningServer.post(port: port, "/v1/events/shop_orders", token: write.token,
                                                                        body: Data(requests[r].utf8)) else { return }
                        if reply.status == 200 { acknowledged.add(r) }
                    }
                }
            }
            group.addTask {
                let deadline = Date().addingTimeInterval(60)
                while acknowledged.count < 12 && Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
                kill(first.processIdentifier, SIGKILL)
            }
            try await group.waitForAll()
        }
        let acked = acknowledged.all
        #expect(acked.count >= 12 && acked.count < requests.count, "killed mid-load: \(acked.count) of \(requests.count) acknowledged")
        func staged(_ r: Int) throws -> Int {
            try demo.count("SELECT COUNT(*) FROM staged_activity WHERE source = 'shop_orders' AND record_key LIKE ?", ["k\(tag)-\(r)-%"])
        }
        for r in acked { #expect(try staged(r) == 25, "request \(r) was acknowledged") }
        // Nothing half-loaded: a request is in whole or not at all (one transaction each).
        for r in 0..<requests.count { #expect([0, 25].contains(try staged(r))) }

        let (second, port2) = try await startServer()
        defer { if second.isRunning { kill(second.processIdentifier, SIGKILL) } }
        for r in 0..<requests.count {
            let reply = try await RunningServer.post(port: port2, "/v1/events/shop_orders", token: write.token, body: Data(requests[r].utf8))
            #expect(reply.status == 200)
            #expect(reply.object["accepted"] as? Int == 25)
            if acked.contains(r) { #expect(reply.object["unchanged"] as? Int == 25, "request \(r) was loaded before the kill") }
        }
        kill(second.processIdentifier, SIGTERM)
        #expect(try demo.count("SELECT COUNT(*) FROM staged_activity WHERE source = 'shop_orders' AND record_key LIKE ?", ["k\(tag)-%"]) == 1_000)
        #expect(try demo.count("SELECT COUNT(*) FROM raw_record WHERE source = 'shop_orders' AND record_key LIKE ?", ["k\(tag)-%"]) == 1_000,
                "every event's raw row once: re-sent unchanged events are not written again")
    }
}
}

/// Request numbers acknowledged with a 200, from several client tasks.
final class Acknowledged: @unchecked Sendable {
    private let lock = NSLock()
    private var done = Set<Int>()
    func add(_ r: Int) { lock.lock(); done.insert(r); lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return done.count }
    var all: Set<Int> { lock.lock(); defer { lock.unlock() }; return done }
}
