import Foundation
import GRDB
import StewardCatalog
import StewardConfig

/// Everything known about one customer: golden record with provenance, source records with their
/// match probabilities, history, addresses, linked activity, segment and churn score.
public struct Customer360: Sendable {
    public var customerId: String
    /// When the id asked for was merged into another customer, the id asked for.
    public var requestedId: String
    public var golden: [String: String]
    public var provenance: [String: String]
    public var sources: [(source: String, recordId: String, matchProbability: Double?)]
    public var history: [[String: String?]]
    /// Current address first, then by how many live records hold each.
    public var addresses: [Address]
    public var orders: Int
    public var revenue: Double
    public var lastOrderAt: String?
    public var tickets: Int
    public var events: Int
    /// RFM segment and churn score of the latest facts pass (nil before the first).
    public var score: Score?

    /// One address the customer has had (`customer_address` ⋈ `address_dim`).
    public struct Address: Sendable, Equatable {
        public var street: String?
        public var city: String?
        public var postcode: String?
        public var country: String?
        /// Live source records holding this address now (0: none any more).
        public var sources: Int
        public var isCurrent: Bool
        public var firstSeenRun: Int64
        public var lastSeenRun: Int64
    }

    public struct Score: Sendable, Equatable {
        public var segment: String
        /// P(no order in the churn window), nil for a customer without orders or before a model exists.
        public var churnScore: Double?
        public var recencyDays: Int?
        public var frequency: Int
        public var monetary: Double
        public var r: Int?
        public var f: Int?
        public var m: Int?
    }

    public static let piiAttributes: Set<String> = ["email", "phone", "street", "dob", "national_id"]

    public static func load(_ db: Database, id: String) throws -> Customer360? {
        var target = id
        // Follow merges: a merged id answers with its survivor.
        for _ in 0..<16 {
            guard let next = try String.fetchOne(db, sql: "SELECT merged_into FROM identity_customer WHERE customer_id = ? AND status = 'merged'",
                                                 arguments: [target]) else { break }
            target = next
        }
        guard let g = try Row.fetchOne(db, sql: "SELECT * FROM golden_customer WHERE customer_id = ?", arguments: [target]) else { return nil }
        var golden: [String: String] = [:]
        // Sealed values open here, or read `[sealed]` without the vault's key.
        let vault = VaultBox.of(db)
        for a in Survivorship.attributes { if let v: String = g[a] { golden[a] = vault.reveal(v) } }
        let provenance = (try? JSONSerialization.jsonObject(with: Data((g["provenance_json"] as String).utf8)) as? [String: String]) ?? [:]
        let members = try Row.fetchAll(db, sql: """
            SELECT source, record_key, match_probability FROM identity_member WHERE customer_id = ? ORDER BY source, record_key
            """, arguments: [target])
        let sources = members.map { (source: $0[0] as String, recordId: $0[1] as String, matchProbability: $0[2] as Double?) }
        let history = try Row.fetchAll(db, sql: """
            SELECT valid_from, valid_to, is_current, reason, first_name, last_name, vault_open(email), vault_open(phone),
                vault_open(street), city, postcode
            FROM customer_dim WHERE customer_id = ? ORDER BY valid_from
            """, arguments: [target]).map { r -> [String: String?] in
                ["valid_from": r[0], "valid_to": r[1], "is_current": (r[2] as Int) == 1 ? "true" : "false", "reason": r[3],
                 "first_name": r[4], "last_name": r[5], "email": r[6], "phone": r[7], "street": r[8], "city": r[9], "postcode": r[10]]
            }
        let addresses = try Row.fetchAll(db, sql: """
            SELECT vault_open(a.street), a.city, a.postcode, a.country, l.sources, l.is_current, l.first_seen_run, l.last_seen_run
            FROM customer_address l JOIN address_dim a ON a.address_key = l.address_key
            WHERE l.customer_id = ? ORDER BY l.is_current DESC, l.sources DESC, l.last_seen_run DESC, a.address_key
            """, arguments: [target]).map {
                Address(street: $0[0], city: $0[1], postcode: $0[2], country: $0[3], sources: $0[4], isCurrent: $0[5],
                        firstSeenRun: $0[6], lastSeenRun: $0[7])
            }
        // Activity linked to the customer by the identity graph after each run (`ActivityLinks`).
        let act = try Row.fetchOne(db, sql: """
            SELECT COALESCE(SUM(a.entity = 'transaction'), 0), COALESCE(SUM(CASE WHEN a.entity = 'transaction' THEN a.amount END), 0),
                   MAX(CASE WHEN a.entity = 'transaction' THEN a.occurred_at END),
                   COALESCE(SUM(a.entity = 'event' AND s.system = 'support'), 0),
                   COALESCE(SUM(a.entity = 'event' AND s.system IS NOT 'support'), 0)
            FROM customer_activity_link l JOIN staged_activity a ON a.source = l.source AND a.record_key = l.record_key
            LEFT JOIN source s ON s.name = a.source
            WHERE l.customer_id = ? AND a.is_deleted = 0
            """, arguments: [target])!
        let score = try Row.fetchOne(db, sql: """
            SELECT segment, churn_score, recency_days, frequency, monetary, r_score, f_score, m_score FROM customer_score WHERE customer_id = ?
            """, arguments: [target]).map {
                Score(segment: $0[0], churnScore: $0[1], recencyDays: $0[2], frequency: $0[3], monetary: $0[4], r: $0[5], f: $0[6], m: $0[7])
            }
        return Customer360(customerId: target, requestedId: id, golden: golden, provenance: provenance, sources: sources,
                           history: history, addresses: addresses, orders: act[0], revenue: act[1], lastOrderAt: act[2],
                           tickets: act[3], events: act[4], score: score)
    }

    /// How many customers the latest matching pass produced (0 before the first one).
    public static func count(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM golden_customer") ?? 0
    }

    /// Showing a customer's PII unmasked is audited: a `reveal` event naming the OS user and the customer.
    public static func auditReveal(_ db: Database, customerId: String, via: String, actor: String = Catalog.osUser) throws {
        try Catalog.audit(db, action: "reveal", subject: "customer:\(customerId)", detail: via, actor: actor)
    }

    /// The golden record with PII masked.
    public var maskedGolden: [String: String] {
        // Which fields are personal, and their masks: the one PII policy.
        var g = golden
        for (field, value) in golden { g[field] = PIIPolicy.display(value, field: field, reveal: false) }
        return g
    }

    /// The SCD2 versions with PII masked.
    public var maskedHistory: [[String: String?]] {
        history.map { h in
            var h = h
            for (field, value) in h { h[field] = PIIPolicy.display(value, field: field, reveal: false) }
            return h
        }
    }
}
