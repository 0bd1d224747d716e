import Foundation
import GRDB

/// What `steward forget` removes from the activation and sync tables (issue 20's tables, issue 16's
/// rule: an erased person leaves nothing behind). The schema's owner knows its tables, so the
/// erasure calls this rather than naming them itself.
///
/// - Traits and consent read from the person's records, and their golden traits, consent, activity
///   totals, audience membership and history, lift inputs, CRM field state: deleted.
/// - A destination that holds the person keeps a marker without values (`erasedHash`), so its next
///   sync sends a `remove` whatever its mode: erasure reaches the systems Steward fed.
/// - A batch not yet delivered that carries the person's fields has those changes turned into removes
///   in its stored body (the re-send is no longer byte for byte the first attempt: erasure outranks it).
public enum ActivationErasure {
    /// The content hash a destination's state holds for an erased person.
    public static let erasedHash = "erased"

    /// `erasedKeys` is a table of `(source, record_key)` holding the person's records.
    public static func forget(_ db: Database, customerIds ids: [String], erasedKeys: String) throws {
        guard !ids.isEmpty else { return }
        let marks = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        let idArgs = StatementArguments(ids)
        for table in ["record_trait", "consent_statement"] {
            try db.execute(sql: """
                DELETE FROM \(table) WHERE EXISTS (SELECT 1 FROM \(erasedKeys) k WHERE k.source = \(table).source AND k.record_key = \(table).record_key)
                """)
        }
        for table in ["customer_trait", "customer_consent", "customer_activity_total", "audience_member", "audience_change", "crm_field_state"] {
            try db.execute(sql: "DELETE FROM \(table) WHERE customer_id IN (\(marks))", arguments: idArgs)
        }
        // A destination's state is kept by customer id, or for a CRM write-back by the CRM record
        // (its "audience" is the CRM source's name).
        let held = """
            (customer_id IN (\(marks)) OR EXISTS (SELECT 1 FROM \(erasedKeys) k WHERE k.source = sync_state.audience AND k.record_key = sync_state.customer_id))
            """
        try db.execute(sql: "UPDATE sync_state SET content_hash = ? WHERE \(held)", arguments: [erasedHash] + idArgs)
        try rewriteOpenBatches(db, customerIds: Set(ids), erasedKeys: erasedKeys)
    }

    /// Pending or failed batches: the person's changes become removes without fields.
    static func rewriteOpenBatches(_ db: Database, customerIds ids: Set<String>, erasedKeys: String) throws {
        let crmKeys = Set(try Row.fetchAll(db, sql: "SELECT source, record_key FROM \(erasedKeys)").map { "\($0[0] as String)\u{1F}\($0[1] as String)" })
        let vault = VaultBox.of(db)
        for row in try Row.fetchAll(db, sql: "SELECT id, body FROM sync_batch WHERE status IN ('pending','failed') AND body <> ''") {
            let id: Int64 = row[0], stored: String = row[1]
            let text = vault.reveal(stored)
            guard var object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                  let changes = object["changes"] as? [[String: Any]] else { continue }
            var touched: [Int] = []
            let rewritten = changes.enumerated().map { seq, change -> [String: Any] in
                let customer = change["customer_id"] as? String ?? ""
                let audience = change["audience"] as? String ?? ""
                let record = change["record_id"] as? String
                let theirs = ids.contains(customer) || record.map { crmKeys.contains("\(audience)\u{1F}\($0)") } == true
                guard theirs else { return change }
                touched.append(seq)
                var remove: [String: Any] = ["op": "remove", "customer_id": customer, "audience": audience, "fields": [String: Any]()]
                if let record { remove["record_id"] = record }
                return remove
            }
            guard !touched.isEmpty else { continue }
            object["changes"] = rewritten
            let body = String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
            let ops = rewritten.map { $0["op"] as? String }
            try db.execute(sql: "UPDATE sync_batch SET body = ?, adds = ?, updates = ?, removes = ? WHERE id = ?",
                           arguments: [stored == text ? body : try vault.seal(body), ops.filter { $0 == "add" }.count,
                                       ops.filter { $0 == "update" }.count, ops.filter { $0 == "remove" }.count, id])
            for seq in touched {
                try db.execute(sql: "UPDATE sync_change SET op = 'remove', content_hash = ? WHERE batch_id = ? AND seq = ?",
                               arguments: [erasedHash, id, seq])
            }
        }
    }
}
