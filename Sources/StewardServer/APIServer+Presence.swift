import Foundation
import StewardCatalog

/// Requests answered per second over the last minute: 60 one-second buckets in a ring, so counting
/// a request and reading the total are O(1) and O(60) whatever the load.
final class RequestRate: @unchecked Sendable {
    private let lock = NSLock()
    private var buckets = [Int](repeating: 0, count: 60)
    /// The whole second each bucket counts (a bucket from a minute ago is reset before reuse).
    private var seconds = [Int64](repeating: -1, count: 60)

    func note(at now: Date = Date()) {
        let second = Int64(now.timeIntervalSince1970.rounded(.down))
        let i = Int(second % 60)
        lock.lock()
        if seconds[i] != second { seconds[i] = second; buckets[i] = 0 }
        buckets[i] += 1
        lock.unlock()
    }

    /// Requests in the 60 seconds up to `now`.
    func lastMinute(at now: Date = Date()) -> Int {
        let second = Int64(now.timeIntervalSince1970.rounded(.down))
        lock.lock(); defer { lock.unlock() }
        var total = 0
        for i in 0..<60 where seconds[i] > second - 60 && seconds[i] <= second { total += buckets[i] }
        return total
    }
}

extension APIServer {
    /// Records the server beside the catalog (`ServePresence`) now and every heartbeat until cancelled,
    /// then removes the record. A folder that cannot be written costs the console's line, never the API.
    func beat(port: Int) async {
        let started = Date(), pid = getpid()
        var warned = false
        while !Task.isCancelled {
            let now = Date()
            do {
                try ServePresence(address: options.url(port: port), pid: pid, startedAt: started, updatedAt: now,
                                  requestsLastMinute: requests.lastMinute(at: now)).write(catalogURL: catalog.url)
            } catch where !warned {
                warned = true
                log("steward serve: cannot record the server beside the catalog (the console will not show it): \(type(of: error))")
            } catch {}
            try? await Task.sleep(for: .seconds(options.presenceInterval))
        }
        ServePresence.remove(catalogURL: catalog.url, pid: pid)
    }
}
