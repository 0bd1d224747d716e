import Foundation
import GRDB
import StewardCatalog
import StewardConfig
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `steward-bench serve --project DIR [--seconds 60] [--rate 200] [--post-seconds 60] [--batch 100]
/// [--clients 4]`: `steward serve` (the binary next to this one) on a loopback port, loaded by this
/// process over HTTP:
/// - `GET /v1/customers?q=` open-loop at `--rate` requests a second for `--seconds`, a query mix of
///   the hard cases: the most common full names, a common last name with a postcode, a first name alone;
///   latency p50/p99/max per kind and overall, errors;
/// - `POST /v1/events/bench_events` from `--clients` clients, `--batch` events a request, for
///   `--post-seconds`: events/s, acknowledgement p50/p99, the server's peak RSS, and a check that every
///   acknowledged event is staged once.
/// The project gets an `http` source `bench_events` (appended to its steward.yml when missing).
func measureServe(project: URL, steward: String) throws -> [String: Any] {
    let yml = project.appendingPathComponent("steward.yml")
    var text = try String(contentsOf: yml, encoding: .utf8)
    if !text.contains("name: bench_events") {
        text = text.replacingOccurrences(of: "sources:\n", with: """
            sources:
              - name: bench_events
                system: web
                entity: event
                format: http
                key: event_id
                mapping: {customer_ref: email, email: email, occurred_at: at, type: kind}
                checks:
                  - not_null: [event_id]

            """)
        try text.write(to: yml, atomically: true, encoding: .utf8)
    }
    let config = try ConfigLoader.load(yml)
    // The project is the user's: so is its vault key (this bench points XDG_CONFIG_HOME at its work
    // folder for the projects it makes); the query mix reads golden names through `vault_open`.
    if originalConfigHome.isEmpty { unsetenv("XDG_CONFIG_HOME") } else { setenv("XDG_CONFIG_HOME", originalConfigHome, 1) }
    let catalog = try Catalog.open(at: config.catalogURL)
    let stamp = String(UInt64(Date().timeIntervalSince1970), radix: 36)
    let read = try catalog.createAPIToken(name: "bench-read-\(stamp)", scope: .read, expiresAt: Date().addingTimeInterval(3600), actor: "steward-bench")
    let write = try catalog.createAPIToken(name: "bench-write-\(stamp)", scope: .write, expiresAt: Date().addingTimeInterval(3600), actor: "steward-bench")
    let queries = try serveQueryMix(catalog)

    let server = Process()
    server.executableURL = URL(fileURLWithPath: steward)
    server.arguments = ["serve", "--listen", "127.0.0.1:0", "--project", project.path, "--rate-limit", "1000000"]
    // The project's vault key is the user's (this bench points XDG_CONFIG_HOME at its work folder).
    var environment = ProcessInfo.processInfo.environment
    environment["XDG_CONFIG_HOME"] = originalConfigHome
    server.environment = environment.filter { $0.key != "XDG_CONFIG_HOME" || $0.value != "" }
    let out = Pipe()
    server.standardOutput = out
    // --server-log FILE keeps the server's request log (method, path, status, time: no values).
    // Without it the log goes to the null device, opened as it is: FileManager.createFile replaces
    // whatever is at a path with a new regular file, and run as root it once replaced /dev/null.
    if let logPath = stringOption("--server-log") {
        try PrivateFiles.writeRegularFile([], to: URL(fileURLWithPath: logPath))
        server.standardError = FileHandle(forWritingAtPath: logPath)
    } else {
        server.standardError = FileHandle.nullDevice
    }
    try server.run()
    defer { if server.isRunning { server.terminate(); server.waitUntilExit() } }
    let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
    guard let port = line.split(separator: ":").last.flatMap({ Int($0.prefix(while: \.isNumber)) }) else {
        throw BenchError("steward serve did not start: \(line)")
    }
    let base = "http://127.0.0.1:\(port)"
    let session = URLSession(configuration: {
        let c = URLSessionConfiguration.ephemeral
        c.urlCache = nil
        c.httpMaximumConnectionsPerHost = 64
        c.requestCachePolicy = .reloadIgnoringLocalAndRemoteCacheData
        return c
    }())
    var result: [String: Any] = ["customers": try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM golden_customer") ?? 0 }]

    // The first query of each kind, cold (the server warms nothing else before it).
    var cold: [String: Double] = [:]
    for kind in ["common_name", "name_postcode", "first_name"] {
        if let q = queries.first(where: { $0.kind == kind }) {
            let url = base + "/v1/customers?q=" + q.encoded + "&limit=20"
            cold[kind] = try blockingAwait { try await timedGET(session, url, token: read).ms }
        }
    }
    result["search_cold_ms"] = cold

    // GET: open loop, one request every 1/rate s whatever the answers' pace (a closed loop would hide queueing).
    let rate = Double(option("--rate", 200)), seconds = Double(option("--seconds", 60))
    let gets = Samples()
    let total = Int(rate * seconds)
    let group = DispatchGroup()
    let start = DispatchTime.now().uptimeNanoseconds
    for i in 0..<total {
        let due = start + UInt64(Double(i) / rate * 1e9)
        let now = DispatchTime.now().uptimeNanoseconds
        if due > now { usleep(UInt32((due - now) / 1000)) }
        let q = queries[i % queries.count]
        group.enter()
        Task {
            defer { group.leave() }
            let r = try? await timedGET(session, base + "/v1/customers?q=" + q.encoded + "&limit=20", token: read)
            gets.add(kind: q.kind, ms: r?.ms, ok: r?.status == 200)
            if let r, r.status != 200 { gets.note(status: r.status) }
        }
    }
    group.wait()
    let getSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    result["search"] = gets.summary(seconds: getSeconds, extra: ["target_rate": rate])

    // POST: closed loop per client, `batch` events a request, each event id unique to this bench run.
    let batch = option("--batch", 100), clients = option("--clients", 4), postSeconds = Double(option("--post-seconds", 60))
    let posts = Samples()
    let acknowledged = Samples()
    let postStart = DispatchTime.now().uptimeNanoseconds
    let deadline = postStart + UInt64(postSeconds * 1e9)
    let peak = PeakRSS(pid: server.processIdentifier)
    for client in 0..<clients {
        group.enter()
        Task {
            defer { group.leave() }
            var n = 0
            while DispatchTime.now().uptimeNanoseconds < deadline {
                let body = (0..<batch).map { i in
                    #"{"event_id": "\#(stamp)-\#(client)-\#(n)-\#(i)", "email": "bench\#(i % 500)@example.org", "at": "2026-12-01T10:00:00Z", "kind": "page_view"}"#
                }.joined(separator: "\n")
                n += 1
                let r = try? await timedPOST(session, base + "/v1/events/bench_events", token: write, body: Data(body.utf8))
                let ok = r?.status == 200
                if let r, !ok { posts.note(status: r.status) }
                posts.add(kind: "post", ms: r?.ms, ok: ok)
                if ok { acknowledged.add(kind: "events", ms: Double(batch), ok: true) }
                peak.sample()
            }
        }
    }
    group.wait()
    let postElapsed = Double(DispatchTime.now().uptimeNanoseconds - postStart) / 1e9
    let events = Int(acknowledged.sum)
    let staged = try catalog.pool.read {
        try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM staged_activity WHERE source = 'bench_events' AND record_key LIKE ?", arguments: ["\(stamp)-%"]) ?? 0
    }
    result["events"] = posts.summary(seconds: postElapsed, extra: [
        "batch": batch, "clients": clients, "events_acknowledged": events, "events_per_second": Double(events) / postElapsed,
        "events_staged": staged, "all_acknowledged_staged_once": staged == events, "server_peak_rss_mb": peak.peakMB,
    ])
    server.terminate()
    server.waitUntilExit()
    return result
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

struct ServeQuery {
    var kind: String
    var text: String
    var encoded: String { text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text }
}

/// The hard cases of a name search: the most common full names (many candidates each), a common last
/// name with a postcode, and first names alone; interleaved so every second has each kind.
func serveQueryMix(_ catalog: Catalog) throws -> [ServeQuery] {
    try catalog.pool.read { db in
        // Sealed values differ for equal names (each has its own nonce): group the opened ones.
        let common = try Row.fetchAll(db, sql: """
            SELECT vault_open(first_name) AS f, vault_open(last_name) AS l FROM golden_customer
            WHERE first_name IS NOT NULL AND last_name IS NOT NULL
            GROUP BY f, l ORDER BY COUNT(*) DESC LIMIT 50
            """).map { ServeQuery(kind: "common_name", text: "\($0[0] as String) \($0[1] as String)") }
        let withPostcode = try Row.fetchAll(db, sql: """
            SELECT vault_open(first_name), vault_open(last_name), vault_open(postcode) FROM golden_customer
            WHERE vault_open(last_name) IN (SELECT vault_open(last_name) AS l FROM golden_customer WHERE last_name IS NOT NULL
                                            GROUP BY l ORDER BY COUNT(*) DESC LIMIT 20)
              AND postcode IS NOT NULL AND first_name IS NOT NULL LIMIT 50
            """).map { ServeQuery(kind: "name_postcode", text: "\($0[0] as String) \($0[1] as String) \($0[2] as String)") }
        let firsts = try String.fetchAll(db, sql: """
            SELECT vault_open(first_name) AS f FROM golden_customer WHERE first_name IS NOT NULL GROUP BY f ORDER BY COUNT(*) DESC LIMIT 50
            """).map { ServeQuery(kind: "first_name", text: $0) }
        var mix: [ServeQuery] = []
        for i in 0..<max(common.count, withPostcode.count, firsts.count) {
            for list in [common, withPostcode, firsts] where i < list.count { mix.append(list[i]) }
        }
        guard !mix.isEmpty else { throw BenchError("the project has no golden customers: run `steward run` first") }
        return mix
    }
}

func timedGET(_ session: URLSession, _ url: String, token: String) async throws -> (status: Int, ms: Double) {
    var request = URLRequest(url: URL(string: url)!)
    request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
    return try await timed(session, request)
}

func timedPOST(_ session: URLSession, _ url: String, token: String, body: Data) async throws -> (status: Int, ms: Double) {
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = "POST"
    request.httpBody = body
    request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
    request.setValue("application/x-ndjson", forHTTPHeaderField: "Content-Type")
    return try await timed(session, request)
}

/// One request, timed from send to the whole answer. Async: a thread blocked per request would
/// starve the threads URLSession answers on (64 in flight at 200 requests a second is normal).
func timed(_ session: URLSession, _ request: URLRequest) async throws -> (status: Int, ms: Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let (_, response) = try await session.data(for: request)
    let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, ms)
}

/// Latencies by kind, from several threads.
final class Samples: @unchecked Sendable {
    private let lock = NSLock()
    private var byKind: [String: [Double]] = [:]
    private var errors = 0
    private var statuses: [Int: Int] = [:]
    private(set) var sum = 0.0

    /// An answer other than 200, counted by status.
    func note(status: Int) { lock.lock(); statuses[status, default: 0] += 1; lock.unlock() }

    func add(kind: String, ms: Double?, ok: Bool) {
        lock.lock(); defer { lock.unlock() }
        if let ms, ok { byKind[kind, default: []].append(ms); sum += ms } else { errors += 1 }
    }

    func summary(seconds: Double, extra: [String: Any]) -> [String: Any] {
        lock.lock(); defer { lock.unlock() }
        func stats(_ xs: [Double]) -> [String: Any] {
            let s = xs.sorted()
            func pct(_ p: Double) -> Double { s.isEmpty ? 0 : s[min(s.count - 1, Int(Double(s.count) * p))] }
            return ["n": s.count, "p50_ms": pct(0.5), "p99_ms": pct(0.99), "max_ms": s.last ?? 0]
        }
        var out = stats(byKind.values.flatMap { $0 })
        out["errors"] = errors
        out["error_statuses"] = Dictionary(uniqueKeysWithValues: statuses.map { (String($0.key), $0.value) })
        out["seconds"] = seconds
        out["by_kind"] = byKind.mapValues(stats)
        for (k, v) in extra { out[k] = v }
        return out
    }
}

/// The server's resident memory, sampled from /proc (its own high-water mark, VmHWM).
final class PeakRSS: @unchecked Sendable {
    let pid: Int32
    private let lock = NSLock()
    private var peak = 0.0
    init(pid: Int32) { self.pid = pid }

    func sample() {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return }
        lock.lock(); peak = max(peak, kb / 1024); lock.unlock()
    }

    var peakMB: Double { sample(); lock.lock(); defer { lock.unlock() }; return peak }
}

/// Runs async work from this synchronous benchmark and waits for it.
func blockingAwait<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
    let done = DispatchSemaphore(value: 0)
    let box = ResultBox<T>()
    Task { box.result = await Result(catching: { try await work() }); done.signal() }
    done.wait()
    return try box.result!.get()
}

final class ResultBox<T: Sendable>: @unchecked Sendable { var result: Result<T, Error>? }

extension Result where Failure == Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
