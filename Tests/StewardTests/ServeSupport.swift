import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import StewardCatalog
@testable import StewardConfig
@testable import StewardServer

/// Every Serve suite, one test at a time: they share one catalog, and an ETag check must not see
/// another test's write between its two requests.
@Suite(.serialized) struct ServeTests {}

/// A demo project loaded once through the built binary (`init --demo`, `run`), shared by the Serve
/// suites, which run serialized: their ETag checks would see another test's writes otherwise.
final class ServeDemo: @unchecked Sendable {
    let project: TempProject
    let config: ProjectConfig
    let catalog: Catalog

    static let shared = Task { try await offPool { try ServeDemo() } }

    private init() throws {
        let project = TempProject("serve")
        let created = try StewardBinary.run(["init", project.dir.path, "--demo", "--customers", "300", "--seed", "19"])
        guard created.status == 0 else { throw ServeTestError("init failed: \(created.stderr)") }
        let ran = try StewardBinary.run(["run", "--project", project.dir.path])
        guard ran.status == 0 || ran.status == 1 else { throw ServeTestError("run failed: \(ran.stderr)") }
        self.project = project
        config = try project.config()
        catalog = try Catalog.open(at: config.catalogURL)
    }

    /// The binary's stdout for `args` on this project (a `--json` body).
    func cli(_ args: [String]) throws -> Any {
        let r = try StewardBinary.run(args + ["--project", project.dir.path])
        guard r.status == 0 else { throw ServeTestError("steward \(args.joined(separator: " ")) exited \(r.status): \(r.stderr)") }
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8), options: [.fragmentsAllowed])
    }

    /// A token made through the engine's API (the CLI's `token create` is tested on its own).
    func token(_ scope: APITokenScope, expiresAt: Date? = nil) throws -> (name: String, token: String) {
        let name = "\(scope.rawValue)-\(UUID().uuidString.prefix(8).lowercased())"
        return (name, try catalog.createAPIToken(name: name, scope: scope, expiresAt: expiresAt, actor: "test"))
    }

    /// Some customer of the demo that has an email.
    func someCustomerId() throws -> String {
        try catalog.pool.read { db in
            try String.fetchOne(db, sql: "SELECT customer_id FROM golden_customer ORDER BY customer_id LIMIT 1 OFFSET 7")!
        }
    }

    func auditCount(actor: String, action: String) throws -> Int {
        try catalog.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_event WHERE actor = ? AND action = ?", arguments: [actor, action]) ?? 0
        }
    }
}

struct ServeTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The real server on an ephemeral loopback port, in this process, stopped by `stop()`.
final class RunningServer: @unchecked Sendable {
    let port: Int
    let task: Task<Void, Error>
    let server: APIServer
    let session: URLSession

    static func start(_ demo: ServeDemo, options: ServerOptions? = nil) async throws -> RunningServer {
        let server = try APIServer(config: demo.config, catalog: demo.catalog,
                                   options: try options ?? ServerOptions(listen: "127.0.0.1:0"), log: { _ in })
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let task = Task { try await server.run(signals: []) { port in continuation.yield(port) } }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw ServeTestError("the server did not start") }
        return RunningServer(port: port, task: task, server: server)
    }

    init(port: Int, task: Task<Void, Error>, server: APIServer) {
        self.port = port
        self.task = task
        self.server = server
        session = Self.plainSession()
    }

    /// No cache of its own: every ETag and If-None-Match in these tests is the test's (the shared
    /// session also sent no Authorization header here).
    static func plainSession() -> URLSession {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalAndRemoteCacheData
        return URLSession(configuration: configuration)
    }

    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: Data
        var json: Any? { try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
        var errorCode: String? { (object["error"] as? [String: Any])?["code"] as? String }
        func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }
    }

    func get(_ path: String, token: String? = nil, headers: [String: String] = [:]) async throws -> Reply {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (k, v) in http.allHeaderFields { fields["\(k)"] = "\(v)" }
        return Reply(status: http.statusCode, headers: fields, body: data)
    }

    func stop() async {
        await server.shutdown()
        _ = try? await task.value
    }
}

/// JSON values compared as values (key order and number spelling aside).
func sameJSON(_ a: Any?, _ b: Any?) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    func canonical(_ v: Any) -> Data? { try? JSONSerialization.data(withJSONObject: v, options: [.sortedKeys, .fragmentsAllowed]) }
    return canonical(a) != nil && canonical(a) == canonical(b)
}

/// Runs a tool (openssl, curl, python3) and returns its exit status and its stdout and stderr together.
func runTool(_ tool: String, _ args: [String]) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tool)
    p.arguments = args
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}
