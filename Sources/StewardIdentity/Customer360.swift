import Foundation
import GRDB
import StewardCatalog

/// Everything known about one customer: golden record with provenance, source records with their
/// match probabilities, history, addresses and activity.
public struct Customer360: Sendable {
    public var customerId: String
    /// When the id asked for was merged into another customer, the id asked for.
    public var requestedId: String
    public var golden: [String: String]
    public var provenance: [String: String]
    public var sources: [(source: String, recordId: String, matchProbability: Double?)]
    public var history: [[String: String?]]
    public var addresses: [(street: String?, city: String?, postcode: String?, country: String?, sources: Int)]
    public var orders: Int
    public var revenue: Double
    public var lastOrderAt: String?
    public var tickets: Int
    public var events: Int

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
        for a in Survivorship.attributes { if let v: String = g[a] { golden[a] = v } }
        let provenance = (try? JSONSerialization.jsonObject(with: Data((g["provenance_json"] as String).utf8)) as? [String: String]) ?? [:]
        let members = try Row.fetchAll(db, sql: """
            SELECT source, record_key, match_probability FROM identity_member WHERE customer_id = ? ORDER BY source, record_key
            """, arguments: [target])
        let sources = members.map { (source: $0[0] as String, recordId: $0[1] as String, matchProbability: $0[2] as Double?) }
        let history = try Row.fetchAll(db, sql: """
            SELECT valid_from, valid_to, is_current, reason, first_name, last_name, email, phone, street, city, postcode
            FROM customer_dim WHERE customer_id = ? ORDER BY valid_from
            """, arguments: [target]).map { r -> [String: String?] in
                ["valid_from": r[0], "valid_to": r[1], "is_current": (r[2] as Int) == 1 ? "true" : "false", "reason": r[3],
                 "first_name": r[4], "last_name": r[5], "email": r[6], "phone": r[7], "street": r[8], "city": r[9], "postcode": r[10]]
            }
        let addresses = try Row.fetchAll(db, sql: """
            SELECT MIN(p.street), MIN(p.city), p.postcode, p.country, COUNT(*) FROM identity_member m
            JOIN staged_person p ON p.source = m.source AND p.record_key = m.record_key
            WHERE m.customer_id = ? AND p.is_deleted = 0 AND (p.street IS NOT NULL OR p.postcode IS NOT NULL)
            GROUP BY lower(replace(COALESCE(p.street, ''), '.', '')), p.postcode, p.country ORDER BY COUNT(*) DESC
            """, arguments: [target]).map { (street: $0[0] as String?, city: $0[1] as String?, postcode: $0[2] as String?, country: $0[3] as String?, sources: $0[4] as Int) }
        // Activity references a person by a source record key, or by email or phone.
        let act = try Row.fetchOne(db, sql: """
            WITH refs AS (
                SELECT 'source:' || source AS kind, record_key AS ref FROM identity_member WHERE customer_id = ?1
                UNION SELECT 'email', p.email FROM identity_member m JOIN staged_person p ON p.source = m.source AND p.record_key = m.record_key
                    WHERE m.customer_id = ?1 AND p.email IS NOT NULL AND p.email NOT IN (SELECT value FROM identity_junk WHERE field = 'email')
                UNION SELECT 'phone', p.phone FROM identity_member m JOIN staged_person p ON p.source = m.source AND p.record_key = m.record_key
                    WHERE m.customer_id = ?1 AND p.phone IS NOT NULL AND p.phone NOT IN (SELECT value FROM identity_junk WHERE field = 'phone')
            )
            SELECT COALESCE(SUM(a.entity = 'transaction'), 0), COALESCE(SUM(CASE WHEN a.entity = 'transaction' THEN a.amount END), 0),
                   MAX(CASE WHEN a.entity = 'transaction' THEN a.occurred_at END),
                   COALESCE(SUM(a.entity = 'event' AND s.system = 'support'), 0),
                   COALESCE(SUM(a.entity = 'event' AND s.system IS NOT 'support'), 0)
            FROM staged_activity a JOIN refs ON a.customer_ref_kind = refs.kind AND a.customer_ref = refs.ref
            LEFT JOIN source s ON s.name = a.source
            WHERE a.is_deleted = 0
            """, arguments: [target])!
        return Customer360(customerId: target, requestedId: id, golden: golden, provenance: provenance, sources: sources,
                           history: history, addresses: addresses, orders: act[0], revenue: act[1], lastOrderAt: act[2],
                           tickets: act[3], events: act[4])
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
        var g = golden
        if let e = g["email"] { g["email"] = Mask.email(e) }
        if let p = g["phone"] { g["phone"] = Mask.phone(p) }
        for k in ["street", "dob", "national_id"] where g[k] != nil { g[k] = Mask.other(g[k]) }
        return g
    }

    /// The SCD2 versions with PII masked.
    public var maskedHistory: [[String: String?]] {
        history.map { h in
            var h = h
            h["email"] = Mask.email(h["email"] ?? nil); h["phone"] = Mask.phone(h["phone"] ?? nil); h["street"] = Mask.other(h["street"] ?? nil)
            return h
        }
    }
}
