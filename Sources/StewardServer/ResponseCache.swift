import Foundation

/// GET bodies already built for the catalog as it is now, by URL (its sorted query) and variant:
/// a repeated search or 360 is answered without running its query again, like a 304 but for
/// clients that send no If-None-Match. Entries are for one value of the catalog's change counter
/// only: the first request after a commit empties the cache, so a body is never older than the
/// catalog. A body that also moves with the clock (freshness ages, KPIs measured now) is kept for
/// `maxAge` seconds at most. Only masked bodies are kept (`?reveal=true` is never cached: each
/// reveal is audited).
final class ResponseCache: @unchecked Sendable {
    private struct Entry { var body: Data; var expires: Date? }
    private let lock = NSLock()
    private var counter: UInt64?
    private var entries: [String: Entry] = [:]
    private var bytes = 0
    let maxEntries: Int
    let maxBytes: Int

    init(maxEntries: Int = 4_096, maxBytes: Int = 32 << 20) {
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
    }

    func body(_ key: String, counter: UInt64, now: Date = Date()) -> Data? {
        lock.withLock {
            guard self.counter == counter, let e = entries[key], e.expires.map({ now < $0 }) ?? true else { return nil }
            return e.body
        }
    }

    func store(_ body: Data, _ key: String, counter: UInt64, maxAge: TimeInterval?, now: Date = Date()) {
        lock.withLock {
            if self.counter != counter {
                // Built for an older catalog than the cache holds: not kept.
                guard self.counter.map({ counter > $0 }) ?? true else { return }
                self.counter = counter
                entries.removeAll(keepingCapacity: true)
                bytes = 0
            }
            guard body.count <= maxBytes else { return }
            // Full: start over rather than track recency (a full cache is one busy catalog version).
            if entries.count >= maxEntries || bytes + body.count > maxBytes { entries.removeAll(keepingCapacity: true); bytes = 0 }
            if let old = entries.updateValue(Entry(body: body, expires: maxAge.map { now.addingTimeInterval($0) }), forKey: key) {
                bytes -= old.body.count
            }
            bytes += body.count
        }
    }

    var count: Int { lock.withLock { entries.count } }
}

/// Work in progress by key: the first caller of `join` builds (gets nil) and must call `finish`;
/// callers that join meanwhile wait for that result (a value or the same error).
final class InFlight<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var waiting: [String: [CheckedContinuation<Value?, Error>]] = [:]

    /// Nil: the caller builds the value and then calls `finish`. Otherwise the value another caller built.
    func join(_ key: String) async throws -> Value? {
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Value?, Error>) in
            lock.lock()
            if waiting[key] == nil {
                waiting[key] = []
                lock.unlock()
                waiter.resume(returning: nil)
            } else {
                waiting[key]!.append(waiter)
                lock.unlock()
            }
        }
    }

    /// Ends the building of `key`: its waiters get `result`.
    func finish(_ key: String, _ result: Result<Value, Error>) {
        let waiters = lock.withLock { waiting.removeValue(forKey: key) ?? [] }
        for waiter in waiters { waiter.resume(with: result.map { Optional($0) }) }
    }

    /// Keys being built now, and the requests waiting on one (tests).
    var count: Int { lock.withLock { waiting.count } }
    func waiterCount(_ key: String) -> Int { lock.withLock { waiting[key]?.count ?? 0 } }
}
