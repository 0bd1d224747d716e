import GRDB

/// Which customers a matching pass must rewrite downstream (golden record, SCD2 dimension, lookup
/// index): all of them, or only those whose records, membership or merges changed. A pass that adds
/// a thousand records to a million-customer catalog touches a few thousand customers, not a million.
public enum ChangedCustomers: Sendable, Equatable {
    case all
    /// The ids are in the connection's temporary table `identity_changed` (see `stage`).
    case only(count: Int)

    /// Writes the changed ids into `temp.identity_changed` for the statements that follow.
    static func stage(_ ids: Set<String>, _ db: Database) throws -> ChangedCustomers {
        try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS identity_changed (customer_id TEXT PRIMARY KEY) WITHOUT ROWID")
        try db.execute(sql: "DELETE FROM temp.identity_changed")
        let insert = try db.makeStatement(sql: "INSERT INTO temp.identity_changed (customer_id) VALUES (?)")
        for id in ids { try insert.execute(arguments: [id]) }
        return .only(count: ids.count)
    }

    /// A SQL condition restricting `column` to the changed customers (empty for `.all`).
    func filter(column: String, keyword: String) -> String {
        switch self {
        case .all: return ""
        case .only: return " \(keyword) \(column) IN (SELECT customer_id FROM temp.identity_changed)"
        }
    }

    public var isIncremental: Bool { if case .only = self { return true }; return false }
}
