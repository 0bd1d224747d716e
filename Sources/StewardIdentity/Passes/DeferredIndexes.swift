import GRDB

/// A table's secondary indexes set aside while it is filled in bulk and created again afterwards:
/// one sort per index instead of a random b-tree insert per row. For tables a pass rewrites whole,
/// and for tables empty before their first pass. The definitions come from the schema itself.
struct DeferredIndexes {
    private var definitions: [String] = []

    /// Drops `table`'s secondary indexes (those a statement created, not the primary key's); with
    /// `ifEmpty`, only when the table has no rows yet.
    mutating func drop(_ db: Database, table: String, ifEmpty: Bool = false) throws {
        if ifEmpty, try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(table))") == true { return }
        let indexes = try Row.fetchAll(db, sql: """
            SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name
            """, arguments: [table])
        for index in indexes {
            try db.execute(sql: "DROP INDEX \((index[0] as String).quotedDatabaseIdentifier)")
            definitions.append(index[1])
        }
    }

    /// Creates the dropped indexes again.
    mutating func restore(_ db: Database) throws {
        for sql in definitions { try db.execute(sql: sql) }
        definitions = []
    }
}
