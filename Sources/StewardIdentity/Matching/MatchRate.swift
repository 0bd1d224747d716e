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

    /// The rate with the ceiling of the truth file at `truth`. Both are kept (`KeptCounts`) under a
    /// stamp of the resolved records, and the ceiling also of the truth file: at a million records
    /// the linked count takes 0.5 s and the ceiling 12 s, on every `steward check` and console verdict.
    /// `ceilingBelow`: measure the ceiling only when the rate is under this share (it explains a target not met).
    public static func measure(_ db: Database, truth: URL?, ceilingBelow: Double? = nil) throws -> MatchRate {
        let records = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM identity_member") ?? 0
        let catalogFile = try String.fetchOne(db, sql: "SELECT file FROM pragma_database_list WHERE name = 'main'") ?? ""
        let identity = [catalogFile, "\(records)",
                        // The latest pass's time too: a catalog rebuilt at this path, or a forced pass under
                        // the same run, can match its run number, record and event counts.
                        try String.fetchOne(db, sql: "SELECT run_id || '@' || at FROM identity_run ORDER BY run_id DESC LIMIT 1") ?? "0",
                        "\(try Int.fetchOne(db, sql: "SELECT MAX(rowid) FROM identity_event") ?? 0)"].joined(separator: "|")
        let kept = KeptCounts(catalogFile: catalogFile)
        var rate: MatchRate
        if let counts = kept.get("linked", stamp: identity), counts.count == 1, counts[0] <= records {
            rate = MatchRate(records: records, linked: counts[0], ceiling: nil)
        } else {
            rate = try measure(db, truth: nil as [String: String]?)
            kept.set("linked", stamp: identity, [rate.linked])
        }
        guard let truth, rate.rate < ceilingBelow ?? .infinity else { return rate }
        let attributes = try? FileManager.default.attributesOfItem(atPath: truth.path)
        let stamp = [identity, truth.path, "\((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)",
                     "\(attributes?[.size] as? Int ?? -1)"].joined(separator: "|")
        if let counts = kept.get("ceiling", stamp: stamp), counts.count == 2, counts[1] <= counts[0] {
            rate.ceiling = Ceiling(labelled: counts[0], withPartner: counts[1])
        } else {
            let ceiling = try ceiling(db, labels: try PairwiseScore.loadTruth(truth))
            kept.set("ceiling", stamp: stamp, [ceiling.labelled, ceiling.withPartner])
            rate.ceiling = ceiling
        }
        return rate
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

/// Counts measured on a catalog, by name, under a stamp of what they were measured from: in this
/// process (the console measures on every refresh) and in a private file beside the catalog for the
/// next process (`steward check`, a console's first verdict). The file is a cache, never the truth:
/// a missing, unreadable or stale entry is measured again, and a read-only folder only means that.
struct KeptCounts {
    static let fileName = "match-rate.json"
    let file: URL?

    init(catalogFile: String) {
        file = catalogFile.isEmpty ? nil : URL(fileURLWithPath: catalogFile).deletingLastPathComponent().appendingPathComponent(Self.fileName)
    }

    func get(_ name: String, stamp: String) -> [Int]? {
        if let counts = InProcess.shared.get(name, stamp: stamp) { return counts }
        guard let file, let entry = Self.entries(file)[name] as? [String: Any], entry["stamp"] as? String == stamp,
              let counts = entry["counts"] as? [Int], counts.allSatisfy({ $0 >= 0 }) else { return nil }
        InProcess.shared.set(name, stamp: stamp, counts)
        return counts
    }

    func set(_ name: String, stamp: String, _ counts: [Int]) {
        InProcess.shared.set(name, stamp: stamp, counts)
        guard let file else { return }
        var entries = Self.entries(file)
        entries[name] = ["stamp": stamp, "counts": counts]
        guard let data = try? JSONSerialization.data(withJSONObject: entries, options: [.sortedKeys]) else { return }
        try? PrivateFiles.writeRegularFile([UInt8](data), to: file)
    }

    private static func entries(_ file: URL) -> [String: Any] {
        guard let data = try? Data(contentsOf: file),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object
    }

    /// The latest counts of each name in this process, with their stamp.
    private final class InProcess: @unchecked Sendable {
        static let shared = InProcess()
        private let lock = NSLock()
        private var kept: [String: (stamp: String, counts: [Int])] = [:]

        func get(_ name: String, stamp: String) -> [Int]? {
            lock.withLock { kept[name].flatMap { $0.stamp == stamp ? $0.counts : nil } }
        }

        func set(_ name: String, stamp: String, _ counts: [Int]) {
            lock.withLock { kept[name] = (stamp, counts) }
        }
    }
}
