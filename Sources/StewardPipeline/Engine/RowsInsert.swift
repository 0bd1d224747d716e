import GRDB
import GRDBSQLite
import StewardCatalog

/// One INSERT written many rows a statement (`INSERT … VALUES (…), (…), …`): a statement's step,
/// reset and halt cost SQLite about as much as the row itself, and the ingest wrote two statements a
/// row (BENCHMARKS.md, issue 15). The values every row shares (source, batch, run) are the numbered
/// parameters `?1…?shared`, bound once per statement; row r of a statement has the `perRow` parameters
/// after them. Statements write 64, 32, …, 2 or 1 rows, each compiled when first needed: a statement
/// of every length a chunk's remainder can have cost more to compile (numbered parameters are looked up
/// linearly) than it saved.
struct RowsInsert {
    /// A value of a row's tuple: a shared parameter, one of the row's own values, or an SQL literal.
    enum Value {
        case shared(Int32)
        case row
        case literal(String)
    }

    static let rowsPerStatement = 64

    /// The rows of the next statement, of `remaining` rows to write: a power of two, at most `most`.
    static func rowsForNextStatement(of remaining: Int, most: Int = rowsPerStatement) -> Int {
        precondition(remaining > 0 && most > 0)
        return min(most, 1 << (Int.bitWidth - 1 - remaining.leadingZeroBitCount))
    }

    /// The most rows a statement may hold: 64, or fewer where SQLite was built with a lower limit on
    /// parameters (999 before 3.32); a power of two, at least 1.
    let mostRows: Int

    private let db: Database
    private let head: String
    private let tuple: [Value]
    private let tail: String
    let shared: Int32
    let perRow: Int32
    private var statements: [Int: BulkStatement] = [:]

    /// `head`: `INSERT INTO t (c1, c2, …) VALUES`; `tuple`: one row's values in column order;
    /// `tail`: what follows the values (an upsert's `ON CONFLICT … DO UPDATE`, with no parameters).
    /// `parameterLimit`: SQLite's limit on a statement's parameters (read from the connection when nil).
    init(_ db: Database, head: String, tuple: [Value], tail: String = "", parameterLimit: Int? = nil) {
        self.db = db
        self.head = head
        self.tuple = tuple
        self.tail = tail
        shared = tuple.reduce(0) { if case .shared(let n) = $1 { return max($0, n) }; return $0 }
        perRow = Int32(tuple.filter { if case .row = $0 { return true }; return false }.count)
        let parameters = parameterLimit ?? Int(sqlite3_limit(db.sqliteConnection, SQLITE_LIMIT_VARIABLE_NUMBER, -1))
        let fitting = max(1, (parameters - Int(shared)) / max(Int(perRow), 1))
        mostRows = Self.rowsForNextStatement(of: fitting)
    }

    /// The same insert without its tail (an upsert's `ON CONFLICT … DO UPDATE`): a plain `INSERT`.
    func withoutTail() -> RowsInsert {
        RowsInsert(db, head: head, tuple: tuple, parameterLimit: mostRows * Int(perRow) + Int(shared))
    }

    /// The SQL of a statement writing `rows` rows.
    func sql(rows: Int) -> String {
        var parameter = shared
        let tuples = (0..<rows).map { _ in
            "(" + tuple.map { value -> String in
                switch value {
                case .shared(let n): return "?\(n)"
                case .row: parameter += 1; return "?\(parameter)"
                case .literal(let text): return text
                }
            }.joined(separator: ", ") + ")"
        }
        return head + " " + tuples.joined(separator: ", ") + (tail.isEmpty ? "" : " " + tail)
    }

    /// The statement for `rows` rows (its shared parameters are bound by the caller, before each step).
    mutating func statement(rows: Int) throws -> BulkStatement {
        if let statement = statements[rows] { return statement }
        let statement = try BulkStatement(db, sql: sql(rows: rows))
        statements[rows] = statement
        return statement
    }

    /// The parameter number of the first value of row `row` of a statement.
    @inline(__always) func firstParameter(ofRow row: Int) -> Int32 { shared + Int32(row) * perRow + 1 }

    /// Drops every bound value, so no pointer into a buffer about to be reused stays bound.
    func clearBindings() {
        for statement in statements.values { statement.clearBindings() }
    }
}
