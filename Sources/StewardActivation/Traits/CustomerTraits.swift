import Foundation
import GRDB
import StewardCatalog
import StewardConfig

/// Traits of many customers at once, one column per trait aligned with `ids` (sorted customer ids):
/// what audience rules are evaluated over.
public struct TraitTable: Sendable {
    public var ids: [String]
    public var columns: [String: [TraitValue?]]

    public func value(_ trait: String, at row: Int) -> TraitValue? { columns[trait]?[row] ?? nil }
}

/// Reading golden customers' typed traits (built in: golden fields, activity totals, RFM and churn;
/// custom traits; `consent_CHANNEL`). Golden PII comes back opened: show it only through `display`.
public enum CustomerTraits {
    /// Every trait of the project, in display order: built in, custom, then consent per channel.
    public static func names(_ config: ProjectConfig) -> [String] {
        var out = Traits.builtIn.map(\.name)
        for s in config.sources { for t in s.traits where !out.contains(t.name) { out.append(t.name) } }
        for c in Traits.channels(sources: config.sources) { out.append(Traits.consentPrefix + c) }
        return out
    }

    public static func types(_ config: ProjectConfig) -> [String: TraitType] { Traits.types(sources: config.sources) }

    /// The traits of the customers asked for (ids not active are left out), by customer id.
    public static func load(_ catalog: Catalog, ids: [String], config: ProjectConfig, traits: [String]? = nil) throws -> [String: [String: TraitValue]] {
        try catalog.pool.read { db in try load(db, ids: ids, config: config, traits: traits) }
    }

    public static func load(_ db: Database, ids: [String], config: ProjectConfig, traits: [String]? = nil) throws -> [String: [String: TraitValue]] {
        let table = try self.table(db, traits: traits ?? names(config), config: config, ids: ids)
        var out: [String: [String: TraitValue]] = [:]
        for (row, id) in table.ids.enumerated() {
            var values: [String: TraitValue] = [:]
            for (name, column) in table.columns { if let v = column[row] { values[name] = v } }
            out[id] = values
        }
        return out
    }

    /// A trait's value as it may be shown: personal traits masked unless `reveal` (the caller audits).
    public static func display(_ value: TraitValue?, trait: String, config: ProjectConfig, reveal: Bool) -> String? {
        guard let value else { return nil }
        return PIIPolicy.display(value.text, kind: Traits.piiKind(trait, sources: config.sources), reveal: reveal)
    }

    /// Golden fields sealed by the vault.
    static let sealedFields: Set<String> = Set(PIIColumns.personFields)
    static let goldenFields: Set<String> = Set(SurvivorshipConfig.attributeNames)
    /// Built-in traits read from `customer_activity_total` (t) and `customer_score` (s), with their SQL.
    static let columnSQL: [String: String] = [
        "orders": "COALESCE(t.orders, 0)", "revenue": "COALESCE(t.revenue, 0)", "last_order_at": "t.last_order_at",
        "first_order_at": "t.first_order_at", "tickets": "COALESCE(t.tickets, 0)", "events": "COALESCE(t.events, 0)",
        "segment": "s.segment", "recency_days": "s.recency_days", "frequency": "s.frequency", "monetary": "s.monetary",
        "r_score": "s.r_score", "f_score": "s.f_score", "m_score": "s.m_score", "churn_score": "s.churn_score",
    ]

