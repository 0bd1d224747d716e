import Foundation
import GRDB
import StewardCatalog
import StewardConfig
import StewardPipeline

/// Keeps each person record's custom trait values and consent statements (columns staging does not
/// keep) from its raw row: a record is read again only when its staged row points at another batch,
/// or when its source's `traits:`/`consent:` declaration changed.
enum RecordTraits {
    struct Outcome { var read = 0; var removed = 0 }

    static func update(_ db: Database, config: ProjectConfig) throws -> Outcome {
        var out = Outcome()
        let declaring = config.sources.filter { $0.entity == .person && (!$0.traits.isEmpty || !$0.consent.isEmpty) }
        let names = Set(declaring.map(\.name))
        // Sources that no longer declare anything keep nothing.
        for stale in try String.fetchAll(db, sql: "SELECT source FROM activation_source_state") where !names.contains(stale) {
            try forgetSource(db, stale)
        }
        let opener = VaultOpener(VaultBox.of(db))
        for source in declaring {
            // Consent dates as the source writes them (its date_formats), kept as ISO 8601.
            let standardiser = Standardiser(reference: .shared, defaultRegion: source.region ?? config.defaultRegion, dateFormats: source.dateFormats)
            let isoDate = { (text: String) -> String? in if case .success(let iso)? = standardiser.timestamp(text) { return iso }; return nil }
            let fingerprint = Self.fingerprint(source)
            if try String.fetchOne(db, sql: "SELECT fingerprint FROM activation_source_state WHERE source = ?", arguments: [source.name]) != fingerprint {
                try forgetSource(db, source.name)
                try db.execute(sql: "INSERT INTO activation_source_state (source, fingerprint) VALUES (?, ?)", arguments: [source.name, fingerprint])
            }
            // Records deleted (or forgotten) since: their statements and traits go.
            try db.execute(sql: """
                DELETE FROM record_trait WHERE source = ?1 AND record_key NOT IN (SELECT record_key FROM staged_person WHERE source = ?1 AND is_deleted = 0)
                """, arguments: [source.name])
            out.removed += db.changesCount
            try db.execute(sql: """
                DELETE FROM consent_statement WHERE source = ?1 AND record_key NOT IN (SELECT record_key FROM record_trait WHERE source = ?1)
                """, arguments: [source.name])
            // Live records whose raw row has not been read: grouped by batch, each batch's raw rows read once.
            let pending = try Row.fetchAll(db, sql: """
                SELECT sp.batch_id, sp.line, sp.record_key FROM staged_person sp
                LEFT JOIN record_trait rt ON rt.source = sp.source AND rt.record_key = sp.record_key
                WHERE sp.source = ? AND sp.is_deleted = 0 AND (rt.batch_id IS NULL OR rt.batch_id <> sp.batch_id)
                ORDER BY sp.batch_id
                """, arguments: [source.name])
            var byBatch: [Int64: [Int: String]] = [:]
            for r in pending { byBatch[r[0], default: [:]][r[1]] = r[2] }
            let upsertTrait = try db.makeStatement(sql: """
                INSERT INTO record_trait (source, record_key, batch_id, values_json) VALUES (?, ?, ?, ?)
                ON CONFLICT (source, record_key) DO UPDATE SET batch_id = excluded.batch_id, values_json = excluded.values_json
                """)
            let clearConsent = try db.makeStatement(sql: "DELETE FROM consent_statement WHERE source = ? AND record_key = ?")
            let insertConsent = try db.makeStatement(sql: """
                INSERT INTO consent_statement (source, record_key, channel, granted, at, batch_id) VALUES (?, ?, ?, ?, ?, ?)
                """)
            for batchId in byBatch.keys.sorted() {
                guard let wanted = byBatch[batchId],
                      let batch = try Row.fetchOne(db, sql: "SELECT first_raw_id, last_raw_id, columns_json FROM batch WHERE id = ?", arguments: [batchId]),
                      let first: Int64 = batch[0], let last: Int64 = batch[1] else { continue }
                let header: [String]? = (batch[2] as String?).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String] }
                let rows = try Row.fetchCursor(db, sql: "SELECT line, record_key, data FROM raw_record WHERE id BETWEEN ? AND ?",
                                               arguments: [first, last])
                while let raw = try rows.next() {
                    let line: Int = raw[0]
                    guard let key = wanted[line], (raw[1] as String?) == key else { continue }
                    let fields = Self.fields(opener.isOn ? VaultBox.of(db).revealJSON(raw[2]) : raw[2], header: header)
                    var values: [String: String] = [:]
                    for t in source.traits {
                        if let v = fields[t.column]?.trimmingCharacters(in: .whitespaces), !v.isEmpty { values[t.name] = v }
                    }
                    let json = String(decoding: try JSONSerialization.data(withJSONObject: values, options: [.sortedKeys]), as: UTF8.self)
                    try upsertTrait.execute(arguments: [source.name, key, batchId, json])
                    try clearConsent.execute(arguments: [source.name, key])
                    for mapping in source.consent {
                        guard let s = ConsentStatement.read(fields, mapping, date: isoDate) else { continue }
                        try insertConsent.execute(arguments: [source.name, key, mapping.channel, s.granted ? 1 : 0, s.at, batchId])
                    }
                    out.read += 1
                }
            }
        }
        return out
    }

    static func forgetSource(_ db: Database, _ source: String) throws {
        try db.execute(sql: "DELETE FROM record_trait WHERE source = ?", arguments: [source])
        try db.execute(sql: "DELETE FROM consent_statement WHERE source = ?", arguments: [source])
        try db.execute(sql: "DELETE FROM activation_source_state WHERE source = ?", arguments: [source])
    }

    /// What the records of a source yield depends on these declarations only.
    static func fingerprint(_ s: SourceConfig) -> String {
        "v2|" + s.traits.map { "\($0.name)=\($0.column)" }.joined(separator: ",") + "|"
            + s.consent.map { "\($0.channel):\($0.granted ?? "")/\($0.at ?? "")/\($0.withdrawn ?? "")" }.joined(separator: ",")
    }

    /// A raw row's cells by column: a JSON array under the batch's header, or a JSON object.
    static func fields(_ text: String, header: [String]?) -> [String: String] {
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else { return [:] }
        func cell(_ v: Any) -> String? {
            switch v {
            case let s as String: return s
            case let n as NSNumber: return n.stringValue   // a JSON true reads as 1: a yes either way
            case is NSNull: return nil
            default: return nil
            }
        }
        var out: [String: String] = [:]
        if let array = parsed as? [Any], let header {
            for (i, v) in array.enumerated() where i < header.count { if let c = cell(v) { out[header[i]] = c } }
        } else if let object = parsed as? [String: Any] {
            for (k, v) in object { if let c = cell(v) { out[k] = c } }
        }
        return out
    }
}
