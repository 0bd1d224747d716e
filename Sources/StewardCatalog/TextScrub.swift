import Foundation
import GRDB

/// Finds and replaces an erased person's values wherever the catalog holds them as text: run and
/// step messages, audit details, alert payloads, check samples, quarantine reasons, and any text
/// column a later version adds. Tables and columns come from the catalog's own schema, never from
/// a list to keep up to date.
public enum TextScrub {
    public static let replacement = "[erased]"

    /// One value to erase and how its occurrences are recognised.
    public struct Value: Sendable, Hashable, CustomStringConvertible {
        public enum Kind: Sendable, Hashable {
            /// The text, in any letter case, not inside a longer word or number ("Lee" leaves "Ashlee" alone).
            case text
            /// A number however it is written: its digits with separators (" -./()") between them and an
            /// optional country prefix, so a phone stored as +12125455924 also matches "(212) 545-5924".
            case digits
        }
        public var text: String
        public var kind: Kind

        /// A number keeps its last 10 digits (a phone's national number): a country prefix is optional when matching.
        public init(text: String, kind: Kind) {
            self.text = kind == .digits ? String(text.filter(\.isASCIIDigit).suffix(10)) : text
            self.kind = kind
        }

        /// Never the value itself: this may end up in a log.
        public var description: String { "\(kind == .digits ? "number" : "text") of \(text.count) characters" }

        /// What every occurrence contains verbatim, lower-cased: SQL's cheap first filter before the
        /// exact match. A text's longest run of ASCII letters and digits (SQLite's lower() folds ASCII
        /// only), so a date's written forms share one needle, its year; a number's last 4 digits.
        var needle: String {
            if kind == .digits { return String(text.suffix(4)) }
            let runs = text.lowercased().split { !($0.isASCII && ($0.isLetter || $0.isNumber)) }
            return runs.max { $0.count < $1.count }.map(String.init) ?? text.lowercased()
        }

        var pattern: String {
            switch kind {
            case .text:
                return "(?<![\\p{L}\\p{N}])" + NSRegularExpression.escapedPattern(for: text) + "(?![\\p{L}\\p{N}])"
            case .digits:
                let separator = "[ \\-./()]{0,3}"
                return "(?<![\\p{N}])(?:\\+?[0-9]{1,3}" + separator + ")?\\(?" + text.map(String.init).joined(separator: separator) + "(?![\\p{N}])"
            }
        }
    }

    /// The smallest value worth erasing by content: shorter ones would hit unrelated text.
    public static func usable(_ value: Value) -> Bool {
        value.kind == .digits ? value.text.count >= 7 : value.text.trimmingCharacters(in: .whitespaces).count >= 2
    }

    /// A table and its columns that can hold text, with what identifies a row.
    public struct TextTable: Sendable {
        public var name: String
        public var columns: [String]
        /// `rowid`, or the primary key's columns of a WITHOUT ROWID table.
        public var key: [String]
    }

    /// Every ordinary table with a column of text affinity (or none, which stores text as given).
    /// Virtual tables and their shadow tables are left to their owners (a full-text index is only
    /// consistent when changed through its own table), and SQLite's internal tables hold no values.
    public static func textTables(_ db: Database) throws -> [TextTable] {
        var tables: [TextTable] = []
        for row in try Row.fetchAll(db, sql: "SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name") {
            let name: String = row[0]
            let withoutRowid: Bool = row[1]
            var columns: [String] = []
            var primaryKey: [(Int, String)] = []
            for column in try Row.fetchAll(db, sql: "SELECT name, upper(type), pk FROM pragma_table_info(?)", arguments: [name]) {
                let columnName: String = column[0], type: String = column[1], pk: Int = column[2]
                if pk > 0 { primaryKey.append((pk, columnName)) }
                // SQLite's affinity rules: a declared type naming CHAR, CLOB or TEXT is text; no type stores text as is.
                if type.isEmpty || type.contains("CHAR") || type.contains("CLOB") || type.contains("TEXT") { columns.append(columnName) }
            }
            guard !columns.isEmpty else { continue }
            let key = withoutRowid ? primaryKey.sorted { $0.0 < $1.0 }.map(\.1) : ["rowid"]
            tables.append(TextTable(name: name, columns: columns, key: key))
        }
        return tables
    }

    /// The values that occur anywhere in `tables` (all text tables when nil).
    public static func occurring(_ db: Database, values: [Value], in tables: [String]? = nil) throws -> Set<Value> {
        var found = Set<Value>()
        let matchers = try values.filter(usable).map { ($0, try NSRegularExpression(pattern: $0.pattern, options: [.caseInsensitive])) }
        for table in try textTables(db) where tables?.contains(table.name) ?? true {
            let remaining = matchers.filter { !found.contains($0.0) }
            guard !remaining.isEmpty else { break }
            try forEachCandidate(db, table: table, matchers: remaining) { _, cells in
                for (value, regex) in remaining where !found.contains(value) {
                    if cells.contains(where: { regex.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil }) { found.insert(value) }
                }
            }
        }
        return found
    }

