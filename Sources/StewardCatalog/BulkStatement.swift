import GRDB
import GRDBSQLite

/// One prepared statement reused for every row of a bulk write, its values bound through the SQLite C
/// API: `execute(arguments:)` boxes every value of every row into a `StatementArguments` array, which
/// was a large share of both the ingest and the identity passes (BENCHMARKS.md). Values are bound by
/// parameter index (`bind`, then `step`) or in column order (`text`, `int`, `real`, then `run`).
public struct BulkStatement {
    public let statement: Statement
    @usableFromInline var next: Int32 = 1
    @usableFromInline var handle: OpaquePointer { statement.sqliteStatement }
    /// SQLITE_TRANSIENT: SQLite copies the bytes before the bind returns.
    @usableFromInline static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    public init(_ db: Database, sql: String) throws {
        statement = try db.makeStatement(sql: sql)
    }

    /// The number of `?` parameters of the statement.
    public var parameterCount: Int32 { sqlite3_bind_parameter_count(handle) }

    // MARK: by parameter index

    @inlinable
    public func bind(_ index: Int32, _ value: String?) {
        guard var value else { sqlite3_bind_null(handle, index); return }
        value.withUTF8 { bindCopy(index, UnsafeRawBufferPointer($0)) }
    }

    @inlinable
    public func bind(_ index: Int32, _ value: Int64?) {
        guard let value else { sqlite3_bind_null(handle, index); return }
        sqlite3_bind_int64(handle, index, value)
    }

    @inlinable
    public func bind(_ index: Int32, _ value: Int) { sqlite3_bind_int64(handle, index, Int64(value)) }

    @inlinable
    public func bind(_ index: Int32, _ value: Double?) {
        guard let value else { sqlite3_bind_null(handle, index); return }
        sqlite3_bind_double(handle, index, value)
    }

    /// Binds bytes in place (SQLITE_STATIC, no copy): they must stay valid and unchanged until the
    /// statement is stepped, or rebound, or its bindings cleared.
    @inlinable
    public func bindInPlace(_ index: Int32, _ bytes: UnsafePointer<UInt8>?, count: Int) {
        guard count > 0, let bytes else { _ = sqlite3_bind_text(handle, index, "", 0, Self.transient); return }
        _ = sqlite3_bind_text(handle, index, UnsafeRawPointer(bytes).assumingMemoryBound(to: CChar.self), Int32(count), nil)
    }

    @inlinable
    public func bindNull(_ index: Int32) { sqlite3_bind_null(handle, index) }

    @usableFromInline
    func bindCopy(_ index: Int32, _ buf: UnsafeRawBufferPointer) {
        if let base = buf.baseAddress, buf.count > 0 {
            sqlite3_bind_text(handle, index, base.assumingMemoryBound(to: CChar.self), Int32(buf.count), Self.transient)
        } else {
            sqlite3_bind_text(handle, index, "", 0, Self.transient)
        }
    }

    /// Drops bound values, so no pointer into a freed buffer stays bound.
    public func clearBindings() { sqlite3_clear_bindings(handle) }

    /// Runs the statement once with its current bindings and resets it for the next row.
    @inlinable
    public func step(_ db: Database) throws {
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        guard code == SQLITE_DONE || code == SQLITE_ROW else { try Self.fail(code, db) }
    }

    @usableFromInline
    static func fail(_ code: Int32, _ db: Database) throws -> Never {
        throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
    }

    // MARK: in column order

    public mutating func text(_ value: String?) {
        defer { next += 1 }
        bind(next, value)
    }

    public mutating func text(_ bytes: [UInt8]) {
        defer { next += 1 }
        bytes.withUnsafeBytes { bindCopy(next, $0) }
    }

    public mutating func int(_ value: Int64?) {
        defer { next += 1 }
        bind(next, value)
    }

    public mutating func int(_ value: Int?) { int(value.map(Int64.init)) }

    public mutating func int(_ value: Bool) { int(Int64(value ? 1 : 0)) }

    public mutating func real(_ value: Double?) {
        defer { next += 1 }
        bind(next, value)
    }

    /// Steps the statement with the values bound since the last run, then starts the next row at the
    /// first column.
    public mutating func run(_ db: Database) throws {
        next = 1
        try step(db)
    }
}

/// Rows inserted `rowsPerStatement` at a time through one multi-row `INSERT … VALUES (…), (…)`: each
/// statement's step and reset cost about as much as the row itself (1.65 M identity members in a C
/// loop: 4.7 s one row per statement, 2.5 s 64 rows), and a table with AUTOINCREMENT reads and
/// writes `sqlite_sequence` once per statement (BENCHMARKS.md, "Sixth session"). Values are given
/// in column order; each row ends with `endRow`, and `finish` writes the rows left over.
/// Rowids are not reported (`lastInsertedRowID` is the batch's last): for tables that need none.
public struct BulkRows {
    public enum Value {
        case text(String?)
        case int(Int64?)
        case real(Double?)
    }

    private var many: BulkStatement
    private var one: BulkStatement
    private let columns: Int
    private let rowsPerStatement: Int
    private var pending: [Value] = []

    /// `then`: a clause after the values, such as an upsert's `ON CONFLICT … DO UPDATE` (with no
    /// parameters of its own: they would be one per statement, not per row).
    public init(_ db: Database, insertInto table: String, columns: [String], then clause: String = "", rowsPerStatement: Int = 64) throws {
        // `OR FAIL`: under the default ABORT a statement of many rows keeps a statement journal of every
        // page it changes, to undo its own earlier rows if a later one fails, and past 64 KiB it spills
        // to a temporary file (1.5 GB written there by a 100,000-customer matching run, BENCHMARKS.md
        // session 23). A failure ends the caller's transaction anyway. An upsert's DO UPDATE still
        // aborts, so a `then` clause keeps the journal.
        let head = "INSERT OR FAIL INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
        let row = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        let tail = clause.isEmpty ? "" : " " + clause
        many = try BulkStatement(db, sql: head + Array(repeating: row, count: rowsPerStatement).joined(separator: ", ") + tail)
        one = try BulkStatement(db, sql: head + row + tail)
        self.columns = columns.count
        self.rowsPerStatement = rowsPerStatement
        pending.reserveCapacity(columns.count * rowsPerStatement)
    }

    public mutating func text(_ value: String?) { pending.append(.text(value)) }
    public mutating func int(_ value: Int64?) { pending.append(.int(value)) }
    public mutating func int(_ value: Int?) { pending.append(.int(value.map(Int64.init))) }
    public mutating func int(_ value: Bool) { pending.append(.int(value ? 1 : 0)) }
    public mutating func real(_ value: Double?) { pending.append(.real(value)) }

    /// Ends the row; every `rowsPerStatement` rows, writes them.
    public mutating func endRow(_ db: Database) throws {
        precondition(pending.count % columns == 0, "a row of \(columns) values")
        guard pending.count == columns * rowsPerStatement else { return }
        try Self.run(&many, pending[...], db)
        pending.removeAll(keepingCapacity: true)
    }

    /// Writes the rows not written yet, one statement each.
    public mutating func finish(_ db: Database) throws {
        var start = 0
        while start < pending.count {
            try Self.run(&one, pending[start..<(start + columns)], db)
            start += columns
        }
        pending.removeAll(keepingCapacity: true)
    }

    private static func run(_ statement: inout BulkStatement, _ values: ArraySlice<Value>, _ db: Database) throws {
        for v in values {
            switch v {
            case .text(let s): statement.text(s)
            case .int(let i): statement.int(i)
            case .real(let r): statement.real(r)
            }
        }
        try statement.run(db)
    }
}
