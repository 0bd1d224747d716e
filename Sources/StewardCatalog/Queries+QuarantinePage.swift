import Foundation
import GRDB

/// Which open quarantined rows a pane shows: one source's, optionally only those a check failed,
/// filtered by where they are and why (never by their values, which screens mask), one page at a time.
public struct QuarantineQuery: Sendable, Hashable {
    public var source: String
    public var check: String?
    /// Matched case-insensitively against file, line, record key, checks and reasons.
    public var filter: String
    public var offset: Int
    public var limit: Int

    public init(source: String, check: String? = nil, filter: String = "", offset: Int = 0, limit: Int = 200) {
        self.source = source; self.check = check; self.filter = filter; self.offset = max(0, offset); self.limit = max(1, limit)
    }
}

/// A page of open quarantined rows and how many match in all.
public struct QuarantinePage: Sendable, Equatable {
    public var query: QuarantineQuery
    /// Every matching row in the catalog, not only this page's.
    public var total: Int
    /// Rows `query.offset ..< query.offset + rows.count`, newest first.
    public var rows: [QuarantinedRow]

    public init(query: QuarantineQuery, total: Int, rows: [QuarantinedRow]) { self.query = query; self.total = total; self.rows = rows }

    /// The row at an absolute position, when this page holds it.
    public func row(at index: Int) -> QuarantinedRow? {
        let i = index - query.offset
        return rows.indices.contains(i) ? rows[i] : nil
    }
}

extension Catalog {
    /// One page of a source's open quarantine (or a check's failing rows), counted and filtered in SQL
    /// so every row is reachable however many there are.
    public func quarantinePage(_ query: QuarantineQuery) throws -> QuarantinePage {
        try pool.read { db in
            var conditions = ["released_run IS NULL", "source = ?"]
            var args: StatementArguments = [query.source]
            if let check = query.check {
                conditions.append("EXISTS (SELECT 1 FROM json_each(quarantine.checks_json) WHERE json_each.value = ?)")
                args += [check]
            }
            let filter = query.filter.trimmingCharacters(in: .whitespaces)
            if !filter.isEmpty {
                let escaped = filter.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                    .replacingOccurrences(of: "_", with: "\\_")
                let pattern = "%\(escaped)%"
                conditions.append("""
                    (file LIKE ? ESCAPE '\\' OR CAST(line AS TEXT) LIKE ? ESCAPE '\\' OR record_key LIKE ? ESCAPE '\\'
                     OR checks_json LIKE ? ESCAPE '\\' OR reasons_json LIKE ? ESCAPE '\\')
                    """)
                args += [pattern, pattern, pattern, pattern, pattern]
            }
            let whereClause = conditions.joined(separator: " AND ")
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM quarantine WHERE \(whereClause)", arguments: args) ?? 0
            let vault = VaultBox.of(db)
            var pageArgs = args
            pageArgs += [query.limit, query.offset]
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM quarantine WHERE \(whereClause) ORDER BY id DESC LIMIT ? OFFSET ?",
                                        arguments: pageArgs).map { Self.quarantinedRow($0, vault: vault) }
            return QuarantinePage(query: query, total: total, rows: rows)
        }
    }
}
