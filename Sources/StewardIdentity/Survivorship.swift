import Foundation
import GRDB
import StewardCatalog
import StewardPipeline

/// Builds the golden record of each customer, keeping the source record behind every value.
public struct Survivorship: Sendable {
    public var config: SurvivorshipConfig
    public var primarySystem: String

    public init(config: SurvivorshipConfig, primarySystem: String) {
        self.config = config
        self.primarySystem = primarySystem
    }

    public static var attributes: [String] { SurvivorshipConfig.attributeNames }

    /// One source record's values, as staged.
    public struct SourceValues: Sendable {
        public var source: String
        public var key: String
        public var system: String
        public var updatedRun: Int64
        public var values: [String: String]
        var filled: Int { values.count }

        public init(source: String, key: String, system: String, updatedRun: Int64, values: [String: String]) {
            self.source = source; self.key = key; self.system = system; self.updatedRun = updatedRun; self.values = values
        }
    }

    /// A source's priority, higher first: its place in `source_priority`, else the primary system
    /// above every other source.
    func priority(_ r: SourceValues) -> Int {
        if let i = config.sourcePriority.firstIndex(of: r.source) { return config.sourcePriority.count - i + 1 }
        return config.sourcePriority.isEmpty && r.system == primarySystem ? 1 : 0
    }

    /// The golden values and, per attribute, the `source:record` it came from. Each attribute
    /// follows its own rule; the others break ties in a fixed order, then the record id.
    public func golden(_ records: [SourceValues]) -> (values: [String: String], provenance: [String: String]) {
        var values: [String: String] = [:], provenance: [String: String] = [:]
        let priorities = records.map(priority)
        for attr in Self.attributes {
            let candidates = records.indices.filter { records[$0].values[attr] != nil }
            guard !candidates.isEmpty else { continue }
            var freq: [String: Int] = [:]
            var norm: [Int: String] = [:]
            for c in candidates {
                let n = Self.normal(records[c].values[attr]!)
                norm[c] = n
                freq[n, default: 0] += 1
            }
            let rule = config.rule(for: attr)
            func better(_ ia: Int, _ ib: Int) -> Bool {
                let a = records[ia], b = records[ib]
                let fa = freq[norm[ia]!]!, fb = freq[norm[ib]!]!
                let pa = priorities[ia], pb = priorities[ib]
                let keys: [(Int, Int)]
                switch rule {
                case .mostFrequent: keys = [(fa, fb), (pa, pb), (Int(a.updatedRun), Int(b.updatedRun)), (a.filled, b.filled)]
                case .mostRecent: keys = [(Int(a.updatedRun), Int(b.updatedRun)), (fa, fb), (pa, pb)]
                case .sourcePriority: keys = [(pa, pb), (fa, fb), (Int(a.updatedRun), Int(b.updatedRun))]
                case .mostComplete: keys = [(a.filled, b.filled), (fa, fb), (pa, pb)]
                }
                for (x, y) in keys where x != y { return x > y }
                return (a.source, a.key) < (b.source, b.key)
            }
            var bi = candidates[0]
            for c in candidates.dropFirst() where better(c, bi) { bi = c }
            let best = records[bi]
            values[attr] = best.values[attr]
            provenance[attr] = "\(best.source):\(best.key)"
        }
        return (values, provenance)
    }

    static func normal(_ s: String) -> String { TextKey.key(s) }

    /// A flat string map as JSON with sorted keys (Foundation's serializer dominated the rebuild).
    static func json(_ map: [String: String]) -> String {
        func quote(_ s: String) -> String {
            var out = "\""
            for u in s.unicodeScalars {
                switch u {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                default:
                    if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
                }
            }
            return out + "\""
        }
        return "{" + map.keys.sorted().map { quote($0) + ":" + quote(map[$0]!) }.joined(separator: ",") + "}"
    }

