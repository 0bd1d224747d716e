import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import StewardCatalog
import StewardConfig
import StewardIdentity
import StewardPipeline
import StewardRoadmap

/// Real-time intake (`POST /v1/events/{source}`), the exact identifier lookup and the roadmap.
extension APIServer {
    /// A request's events become one batch of an `http` source, committed before the 200; person
    /// records are then matched into the customers by the incremental pass (`MatchScheduler`).
    @Sendable func events(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let token = try await authorize(request, needs: .write)
        let name = context.parameters.get("source") ?? ""
        // Unknown or file-fed sources are refused before the body is read.
        let intake = EventIntake(config: config, catalog: catalog)
        do { _ = try intake.httpSource(named: name) } catch let failure as EventIntake.Failure {
            switch failure {
            case .unknownSource: throw APIError(.notFound, "unknown_source", failure.description)
            case .notHTTP: throw APIError(.conflict, "not_http_source", failure.description)
            }
        }
        let limit = options.maxBodyBytes
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw APIError(.contentTooLarge, "payload_too_large", "the body is \(declared) bytes; at most \(limit) are taken per request")
        }
        var request = request
        let buffer: ByteBuffer
        do { buffer = try await request.collectBody(upTo: limit) } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "payload_too_large", "the body exceeds \(limit) bytes; send the events in smaller requests")
        }
        let body = Data(buffer: buffer)
        let events: PushedEvents
        do { events = try PushedEvents.parse(body) } catch let malformed as PushedEvents.Malformed {
            throw APIError(.badRequest, "malformed_json", malformed.description)
        }
        let requestId = Self.newRequestId()
        let receipt: EventIntake.Receipt
        do {
            receipt = try await intakeGroups.load(EventIntake.Push(source: name, events: events, requestId: requestId, actor: "token:\(token.name)"))
        } catch VaultError.keyMissing {
            // Nothing is stored unsealed in a sealed catalog: the operator must give the server the key.
            throw APIError(.serviceUnavailable, "vault_locked",
                           "the catalog's privacy vault key is not available to the server; nothing was stored (see `steward vault status`)")
        }
        counts.schedule([(name, "")], runId: receipt.runId)
        if !receipt.changedPersonKeys.isEmpty {
            matches.schedule(receipt.changedPersonKeys.map { (name, $0) }, runId: receipt.runId)
        }
        return Self.json(APIBodies.encode(APIBodies.intake(receipt, requestId: requestId)),
                         headers: [.cacheControl: "no-store", .requestId: requestId])
    }

    /// `?email=` or `?phone=` (any format): `{"customer_id"}` of the customer holding it, or 404.
    @Sendable func lookup(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try await authorize(request, needs: .read)
        let email: String? = request.uri.queryParameters.get("email").map { String($0) }
        let phone: String? = request.uri.queryParameters.get("phone").map { String($0) }
        let identifier: CustomerLookup.Identifier
        switch (email, phone) {
        case (let e?, nil) where !e.isEmpty: identifier = .email(e)
        case (nil, let p?) where !p.isEmpty: identifier = .phone(p)
        default: throw APIError(.badRequest, "missing_query", "give exactly one of ?email= or ?phone=")
        }
        let region = config.defaultRegion
        let response = try await cached(request) { () throws -> Any in
            let ids = try self.catalog.pool.read { try CustomerLookup.find($0, identifier, defaultRegion: region) }
            guard let first = ids.first else {
                // The identifier itself is never echoed: it is personal data.
                throw APIError(.notFound, "not_found", "no customer holds this \(email != nil ? "email" : "phone")")
            }
            return ["customer_id": first, "matches": ids.count] as [String: Any]
        }
        return response
    }

    /// `steward roadmap list --json`'s body.
    @Sendable func roadmap(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try await authorize(request, needs: .read)
        guard let url = config.roadmap else {
            throw APIError(.notFound, "no_roadmap", "steward.yml names no roadmap file (add `roadmap: roadmap.md`)")
        }
        // The file may change without the catalog changing: its size and time are part of the ETag.
        let facts = (try? FileManager.default.attributesOfItem(atPath: url.path)) ?? [:]
        let stamp = "\(facts[.size] ?? 0)-\((facts[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
        let config = self.config, catalog = self.catalog
        return try await cached(request, variant: stamp, maxAge: Self.clockBodyMaxAge) { () throws -> Any in
            let file: RoadmapFile
            do { file = try RoadmapFile(url: url) } catch {
                throw APIError(.internalServerError, "roadmap_unreadable", "the roadmap file cannot be read: see `steward roadmap list`")
            }
            let evidence = RoadmapEvidence(file.document, rules: config.evidence, catalog: catalog)
            return APIBodies.roadmapTasks(file.document, evidence: evidence, notes: (try? catalog.roadmapLatestNotes()) ?? [:],
                                          changes: (try? catalog.roadmapLastChanges()) ?? [:], today: Day.today())
        }
    }

    /// A request id unique to this server: time, process and a counter.
    static func newRequestId() -> String {
        let n = requestCounter.next()
        return "r\(String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36))-\(String(getpid(), radix: 36))-\(String(n, radix: 36))"
    }

    static let requestCounter = Counter()
}

