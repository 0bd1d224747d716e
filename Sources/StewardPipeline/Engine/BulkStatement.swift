import GRDB
import GRDBSQLite

/// Binds and steps a prepared statement through the SQLite C API: the bulk-load hot path binds
/// millions of values, and `StatementArguments` allocates an array of boxed values per row.
struct BulkStatement {
    let statement: Statement
    private var handle: OpaquePointer { statement.sqliteStatement }
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ db: Database, sql: String) throws {
        statement = try db.makeStatement(sql: sql)
    }

    @inline(__always)
    func bind(_ index: Int32, _ value: String?) {
        guard var value else { sqlite3_bind_null(handle, index); return }
        value.withUTF8 { buf in
            guard buf.count > 0 else { _ = sqlite3_bind_text(handle, index, "", 0, Self.transient); return }
            _ = sqlite3_bind_text(handle, index, UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: CChar.self),
                                  Int32(buf.count), Self.transient)
        }
    }

    @inline(__always)
    func bind(_ index: Int32, _ value: Int64?) {
        guard let value else { sqlite3_bind_null(handle, index); return }
        sqlite3_bind_int64(handle, index, value)
    }

    @inline(__always)
    func bind(_ index: Int32, _ value: Int) { sqlite3_bind_int64(handle, index, Int64(value)) }

    @inline(__always)
    func bind(_ index: Int32, _ value: Double?) {
        guard let value else { sqlite3_bind_null(handle, index); return }
        sqlite3_bind_double(handle, index, value)
    }

    /// Binds a chunk's value in place: SQLite reads the bytes during the next step without copying,
    /// so `base` must stay valid until then (see `BatchState.write(_:)`).
    @inline(__always)
    func bind(_ index: Int32, _ slot: ValueSlot, base: UnsafePointer<UInt8>?) {
        switch slot {
        case .null: sqlite3_bind_null(handle, index)
        case .real(let d): sqlite3_bind_double(handle, index, d)
        case .text(let start, let count):
            guard count > 0, let base else { _ = sqlite3_bind_text(handle, index, "", 0, Self.transient); return }
            // SQLITE_STATIC (a nil destructor): no copy.
            _ = sqlite3_bind_text(handle, index, UnsafeRawPointer(base + start).assumingMemoryBound(to: CChar.self), Int32(count), nil)
        }
    }

    /// Drops bound values, so no pointer into a freed buffer stays bound between chunks.
    func clearBindings() { sqlite3_clear_bindings(handle) }

    /// Runs the statement once and resets it for the next row.
    func step(_ db: Database) throws {
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        guard code == SQLITE_DONE || code == SQLITE_ROW else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }
}
