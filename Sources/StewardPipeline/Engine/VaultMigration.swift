import Foundation
import GRDB
import StewardCatalog
import StewardConfig

/// Seals (or re-seals under a new key) every PII value a catalog already holds: the catalog's PII
/// columns (`PIIColumns`), and the personal cells of raw and quarantined rows, chosen per source by
/// its mapping (`PIIPolicy`). Runs inside the caller's transaction with the catalog's `VaultBox`
/// already pointing at the key to seal with (and, for a rotation, still holding the previous key):
/// SQLite's atomic commit makes `steward vault enable` and `rotate` all or nothing, so a killed one
/// is simply run again.
public enum VaultMigration {
    public struct Counts: Sendable, Equatable {
        public var columnValues = 0
        public var rawRows = 0
        public var quarantineRows = 0
    }

    public static func seal(_ db: Database, policy: PIIPolicy) throws -> Counts {
        let box = VaultBox.of(db)
        guard case .open(let keyId) = box.state else {
            if case .locked(let id) = box.state { throw VaultError.keyMissing(id) }
            throw VaultError.notEnabled
        }
        var counts = Counts()
        counts.columnValues = try PIIColumns.seal(db, currentKey: keyId)
        let update = try db.makeStatement(sql: "UPDATE raw_record SET data = ? WHERE id = ?")
        // Rows of a batch with a header are arrays in its column order; others are objects.
        let rows = try Row.fetchCursor(db, sql: """
            SELECT r.id, r.source, r.data, b.columns_json FROM raw_record r JOIN batch b ON b.id = r.batch_id ORDER BY r.id
            """)
        var columnsOf = BatchColumns()
        var pending: [(Int64, String)] = []
        while let r = try rows.next() {
            let source: String = r[1], text: String = r[2]
            let columns = columnsOf[r[3]]
            if let sealed = try sealRow(text, source: source, columns: columns, policy: policy, box: box), sealed != text {
                pending.append((r[0], sealed))
            }
        }
        for (id, text) in pending { try update.execute(arguments: [text, id]) }
        counts.rawRows = pending.count
        pending.removeAll()
        let quarantined = try Row.fetchAll(db, sql: "SELECT id, source, raw, checks_json FROM quarantine")
        for r in quarantined {
            let source: String = r[1], text: String = r[2], checks: String = r[3]
            // A row the reader could not read as written may hold its values under the wrong columns.
            let unreadable = checks.contains("\"readable\"")
            if let sealed = try sealRow(text, source: source, columns: nil, policy: unreadable ? nil : policy, box: box), sealed != text {
                pending.append((r[0], sealed))
            }
        }
        let updateQuarantine = try db.makeStatement(sql: "UPDATE quarantine SET raw = ? WHERE id = ?")
        for (id, text) in pending { try updateQuarantine.execute(arguments: [text, id]) }
        counts.quarantineRows = pending.count
        return counts
    }

    /// A stored row with its personal cells sealed under the current key (cells sealed under an
    /// older key re-sealed); text that is not JSON is sealed whole, as a JSON string. A nil policy
    /// seals every cell.
    static func sealRow(_ text: String, source: String, columns: [String]?, policy: PIIPolicy?, box: VaultBox) throws -> String? {
        func quoted(_ s: String) -> String {
            var out: [UInt8] = []
            JSONText.appendQuotedBytes(s, to: &out)
            return String(decoding: out, as: UTF8.self)
        }
        // A line that was never JSON (an unreadable NDJSON line): no column is known, all of it is sealed.
        guard let json = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else {
            return quoted(try box.seal(text))
        }
        if let whole = json as? String { return quoted(try box.seal(whole)) }
        func personal(_ column: String) -> Bool { policy?.kind(source: source, column: column) != nil || policy == nil }
        func sealed(_ value: Any, column: String) throws -> Any {
            if let s = value as? String {
                // Cells sealed before (under any key) are re-sealed whatever the policy says now.
                if Vault.isSealed(s) || (personal(column) && !s.isEmpty) { return try box.seal(s) }
                return s
            }
            if let object = value as? [String: Any] {
                var out: [String: Any] = [:]
                for (k, v) in object { out[k] = try sealed(v, column: column.isEmpty ? k : "\(column).\(k)") }
                return out
            }
            if let n = value as? NSNumber, personal(column) { return try box.seal("\(n)") }
            return value
        }
        if let array = json as? [Any] {
            let names = columns ?? []
            let values = try array.enumerated().map { i, v in try sealed(v, column: i < names.count ? names[i] : "_extra\(i - names.count + 1)") }
            if let strings = values as? [String], strings.count == names.count {
                // As the loader writes arrays, so a sealed row reads exactly like one sealed on load.
                return JSONText.array(quotedKeys: JSONText.quotedKeys(names), values: strings).text
            }
            return String(decoding: try JSONSerialization.data(withJSONObject: values, options: [.withoutEscapingSlashes]), as: UTF8.self)
        }
        if let object = json as? [String: Any] {
            let out = try sealed(object, column: "")
            return String(decoding: try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
        }
        return nil
    }

    /// Personal cells of raw and quarantined rows: sealed under the current key, under another key,
    /// and in plaintext.
    public static func rowCoverage(_ db: Database, policy: PIIPolicy, currentKey: String?) throws -> (sealed: Int, otherKey: Int, plaintext: Int) {
        var sealed = 0, other = 0, plain = 0
        func count(_ text: String, source: String, columns: [String]?, all: Bool) {
            guard let json = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else {
                plain += 1
                return
            }
            if json is String { visit(json, column: ""); return }
            func visit(_ value: Any, column: String) {
                if let s = value as? String {
                    if Vault.isSealed(s) { if Vault.keyId(of: s) == currentKey { sealed += 1 } else { other += 1 } }
                    else if !s.isEmpty && (all || column.isEmpty || policy.kind(source: source, column: column) != nil) { plain += 1 }
                } else if let o = value as? [String: Any] {
                    for (k, v) in o { visit(v, column: column.isEmpty ? k : "\(column).\(k)") }
                } else if value is NSNumber, all || policy.kind(source: source, column: column) != nil {
                    plain += 1
                }
            }
            if let a = json as? [Any] {
                let names = columns ?? []
                for (i, v) in a.enumerated() { visit(v, column: i < names.count ? names[i] : "_extra\(i - names.count + 1)") }
            } else {
                visit(json, column: "")
            }
        }
        var columnsOf = BatchColumns()
        let rows = try Row.fetchCursor(db, sql: "SELECT r.source, r.data, b.columns_json FROM raw_record r JOIN batch b ON b.id = r.batch_id")
        while let r = try rows.next() {
            count(r[1], source: r[0], columns: columnsOf[r[2]], all: false)
        }
        let quarantined = try Row.fetchCursor(db, sql: "SELECT source, raw, checks_json FROM quarantine")
        while let r = try quarantined.next() {
            count(r[1], source: r[0], columns: nil, all: (r[2] as String).contains("\"readable\""))
        }
        return (sealed, other, plain)
    }
}

/// A batch's column names (`batch.columns_json`), decoded once per distinct list.
struct BatchColumns {
    private var decoded: [String: [String]?] = [:]

    subscript(json: String?) -> [String]? {
        mutating get {
            guard let json else { return nil }
            if let known = decoded[json] { return known }
            let columns = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String]
            decoded[json] = columns
            return columns
        }
    }
}
