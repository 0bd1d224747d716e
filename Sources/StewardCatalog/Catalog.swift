import Foundation
import GRDB
import GRDBSQLite

/// The Steward catalog: one SQLite file in WAL mode holding every layer of the pipeline and its history.
///
/// ```swift
/// let catalog = try Catalog.open(at: projectDir.appendingPathComponent(".steward/catalog.sqlite"))
/// let sources = try catalog.sourceOverviews()
/// ```
public final class Catalog: Sendable {
    public let url: URL
    public let pool: DatabasePool

    /// How long a connection waits for another one's lock before failing.
    static let busyTimeout: TimeInterval = 10

    public static func open(at url: URL, readOnly: Bool = false) throws -> Catalog {
        if readOnly && !FileManager.default.fileExists(atPath: url.path) {
            throw CatalogError.missing(url.path)
        }
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.readonly = readOnly
        config.busyMode = .timeout(busyTimeout)
        config.prepareDatabase { db in
            // Bulk loads dominate writes; NORMAL is durable across process kills in WAL mode.
            if !db.configuration.readonly {
                // Only takes effect on a new file, before its first page: 16 KiB pages mean a quarter of
                // the WAL frames, reads and writes in a bulk load and its checkpoint (BENCHMARKS.md).
                try db.execute(sql: "PRAGMA page_size = 16384")
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                // A large page cache keeps a big batch's index pages in memory (bounded: 64 MB).
                try db.execute(sql: "PRAGMA cache_size = -\(Catalog.defaultCacheKiB)")
            }
        }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: url.path, configuration: config)
            if !readOnly { try Schema.migrator.migrate(pool) }
            else {
                let done = try pool.read { try Schema.migrator.hasCompletedMigrations($0) }
                if !done { throw CatalogError.outdated(url.path) }
            }
        } catch let error as CatalogError {
            throw error
        } catch let error as DatabaseError {
            throw CatalogError.corrupt(url.path, error.message ?? "\(error)")
        }
        return Catalog(url: url, pool: pool)
    }

    private init(url: URL, pool: DatabasePool) {
        self.url = url
        self.pool = pool
    }

    /// Runs one big write with the rollback journal instead of WAL when no other connection has the
    /// catalog open: WAL writes every new page twice (to the log, then again at the checkpoint), the
    /// rollback journal once, and a first load of a large file is nearly all new pages (BENCHMARKS.md).
    /// Another process reading the catalog keeps it in WAL mode (SQLite refuses to leave WAL then), so
    /// only a process that has the catalog to itself benefits; readers that arrive meanwhile wait for
    /// the commit instead of reading the state before it. Synchronous FULL while in rollback mode keeps
    /// commits as durable as WAL's; a killed process leaves a hot journal that the next open rolls back.
    public func withRollbackJournal<T>(_ body: (Database, _ active: Bool) throws -> T) throws -> T {
        // Idle reader connections of this pool would keep the file in WAL mode.
        pool.releaseMemory()
        return try pool.writeWithoutTransaction { db in
            // Refused at once (not after the busy timeout) when another connection holds the file.
            sqlite3_busy_timeout(db.sqliteConnection, 0)
            let active: Bool
            do {
                active = try String.fetchOne(db, sql: "PRAGMA journal_mode = DELETE") == "delete"
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
                active = false
            }
            sqlite3_busy_timeout(db.sqliteConnection, Int32(Self.busyTimeout * 1000))
            if active { try db.execute(sql: "PRAGMA synchronous = FULL") }
            defer {
                if active {
                    try? db.execute(sql: "PRAGMA synchronous = NORMAL")
                    _ = try? String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                }
            }
            return try body(db, active)
        }
    }

    /// One large write transaction (a whole matching pass over many records, the customer facts after
    /// it): the rollback journal when this process has the catalog to itself (`withRollbackJournal`)
    /// and a page cache of `largeWriteCacheKiB` while it runs. At a million customers the pass writes
    /// gigabytes of new pages: WAL writes each twice, and a 64 MB cache spills to the log mid-transaction
    /// and reads the pages back from it (BENCHMARKS.md, "Sixth session"). `large: false` is a plain
    /// `pool.write`, for small passes where switching journals costs more than it saves.
    public func write<T>(large: Bool, _ body: (Database) throws -> T) throws -> T {
        guard large else { return try pool.write(body) }
        return try withRollbackJournal { db, _ in
            try db.execute(sql: "PRAGMA cache_size = -\(Self.largeWriteCacheKiB)")
            defer { try? db.execute(sql: "PRAGMA cache_size = -\(Self.defaultCacheKiB)") }
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
            return result!
        }
    }

    /// The page cache of every writing connection (64 MB), and of one large write (256 MB).
    static let defaultCacheKiB = 65_536
    static let largeWriteCacheKiB = 262_144

    /// A write of at least this many rows (records matched, activities linked) is `large`.
    /// `STEWARD_LARGE_WRITE_MIN_ROWS` overrides it (tests take the large path on small demos).
    public static var largeWriteMinimumRows: Int {
        ProcessInfo.processInfo.environment["STEWARD_LARGE_WRITE_MIN_ROWS"].flatMap { Int($0) } ?? 100_000
    }

    /// Files at least this big are loaded with the rollback journal by a process that has the catalog
    /// to itself (`steward run`): below it, WAL's second write costs less than switching journals.
    /// `STEWARD_ROLLBACK_JOURNAL_MIN_BYTES` overrides it (tests load small files this way).
    public static var rollbackJournalMinimumBytes: Int64 {
        ProcessInfo.processInfo.environment["STEWARD_ROLLBACK_JOURNAL_MIN_BYTES"].flatMap { Int64($0) } ?? 16 << 20
    }

    /// Appends an audit event. The actor is the OS user unless given.
    public func audit(action: String, subject: String, detail: String = "", actor: String = Catalog.osUser) throws {
        try pool.write { db in try Catalog.audit(db, action: action, subject: subject, detail: detail, actor: actor) }
    }

    public static func audit(_ db: Database, action: String, subject: String, detail: String = "",
                             actor: String = Catalog.osUser) throws {
        try db.execute(
            sql: "INSERT INTO audit_event (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
            arguments: [Timestamp.now(), actor, action, subject, detail])
    }

    public static var osUser: String {
        let env = ProcessInfo.processInfo.environment
        if let user = env["USER"] ?? env["LOGNAME"], !user.isEmpty { return user }
        if let pw = getpwuid(getuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return "uid:\(getuid())"
    }
}