    /// The keys (rowid, or the primary key's values) of the rows of `table` holding one of the values.
    public static func matchingRows(_ db: Database, table name: String, values: [Value]) throws -> [[DatabaseValue]] {
        let matchers = try values.filter(usable).map { ($0, try NSRegularExpression(pattern: $0.pattern, options: [.caseInsensitive])) }
        guard !matchers.isEmpty, let table = try textTables(db).first(where: { $0.name == name }) else { return [] }
        var keys: [[DatabaseValue]] = []
        try forEachCandidate(db, table: table, matchers: matchers) { key, cells in
            if matchers.contains(where: { _, regex in cells.contains { regex.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil } }) {
                keys.append(key)
            }
        }
        return keys
    }

    public struct Report: Sendable {
        /// Cells whose text changed, by table.
        public var cells: [String: Int] = [:]
        /// Rows deleted because their key was one of the values (e.g. an identity_junk row of the value).
        public var deletedRows: [String: Int] = [:]
        public var totalCells: Int { cells.values.reduce(0, +) }
        public var totalDeleted: Int { deletedRows.values.reduce(0, +) }
    }

    /// Replaces every occurrence of `values` in every text column with `[erased]`. Run it inside
    /// the caller's transaction: the guards that keep a table append-only (triggers raising on
    /// update or delete, such as audit_event's) are lifted for the scrub and put back before it returns,
    /// because erasure on request outranks "never rewritten". A row whose new text would collide
    /// with a unique key held that value as its key, so it is wholly the person's: it is deleted.
    public static func scrub(_ db: Database, values: [Value], except skipped: Set<String> = []) throws -> Report {
        var report = Report()
        // Longer values first: a full name goes as one before its first name is looked for.
        let matchers = try values.filter(usable).sorted { $0.text.count > $1.text.count }
            .map { ($0, try NSRegularExpression(pattern: $0.pattern, options: [.caseInsensitive])) }
        guard !matchers.isEmpty else { return report }
        for table in try textTables(db) where !skipped.contains(table.name) {
            var changes: [(key: [DatabaseValue], cells: [String: String])] = []
            try forEachCandidate(db, table: table, matchers: matchers) { key, cells in
                var changed: [String: String] = [:]
                for (column, original) in zip(table.columns, cells) {
                    var text = original
                    for (_, regex) in matchers {
                        text = regex.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: replacement)
                    }
                    if text != original { changed[column] = text }
                }
                if !changed.isEmpty { changes.append((key, changed)) }
            }
            guard !changes.isEmpty else { continue }
            try withoutGuards(db, table: table.name) {
                let whereKey = table.key.map { "\(quoted($0)) = ?" }.joined(separator: " AND ")
                for change in changes {
                    let columns = change.cells.keys.sorted()
                    let set = columns.map { "\(quoted($0)) = ?" }.joined(separator: ", ")
                    let arguments = StatementArguments(columns.map { change.cells[$0]! }) + StatementArguments(change.key)
                    do {
                        try db.execute(sql: "UPDATE \(quoted(table.name)) SET \(set) WHERE \(whereKey)", arguments: arguments)
                        report.cells[table.name, default: 0] += columns.count
                    } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                        try db.execute(sql: "DELETE FROM \(quoted(table.name)) WHERE \(whereKey)", arguments: StatementArguments(change.key))
                        report.deletedRows[table.name, default: 0] += 1
                    }
                }
            }
        }
        return report
    }

    /// Calls `body` with the key and text cells ("" for NULL) of each row of `table` that may hold
    /// one of the values: SQL filters on the lower-cased needles in one pass over the table, the
    /// caller matches exactly.
    private static func forEachCandidate(_ db: Database, table: TextTable, matchers: [(Value, NSRegularExpression)],
                                         _ body: ([DatabaseValue], [String]) throws -> Void) throws {
        let joined = table.columns.map { "COALESCE(CAST(\(quoted($0)) AS TEXT), '')" }.joined(separator: " || char(31) || ")
        let needles = Array(Set(matchers.map(\.0.needle)))
        let filter = needles.indices.map { "instr(t.x, ?\($0 + 1)) > 0" }.joined(separator: " OR ")
        let keys = table.key.map(quoted).joined(separator: ", ")
        let texts = table.columns.map { "COALESCE(CAST(\(quoted($0)) AS TEXT), '')" }.joined(separator: ", ")
        // LIMIT -1 keeps SQLite from flattening the subquery, which would lower() the row once per needle.
        let sql = """
            SELECT * FROM (SELECT \(keys), \(texts), lower(\(joined)) AS x FROM \(quoted(table.name)) LIMIT -1) AS t WHERE \(filter)
            """
        let rows = try Row.fetchCursor(db, sql: sql, arguments: StatementArguments(needles))
        while let row = try rows.next() {
            let key = (0..<table.key.count).map { row[$0] as DatabaseValue }
            let cells = (0..<table.columns.count).map { (row[table.key.count + $0] as String?) ?? "" }
            try body(key, cells)
        }
    }

    /// Runs `body` with the table's raising triggers dropped, then recreates them as they were.
    private static func withoutGuards(_ db: Database, table: String, _ body: () throws -> Void) throws {
        let guards = try Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND upper(sql) LIKE '%RAISE(%'",
                                      arguments: [table]).map { (name: $0[0] as String, sql: $0[1] as String) }
        for g in guards { try db.execute(sql: "DROP TRIGGER \(quoted(g.name))") }
        try body()
        for g in guards { try db.execute(sql: g.sql) }
    }

    static func quoted(_ identifier: String) -> String { "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
