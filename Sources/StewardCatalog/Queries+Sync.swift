import Foundation
import GRDB

/// One sync of one destination (`sync_run`), as `sync status` and the console show it.
public struct DestinationSyncRecord: Sendable, Equatable {
    public var id: Int64
    public var destination: String
    public var type: String
    public var runId: Int64?
    public var startedAt: Date
    public var finishedAt: Date
    /// `ok` or `failed`.
    public var status: String
    public var adds: Int
    public var updates: Int
    public var removes: Int
    public var batches: Int
    /// Changes left in batches that are not delivered yet (re-sent at the next sync).
    public var pending: Int
    public var error: String?

    public init(id: Int64, destination: String, type: String, runId: Int64?, startedAt: Date, finishedAt: Date, status: String,
                adds: Int, updates: Int, removes: Int, batches: Int, pending: Int, error: String?) {
        self.id = id; self.destination = destination; self.type = type; self.runId = runId
        self.startedAt = startedAt; self.finishedAt = finishedAt; self.status = status
        self.adds = adds; self.updates = updates; self.removes = removes; self.batches = batches; self.pending = pending; self.error = error
    }
}

/// What one sync sent for one audience.
public struct SyncSentCounts: Sendable, Equatable {
    public var adds = 0
    public var updates = 0
    public var removes = 0
    public init(adds: Int = 0, updates: Int = 0, removes: Int = 0) { self.adds = adds; self.updates = updates; self.removes = removes }

    /// Counts one change by its op (`add`, `update`, `remove`).
    public mutating func count(_ op: String) {
        switch op {
        case "add": adds += 1
        case "update": updates += 1
        default: removes += 1
        }
    }
}

/// A destination's sync, as one audience it carries saw it: the sync's outcome and what it sent for
/// that audience (nil for a sync recorded before per-audience counts were kept).
public struct AudienceSyncRecord: Sendable, Equatable {
    public var sync: DestinationSyncRecord
    public var sent: SyncSentCounts?
    public var destination: String { sync.destination }
}

/// A destination's sync health: its last sync and, while failing, since when.
public struct DestinationSyncHealth: Sendable, Equatable {
    public var last: DestinationSyncRecord
    /// The first failed sync after the last good one; nil while the last sync was good.
    public var failingSince: Date?
}

extension Catalog {
    /// The newest syncs, newest first; of one destination when named.
    public func syncHistory(destination: String? = nil, limit: Int = 20) throws -> [DestinationSyncRecord] {
        try pool.read { db in
            guard try db.tableExists("sync_run") else { return [] }
            let filter = destination == nil ? "" : "WHERE destination = ?"
            let args: StatementArguments = destination.map { [$0, limit] } ?? [limit]
            return try Row.fetchAll(db, sql: """
                SELECT * FROM sync_run \(filter) ORDER BY id DESC LIMIT ?
                """, arguments: args).map(Self.syncRecord)
        }
    }

    /// Per destination that has synced at least once: its last sync and since when it has been failing.
    public func destinationSyncHealth() throws -> [String: DestinationSyncHealth] {
        try pool.read { db in
            guard try db.tableExists("sync_run") else { return [:] }
            var out: [String: DestinationSyncHealth] = [:]
            let lasts = try Row.fetchAll(db, sql: """
                SELECT r.* FROM sync_run r JOIN (SELECT destination, MAX(id) AS id FROM sync_run GROUP BY destination) m ON m.id = r.id
                """).map(Self.syncRecord)
            for last in lasts {
                var since: Date?
                if last.status == "failed" {
                    let text = try String.fetchOne(db, sql: """
                        SELECT MIN(started_at) FROM sync_run WHERE destination = ? AND status = 'failed'
                          AND id > COALESCE((SELECT MAX(id) FROM sync_run WHERE destination = ? AND status = 'ok'), 0)
                        """, arguments: [last.destination, last.destination])
                    since = text.flatMap(Timestamp.date)
                }
                out[last.destination] = DestinationSyncHealth(last: last, failingSince: since)
            }
            return out
        }
    }

    /// What each of `syncs` sent for `audience`, in the same order.
    public static func audienceSyncs(_ db: Database, _ syncs: [DestinationSyncRecord], audience: String) throws -> [AudienceSyncRecord] {
        guard try db.tableExists("sync_run_audience") else { return syncs.map { AudienceSyncRecord(sync: $0, sent: nil) } }
        let statement = try db.cachedStatement(sql: """
            SELECT adds, updates, removes FROM sync_run_audience WHERE sync_run_id = ? AND audience = ?
            """)
        return try syncs.map { sync in
            let row = try Row.fetchOne(statement, arguments: [sync.id, audience])
            return AudienceSyncRecord(sync: sync, sent: row.map { SyncSentCounts(adds: $0[0], updates: $0[1], removes: $0[2]) })
        }
    }

    static func syncRecord(_ row: Row) -> DestinationSyncRecord {
        DestinationSyncRecord(
            id: row["id"], destination: row["destination"], type: row["type"], runId: row["run_id"],
            startedAt: Timestamp.date(row["started_at"]) ?? .distantPast, finishedAt: Timestamp.date(row["finished_at"]) ?? .distantPast,
            status: row["status"], adds: row["adds"], updates: row["updates"], removes: row["removes"], batches: row["batches"],
            pending: row["pending"], error: row["error"])
    }
}
