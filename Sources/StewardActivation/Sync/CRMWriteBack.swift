import Foundation
import GRDB
import StewardCatalog
import StewardConfig
import StewardPipeline

/// A field both sides changed: the CRM edited it after Steward's last sync, and survivorship chose
/// another value. Values are what each side holds now (opened; show them through `PIIPolicy`).
public struct CRMConflict: Sendable, Equatable {
    public var destination: String
    public var recordId: String
    public var customerId: String
    public var field: String
    public var crmValue: String?
    public var stewardValue: String?
    /// When Steward first saw the CRM's edit.
    public var since: String
    /// Who wins under the destination's rule: `crm` or `steward`.
    public var winner: String
}

/// `type: crm`: writes back to the CRM, per CRM record (the `source:`'s record keys are the CRM's ids),
/// the golden customer id and the values Steward chose (cleaned email, E.164 phone, standardised
/// address), only for records where the CRM holds something else.
///
/// Conflicts: per record and field, `crm_field_state` keeps the hash of the CRM's value at the last
/// sync and of the value Steward wrote. A CRM value differing from both was edited in the CRM since:
/// under `conflict: crm_wins` (the default) that field keeps the CRM's value — it is not written back —
/// until the CRM changes it again or agrees with Steward; under `steward_wins` it is overwritten. Either
/// way the conflict is listed (`steward sync conflicts`, the 360's profile).
public struct CRMWriteBack: Sendable {
    public let config: ProjectConfig
    public let catalog: Catalog
    public let destination: DestinationConfig
    public var now: @Sendable () -> Date

    public init(config: ProjectConfig, catalog: Catalog, destination: DestinationConfig, now: @escaping @Sendable () -> Date = { Date() }) {
        self.config = config
        self.catalog = catalog
        self.destination = destination
        self.now = now
    }

    /// The fields compared and written (the golden id is written once, and again when it changes).
    var valueFields: [String] { destination.fields.filter { $0 != "customer_id" } }

    struct RecordValues {
        var recordId: String
        var customerId: String
        /// CRM's value as the CRM holds it (its raw file), per field.
        var crm: [String: String?]
        var golden: [String: String?]
    }

