import Foundation
import GRDB
import StewardCatalog
import StewardConfig

/// Custom traits' golden values, chosen among a customer's records by the project's survivorship
/// rules (`survivorship.attributes.TRAIT`, else the default rule) as golden fields are.
enum GoldenTraits {
    struct Candidate {
        var value: String
        var source: String
        var recordKey: String
        var updatedRun: Int64
        var priority: Int
        /// How many traits the record fills (most_complete).
        var filled: Int
    }

    /// The value that survives among candidates for one trait.
    static func choose(_ candidates: [Candidate], rule: SurvivorshipRule) -> Candidate? {
        guard !candidates.isEmpty else { return nil }
        func tieBreak(_ a: Candidate, _ b: Candidate) -> Bool {
            if a.priority != b.priority { return a.priority > b.priority }
            if a.updatedRun != b.updatedRun { return a.updatedRun > b.updatedRun }
            return (a.source, a.recordKey) < (b.source, b.recordKey)
        }
        switch rule {
        case .mostFrequent:
            var counts: [String: Int] = [:]
            for c in candidates { counts[normal(c.value), default: 0] += 1 }
            return candidates.min { a, b in
                let ca = counts[normal(a.value)]!, cb = counts[normal(b.value)]!
                return ca != cb ? ca > cb : tieBreak(a, b)
            }
        case .mostRecent:
            return candidates.min { a, b in a.updatedRun != b.updatedRun ? a.updatedRun > b.updatedRun : tieBreak(a, b) }
        case .sourcePriority:
            return candidates.min(by: tieBreak)
        case .mostComplete:
            return candidates.min { a, b in a.filled != b.filled ? a.filled > b.filled : tieBreak(a, b) }
        }
    }

    static func normal(_ s: String) -> String { s.trimmingCharacters(in: .whitespaces).lowercased() }

    /// Rewrites `customer_trait` from the live records' trait values. Returns the values written.
    static func update(_ db: Database, config: ProjectConfig) throws -> Int {
        try db.execute(sql: "DELETE FROM customer_trait")
        let names = config.sources.flatMap { $0.traits.map(\.name) }
        guard !names.isEmpty else { return 0 }
        let s = config.survivorship
        func priority(source: String, system: String?) -> Int {
            if let i = s.sourcePriority.firstIndex(of: source) { return s.sourcePriority.count - i + 1 }
            return s.sourcePriority.isEmpty && system == config.matching.primarySystem ? 1 : 0
        }
        var insert = try BulkRows(db, insertInto: "customer_trait", columns: ["customer_id", "name", "value", "source", "record_key"])
        var written = 0
        var customer: String?
        var byTrait: [String: [Candidate]] = [:]
        func flush() throws {
            guard let customer else { return }
            for (name, candidates) in byTrait {
                guard let w = choose(candidates, rule: s.rule(for: name)) else { continue }
                insert.text(customer); insert.text(name); insert.text(w.value); insert.text(w.source); insert.text(w.recordKey)
                try insert.endRow(db)
                written += 1
            }
            byTrait.removeAll(keepingCapacity: true)
        }
        let rows = try Row.fetchCursor(db, sql: """
            SELECT m.customer_id, rt.source, rt.record_key, rt.values_json, sp.updated_run, src.system
            FROM record_trait rt
            JOIN staged_person sp ON sp.source = rt.source AND sp.record_key = rt.record_key AND sp.is_deleted = 0
            JOIN identity_member m ON m.source = rt.source AND m.record_key = rt.record_key
            JOIN golden_customer g ON g.customer_id = m.customer_id
            LEFT JOIN source src ON src.name = rt.source
            WHERE rt.values_json <> '{}'
            ORDER BY m.customer_id
            """)
        while let r = try rows.next() {
            let id: String = r[0]
            if id != customer { try flush(); customer = id }
            guard let values = try? JSONSerialization.jsonObject(with: Data((r[3] as String).utf8)) as? [String: String] else { continue }
            let p = priority(source: r[1], system: r[5])
            for (name, value) in values {
                byTrait[name, default: []].append(Candidate(value: value, source: r[1], recordKey: r[2], updatedRun: r[4], priority: p, filled: values.count))
            }
        }
        try flush()
        try insert.finish(db)
        return written
    }
}

/// Linked activity totals per active customer (the `orders`, `revenue`, `last_order_at`, `tickets`
/// and `events` traits), as the 360 counts them.
enum ActivityTotals {
    static func update(_ db: Database) throws -> Int {
        try db.execute(sql: "DELETE FROM customer_activity_total")
        // Activity first (CROSS JOIN fixes the order): read in its own order, each link found by key and
        // the groups sorted after. SQLite's choice, the links by customer and each activity row looked up
        // at random, took 22.4 s against 4.8 s at a million customers (3.3 M activity rows; BENCHMARKS.md
        // session 23).
        try db.execute(sql: """
            INSERT INTO customer_activity_total (customer_id, orders, revenue, first_order_at, last_order_at, tickets, events)
            SELECT g.customer_id, COALESCE(x.orders, 0), COALESCE(x.revenue, 0), x.first_order_at, x.last_order_at,
                   COALESCE(x.tickets, 0), COALESCE(x.events, 0)
            FROM golden_customer g LEFT JOIN (
                SELECT l.customer_id,
                       SUM(a.entity = 'transaction') AS orders,
                       SUM(CASE WHEN a.entity = 'transaction' THEN a.amount END) AS revenue,
                       MIN(CASE WHEN a.entity = 'transaction' THEN a.occurred_at END) AS first_order_at,
                       MAX(CASE WHEN a.entity = 'transaction' THEN a.occurred_at END) AS last_order_at,
                       SUM(a.entity = 'event' AND s.system = 'support') AS tickets,
                       SUM(a.entity = 'event' AND s.system IS NOT 'support') AS events
                FROM staged_activity a CROSS JOIN customer_activity_link l ON l.source = a.source AND l.record_key = a.record_key
                LEFT JOIN source s ON s.name = a.source
                WHERE a.is_deleted = 0
                GROUP BY l.customer_id
            ) x ON x.customer_id = g.customer_id
            """)
        return db.changesCount
    }
}