    /// Rebuilds `golden_customer` for every active customer, or only for the changed ones.
    func rebuildGolden(_ db: Database, runId: Int64, scope: ChangedCustomers = .all) throws {
        try db.execute(sql: "DELETE FROM golden_customer" + scope.filter(column: "customer_id", keyword: "WHERE"))
        let insert = try db.makeStatement(sql: """
            INSERT INTO golden_customer (customer_id, first_name, last_name, email, phone, dob, street, city, postcode, region,
                country, national_id, provenance_json, updated_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        var current: String?
        var group: [SourceValues] = []
        func flush() throws {
            guard let id = current, !group.isEmpty else { return }
            let (v, p) = golden(group)
            let prov = Self.json(p)
            var args: [DatabaseValueConvertible?] = [id]
            for a in Self.attributes { args.append(v[a]) }
            args.append(prov)
            args.append(runId)
            try insert.execute(arguments: StatementArguments(args))
        }
        let cursor = try Row.fetchCursor(db, sql: """
            SELECT m.customer_id, p.source, p.record_key, COALESCE(s.system, ''), p.updated_run,
                   p.first_name, p.last_name, p.full_name, p.email, p.phone, p.dob, p.street, p.city, p.postcode, p.region,
                   p.country, p.national_id
            FROM identity_member m JOIN staged_person p ON p.source = m.source AND p.record_key = m.record_key
            LEFT JOIN source s ON s.name = p.source
            WHERE p.is_deleted = 0\(scope.filter(column: "m.customer_id", keyword: "AND"))
            ORDER BY m.customer_id, p.source, p.record_key
            """)
        while let r = try cursor.next() {
            let id: String = r[0]
            if id != current { try flush(); current = id; group = [] }
            group.append(Self.sourceValues(r))
        }
        try flush()
    }

    static func sourceValues(_ r: Row) -> SourceValues {
        var values: [String: String] = [:]
        var first: String? = r[5], last: String? = r[6]
        if let full: String = r[7], first == nil || last == nil {
            let (f, l) = PersonRecord.splitFullName(full)
            if first == nil && !f.isEmpty { first = f }
            if last == nil && !l.isEmpty { last = l }
        }
        values["first_name"] = first
        values["last_name"] = last
        let rest = ["email", "phone", "dob", "street", "city", "postcode", "region", "country", "national_id"]
        for (k, name) in rest.enumerated() { if let v: String = r[8 + k], !v.isEmpty { values[name] = v } }
        return SourceValues(source: r[1], key: r[2], system: r[3], updatedRun: r[4], values: values)
    }
}

/// The SCD Type 2 customer dimension, versioned from the golden records after each matching pass.
public enum CustomerDimension {
    static let columns = ["first_name", "last_name", "email", "phone", "dob", "street", "city", "postcode", "region", "country", "national_id"]

    /// Opens a version for each new or changed golden record and closes the versions of customers
    /// that changed or no longer exist (merged, or their records deleted). Unchanged customers get
    /// no new version.
    /// - returns: versions opened and closed.
    @discardableResult
    public static func update(_ db: Database, runId: Int64, at: String, scope: ChangedCustomers = .all) throws -> (opened: Int, closed: Int) {
        var current: [String: (sk: Int64, hash: String, values: [String?])] = [:]
        for r in try Row.fetchAll(db, sql: "SELECT sk, customer_id, change_hash, \(columns.joined(separator: ", ")) FROM customer_dim WHERE is_current = 1"
                                  + scope.filter(column: "customer_id", keyword: "AND")) {
            current[r[1]] = (r[0], r[2], columns.indices.map { r[3 + $0] })
        }
        let close = try db.makeStatement(sql: "UPDATE customer_dim SET valid_to = ?, is_current = 0 WHERE sk = ?")
        let insert = try db.makeStatement(sql: """
            INSERT INTO customer_dim (customer_id, \(columns.joined(separator: ", ")), valid_from, valid_to, is_current, change_hash, reason, run_id)
            VALUES (?, \(columns.map { _ in "?" }.joined(separator: ", ")), ?, NULL, 1, ?, ?, ?)
            """)
        var opened = 0, closed = 0
        var seen = Set<String>()
        for r in try Row.fetchAll(db, sql: "SELECT customer_id, \(columns.joined(separator: ", ")) FROM golden_customer"
                                  + scope.filter(column: "customer_id", keyword: "WHERE")) {
            let id: String = r[0]
            seen.insert(id)
            let values: [String?] = columns.indices.map { r[1 + $0] }
            let hash = changeHash(values)
            let reason: String
            if let cur = current[id] {
                if cur.hash == hash { continue }
                let changed = columns.indices.filter { cur.values[$0] != values[$0] }.map { columns[$0] }
                reason = "changed: " + changed.joined(separator: ", ")
                try close.execute(arguments: [at, cur.sk])
                closed += 1
            } else {
                reason = "new customer"
            }
            var args: [DatabaseValueConvertible?] = [id]
            for v in values { args.append(v) }
            args.append(contentsOf: [at, hash, reason, runId] as [DatabaseValueConvertible?])
            try insert.execute(arguments: StatementArguments(args))
            opened += 1
        }
        for (id, cur) in current where !seen.contains(id) {
            try close.execute(arguments: [at, cur.sk])
            closed += 1
        }
        return (opened, closed)
    }

    /// Invariant violations: gaps or overlaps between a customer's versions, or not exactly one
    /// current version for an active customer. Empty when the dimension is sound.
    public static func check(_ db: Database) throws -> [String] {
        var problems: [String] = []
        let noCurrent = try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM golden_customer g WHERE (SELECT COUNT(*) FROM customer_dim d WHERE d.customer_id = g.customer_id AND d.is_current = 1) != 1
            """) ?? 0
        if noCurrent > 0 { problems.append("\(noCurrent) customers without exactly one current version") }
        let broken = try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM (SELECT customer_id, valid_from, valid_to,
                LEAD(valid_from) OVER (PARTITION BY customer_id ORDER BY valid_from, sk) AS next_from FROM customer_dim)
            WHERE (next_from IS NOT NULL AND (valid_to IS NULL OR valid_to != next_from)) OR (valid_to IS NOT NULL AND valid_to < valid_from)
            """) ?? 0
        if broken > 0 { problems.append("\(broken) versions with a gap or an overlap") }
        return problems
    }

    /// FNV-1a 64 over the values, as hex.
    static func changeHash(_ values: [String?]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for v in values {
            for b in (v ?? "\u{0}").utf8 { h ^= UInt64(b); h = h &* 0x100_0000_01b3 }
            h ^= 0x1F; h = h &* 0x100_0000_01b3
        }
        let s = String(h, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
