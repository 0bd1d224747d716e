import Foundation
import GRDB
import GRDBSQLite
#if canImport(Glibc)
import Glibc
#endif

/// The Steward catalog: one SQLite file in WAL mode holding every layer of the pipeline and its history.
///
/// ```swift
/// let catalog = try Catalog.open(at: projectDir.appendingPathComponent(".steward/catalog.sqlite"))
/// let sources = try catalog.sourceOverviews()
/// ```
public final class Catalog: Sendable {
    public let url: URL
    public let pool: DatabasePool
    /// The privacy vault's key ring behind this catalog's `vault_*` SQL functions.
    public let vault: VaultBox

    /// How long a connection waits for another one's lock before failing.
    static let busyTimeout: TimeInterval = 10

    /// Opens the catalog.
    ///
    /// - `readOnly: false` (writing commands): creates the file and migrates it when needed. Migrations
    ///   run under an exclusive lock, so two processes opening a new catalog at once never both create
    ///   its tables; a catalog already at the current schema is not written at all by opening it.
    /// - `readOnly: true` (read commands, the console): never creates, migrates or writes anything,
    ///   works on a catalog the user cannot write (file mode 0444, or a folder where even the -wal and
    ///   -shm files cannot be created: then it is opened `immutable`). A catalog missing or at an older
    ///   schema (also: one a first run is creating right now) is reported, not changed.
    public static func open(at url: URL, readOnly: Bool = false) throws -> Catalog {
        if readOnly { return try openForReading(at: url) }
        let folder = url.deletingLastPathComponent()
        do {
            try PrivateFiles.createFolder(folder)
        } catch let error as PrivateFileError {
            throw CatalogError.environment(folder.path, error.reason)
        }
        if let problem = FileProblem.notWritable(url) { throw CatalogError.readOnly(url.path, problem) }
        try makePrivate(url)
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(busyTimeout)
        let vault = VaultBox()
        config.prepareDatabase { db in
            vault.register(db)
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
            pool = try Self.retryingBusy { try DatabasePool(path: url.path, configuration: config) }
            try Self.retryingBusy { try migrate(pool, at: url) }
            try Self.retryingBusy { try pool.read { try vault.load($0) } }
        } catch let error as CatalogError {
            throw error
        } catch let error as DatabaseError {
            throw CatalogError.corrupt(url.path, error.message ?? "\(error)")
        }
        return Catalog(url: url, pool: pool, vault: vault)
    }

    /// The catalog holds every customer's PII: it and its side files are 0600, created so or tightened
    /// (a catalog an older version created 0644), and Steward's own `.steward` folder 0700. A folder the
    /// user named for the catalog (`catalog: data/c.sqlite`) may hold other things: its mode is theirs.
    static func makePrivate(_ url: URL) throws {
        do {
            try PrivateFiles.createEmptyFile(url)
        } catch let error as PrivateFileError {
            throw CatalogError.environment(url.path, error.reason)
        }
        for path in ["", "-wal", "-shm", "-journal"].map({ url.path + $0 }) + [migrationLockPath(url)] { PrivateFiles.tighten(path) }
        let folder = url.deletingLastPathComponent()
        if folder.lastPathComponent == ".steward" { PrivateFiles.tighten(folder.path) }
    }