/// Group commit for pushed requests: requests that arrive while a transaction is being written wait
/// and are then written together, each as its own batch in its own savepoint (`EventIntake.load(_:)`),
/// so concurrent clients share one commit instead of queueing for one each (issue 19: ack p99 with
/// 4 clients). A request is answered only after the commit that holds it: nothing acknowledged can be
/// lost to a kill.
final class GroupCommitter: @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [(push: EventIntake.Push, done: CheckedContinuation<EventIntake.Receipt, Error>)] = []
    private var writing = false
    private let intake: EventIntake
    private let queue = DispatchQueue(label: "steward.serve.intake")
    /// At most this many requests, and about this many bytes of events, a transaction.
    let maxRequests: Int, maxBytes: Int
    private var written = 0, inTransaction = 0
    /// Transactions written so far, and requests not answered yet (tests).
    var commits: Int { lock.withLock { written } }
    var waiting: Int { lock.withLock { pending.count + inTransaction } }

    init(intake: EventIntake, maxRequests: Int = 32, maxBytes: Int = 16 << 20) {
        self.intake = intake
        self.maxRequests = maxRequests
        self.maxBytes = maxBytes
    }

    func load(_ push: EventIntake.Push) async throws -> EventIntake.Receipt {
        try await withCheckedThrowingContinuation { done in
            let start = lock.withLock { () -> Bool in
                pending.append((push, done))
                defer { writing = true }
                return !writing
            }
            if start { queue.async { self.drain() } }
        }
    }

    private func drain() {
        while true {
            let group = lock.withLock { () -> [(push: EventIntake.Push, done: CheckedContinuation<EventIntake.Receipt, Error>)] in
                var bytes = 0, n = 0
                while n < pending.count && n < maxRequests && (n == 0 || bytes + pending[n].push.events.byteCount <= maxBytes) {
                    bytes += pending[n].push.events.byteCount
                    n += 1
                }
                let group = Array(pending.prefix(n))
                pending.removeFirst(n)
                if group.isEmpty { writing = false }
                inTransaction = group.count
                return group
            }
            if group.isEmpty { return }
            let results = intake.load(group.map(\.push))
            for (result, request) in zip(results, group) { request.done.resume(with: result) }
            lock.withLock { written += 1; inTransaction = 0 }
        }
    }
}

/// A thread-safe counter.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value: UInt64 = 0
    func next() -> UInt64 { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}

/// Runs the incremental matching pass off the request path: records pushed within a short window
/// are matched together, one pass at a time, so a burst of requests costs a few passes, not one each.
final class MatchScheduler: @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [(source: String, key: String)] = []
    private var latestRun: Int64 = 0
    private var scheduled = false
    private let queue = DispatchQueue(label: "steward.serve.match")
    private let delay: DispatchTimeInterval
    /// At most this share of one core, if given: after work that took `t`, the next starts no sooner
    /// than `t × (1 / share − 1)` later (and never sooner than `delay` after it is asked for).
    private let share: Double?
    /// Uptime before which the next work may not start (`share`).
    private var earliest: Double = 0
    private let work: @Sendable ([(source: String, key: String)], Int64) -> Void

    init(delay: DispatchTimeInterval = .milliseconds(200), share: Double? = nil,
         work: @escaping @Sendable ([(source: String, key: String)], Int64) -> Void) {
        self.delay = delay
        self.share = share
        self.work = work
    }

    func schedule(_ records: [(source: String, key: String)], runId: Int64) {
        lock.lock()
        pending.append(contentsOf: records)
        latestRun = max(latestRun, runId)
        let start = !scheduled
        scheduled = true
        let paced = earliest - ProcessInfo.processInfo.systemUptime
        lock.unlock()
        guard start else { return }
        let at = DispatchTime.now() + delay
        queue.asyncAfter(deadline: paced > 0 ? max(at, .now() + paced) : at) { [self] in drain() }
    }

    private func drain() {
        lock.lock()
        let records = pending, runId = latestRun
        pending = []
        scheduled = false
        lock.unlock()
        guard !records.isEmpty else { return }
        let started = ProcessInfo.processInfo.systemUptime
        work(records, runId)
        if let share {
            let now = ProcessInfo.processInfo.systemUptime
            lock.withLock { earliest = now + (now - started) * (1 / share - 1) }
        }
    }

    /// Runs the work pending now, without its delay (a draining shutdown).
    func flush() {
        queue.sync { drain() }
    }

    /// Waits for the pass scheduled so far (tests, and a draining shutdown).
    func waitUntilIdle() {
        queue.sync {}
        queue.sync {}
    }
}

/// Requests per token: a bucket of `rate` requests refilled continuously; an empty bucket answers 429
/// with the seconds until the next request may pass.
final class RateLimiter: @unchecked Sendable {
    private let lock = NSLock()
    private var buckets: [String: (tokens: Double, at: Double)] = [:]
    let rate: Double

    init(requestsPerSecond: Double) { rate = requestsPerSecond }

    /// Nil when the request may pass, else the seconds to wait.
    func take(_ key: String, now: Double = ProcessInfo.processInfo.systemUptime) -> Int? {
        lock.lock(); defer { lock.unlock() }
        var bucket = buckets[key] ?? (rate, now)
        bucket.tokens = min(rate, bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        guard bucket.tokens >= 1 else {
            buckets[key] = bucket
            return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up)))
        }
        bucket.tokens -= 1
        buckets[key] = bucket
        return nil
    }
}

extension HTTPField.Name {
    /// The id of a pushed request's batch (also in its body and in the batch's lineage).
    static let requestId = HTTPField.Name("X-Request-Id")!
}
