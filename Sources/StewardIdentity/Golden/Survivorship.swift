import Foundation
import GRDB
import StewardCatalog
import StewardConfig

/// Builds the golden record of each customer, keeping the source record behind every value.
public struct Survivorship: Sendable {
    public var config: SurvivorshipConfig
    public var primarySystem: String

    public init(config: SurvivorshipConfig, primarySystem: String) {
        self.config = config
        self.primarySystem = primarySystem
    }

    public static var attributes: [String] { SurvivorshipConfig.attributeNames }
    static let attributeIndex: [String: Int] = Dictionary(uniqueKeysWithValues: attributes.enumerated().map { ($1, $0) })

    /// One source record's values, as staged.
    public struct SourceValues: Sendable {
        public var source: String
        public var key: String
        public var system: String
        public var updatedRun: Int64
        /// The value of each attribute, in `attributes` order (nil: missing).
        var slots: [String?]
        let filled: Int
        /// First, last and full name as staged (the lookup index's names; `slots` may split a full name).
        var names: [String?] = []

        /// The record's lookup-index terms (its values opened).
        var terms: CustomerSearch.Terms {
            CustomerSearch.Terms(recordKey: key, names: names, email: slots[2], phone: slots[3], postcode: slots[7], nationalId: slots[10])
        }

        public var values: [String: String] {
            var out: [String: String] = [:]
            for (i, v) in slots.enumerated() { if let v { out[Survivorship.attributes[i]] = v } }
            return out
        }

        public init(source: String, key: String, system: String, updatedRun: Int64, values: [String: String]) {
            var slots = [String?](repeating: nil, count: Survivorship.attributes.count)
            for (k, v) in values { if let i = Survivorship.attributeIndex[k] { slots[i] = v } }
            self.init(source: source, key: key, system: system, updatedRun: updatedRun, slots: slots, filled: values.count)
        }

        init(source: String, key: String, system: String, updatedRun: Int64, slots: [String?], filled: Int, names: [String?] = []) {
            self.source = source; self.key = key; self.system = system; self.updatedRun = updatedRun
            self.slots = slots; self.filled = filled; self.names = names
        }
    }

    /// A source's priority, higher first: its place in `source_priority`, else the primary system
    /// above every other source.
    func priority(_ r: SourceValues) -> Int {
        if let i = config.sourcePriority.firstIndex(of: r.source) { return config.sourcePriority.count - i + 1 }
        return config.sourcePriority.isEmpty && r.system == primarySystem ? 1 : 0
    }

    /// The golden values and, per attribute, the `source:record` it came from. Each attribute
    /// follows its own rule; the others break ties in a fixed order, then the record id. The parts
    /// of an address, and of a name entered whole, come from one record (`AttributeGroup`).
    public func golden(_ records: [SourceValues]) -> (values: [String: String], provenance: [String: String]) {
        let winners = Chooser(self).winners(records)
        var values: [String: String] = [:], provenance: [String: String] = [:]
        for (a, w) in winners.enumerated() where w >= 0 {
            values[Self.attributes[a]] = records[w].slots[a]
            provenance[Self.attributes[a]] = "\(records[w].source):\(records[w].key)"
        }
        return (values, provenance)
    }

    /// Picks each attribute's record with the rules resolved once per pass, not once per customer.
    /// An address's parts, and a name entered whole, come from one record together (`AttributeGroup`).
    struct Chooser {
        let survivorship: Survivorship
        let rules: [SurvivorshipRule]
        let groups: [AttributeGroup]
        /// Per attribute, whether a group chooses it.
        let grouped: [Bool]

        init(_ survivorship: Survivorship) {
            self.survivorship = survivorship
            rules = Survivorship.attributes.map { survivorship.config.rule(for: $0) }
            groups = AttributeGroup.all(survivorship.config)
            var grouped = [Bool](repeating: false, count: rules.count)
            for g in groups { for a in g.members { grouped[a] = true } }
            self.grouped = grouped
        }

        /// Buffers reused across a customer's attributes; `priorities` is computed once, when needed.
        struct Scratch {
            var priorities: [Int]?
            var candidates: [Int] = []
            var freq: [Int] = []
        }