public enum CatalogError: Error, CustomStringConvertible, Equatable {
    case missing(String)
    case corrupt(String, String)
    case outdated(String)

    public var description: String {
        switch self {
        case .missing(let path):
            return "catalog not found at \(path); run `steward run` to create it"
        case .corrupt(let path, let message):
            return "catalog at \(path) cannot be opened (\(message)); move it aside and run `steward run` to rebuild it from the sources"
        case .outdated(let path):
            return "catalog at \(path) needs migrating; run any writing command such as `steward run`"
        }
    }
}

/// Catalog timestamps: UTC ISO 8601 with milliseconds, so text order is time order.
public enum Timestamp {
    public static func string(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var secs = ms / 1000
        let millis = Int(ms - secs * 1000)
        let days = Int(secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400)
        secs -= Int64(days) * 86_400
        let (y, m, d) = civil(fromDays: days)
        let hh = Int(secs / 3600), mm = Int(secs % 3600 / 60), ss = Int(secs % 60)
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(hh, 2)):\(pad(mm, 2)):\(pad(ss, 2)).\(pad(millis, 3))Z"
    }

    public static func now() -> String { string(Date()) }

    /// Parses the catalog's own format (and plain ISO 8601 with or without fraction).
    public static func date(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count >= 19 else { return nil }
        func num(_ from: Int, _ len: Int) -> Int? {
            var v = 0
            for i in from..<(from + len) {
                let c = b[i]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2),
              let mi = num(14, 2), let s = num(17, 2) else { return nil }
        var ms = 0
        if b.count >= 23 && b[19] == UInt8(ascii: ".") { ms = num(20, 3) ?? 0 }
        let days = daysFromCivil(y, mo, d)
        let seconds = Double(days) * 86_400 + Double(h * 3600 + mi * 60 + s) + Double(ms) / 1000
        return Date(timeIntervalSince1970: seconds)
    }

    private static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// (year, month, day) of a day number since 1970-01-01 (Howard Hinnant's civil_from_days): the
    /// one calendar conversion of the project, with no calendar objects on hot paths.
    public static func civil(fromDays z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// Days since 1970-01-01 of a calendar date (Howard Hinnant's days_from_civil).
    public static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
