import GRDB
import GRDBSQLite

/// One prepared statement reused for every row of a bulk write: values are bound in column order
/// through the SQLite C API, then `run()` steps and resets it. `execute(arguments:)` boxes every value
/// of every row into a `StatementArguments` array; at a million customers that was a large share of
/// each catalog pass (BENCHMARKS.md, identity).
struct BulkInsert {
    let statement: Statement
    private var next: Int32 = 1
    private var handle: OpaquePointer { statement.sqliteStatement }
    /// SQLITE_TRANSIENT: SQLite copies the bytes before the bind returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ db: Database, sql: String) throws {
        statement = try db.makeStatement(sql: sql)
    }

    mutating func text(_ value: String?) {
        defer { next += 1 }
        guard var value else { sqlite3_bind_null(handle, next); return }
        value.withUTF8 { bind(UnsafeRawBufferPointer($0)) }
    }

    mutating func text(_ bytes: [UInt8]) {
        defer { next += 1 }
        bytes.withUnsafeBytes { bind($0) }
    }

    private func bind(_ buf: UnsafeRawBufferPointer) {
        if let base = buf.baseAddress, buf.count > 0 {
            sqlite3_bind_text(handle, next, base.assumingMemoryBound(to: CChar.self), Int32(buf.count), Self.transient)
        } else {
            sqlite3_bind_text(handle, next, "", 0, Self.transient)
        }
    }

    mutating func int(_ value: Int64?) {
        defer { next += 1 }
        guard let value else { sqlite3_bind_null(handle, next); return }
        sqlite3_bind_int64(handle, next, value)
    }

    mutating func int(_ value: Int?) { int(value.map(Int64.init)) }

    mutating func int(_ value: Bool) { int(Int64(value ? 1 : 0)) }

    mutating func real(_ value: Double?) {
        defer { next += 1 }
        guard let value else { sqlite3_bind_null(handle, next); return }
        sqlite3_bind_double(handle, next, value)
    }

    /// Steps the statement with the values bound since the last run, then resets it for the next row.
    mutating func run(_ db: Database) throws {
        next = 1
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        guard code == SQLITE_DONE || code == SQLITE_ROW else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }
}

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