        /// Per attribute, the index of the record its golden value comes from (-1: no record has one).
        func winners(_ records: [SourceValues]) -> [Int] {
            var out = [Int](repeating: -1, count: rules.count)
            var scratch = Scratch()
            for a in rules.indices where !grouped[a] { out[a] = winner(of: a, records, &scratch) }
            for g in groups { chooseTogether(g, records, &out, &scratch) }
            return out
        }

        /// The record one attribute's golden value comes from, by its own rule (-1: no record has one).
        func winner(of a: Int, _ records: [SourceValues], _ s: inout Scratch) -> Int {
            s.candidates.removeAll(keepingCapacity: true)
            for i in records.indices where records[i].slots[a] != nil { s.candidates.append(i) }
            guard let first = s.candidates.first else { return -1 }
            // A value only one record has comes from that record whatever the rule.
            guard s.candidates.count > 1 else { return first }
            if s.priorities == nil { s.priorities = records.map(survivorship.priority) }
            let norms = s.candidates.map { Survivorship.normal(records[$0].slots[a]!) }
            s.freq.removeAll(keepingCapacity: true)
            for n in norms { s.freq.append(norms.reduce(0) { $0 + ($1 == n ? 1 : 0) }) }
            var best = 0
            for c in 1..<s.candidates.count
            where better(records, s.candidates[c], s.candidates[best], s.freq[c], s.freq[best], s.priorities!, rules[a]) { best = c }
            return s.candidates[best]
        }

        func better(_ records: [SourceValues], _ ia: Int, _ ib: Int, _ fa: Int, _ fb: Int, _ priorities: [Int],
                    _ rule: SurvivorshipRule) -> Bool {
            let a = records[ia], b = records[ib]
            let pa = priorities[ia], pb = priorities[ib]
            let ua = Int(a.updatedRun), ub = Int(b.updatedRun)
            let keys: (Int, Int, Int, Int, Int, Int, Int, Int)
            switch rule {
            case .mostFrequent: keys = (fa, fb, pa, pb, ua, ub, a.filled, b.filled)
            case .mostRecent: keys = (ua, ub, fa, fb, pa, pb, 0, 0)
            case .sourcePriority: keys = (pa, pb, fa, fb, ua, ub, 0, 0)
            case .mostComplete: keys = (a.filled, b.filled, fa, fb, pa, pb, 0, 0)
            }
            if keys.0 != keys.1 { return keys.0 > keys.1 }
            if keys.2 != keys.3 { return keys.2 > keys.3 }
            if keys.4 != keys.5 { return keys.4 > keys.5 }
            if keys.6 != keys.7 { return keys.6 > keys.7 }
            return (a.source, a.key) < (b.source, b.key)
        }
    }

    static func normal(_ s: String) -> String { TextKey.key(s) }