    /// The named traits of every active customer (or of `ids`), ordered by customer id.
    public static func table(_ db: Database, traits: [String], config: ProjectConfig, ids: [String]? = nil) throws -> TraitTable {
        let types = self.types(config)
        // Built-in columns in one query; custom traits and consent from their long tables.
        var select: [(name: String, sql: String, type: TraitType)] = []
        var custom: [String] = [], channels: [String] = []
        for name in traits where !select.contains(where: { $0.name == name }) && !custom.contains(name) {
            if name == "customer_id" { continue }
            if goldenFields.contains(name) { select.append((name, "g.\(name)", types[name] ?? .text)) }
            else if let sql = columnSQL[name] { select.append((name, sql, types[name] ?? .number)) }
            else if name.hasPrefix(Traits.consentPrefix), types[name] == .bool { channels.append(String(name.dropFirst(Traits.consentPrefix.count))) }
            else if types[name] != nil { custom.append(name) }
        }
        let opener = VaultOpener(VaultBox.of(db))
        var ids_: [String] = []
        // One array per selected column, filled by position: no lookup by name per cell.
        var filled = [[TraitValue?]](repeating: [], count: select.count)
        let sealed = select.map { sealedFields.contains($0.name) }
        let sqlColumns = (["g.customer_id"] + select.map(\.sql)).joined(separator: ", ")
        let from = """
            FROM golden_customer g LEFT JOIN customer_activity_total t ON t.customer_id = g.customer_id
            LEFT JOIN customer_score s ON s.customer_id = g.customer_id
            """
        func read(_ cursor: RowCursor) throws {
            while let row = try cursor.next() {
                ids_.append(row[0])
                for (i, s) in select.enumerated() {
                    let value: TraitValue?
                    switch s.type {
                    case .number:
                        value = (row[i + 1] as Double?).map(TraitValue.number)
                    default:
                        var text: String? = row[i + 1]
                        if sealed[i] { text = opener.open(text) }
                        value = text.flatMap { $0.isEmpty ? nil : TraitValue.parse($0, as: s.type) }
                    }
                    filled[i].append(value)
                }
            }
        }
        if let ids {
            let sorted = Array(Set(ids)).sorted()
            for chunk in stride(from: 0, to: sorted.count, by: 500) {
                let part = Array(sorted[chunk..<min(chunk + 500, sorted.count)])
                let marks = Array(repeating: "?", count: part.count).joined(separator: ",")
                try read(Row.fetchCursor(db, sql: "SELECT \(sqlColumns) \(from) WHERE g.customer_id IN (\(marks)) ORDER BY g.customer_id",
                                         arguments: StatementArguments(part)))
            }
        } else {
            try read(Row.fetchCursor(db, sql: "SELECT \(sqlColumns) \(from) ORDER BY g.customer_id"))
        }
        var columns: [String: [TraitValue?]] = [:]
        for (i, s) in select.enumerated() { columns[s.name] = filled[i] }
        filled = []
        columns["customer_id"] = traits.contains("customer_id") ? ids_.map { .text($0) } : nil
        if !custom.isEmpty || !channels.isEmpty {
            // A long table's rows for one trait or channel, each with its row in `ids_`. Every customer:
            // read in id order (the primary key's) and merged with `ids_`, itself in SQLite's text order.
            // Some customers: only their rows, looked up by id.
            let index = ids == nil ? [:] : Dictionary(uniqueKeysWithValues: ids_.enumerated().map { ($1, $0) })
            func rows(_ sql: String, _ argument: String, _ body: (Int, Row) -> Void) throws {
                if ids == nil {
                    let cursor = try Row.fetchCursor(db, sql: sql + " ORDER BY customer_id", arguments: [argument])
                    var i = 0
                    while let row = try cursor.next() {
                        let id: String = row[0]
                        while i < ids_.count, ids_[i].utf8.lexicographicallyPrecedes(id.utf8) { i += 1 }
                        if i < ids_.count, ids_[i] == id { body(i, row) }
                    }
                    return
                }
                for chunk in stride(from: 0, to: ids_.count, by: 500) {
                    let part = Array(ids_[chunk..<min(chunk + 500, ids_.count)])
                    let marks = Array(repeating: "?", count: part.count).joined(separator: ",")
                    let cursor = try Row.fetchCursor(db, sql: sql + " AND customer_id IN (\(marks))", arguments: StatementArguments([argument] + part))
                    while let row = try cursor.next() { if let i = index[row[0] as String] { body(i, row) } }
                }
            }
            for name in custom {
                var column = [TraitValue?](repeating: nil, count: ids_.count)
                let type = types[name] ?? .any
                try rows("SELECT customer_id, value FROM customer_trait WHERE name = ?", name) { i, row in column[i] = TraitValue.parse(row[1], as: type) }
                columns[name] = column
            }
            for channel in channels {
                // No statement means no consent.
                var column = [TraitValue?](repeating: .bool(false), count: ids_.count)
                try rows("SELECT customer_id, granted FROM customer_consent WHERE channel = ?", channel) { i, row in column[i] = .bool((row[1] as Int) == 1) }
                columns[Traits.consentPrefix + channel] = column
            }
        }
        return TraitTable(ids: ids_, columns: columns)
    }
}
