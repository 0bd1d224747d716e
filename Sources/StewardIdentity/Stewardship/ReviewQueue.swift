import Foundation
import GRDB
import StewardCatalog
import StewardConfig

/// The review queue (pairs scored inside the review band, or kept apart by the chaining guard) and
/// a steward's accept/reject decisions, which override the model from the next matching pass on.
public enum ReviewQueue {
    public struct Item: Sendable, Equatable {
        public var a: String
        public var b: String
        public var probability: Double
        /// `review` (inside the review band) or `refused` (above the threshold, kept apart by the chaining guard).
        public var status: String
        /// The customers the two records belong to now.
        public var customerA: String?
        public var customerB: String?
        /// A steward's decision on the pair (`accept`/`reject`), applied from the next matching pass.
        public var decision: String?
        /// The decision was there when the matching pass that scored this pair ran (it was applied).
        public var applied = false
    }

    /// The pairs still waiting: a reject the last matching pass applied has done its work (the pair
    /// was kept apart), so the pair leaves the queue; an undecided pair, a decision the next pass
    /// applies, or an accept that could not join the two stays.
    static let waiting = """
        FROM identity_edge e
        LEFT JOIN identity_decision d ON (d.a_source, d.a_key, d.b_source, d.b_key) = (e.a_source, e.a_key, e.b_source, e.b_key)
            OR (d.a_source, d.a_key, d.b_source, d.b_key) = (e.b_source, e.b_key, e.a_source, e.a_key)
        LEFT JOIN run r ON r.id = e.run_id
        WHERE e.status IN ('review', 'refused') AND NOT (d.decision IS 'reject' AND COALESCE(d.at <= r.started_at, 0))
        """

    public static func items(_ db: Database, limit: Int = 50) throws -> [Item] {
        try Row.fetchAll(db, sql: """
            SELECT e.a_source || ':' || e.a_key, e.b_source || ':' || e.b_key, e.probability, e.status,
                   (SELECT customer_id FROM identity_member WHERE source = e.a_source AND record_key = e.a_key),
                   (SELECT customer_id FROM identity_member WHERE source = e.b_source AND record_key = e.b_key),
                   d.decision, COALESCE(d.at <= r.started_at, 0)
            \(waiting) ORDER BY e.probability DESC, e.a_source, e.a_key, e.b_source, e.b_key LIMIT ?
            """, arguments: [limit]).map {
                Item(a: $0[0], b: $0[1], probability: $0[2], status: $0[3], customerA: $0[4], customerB: $0[5], decision: $0[6], applied: $0[7])
            }
    }

    /// Pairs waiting in the queue.
    public static func count(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) \(waiting)") ?? 0
    }

    public enum Failure: Error, CustomStringConvertible {
        case unknownRecord(String), sameRecord
        public var description: String {
            switch self {
            case .unknownRecord(let r): return "no staged person record \(r) (expected SOURCE:RECORD)"
            case .sameRecord: return "a record cannot be decided against itself"
            }
        }
    }

    /// Records (or replaces) a decision on a pair, audited; it applies from the next matching pass.
    public static func decide(_ db: Database, _ a: String, _ b: String, accept: Bool, actor: String = Catalog.osUser) throws {
        func split(_ r: String) throws -> (String, String) {
            guard let i = r.firstIndex(of: ":") else { throw Failure.unknownRecord(r) }
            let s = String(r[..<i]), k = String(r[r.index(after: i)...])
            guard try Int.fetchOne(db, sql: "SELECT 1 FROM staged_person WHERE source = ? AND record_key = ?", arguments: [s, k]) != nil else {
                throw Failure.unknownRecord(r)
            }
            return (s, k)
        }
        var x = try split(a), y = try split(b)
        if x == y { throw Failure.sameRecord }
        if (y.0, y.1) < (x.0, x.1) { swap(&x, &y) }
        let decision = accept ? "accept" : "reject"
        try record(db, x, y, accept: accept, actor: actor, at: Timestamp.now())
        try Catalog.audit(db, action: "match.\(decision)", subject: "\(x.0):\(x.1)|\(y.0):\(y.1)", detail: "steward decision", actor: actor)
    }

    /// Writes (or replaces) the decision on one pair of records, stored in key order.
    static func record(_ db: Database, _ x: (String, String), _ y: (String, String), accept: Bool, actor: String, at: String) throws {
        let (a, b) = (y.0, y.1) < (x.0, x.1) ? (y, x) : (x, y)
        try db.execute(sql: """
            INSERT INTO identity_decision (a_source, a_key, b_source, b_key, decision, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(a_source, a_key, b_source, b_key) DO UPDATE SET decision = excluded.decision, actor = excluded.actor, at = excluded.at
            """, arguments: [a.0, a.1, b.0, b.1, accept ? "accept" : "reject", actor, at])
    }
}
