import Foundation

/// That `steward serve` is answering on a catalog, for readers in other processes (the console's
/// header): where it listens, its pid, since when, and how many requests it answered in the last
/// minute.
///
/// The server rewrites a private file beside the catalog (`<catalog>.serve.json`, 0600) every
/// `heartbeat` seconds rather than a catalog row: the console opens the catalog read-only, and a
/// row rewritten every few seconds would add a write transaction (and WAL traffic) to a server
/// whose writers are the pushed events. A record is believed only while its pid is a live steward
/// process (`RunLiveness`) and its last beat is recent: a server killed with SIGKILL, or a pid
/// reused after a reboot, is not "serving".
///
/// ```swift
/// try ServePresence(address: "http://127.0.0.1:8750", pid: getpid(), startedAt: start).write(catalogURL: url)
/// ServePresence.current(catalogURL: url)?.requestsLastMinute   // nil: not serving
/// ```
public struct ServePresence: Sendable, Equatable {
    /// The URL the server answers on (`http://127.0.0.1:8750`, `https://…` with TLS).
    public var address: String
    public var pid: Int32
    public var startedAt: Date
    /// The last beat.
    public var updatedAt: Date
    /// Requests answered in the 60 seconds before `updatedAt`.
    public var requestsLastMinute: Int

    /// How often a running server rewrites its record.
    public static let heartbeat: TimeInterval = 5
    /// A record whose last beat is older than this is stale even when its pid runs (a hung or
    /// suspended server, a pid reused by another steward process).
    public static let staleAfter: TimeInterval = 60

    public init(address: String, pid: Int32, startedAt: Date, updatedAt: Date = Date(), requestsLastMinute: Int = 0) {
        self.address = address; self.pid = pid; self.startedAt = startedAt; self.updatedAt = updatedAt
        self.requestsLastMinute = requestsLastMinute
    }

    /// `address` without its `http://` (the header's short form); `https://` stays, it says TLS.
    public var shortAddress: String { address.hasPrefix("http://") ? String(address.dropFirst(7)) : address }

    public static func url(catalogURL: URL) -> URL {
        catalogURL.deletingLastPathComponent().appendingPathComponent(catalogURL.lastPathComponent + ".serve.json")
    }

    /// Replaces the record atomically (a reader never sees half a file), 0600.
    public func write(catalogURL: URL) throws {
        let body: [String: Any] = ["address": address, "pid": Int(pid), "started_at": Timestamp.string(startedAt),
                                   "updated_at": Timestamp.string(updatedAt), "requests_last_minute": requestsLastMinute]
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        try PrivateFiles.writeRegularFile(Array(data), to: Self.url(catalogURL: catalogURL))
    }

    /// Removes the record when it is `pid`'s (a second server on the same catalog keeps its own).
    public static func remove(catalogURL: URL, pid: Int32) {
        guard let recorded = read(catalogURL: catalogURL), recorded.pid == pid else { return }
        try? FileManager.default.removeItem(at: url(catalogURL: catalogURL))
    }

    /// The record as written, live or not; nil when there is none or it cannot be read.
    public static func read(catalogURL: URL) -> ServePresence? {
        guard let data = FileManager.default.contents(atPath: url(catalogURL: catalogURL).path),
              let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let address = o["address"] as? String, let pid = (o["pid"] as? NSNumber)?.int32Value,
              let started = (o["started_at"] as? String).flatMap(Timestamp.date),
              let updated = (o["updated_at"] as? String).flatMap(Timestamp.date),
              let requests = (o["requests_last_minute"] as? NSNumber)?.intValue
        else { return nil }
        return ServePresence(address: address, pid: pid, startedAt: started, updatedAt: updated, requestsLastMinute: requests)
    }

    /// The server answering on this catalog now: nil when none recorded itself, its process is gone,
    /// or its last beat is older than `staleAfter`.
    public static func current(catalogURL: URL, now: Date = Date()) -> ServePresence? {
        guard let p = read(catalogURL: catalogURL), now.timeIntervalSince(p.updatedAt) <= staleAfter,
              RunLiveness.isAlive(pid: p.pid) else { return nil }
        return p
    }
}
