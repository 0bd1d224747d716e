import Foundation
import GRDB
import StewardCatalog
import StewardConfig

/// Brings one destination to the desired state, sending only what changed since it last received
/// something, in batches:
///
/// 1. batches not delivered yet (a failed delivery) are re-sent first, oldest first, each with its
///    own id and its stored body: a receiver that keeps batch ids sees no change twice;
/// 2. then the plan (`SyncPlan`) against what the destination holds (`sync_state`) is cut into
///    batches of `batch_size`; each gets a new id (AUTOINCREMENT: never reused) before it is sent;
/// 3. a delivered batch's changes are folded into `sync_state`; the first failure stops the sync
///    (later batches are planned again next time), is recorded, and is never fatal to the caller.
///
/// Every sync leaves one `sync_run` row (`steward sync status`, the console, `steward check`).
public struct DestinationSyncer: Sendable {
    public let catalog: Catalog
    public let destination: DestinationConfig
    public let delivery: DestinationDelivery
    public var now: @Sendable () -> Date = { Date() }

    public init(catalog: Catalog, destination: DestinationConfig, delivery: DestinationDelivery) {
        self.catalog = catalog
        self.destination = destination
        self.delivery = delivery
    }

    /// The delivery `destination` declares: a webhook or drop files.
    public static func delivery(for destination: DestinationConfig, catalog: Catalog) -> DestinationDelivery {
        if let url = destination.url { return WebhookDestination(url: url, catalog: catalog) }
        let path = destination.path ?? URL(fileURLWithPath: "\(destination.name).\(destination.format.rawValue)")
        // A CRM update file names the CRM's record beside the golden id.
        let fields = destination.kind == .crm ? ["customer_id", "record_id"] + destination.fields.filter { $0 != "customer_id" } : destination.fields
        return FileDropDestination(path: path, format: destination.format, fields: fields)
    }

    /// Syncs; throws only when the catalog cannot be read or written (a delivery failure is an outcome).
    @discardableResult
    public func sync(desired: [DesiredMember], runId: Int64? = nil) throws -> DestinationSyncRecord {
        let started = now()
        var sent = (add: 0, update: 0, remove: 0), batches = 0
        // What each audience was sent: the Audiences pane shows an audience its own share of a sync.
        var byAudience: [String: SyncSentCounts] = [:]
        for a in destination.audiences { byAudience[a] = SyncSentCounts() }
        var failure: String?

        // 1. What was not delivered, as it was first sent.
        for (id, body) in try openBatches() {
            batches += 1
            let changes = try storedChanges(batch: id)
            let payload = SyncBatchPayload(destination: destination.name, batchId: id, changes: changes)
            if let error = delivery.deliver(payload, body: body) {
                try markFailed(batch: id, error: error)
                failure = error
                break
            }
            try markDelivered(batch: id, changes: changes)
            count(changes, into: &sent, &byAudience)
        }

        // 2. What changed since.
        if failure == nil {
            let held = try heldState()
            let plan = SyncPlan.changes(held: held, desired: desired, mode: destination.mode)
            var start = 0
            while start < plan.count {
                let chunk = Array(plan[start..<min(start + destination.batchSize, plan.count)])
                start += chunk.count
                let (id, body) = try createBatch(chunk)
                batches += 1
                let payload = SyncBatchPayload(destination: destination.name, batchId: id, changes: chunk)
                if let error = delivery.deliver(payload, body: body) {
                    try markFailed(batch: id, error: error)
                    failure = error
                    break
                }
                try markDelivered(batch: id, changes: chunk)
                count(chunk, into: &sent, &byAudience)
            }
        }
        return try recordRun(started: started, runId: runId, sent: sent, batches: batches, error: failure, byAudience: byAudience)
    }

    private func count(_ changes: [SyncChange], into sent: inout (add: Int, update: Int, remove: Int),
                       _ byAudience: inout [String: SyncSentCounts]) {
        count(changes, into: &sent)
        for c in changes { byAudience[c.audience, default: SyncSentCounts()].count(c.op.rawValue) }
    }

    private func count(_ changes: [SyncChange], into sent: inout (add: Int, update: Int, remove: Int)) {
        for c in changes {
            switch c.op {
            case .add: sent.add += 1
            case .update: sent.update += 1
            case .remove: sent.remove += 1
            }
        }
    }

    // MARK: catalog

