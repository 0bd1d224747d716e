import Foundation
import GRDB
import StewardCatalog

/// The customer match rate: the share of the person records the latest matching pass resolved (its
/// `identity_member` rows: the live records) that it linked to at least one other record (their
/// customer has two or more). The one definition behind both `steward match report` and the
/// `Customer match rate` KPI (README, "Customer match rate").
public struct MatchRate: Sendable, Equatable {
    /// Person records resolved to a customer.
    public var records: Int
    /// Of them, records whose customer has at least one other record.
    public var linked: Int
    /// The highest rate any matching reaches on this data, when the project has a truth file.
    public var ceiling: Ceiling?

    /// A record whose person has no other record cannot be linked by any matcher: the truth file
    /// says how many records that is.
    public struct Ceiling: Sendable, Equatable {
        /// Resolved records the truth file names.
        public var labelled: Int
        /// Of them, records whose true person has another resolved labelled record.
        public var withPartner: Int
        public var rate: Double { labelled == 0 ? 0 : Double(withPartner) / Double(labelled) }
    }

    public var rate: Double { records == 0 ? 0 : Double(linked) / Double(records) }

    public static let definition = "share of resolved person records linked to at least one other record (their customer has two or more)"

    /// The rate of the catalog now; `truth` (record id `source:record` → true person) adds the ceiling.
    /// Both counts read only the customer index of `identity_member` (0.5 s at 1.65 M records; a
    /// count per source needs every row and took 8 s there).
    public static func measure(_ db: Database, truth: [String: String]?) throws -> MatchRate {
        let records = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM identity_member") ?? 0
        let linked = try Int.fetchOne(db, sql: """
            SELECT COALESCE(SUM(n), 0) FROM (SELECT COUNT(*) AS n FROM identity_member GROUP BY customer_id HAVING n > 1)
            """) ?? 0
        return MatchRate(records: records, linked: linked, ceiling: try truth.map { try ceiling(db, labels: $0) })
    }

    /// The ceiling given each record's true person: the resolved records whose person has another.
    static func ceiling(_ db: Database, labels: [String: String]) throws -> Ceiling {
        var perPerson: [String: Int] = [:]
        let ids = try Row.fetchCursor(db, sql: "SELECT source, record_key FROM identity_member")
        while let r = try ids.next() {
            if let person = labels["\(r[0] as String):\(r[1] as String)"] { perPerson[person, default: 0] += 1 }
        }
        return Ceiling(labelled: perPerson.values.reduce(0, +), withPartner: perPerson.values.reduce(0) { $0 + ($1 > 1 ? $1 : 0) })
    }

    /// The rate with the ceiling of the truth file at `truth`.
    public static func measure(_ db: Database, truth: URL?) throws -> MatchRate {
        var rate = try measure(db, truth: nil as [String: String]?)
        if let truth { rate.ceiling = try ceiling(db, truth: truth) }
        return rate
    }

    /// The ceiling of the truth file at `truth`, kept per process for an unchanged file and
    /// catalog: the console measures KPIs on every refresh, and reading the file and every record
    /// id takes seconds at a million records.
    public static func ceiling(_ db: Database, truth: URL) throws -> Ceiling {
        let attributes = try? FileManager.default.attributesOfItem(atPath: truth.path)
        let catalogFile = try String.fetchOne(db, sql: "SELECT file FROM pragma_database_list WHERE name = 'main'") ?? ""
        let stamp = [catalogFile, truth.path, "\((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)",
                     "\(attributes?[.size] as? Int ?? -1)",
                     "\(try Int64.fetchOne(db, sql: "SELECT MAX(run_id) FROM identity_run") ?? 0)",
                     "\(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM identity_member") ?? 0)",
                     "\(try Int.fetchOne(db, sql: "SELECT MAX(rowid) FROM identity_event") ?? 0)"].joined(separator: "|")
        if let cached = CeilingCache.shared.get(stamp) { return cached }
        // Kept beside the catalog for the next process too (`steward check`, a console's first verdict):
        // the file is a cache, never the truth, so a missing or unreadable one is measured again.
        let stored = catalogFile.isEmpty ? nil : URL(fileURLWithPath: catalogFile).deletingLastPathComponent()
            .appendingPathComponent(CeilingFile.name)
        if let stored, let kept = CeilingFile.read(stored, stamp: stamp) {
            CeilingCache.shared.set(stamp, kept)
            return kept
        }
        let measured = try ceiling(db, labels: try PairwiseScore.loadTruth(truth))
        CeilingCache.shared.set(stamp, measured)
        if let stored { CeilingFile.write(measured, stamp: stamp, to: stored) }
        return measured
    }

    /// One line on the rate and why a target may be out of reach: "5795 of 8301 records linked to
    /// another record; ceiling 71.2% (truth: 2394 records are their person's only record): a 95.0%
    /// target cannot be met on this data". `target`: a share the rate should reach; `truthKnown`:
    /// the project has a truth file (the ceiling was left out because it was not needed).
    public func explanation(target: Double? = nil, truthKnown: Bool = false) -> String {
        var text = "\(linked) of \(records) records linked to another record"
        guard let ceiling else {
            if !truthKnown { text += "; a record that is its person's only record cannot be linked (set `truth:` to measure the ceiling)" }
            return text
        }
        text += "; ceiling \(Self.percent(ceiling.rate)) (truth: \(ceiling.labelled - ceiling.withPartner) records are their person's only record)"
        if let target, target > ceiling.rate + 1e-9 { text += ": a \(Self.percent(target)) target cannot be met on this data" }
        return text
    }

    static func percent(_ share: Double) -> String { String(format: "%.1f%%", share * 100) }
}

/// The last ceiling measured, by its file and catalog stamp.
private final class CeilingCache: @unchecked Sendable {
    static let shared = CeilingCache()
    private let lock = NSLock()
    private var stamp = "", ceiling: MatchRate.Ceiling?

    func get(_ stamp: String) -> MatchRate.Ceiling? {
        lock.lock(); defer { lock.unlock() }
        return stamp == self.stamp ? ceiling : nil
    }

    func set(_ stamp: String, _ ceiling: MatchRate.Ceiling) {
        lock.lock(); defer { lock.unlock() }
        self.stamp = stamp
        self.ceiling = ceiling
    }
}

/// The last ceiling measured on a catalog, in a private file beside it (`match-ceiling.json`): measuring
/// reads the truth file and every record id, 12 s at a million records, on every `steward check`.
enum CeilingFile {
    static let name = "match-ceiling.json"

    static func read(_ url: URL, stamp: String) -> MatchRate.Ceiling? {
        guard let data = try? Data(contentsOf: url),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              object["stamp"] as? String == stamp,
              let labelled = object["labelled"] as? Int, let withPartner = object["with_partner"] as? Int,
              labelled >= 0, withPartner >= 0, withPartner <= labelled else { return nil }
        return MatchRate.Ceiling(labelled: labelled, withPartner: withPartner)
    }

    /// Best effort: a read-only folder only means the next process measures again.
    static func write(_ ceiling: MatchRate.Ceiling, stamp: String, to url: URL) {
        let object: [String: Any] = ["stamp": stamp, "labelled": ceiling.labelled, "with_partner": ceiling.withPartner]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        try? PrivateFiles.writeRegularFile([UInt8](data), to: url)
    }
}