    /// Reads each live CRM record: its raw values and its customer's golden values.
    func records(_ db: Database) throws -> [RecordValues] {
        guard let sourceName = destination.crmSource, let source = config.source(named: sourceName) else { return [] }
        let vault = VaultBox.of(db)
        // The live records, their customer and the raw row they were staged from.
        var staged: [(key: String, customer: String, batch: Int64, line: Int)] = []
        let cursor = try Row.fetchCursor(db, sql: """
            SELECT p.record_key, m.customer_id, p.batch_id, p.line FROM staged_person p
            JOIN identity_member m ON m.source = p.source AND m.record_key = p.record_key
            WHERE p.source = ? AND p.is_deleted = 0 ORDER BY p.record_key
            """, arguments: [sourceName])
        while let row = try cursor.next() { staged.append((row[0], row[1], row[2], row[3])) }
        guard !staged.isEmpty else { return [] }
        var raw: [Int64: [Int: String]] = [:]
        var columns: [Int64: [String]] = [:]
        for batch in Set(staged.map(\.batch)) {
            guard let range = try Row.fetchOne(db, sql: "SELECT first_raw_id, last_raw_id, columns_json FROM batch WHERE id = ?", arguments: [batch]),
                  let first: Int64 = range[0], let last: Int64 = range[1] else { continue }
            // A file with a header keeps its column names once per batch; its rows are arrays of values.
            if let text: String = range[2], let names = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String] { columns[batch] = names }
            var lines: [Int: String] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT line, data FROM raw_record WHERE id BETWEEN ? AND ?", arguments: [first, last])
            while let row = try rows.next() { lines[row[0]] = row[1] }
            raw[batch] = lines
        }
        let mapping = Dictionary(source.mapping.map { ($0.field, $0.value) }, uniquingKeysWith: { a, _ in a })
        var golden: [String: [String: TraitValue]] = [:]
        let ids = Array(Set(staged.map(\.customer)))
        golden = try CustomerTraits.load(db, ids: ids, config: config, traits: valueFields)
        return staged.map { s in
            var crm: [String: String?] = [:]
            if let text = raw[s.batch]?[s.line], let object = Self.cells(vault.revealJSON(text), columns: columns[s.batch]) {
                for field in valueFields { crm[field] = Self.rawValue(mapping[field], in: object) }
            }
            var gold: [String: String?] = [:]
            for field in valueFields { gold[field] = golden[s.customer]?[field]?.text }
            return RecordValues(recordId: s.key, customerId: s.customer, crm: crm, golden: gold)
        }
    }

    /// A raw row as column → value: an array under its batch's column names, or an object (nested
    /// objects as dotted paths, as NDJSON mappings name them).
    static func cells(_ text: String, columns: [String]?) -> [String: Any]? {
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else { return nil }
        if let values = parsed as? [Any], let columns {
            var out: [String: Any] = [:]
            for (name, value) in zip(columns, values) { out[name] = value }
            return out
        }
        guard let object = parsed as? [String: Any] else { return nil }
        var out: [String: Any] = [:]
        func flatten(_ o: [String: Any], _ prefix: String) {
            for (k, v) in o {
                let path = prefix.isEmpty ? k : "\(prefix).\(k)"
                if let nested = v as? [String: Any] { flatten(nested, path) } else { out[path] = v }
            }
        }
        flatten(object, "")
        return out
    }

    /// A field's value in a raw row through its mapping (a column, or a template of columns).
    static func rawValue(_ mapping: FieldMapping?, in object: [String: Any]) -> String? {
        func cell(_ c: String) -> String? {
            switch object[c] {
            case let s as String: return s
            case let n as NSNumber: return n.stringValue
            default: return nil
            }
        }
        switch mapping {
        case .column(let c, _)?: return cell(c).flatMap { $0.isEmpty ? nil : $0 }
        case .template(let parts, _)?:
            let text = parts.map { part -> String in
                switch part {
                case .literal(let l): return l
                case .column(let c): return cell(c) ?? ""
                }
            }.joined().trimmingCharacters(in: .whitespaces)
            return text.isEmpty ? nil : text
        default: return nil
        }
    }

    static func hash(_ value: String?) -> String {
        guard let value else { return "-" }
        var h = SHA256()
        h.update(Array(value.utf8))
        return String(h.finalize().prefix(24))
    }

    /// The records to write back, with the fields to write; updates `crm_field_state` (what the CRM holds
    /// now, what is written, which fields the CRM holds against Steward).
    public func desired() throws -> [DesiredMember] {
        let at = Timestamp.string(now())
        return try catalog.pool.write { db in
            let records = try self.records(db)
            var state: [String: [String: (written: String?, crm: String?, changedAt: String?)]] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT record_key, field, written_hash, crm_hash, crm_changed_at FROM crm_field_state WHERE destination = ?
                """, arguments: [destination.name])
            while let row = try rows.next() { state[row[0], default: [:]][row[1]] = (row[2], row[3], row[4]) }
            let upsert = try db.makeStatement(sql: """
                INSERT INTO crm_field_state (destination, record_key, field, customer_id, written_hash, crm_hash, crm_changed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (destination, record_key, field) DO UPDATE SET customer_id = excluded.customer_id,
                    written_hash = excluded.written_hash, crm_hash = excluded.crm_hash, crm_changed_at = excluded.crm_changed_at
                """)
            var out: [DesiredMember] = []
            for r in records {
                let previous = state[r.recordId] ?? [:]
                var fields: [(name: String, value: SyncValue)] = []
                var crmHashes: [String] = []
                for field in valueFields {
                    let crmValue = r.crm[field] ?? nil, goldValue = r.golden[field] ?? nil
                    let current = Self.hash(crmValue), gold = Self.hash(goldValue)
                    let prev = previous[field]
                    // Edited in the CRM since the last sync: neither what it held then nor what Steward wrote.
                    let editedByCRM = prev != nil && current != prev!.crm && current != prev!.written
                    var changedAt: String? = nil
                    if editedByCRM { changedAt = at }
                    else if let p = prev, p.changedAt != nil, current == p.crm { changedAt = p.changedAt }   // still held
                    if current == gold { changedAt = nil }   // the sides agree: no conflict
                    let held = changedAt != nil && destination.conflictRule == .crmWins
                    let write = goldValue != nil && current != gold && !held
                    if write { fields.append((field, .text(goldValue!))); crmHashes.append(current) }
                    try upsert.execute(arguments: [destination.name, r.recordId, field, r.customerId,
                                                   write ? gold : prev?.written, current, changedAt])
                }
                // The golden id: written with the first write-back, and again when the record's customer changes.
                let idHash = Self.hash(r.customerId)
                let idWritten = previous["customer_id"]?.written == idHash
                guard !fields.isEmpty || !idWritten else { continue }
                try upsert.execute(arguments: [destination.name, r.recordId, "customer_id", r.customerId, idHash, nil, nil])
                out.append(DesiredMember(audience: destination.crmSource ?? "crm", customerId: r.customerId, recordId: r.recordId,
                                         fields: [("customer_id", .text(r.customerId)), ("record_id", .text(r.recordId))] + fields,
                                         hashSalt: crmHashes.joined(separator: ",")))
            }
            return out
        }
    }

    /// Fields the CRM edited since Steward's last sync that still differ from the golden value.
    public func conflicts() throws -> [CRMConflict] {
        try catalog.pool.read { db in
            var held: [String: [String: String]] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT record_key, field, crm_changed_at FROM crm_field_state WHERE destination = ? AND crm_changed_at IS NOT NULL
                """, arguments: [destination.name])
            while let row = try rows.next() { held[row[0], default: [:]][row[1]] = row[2] }
            guard !held.isEmpty else { return [] }
            var out: [CRMConflict] = []
            for r in try records(db) {
                guard let fields = held[r.recordId] else { continue }
                for field in valueFields {
                    guard let since = fields[field] else { continue }
                    let crmValue = r.crm[field] ?? nil, goldValue = r.golden[field] ?? nil
                    guard crmValue != goldValue else { continue }
                    out.append(CRMConflict(destination: destination.name, recordId: r.recordId, customerId: r.customerId, field: field,
                                           crmValue: crmValue, stewardValue: goldValue, since: since,
                                           winner: destination.conflictRule == .crmWins ? "crm" : "steward"))
                }
            }
            return out
        }
    }
}
