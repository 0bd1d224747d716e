import Foundation
import GRDB
import StewardCatalog

/// Links each live staged activity row (order, ticket, event) to a customer through the identity
/// graph (`customer_activity_link`).
///
/// A `customer_ref` names either a person record of another source (`source:NAME` → that record's
/// customer) or an identifier (`email`, `phone`, `national_id` → the customers whose live records hold
/// it, placeholder values excluded). When an identifier points at several customers, the one with the
/// most records holding it wins (then the smaller id), and `candidates` says how many there were.
public enum ActivityLinks {
    public struct Outcome: Sendable { public var activities: Int; public var linked: Int; public var changed: Int }

    static let identifierKinds = ["email", "phone", "national_id"]

    /// A live activity row with the customer it links to, as the pass reads it.
    public struct Linked {
        public var customer: String
        public var source: String
        public var entity: String
        public var occurredAt: String?
        public var amount: Double?
    }

    /// Writes only the links that changed; deletes links of activity that is gone or no longer resolves.
    /// `visit` sees every live activity row that links to a customer, in the order of `staged_activity`
    /// (the customers' histories are built from it, without reading the activity a second time).
    @discardableResult
    public static func update(_ db: Database, runId: Int64, visit: (Linked) -> Void = { _ in }) throws -> Outcome {
        var resolver = try Resolver(db)
        var existing: [Key: (customer: String, method: String, candidates: Int)] = [:]
        for r in try Row.fetchAll(db, sql: "SELECT source, record_key, customer_id, method, candidates FROM customer_activity_link") {
            existing[Key(source: r[0], record: r[1])] = (r[2], r[3], r[4])
        }
        var deferred = DeferredIndexes()
        try deferred.drop(db, table: "customer_activity_link", ifEmpty: true)
        // A first pass inserts into an empty table, each key once (staging's keys are unique): no
        // upsert, whose DO UPDATE would keep a statement journal (BulkRows).
        var upsert = try BulkRows(db, insertInto: "customer_activity_link",
                                  columns: ["source", "record_key", "customer_id", "method", "candidates", "linked_run"],
                                  then: existing.isEmpty ? "" : """
            ON CONFLICT(source, record_key) DO UPDATE SET customer_id = excluded.customer_id, method = excluded.method,
                candidates = excluded.candidates, linked_run = excluded.linked_run
            """)
        var activities = 0, linked = 0, changed = 0
        var unresolved: [Key] = []
        let rows = try Row.fetchCursor(db, sql: """
            SELECT source, record_key, customer_ref_kind, customer_ref, entity, occurred_at, amount FROM staged_activity WHERE is_deleted = 0
            """)
        while let r = try rows.next() {
            activities += 1
            let key = Key(source: r[0], record: r[1])
            // A first pass has no links yet: no key to hash.
            let old = existing.isEmpty ? nil : existing.removeValue(forKey: key)
            guard let kind: String = r[2], let ref: String = r[3], let link = resolver.resolve(kind: kind, ref: ref) else {
                if old != nil { unresolved.append(key) }
                continue
            }
            linked += 1
            visit(Linked(customer: link.customer, source: key.source, entity: r[4], occurredAt: r[5], amount: r[6]))
            if let old, old.customer == link.customer, old.method == link.method, old.candidates == link.candidates { continue }
            upsert.text(key.source); upsert.text(key.record); upsert.text(link.customer); upsert.text(link.method)
            upsert.int(link.candidates); upsert.int(runId)
            try upsert.endRow(db)
            changed += 1
        }
        try upsert.finish(db)
        let delete = try db.makeStatement(sql: "DELETE FROM customer_activity_link WHERE source = ? AND record_key = ?")
        for key in (Array(existing.keys) + unresolved).sorted(by: { ($0.source, $0.record) < ($1.source, $1.record) }) {
            try delete.execute(arguments: [key.source, key.record])
            changed += 1
        }
        try deferred.restore(db)
        return Outcome(activities: activities, linked: linked, changed: changed)
    }

    struct Key: Hashable { var source: String; var record: String }

    /// The customer of each reference, read once per pass.
    struct Resolver {
        /// Per reference kind ("source:crm", "email", …): the reference → its customer and how many
        /// customers it could have meant. One table per kind, so a row costs one string lookup.
        private var tables: [String: [String: (customer: String, candidates: Int)]] = [:]
        private var last: (kind: String, table: [String: (customer: String, candidates: Int)])?

        /// Loads only the reference kinds some activity uses (at 100k customers, all of them took 2 s).
        init(_ db: Database) throws {
            let kinds = Set(try String.fetchAll(db, sql: "SELECT DISTINCT customer_ref_kind FROM staged_activity WHERE customer_ref_kind IS NOT NULL"))
            for kind in kinds.sorted() where kind.hasPrefix("source:") {
                var table: [String: (customer: String, candidates: Int)] = [:]
                let rows = try Row.fetchCursor(db, sql: "SELECT record_key, customer_id FROM identity_member WHERE source = ?",
                                               arguments: [String(kind.dropFirst(7))])
                while let r = try rows.next() { table[r[0]] = (r[1], 1) }
                tables[kind] = table
            }
            for kind in ActivityLinks.identifierKinds where kinds.contains(kind) {
                var table: [String: (customer: String, candidates: Int)] = [:]
                // Rows come grouped by value, the customer with the most records holding it first.
                // Column names come from the fixed list above, never from input.
                let rows = try Row.fetchCursor(db, sql: """
                    SELECT p.\(kind), m.customer_id, COUNT(*) FROM staged_person p
                    JOIN identity_member m ON m.source = p.source AND m.record_key = p.record_key
                    WHERE p.is_deleted = 0 AND p.\(kind) IS NOT NULL
                        AND p.\(kind) NOT IN (SELECT value FROM identity_junk WHERE field = ?)
                    GROUP BY p.\(kind), m.customer_id ORDER BY p.\(kind), COUNT(*) DESC, m.customer_id
                    """, arguments: [kind])
                var group: (value: String, customer: String, candidates: Int)?
                while let r = try rows.next() {
                    let value: String = r[0]
                    if value == group?.value { group!.candidates += 1; continue }
                    if let g = group { table[g.value] = (g.customer, g.candidates) }
                    group = (value, r[1], 1)
                }
                if let g = group { table[g.value] = (g.customer, g.candidates) }
                tables[kind] = table
            }
        }

        mutating func resolve(kind: String, ref: String) -> (customer: String, method: String, candidates: Int)? {
            // Activity rows come source by source, so the kind rarely changes from one row to the next.
            if last?.kind != kind { last = tables[kind].map { (kind, $0) } }
            guard let hit = last?.table[ref] else { return nil }
            return (hit.customer, kind.hasPrefix("source:") ? "source_key" : kind, hit.candidates)
        }
    }
}