    /// A flat string map as JSON with sorted keys (Foundation's serializer dominated the rebuild).
    static func json(_ map: [String: String]) -> String {
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (i, k) in map.keys.sorted().enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendJSON(k, to: &out)
            out.append(UInt8(ascii: ":"))
            appendJSON(map[k]!, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// `s` as a JSON string literal, escaped byte by byte (UTF-8 above 0x7F passes through).
    static func appendJSON<S: StringProtocol>(_ s: S, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(b)
            case UInt8(ascii: "\\"): out.append(b); out.append(b)
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case ..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The provenance JSON of one golden record: attribute → `source:record`, keys sorted (as `json`).
    static func provenanceJSON(_ records: [SourceValues], winners: [Int]) -> String {
        var out: [UInt8] = [UInt8(ascii: "{")]
        for a in sortedAttributes where winners[a] >= 0 {
            if out.count > 1 { out.append(UInt8(ascii: ",")) }
            appendJSON(attributes[a], to: &out)
            out.append(UInt8(ascii: ":"))
            let r = records[winners[a]]
            appendJSON(r.source + ":" + r.key, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    static let sortedAttributes: [Int] = attributes.indices.sorted { attributes[$0] < attributes[$1] }

    static let goldenColumns = ["customer_id"] + attributes + ["provenance_json", "updated_run"]

    /// Every live record of the customers in scope, with its customer, ordered by customer then record:
    /// the rows golden records, the dimension and the lookup index are built from (`read`). PII is
    /// as stored (sealed when the vault is on): it is opened on the background stage (`Opened`).
    static func memberRecordsSQL(_ scope: ChangedCustomers) -> String {
        """
        SELECT m.customer_id, p.source, p.record_key, COALESCE(s.system, ''), p.updated_run,
               p.first_name, p.last_name, p.full_name, p.email, p.phone, p.dob,
               p.street, p.city, p.postcode, p.region, p.country, p.national_id
        FROM identity_member m JOIN staged_person p ON p.source = m.source AND p.record_key = m.record_key
        LEFT JOIN source s ON s.name = p.source
        WHERE p.is_deleted = 0\(scope.filter(column: "m.customer_id", keyword: "AND"))
        ORDER BY m.customer_id, p.source, p.record_key
        """
    }

    /// Rebuilds `golden_customer` for every active customer, or only for the changed ones, and with
    /// each golden record versions the dimension and (with `search`) writes the lookup index entry:
    /// one scan of the customers' records for all three. The scan and the writes run here; choosing
    /// the values, the provenance, the change hash and the index entry (`Prepared`) run on another
    /// core, a chunk of customers behind.
    @discardableResult
    func rebuildGolden(_ db: Database, runId: Int64, scope: ChangedCustomers = .all, at: String = Timestamp.now(),
                       search: Bool = false) throws -> (opened: Int, closed: Int) {
        try db.execute(sql: "DELETE FROM golden_customer" + scope.filter(column: "customer_id", keyword: "WHERE"))
        var insert = try BulkRows(db, insertInto: "golden_customer", columns: Self.goldenColumns)
        var dimension = try CustomerDimension.Versioner(db, runId: runId, at: at, scope: scope)
        var entries = search ? try CustomerSearch.Inserter(db) : nil
        func write(_ rows: [Prepared]) throws {
            for row in rows {
                insert.text(row.id)
                for v in row.values { insert.text(v) }
                insert.text(row.provenance)
                insert.int(runId)
                try insert.endRow(db)
                try dimension.observe(db, id: row.id, values: row.values, hash: row.hash)
                if let fields = row.search { try entries?.write(db, id: row.id, fields: fields) }
            }
        }
        let chooser = Chooser(self)
        var searchEntries = CustomerSearch.Entries(tokens: try SearchTokens(db))
        let sealer = try GoldenSealer(db)
        let opener = VaultOpener(VaultBox.of(db))
        var pipe = BackgroundStage<Customer, Prepared>.Pipe(BackgroundStage("golden") { c in
            // Opened here, on this core, not the writer's; the rules, the change hash and the lookup
            // terms see plaintext, the golden row keeps the winners' stored (sealed) texts.
            let opened = Opened(c.records, opener: opener)
            let winners = chooser.winners(opened.records)
            let values = winners.indices.map { winners[$0] >= 0 ? opened.records[winners[$0]].slots[$0] : nil }
            let stored = winners.indices.map { winners[$0] >= 0 ? c.records[winners[$0]].slots[$0] : nil }
            return Prepared(id: c.id, values: sealer.seal(values, stored: stored),
                            provenance: Survivorship.provenanceJSON(opened.records, winners: winners), hash: CustomerDimension.changeHash(values),
                            search: search ? searchEntries.fields(id: c.id, opened.records.map(\.terms)) : nil)
        })
        var chunk: [Customer] = []
        let cursor = try Row.fetchCursor(db, sql: Self.memberRecordsSQL(scope))
        while let r = try cursor.next() {
            let id: String = r[0]
            if id != chunk.last?.id {
                if chunk.count == Self.chunkSize { try pipe.push(chunk, write); chunk.removeAll(keepingCapacity: true) }
                chunk.append(Customer(id: id))
            }
            chunk[chunk.count - 1].records.append(Self.read(r))
        }
        try pipe.push(chunk, write)
        try pipe.drain(write)
        try insert.finish(db)
        return try dimension.finish(db)
    }

    static let chunkSize = 2_048

    /// One customer's live records, as read (PII as stored).
    struct Customer: Sendable {
        var id: String
        var records: [SourceValues] = []
    }

    /// A customer's records with their sealed values opened; each distinct stored text once (the
    /// records of one person mostly repeat their email, phone and birth date).
    struct Opened {
        var records: [SourceValues]

        init(_ stored: [SourceValues], opener: VaultOpener) {
            records = stored
            guard opener.isOn else { return }
            var known: [String: String] = [:]
            for r in records.indices {
                for a in GoldenSealer.personalAttributes {
                    guard let v = records[r].slots[a], Vault.isSealed(v) else { continue }
                    if let plain = known[v] { records[r].slots[a] = plain; continue }
                    let plain = opener.open(v)
                    known[v] = plain
                    records[r].slots[a] = plain
                }
            }
        }
    }

    /// One customer's rows, ready to bind: golden values (in `attributes` order), provenance JSON,
    /// the dimension's change hash, and the lookup entry's columns.
    struct Prepared: Sendable {
        var id: String
        var values: [String?]
        var provenance: String
        var hash: String
        var search: [String]?
    }

    /// The columns of `memberRecordsSQL` as one record's values: each column decoded once (this runs
    /// on the thread that writes).
    static func read(_ r: Row) -> SourceValues {
        let staged: [String?] = (5...16).map { r[$0] }
        var slots = [String?](repeating: nil, count: attributes.count)
        var first = staged[0], last = staged[1]
        if let full = staged[2], first == nil || last == nil {
            let (f, l) = PersonRecord.splitFullName(full)
            if first == nil && !f.isEmpty { first = f }
            if last == nil && !l.isEmpty { last = l }
        }
        slots[0] = first
        slots[1] = last
        var filled = (first == nil ? 0 : 1) + (last == nil ? 0 : 1)
        // email, phone, dob, street, city, postcode, region, country, national_id: attributes 2…10.
        for k in 0..<9 { if let v = staged[3 + k], !v.isEmpty { slots[2 + k] = v; filled += 1 } }
        return SourceValues(source: r[1], key: r[2], system: r[3], updatedRun: r[4], slots: slots, filled: filled,
                            names: Array(staged[0...2]))
    }
}

/// The SCD Type 2 customer dimension, versioned from the golden records after each matching pass.
public enum CustomerDimension {
    static let columns = ["first_name", "last_name", "email", "phone", "dob", "street", "city", "postcode", "region", "country", "national_id"]

    /// Opens a version for each new or changed golden record and closes the versions of customers
    /// that changed or no longer exist (merged, or their records deleted). Unchanged customers get
    /// no new version. (A matching pass versions each golden record as it writes it; this reads
    /// `golden_customer` back.)
    /// - returns: versions opened and closed.
    @discardableResult
    public static func update(_ db: Database, runId: Int64, at: String, scope: ChangedCustomers = .all) throws -> (opened: Int, closed: Int) {
        var versioner = try Versioner(db, runId: runId, at: at, scope: scope)
        let vault = VaultBox.of(db)
        for r in try Row.fetchAll(db, sql: "SELECT customer_id, \(columns.joined(separator: ", ")) FROM golden_customer"
                                  + scope.filter(column: "customer_id", keyword: "WHERE")) {
            // Stored values as they are (sealed when the vault is on); the change hash is of the plaintext,
            // as a matching pass computes it.
            let stored: [String?] = columns.indices.map { r[1 + $0] }
            try versioner.observe(db, id: r[0], values: stored, hash: changeHash(stored.map { vault.reveal($0) }))
        }
        return try versioner.finish(db)
    }

    /// Versions golden records one at a time against the current versions of the customers in scope.
    struct Versioner {
        let runId: Int64, at: String
        private var current: [String: (sk: Int64, hash: String, values: [String?])] = [:]
        private var close: BulkStatement, insert: BulkRows
        private var seen = Set<String>()
        private(set) var opened = 0, closed = 0
        /// The first pass fills an empty dimension: its indexes are built after the inserts.
        private var deferred = DeferredIndexes()

        init(_ db: Database, runId: Int64, at: String, scope: ChangedCustomers) throws {
            self.runId = runId
            self.at = at
            for r in try Row.fetchAll(db, sql: "SELECT sk, customer_id, change_hash, \(columns.joined(separator: ", ")) FROM customer_dim WHERE is_current = 1"
                                      + scope.filter(column: "customer_id", keyword: "AND")) {
                current[r[1]] = (r[0], r[2], columns.indices.map { r[3 + $0] })
            }
            try deferred.drop(db, table: "customer_dim", ifEmpty: true)
            close = try BulkStatement(db, sql: "UPDATE customer_dim SET valid_to = ?, is_current = 0 WHERE sk = ?")
            // Many rows per statement: `sk` is AUTOINCREMENT (BulkRows).
            insert = try BulkRows(db, insertInto: "customer_dim",
                                  columns: ["customer_id"] + columns + ["valid_from", "valid_to", "is_current", "change_hash", "reason", "run_id"])
        }

        /// One customer's golden values (in `columns` order): a new version when they changed.
        mutating func observe(_ db: Database, id: String, values: [String?], hash: String? = nil) throws {
            if !current.isEmpty { seen.insert(id) }
            let hash = hash ?? changeHash(values)
            let reason: String
            if let cur = current[id] {
                if cur.hash == hash { return }
                let changed = columns.indices.filter { cur.values[$0] != values[$0] }.map { columns[$0] }
                reason = "changed: " + changed.joined(separator: ", ")
                try closeVersion(db, sk: cur.sk)
            } else {
                reason = "new customer"
            }
            insert.text(id)
            for v in values { insert.text(v) }
            insert.text(at); insert.text(nil); insert.int(1); insert.text(hash); insert.text(reason); insert.int(runId)
            try insert.endRow(db)
            opened += 1
        }

        /// Closes the current versions of customers in scope that have no golden record any more.
        mutating func finish(_ db: Database) throws -> (opened: Int, closed: Int) {
            for (id, cur) in current where !seen.contains(id) { try closeVersion(db, sk: cur.sk) }
            try insert.finish(db)
            try deferred.restore(db)
            return (opened, closed)
        }

        private mutating func closeVersion(_ db: Database, sk: Int64) throws {
            close.text(at); close.int(sk)
            try close.run(db)
            closed += 1
        }
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
    static func changeHash(_ values: [String?]) -> String { hex(changeHashValue(values)) }

    /// The change hash as a number: sorting and looking up a million of them as numbers costs far
    /// less than as strings (the address dimension), and `hex` keeps their order.
    static func changeHashValue(_ values: [String?]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for v in values {
            for b in (v ?? "\u{0}").utf8 { h ^= UInt64(b); h = h &* 0x100_0000_01b3 }
            h ^= 0x1F; h = h &* 0x100_0000_01b3
        }
        return h
    }

    /// 16 lowercase hex digits.
    static func hex(_ h: UInt64) -> String {
        let s = String(h, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}

/// Seals the personal attributes of golden values before they are stored (golden record and SCD2
/// history), when the catalog's vault is on; refuses to build them at all when the vault is on but
/// its key is missing.
struct GoldenSealer: Sendable {
    let vault: Vault?
    static let personal: [Bool] = Survivorship.attributes.map { PIIColumns.personFields.contains($0) }
    static let personalAttributes: [Int] = personal.indices.filter { personal[$0] }

    init(_ db: Database) throws {
        let box = VaultBox.of(db)
        if case .locked(let keyId) = box.state { throw VaultError.keyMissing(keyId) }
        vault = box.current
    }

    func seal(_ values: [String?]) -> [String?] {
        seal(values, stored: values)
    }

    /// `values` to store: a personal value keeps its record's stored text when that is already
    /// sealed under the current key (sealing is deterministic: it is what sealing would give),
    /// and is sealed otherwise.
    func seal(_ values: [String?], stored: [String?]) -> [String?] {
        guard let vault else { return values }
        return values.indices.map { i in
            guard Self.personal[i], let v = values[i], !v.isEmpty else { return values[i] }
            if let s = stored[i], let parts = Vault.parts(s), parts.keyId == vault.keyId { return s }
            return vault.seal(v)
        }
    }
}
