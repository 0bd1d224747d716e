import Foundation

/// Who used Steward, when, and how (`cli` or `console`): the User adoption KPI's numerator.
///
/// Read commands open the catalog read-only and must leave its bytes alone (ReadOnlyCatalogTests), so
/// a use is appended to a private log beside the catalog (`usage.log`, one `time<TAB>user<TAB>surface`
/// line, 0600) instead of a catalog table; the catalog's own audit log (every writing action names
/// its OS user) counts as use too. Recording never fails a command: a folder that cannot be written
/// (a read-only catalog) simply records nothing.
public enum UsageLog {
    public static let fileName = "usage.log"

    public static func url(catalogURL: URL) -> URL { catalogURL.deletingLastPathComponent().appendingPathComponent(fileName) }

    /// Appends one use, only where a catalog already exists (a read command never creates its folder).
    public static func record(catalogURL: URL, surface: String, user: String = Catalog.osUser, at: Date = Date()) {
        guard FileManager.default.fileExists(atPath: catalogURL.path) else { return }
        let line = "\(Timestamp.string(at))\t\(user.replacingOccurrences(of: "\t", with: " "))\t\(surface)\n"
        guard let handle = try? PrivateFiles.openForAppending(url(catalogURL: catalogURL)) else { return }
        handle.write(Data(line.utf8))
        try? handle.close()
    }

    public struct Use: Sendable, Equatable {
        public var at: Date
        public var user: String
        public var surface: String
    }

    /// The uses logged since `since` (the log's unreadable lines skipped).
    public static func uses(catalogURL: URL, since: Date) -> [Use] {
        guard let data = FileManager.default.contents(atPath: url(catalogURL: catalogURL).path) else { return [] }
        var out: [Use] = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard parts.count == 3, let at = Timestamp.date(String(parts[0])), at >= since, !parts[1].isEmpty else { continue }
            out.append(Use(at: at, user: String(parts[1]), surface: String(parts[2])))
        }
        return out
    }

    /// Distinct OS users who used Steward since `since`: the usage log and the catalog's audit actors.
    public static func users(catalog: Catalog, since: Date) throws -> (users: Set<String>, fromLog: Int, fromAudit: Int) {
        let logged = Set(uses(catalogURL: catalog.url, since: since).map(\.user))
        let audited = try catalog.pool.read { db in
            // Runs name their OS user too (a scheduled `steward run --every` counts as that user's use).
            Set(try String.fetchAll(db, sql: """
                SELECT actor FROM audit_event WHERE at >= ? UNION SELECT actor FROM run WHERE started_at >= ?
                """, arguments: [Timestamp.string(since), Timestamp.string(since)]))
        }
        return (logged.union(audited), logged.count, audited.count)
    }
}