    func heldState() throws -> [SyncPlan.Key: String] {
        try catalog.pool.read { db in
            var held: [SyncPlan.Key: String] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT audience, customer_id, content_hash FROM sync_state WHERE destination = ?",
                                           arguments: [destination.name])
            while let row = try rows.next() {
                held[SyncPlan.Key(audience: row[0], customerId: row[1])] = row[2]
            }
            return held
        }
    }

    func openBatches() throws -> [(Int64, Data)] {
        try catalog.pool.read { db in
            let vault = VaultBox.of(db)
            return try Row.fetchAll(db, sql: """
                SELECT id, body FROM sync_batch WHERE destination = ? AND status IN ('pending','failed') ORDER BY id
                """, arguments: [destination.name]).map { row in
                let stored: String = row[1]
                return (row[0], Data(vault.reveal(stored).utf8))
            }
        }
    }

    /// A stored batch's changes, with their fields read back from its body.
    func storedChanges(batch id: Int64) throws -> [SyncChange] {
        try catalog.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT op, audience, customer_id, content_hash FROM sync_change WHERE batch_id = ? ORDER BY seq
                """, arguments: [id]).map { row in
                SyncChange(op: SyncOp(rawValue: row[0]) ?? .update, audience: row[1], customerId: row[2], contentHash: row[3], fields: [])
            }
        }
    }

    func createBatch(_ changes: [SyncChange]) throws -> (Int64, Data) {
        try catalog.pool.write { db in
            var counts = (add: 0, update: 0, remove: 0)
            count(changes, into: &counts)
            try db.execute(sql: """
                INSERT INTO sync_batch (destination, created_at, status, adds, updates, removes) VALUES (?, ?, 'pending', ?, ?, ?)
                """, arguments: [destination.name, Timestamp.string(now()), counts.add, counts.update, counts.remove])
            let id = db.lastInsertedRowID
            let body = SyncBatchPayload(destination: destination.name, batchId: id, changes: changes).body
            let text = String(decoding: body, as: UTF8.self)
            // Unmasked personal data is kept sealed like every other copy of it in the catalog.
            try db.execute(sql: "UPDATE sync_batch SET body = ? WHERE id = ?",
                           arguments: [destination.pii ? try VaultBox.of(db).seal(text) : text, id])
            let insert = try db.makeStatement(sql: """
                INSERT INTO sync_change (batch_id, seq, op, audience, customer_id, content_hash) VALUES (?, ?, ?, ?, ?, ?)
                """)
            for (seq, c) in changes.enumerated() {
                try insert.execute(arguments: [id, seq, c.op.rawValue, c.audience, c.customerId, c.contentHash])
            }
            return (id, body)
        }
    }

    func markDelivered(batch id: Int64, changes: [SyncChange]) throws {
        try catalog.pool.write { db in
            let at = Timestamp.string(now())
            let upsert = try db.makeStatement(sql: """
                INSERT INTO sync_state (destination, audience, customer_id, content_hash, batch_id, sent_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (destination, audience, customer_id) DO UPDATE SET content_hash = excluded.content_hash,
                    batch_id = excluded.batch_id, sent_at = excluded.sent_at
                """)
            let delete = try db.makeStatement(sql: "DELETE FROM sync_state WHERE destination = ? AND audience = ? AND customer_id = ?")
            for c in changes {
                if c.op == .remove {
                    try delete.execute(arguments: [destination.name, c.audience, c.customerId])
                } else {
                    try upsert.execute(arguments: [destination.name, c.audience, c.customerId, c.contentHash, id, at])
                }
            }
            // The body and changes have done their work; the batch row stays as history (its id stays taken).
            try db.execute(sql: "DELETE FROM sync_change WHERE batch_id = ?", arguments: [id])
            try db.execute(sql: """
                UPDATE sync_batch SET status = 'delivered', delivered_at = ?, attempts = attempts + 1, body = '', last_error = NULL WHERE id = ?
                """, arguments: [at, id])
        }
    }

    func markFailed(batch id: Int64, error: String) throws {
        try catalog.pool.write { db in
            try db.execute(sql: "UPDATE sync_batch SET status = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ?",
                           arguments: [error, id])
        }
    }

    func recordRun(started: Date, runId: Int64?, sent: (add: Int, update: Int, remove: Int), batches: Int,
                   error: String?, byAudience: [String: SyncSentCounts] = [:]) throws -> DestinationSyncRecord {
        try catalog.pool.write { db in
            let pending = try Int.fetchOne(db, sql: """
                SELECT COALESCE(SUM(adds + updates + removes), 0) FROM sync_batch WHERE destination = ? AND status IN ('pending','failed')
                """, arguments: [destination.name]) ?? 0
            let finished = now()
            try db.execute(sql: """
                INSERT INTO sync_run (destination, type, run_id, started_at, finished_at, status, adds, updates, removes, batches, pending, error)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [destination.name, destination.kind.rawValue, runId, Timestamp.string(started), Timestamp.string(finished),
                                 error == nil ? "ok" : "failed", sent.add, sent.update, sent.remove, batches, pending, error])
            let id = db.lastInsertedRowID
            let perAudience = try db.makeStatement(sql: """
                INSERT INTO sync_run_audience (sync_run_id, audience, adds, updates, removes) VALUES (?, ?, ?, ?, ?)
                """)
            // A crm destination's changes are keyed by its source, not by audience: nothing to split.
            for (audience, n) in byAudience where destination.kind != .crm && !audience.isEmpty {
                try perAudience.execute(arguments: [id, audience, n.adds, n.updates, n.removes])
            }
            if destination.pii && sent.add + sent.update > 0 {
                try Catalog.audit(db, action: "sync_pii", subject: "destination:\(destination.name)",
                                  detail: "\(sent.add + sent.update) records sent with personal data unmasked (pii: true)")
            }
            return DestinationSyncRecord(
                id: id, destination: destination.name, type: destination.kind.rawValue, runId: runId,
                startedAt: started, finishedAt: finished, status: error == nil ? "ok" : "failed", adds: sent.add, updates: sent.update,
                removes: sent.remove, batches: batches, pending: pending, error: error)
        }
    }
}