    /// Migrates when the schema is behind, holding an exclusive lock on a file next to the catalog for
    /// the whole check-and-migrate: GRDB's migrator reads which migrations ran outside its transactions,
    /// so two processes starting on a new catalog would otherwise both run "v1" ("table … already exists").
    static func migrate(_ pool: DatabasePool, at url: URL) throws {
        // The common case, a current catalog: one read, no write, no lock file.
        if try pool.read({ try Schema.migrator.hasCompletedMigrations($0) }) { return }
        let lockPath = migrationLockPath(url)
        let fd = Glibc.open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, PrivateFiles.fileMode)
        guard fd >= 0 else {
            throw CatalogError.environment(lockPath, FileProblem.describe(errno: errno))
        }
        defer { Glibc.close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw CatalogError.environment(lockPath, FileProblem.describe(errno: errno)) }
        }
        defer { flock(fd, LOCK_UN) }
        try Schema.migrator.migrate(pool)
    }

    /// The read-only open of `open(at:readOnly: true)`.
    static func openForReading(at url: URL) throws -> Catalog {
        guard FileManager.default.fileExists(atPath: url.path) else { throw CatalogError.missing(url.path) }
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.readonly = true
        config.busyMode = .timeout(busyTimeout)
        let vault = VaultBox()
        config.prepareDatabase { db in vault.register(db) }
        func attempt(_ path: String) throws -> DatabasePool {
            let pool = try DatabasePool(path: path, configuration: config)
            // Connections open lazily: read once so a file SQLite cannot use fails here, not later.
            let state = try pool.read { db -> (tables: Bool, current: Bool) in
                let tables = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'run'") ?? 0
                return (tables > 0, try Schema.migrator.hasCompletedMigrations(db))
            }
            if !state.tables { throw CatalogError.empty(url.path) }
            if !state.current { throw CatalogError.outdated(url.path) }
            try Self.retryingBusy { try pool.read { try vault.load($0) } }
            return pool
        }
        do {
            do {
                do {
                    return Catalog(url: url, pool: try attempt(url.path), vault: vault)
                } catch let error as CatalogError where error == .outdated(url.path) || error == .empty(url.path) {
                    // Another process may be migrating it right now (a first run): read once it is done.
                    // Also when the lock was already free: the migration may have finished between the
                    // read above (between two of its steps) and the wait. A catalog no one migrates
                    // answers the same again, and is reported.
                    let waited = waitForMigration(at: url)
                    guard waited || FileManager.default.fileExists(atPath: migrationLockPath(url)) else { throw error }
                    return Catalog(url: url, pool: try attempt(url.path), vault: vault)
                }
            } catch let error as DatabaseError
                        where Self.cannotUseSideFiles(error) && access(url.deletingLastPathComponent().path, W_OK) != 0 {
                // A WAL catalog in a folder this user cannot write: the -shm (and -wal) cannot be created.
                // `immutable` reads the file as it is, which is all a read command needs: no writer can be
                // running without write access to that folder either.
                return Catalog(url: url, pool: try attempt(immutableURI(url)), vault: vault)
            }
        } catch let error as CatalogError {
            throw error
        } catch let error as DatabaseError {
            throw CatalogError.corrupt(url.path, error.message ?? "\(error)")
        }
    }

    /// Runs a step of opening, again while SQLite answers "database is locked" (up to the busy
    /// timeout). Opening a new WAL file and its first reads can be refused at once, without the busy
    /// handler, while another process is setting the file up (measured: half the runs of two
    /// processes creating one catalog). Each step is safe to repeat (migrations are transactional).
    static func retryingBusy<T>(_ body: () throws -> T) throws -> T {
        let deadline = Date().addingTimeInterval(busyTimeout)
        while true {
            do {
                return try body()
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && Date() < deadline {
                usleep(20_000)
            }
        }
    }

    /// The lock `migrate` holds while it migrates; readers wait on it without creating it.
    static func migrationLockPath(_ url: URL) -> String { url.path + ".migrate-lock" }

    /// Waits (at most `timeout`) while another process holds the migration lock; true if it did.
    static func waitForMigration(at url: URL, timeout: TimeInterval = 30) -> Bool {
        let fd = Glibc.open(migrationLockPath(url), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        var waited = false
        let deadline = Date().addingTimeInterval(timeout)
        while flock(fd, LOCK_SH | LOCK_NB) != 0 {
            guard Date() < deadline else { return false }
            waited = true
            usleep(20_000)
        }
        flock(fd, LOCK_UN)
        return waited
    }

    static func cannotUseSideFiles(_ error: DatabaseError) -> Bool {
        switch error.resultCode {
        case .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_IOERR: return true
        default: return false
        }
    }

    /// `file:` URI of the catalog with `immutable=1` (Debian's SQLite is built with SQLITE_USE_URI).
    static func immutableURI(_ url: URL) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#%")
        let path = url.path.addingPercentEncoding(withAllowedCharacters: allowed) ?? url.path
        return "file:\(path)?immutable=1"
    }

    private init(url: URL, pool: DatabasePool, vault: VaultBox) {
        self.url = url
        self.pool = pool
        self.vault = vault
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
    /// The file exists but holds no catalog tables yet (a first run is creating it, or it is empty).
    case empty(String)
    case corrupt(String, String)
    case outdated(String)
    /// A writing command on a catalog this user cannot write (path, why).
    case readOnly(String, String)
    /// The catalog's folder cannot be created or used (path, why).
    case environment(String, String)

    // Never advise deleting or moving the catalog: it holds the audit log, steward decisions and
    // erasure tombstones, which no re-run from the sources can bring back.
    public var description: String {
        switch self {
        case .missing(let path):
            return "catalog not found at \(path); run `steward run` to create it"
        case .empty(let path):
            return "catalog at \(path) has no tables yet (a first `steward run` may be creating it right now); try again when that run has finished, or run `steward run`"
        case .corrupt(let path, let message):
            return "catalog at \(path) cannot be opened (\(message)); it was left as it is: check the file and its folder's permissions and free disk space, or restore it from a backup"
        case .outdated(let path):
            return "catalog at \(path) is at an older schema (or a first run is still creating it); a writing command such as `steward run` migrates it"
        case .readOnly(let path, let why):
            return "catalog at \(path) is read-only (\(why)); this command writes to it. Read commands (status, quality, runs, customer search, tui --read-only) still work"
        case .environment(let path, let why):
            return "cannot use \(path): \(why)"
        }
    }
}

/// One sentence about a file-system problem, for messages that name the path themselves.
public enum FileProblem {
    /// Why the catalog cannot be written by this user, or nil when it can (a missing file can be created
    /// when its folder is writable).
    public static func notWritable(_ url: URL) -> String? {
        let folder = url.deletingLastPathComponent().path
        if FileManager.default.fileExists(atPath: url.path), access(url.path, W_OK) != 0 {
            return "the file is not writable by \(Catalog.osUser)"
        }
        // SQLite writes the -wal, -shm and journal files next to the catalog.
        if access(folder, W_OK) != 0 { return "its folder \(folder) is not writable by \(Catalog.osUser)" }
        return nil
    }

    /// Why `dir` cannot be created or written into, or nil when it can: a file where it or one of
    /// its parents should be a folder, or the nearest existing folder is not writable.
    public static func cannotCreateFolder(_ dir: URL) -> String? {
        var current = dir.standardizedFileURL
        while true {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: current.path, isDirectory: &isDir) {
                if !isDir.boolValue { return "\(current.path) is a file, not a folder" }
                return access(current.path, W_OK | X_OK) == 0 ? nil : "\(current.path) is not writable by \(Catalog.osUser)"
            }
            let parent = current.deletingLastPathComponent()
            if parent.path == current.path { return nil }
            current = parent
        }
    }

    public static func describe(errno code: Int32) -> String {
        switch code {
        case EACCES, EPERM: return "permission denied"
        case EROFS: return "the file system is read-only"
        case ENOTDIR: return "a file is where a folder should be"
        case EEXIST: return "a file is where a folder should be"
        case ENOSPC: return "no space left on the device"
        case EISDIR: return "a folder is where a file should be"
        default: return String(cString: strerror(code))
        }
    }

    /// The errno behind a Foundation file error, described; else the error's own text.
    public static func describe(_ error: Error, path: String) -> String {
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return describe(errno: Int32(ns.code)) }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return describe(errno: Int32(underlying.code))
        }
        if ns.domain == NSCocoaErrorDomain {
            switch CocoaError.Code(rawValue: ns.code) {
            case .fileWriteNoPermission, .fileReadNoPermission: return "permission denied"
            case .fileWriteFileExists: return "a file is where a folder should be"
            case .fileWriteVolumeReadOnly: return "the file system is read-only"
            case .fileWriteOutOfSpace: return "no space left on the device"
            case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file or folder"
            default: break
            }
        }
        // A file somewhere along the path where a folder should be.
        var dir = URL(fileURLWithPath: path)
        while dir.path != "/" {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir) {
                if !isDir.boolValue && dir.path != path { return "\(dir.path) is a file, not a folder" }
                break
            }
            dir.deleteLastPathComponent()
        }
        return ns.localizedDescription
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
        // A time that does not exist (9999-99-99, 2023-02-30, 25:00) is no time at all.
        let dash = UInt8(ascii: "-"), colon = UInt8(ascii: ":")
        guard b[4] == dash, b[7] == dash, b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == UInt8(ascii: " "),
              b[13] == colon, b[16] == colon,
              (1...12).contains(mo), d >= 1, d <= daysIn(month: mo, year: y), h < 24, mi < 60, s < 60 else { return nil }
        var ms = 0
        if b.count >= 23 && b[19] == UInt8(ascii: ".") { ms = num(20, 3) ?? 0 }
        let days = daysFromCivil(y, mo, d)
        let seconds = Double(days) * 86_400 + Double(h * 3600 + mi * 60 + s) + Double(ms) / 1000
        return Date(timeIntervalSince1970: seconds)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
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
