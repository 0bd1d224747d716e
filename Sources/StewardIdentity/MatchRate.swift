import Foundation
import GRDB
import StewardCatalog

/// The customer match rate: the share of live person records that identity resolution linked to at
/// least one other live record (their customer has two or more). The one definition behind both
/// `steward match report` and the `Customer match rate` KPI (README, "Customer match rate").
public struct MatchRate: Sendable, Equatable {
    /// Live staged person records.
    public var records: Int
    /// Of them, records whose customer has at least one other live record.
    public var linked: Int
    /// Per source: its live records and how many of them are linked, by source name.
    public var bySource: [Source]
    /// The highest rate any matching reaches on this data, when the project has a truth file.
    public var ceiling: Ceiling?

    public struct Source: Sendable, Equatable {
        public var source: String
        public var records: Int
        public var linked: Int
        public var rate: Double { records == 0 ? 0 : Double(linked) / Double(records) }
    }

    /// A record whose person has no other record cannot be linked by any matcher: the truth file
    /// says how many records that is.
    public struct Ceiling: Sendable, Equatable {
        /// Live records the truth file names.
        public var labelled: Int
        /// Of them, records whose true person has another live labelled record.
        public var withPartner: Int
        public var rate: Double { labelled == 0 ? 0 : Double(withPartner) / Double(labelled) }
    }

    public var rate: Double { records == 0 ? 0 : Double(linked) / Double(records) }

    public static let definition = "share of live person records linked to at least one other record (their customer has two or more)"

    /// The rate of the catalog now; `truth` (record id `source:record` → true person) adds the ceiling.
    public static func measure(_ db: Database, truth: [String: String]?) throws -> MatchRate {
        var bySource: [String: Source] = [:]
        for r in try Row.fetchAll(db, sql: "SELECT source, COUNT(*) FROM staged_person WHERE is_deleted = 0 GROUP BY source") {
            let name: String = r[0]
            bySource[name] = Source(source: name, records: r[1], linked: 0)
        }
        // Live records only, on both sides: a deleted record neither counts nor links anyone.
        for r in try Row.fetchAll(db, sql: """
            WITH live AS (
                SELECT m.customer_id, m.source FROM identity_member m
                JOIN staged_person p ON p.source = m.source AND p.record_key = m.record_key WHERE p.is_deleted = 0)
            SELECT live.source, COUNT(*) FROM live
            WHERE live.customer_id IN (SELECT customer_id FROM live GROUP BY customer_id HAVING COUNT(*) > 1)
            GROUP BY live.source
            """) {
            let name: String = r[0]
            bySource[name, default: Source(source: name, records: 0, linked: 0)].linked = r[1]
        }
        let sources = bySource.values.sorted { $0.source < $1.source }
        var ceiling: Ceiling?
        if let truth {
            var perPerson: [String: Int] = [:]
            let ids = try Row.fetchCursor(db, sql: "SELECT source, record_key FROM staged_person WHERE is_deleted = 0")
            while let r = try ids.next() {
                if let person = truth["\(r[0] as String):\(r[1] as String)"] { perPerson[person, default: 0] += 1 }
            }
            ceiling = Ceiling(labelled: perPerson.values.reduce(0, +), withPartner: perPerson.values.reduce(0) { $0 + ($1 > 1 ? $1 : 0) })
        }
        return MatchRate(records: sources.reduce(0) { $0 + $1.records }, linked: sources.reduce(0) { $0 + $1.linked },
                         bySource: sources, ceiling: ceiling)
    }

    /// The rate with the ceiling of the truth file at `truth`. The ceiling is kept per process for
    /// an unchanged file and catalog: the console measures KPIs on every refresh.
    public static func measure(_ db: Database, truth: URL?) throws -> MatchRate {
        guard let truth else { return try measure(db, truth: nil as [String: String]?) }
        let attributes = try? FileManager.default.attributesOfItem(atPath: truth.path)
        let catalogFile = try String.fetchOne(db, sql: "SELECT file FROM pragma_database_list WHERE name = 'main'") ?? ""
        let stamp = [catalogFile, truth.path, "\((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)",
                     "\(attributes?[.size] as? Int ?? -1)",
                     "\(try Int64.fetchOne(db, sql: "SELECT MAX(run_id) FROM identity_run") ?? 0)",
                     "\(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM staged_person WHERE is_deleted = 0") ?? 0)"].joined(separator: "|")
        if let ceiling = CeilingCache.shared.get(stamp) {
            var rate = try measure(db, truth: nil as [String: String]?)
            rate.ceiling = ceiling
            return rate
        }
        let rate = try measure(db, truth: try PairwiseScore.loadTruth(truth))
        if let ceiling = rate.ceiling { CeilingCache.shared.set(stamp, ceiling) }
        return rate
    }

    /// One line on the rate and why a target may be out of reach: "5795 of 8301 records linked to
    /// another record; ceiling 71.2% (truth: 2394 records are their person's only record): a 95.0%
    /// target cannot be met on this data". `target`: a share the rate should reach.
    public func explanation(target: Double? = nil) -> String {
        var text = "\(linked) of \(records) records linked to another record"
        guard let ceiling else {
            text += "; a record that is its person's only record cannot be linked (set `truth:` to measure the ceiling)"
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
