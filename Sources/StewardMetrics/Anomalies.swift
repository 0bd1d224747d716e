import Foundation
import GRDB
import StewardCatalog

/// A value of a run far outside what recent runs did.
public struct Anomaly: Sendable, Equatable {
    public enum Metric: String, Sendable, CaseIterable {
        case rowsLoaded = "rows_loaded"
        case runDuration = "run_duration"
        case quarantineRate = "quarantine_rate"
        case qualityScore = "dq_score"
    }

    public var metric: Metric
    /// The source for `rows_loaded`, else `run`.
    public var subject: String
    public var runId: Int64
    public var value: Double
    public var median: Double
    public var expectedLow: Double
    public var expectedHigh: Double
    public var z: Double

    public func format(_ v: Double) -> String {
        switch metric {
        case .rowsLoaded: return String(Int(v.rounded()))
        case .runDuration: return String(format: v < 10 ? "%.2fs" : "%.0fs", v)
        case .quarantineRate, .qualityScore: return String(format: "%.1f%%", v * 100)
        }
    }

    public var message: String {
        let what: String
        switch metric {
        case .rowsLoaded: what = "\(subject): rows loaded"
        case .runDuration: what = "run duration"
        case .quarantineRate: what = "quarantine rate"
        case .qualityScore: what = "data quality score"
        }
        return "\(what) \(format(value)) in run \(runId), expected \(format(expectedLow))–\(format(expectedHigh)) (robust z \(String(format: "%.1f", z)))"
    }
}

/// Robust z-scores (median and MAD of the previous runs) on rows loaded per source, run duration,
/// quarantine rate and data-quality score.
///
/// z = 0.6745 · (x − median) / MAD; |z| > 3.5 is an anomaly (Iglewicz and Hoaglin) when the value also
/// differs from the median by at least `minRelativeDeviation` of it (and a per-metric absolute floor):
/// a series that barely moves has a tiny MAD, and then a 0.01 % wobble scores z 68 ("99.9 %, expected
/// 99.9 %–99.9 %"). The expected range is median ± max(3.5 · MAD / 0.6745, that minimum deviation).
public struct AnomalyDetector: Sendable {
    public var window = 20
    public var threshold = 3.5
    /// Fewer previous runs than this: no judgement.
    public var minHistory = 5
    /// A value closer to the median than this share of it is never an anomaly, whatever its z.
    public var minRelativeDeviation = 0.01

    public init(window: Int = 20, threshold: Double = 3.5, minHistory: Int = 5, minRelativeDeviation: Double = 0.01) {
        self.window = window
        self.threshold = threshold
        self.minHistory = minHistory
        self.minRelativeDeviation = minRelativeDeviation
    }

    public struct Score: Sendable, Equatable {
        public var z: Double
        public var median: Double
        public var low: Double
        public var high: Double
        /// |z| above the threshold and the value outside [low, high].
        public var isAnomaly: Bool
    }

    /// The smallest deviation from the median each metric can alarm on when the median is near 0
    /// (where a relative minimum is no minimum): one row, one second, a tenth of a percentage point.
    static func absoluteFloor(_ metric: Anomaly.Metric?) -> Double {
        switch metric {
        case .rowsLoaded: return 1
        case .runDuration: return 1
        case .quarantineRate, .qualityScore: return 0.001
        case nil: return 0
        }
    }

    /// The robust z-score of `value` against `history`, or nil with too little history.
    public func score(_ value: Double, history: [Double], metric: Anomaly.Metric? = nil) -> Score? {
        guard history.count >= minHistory else { return nil }
        let median = Self.median(history)
        let mad = Self.median(history.map { abs($0 - median) })
        // MAD is 0 when most runs agree exactly: fall back to the mean absolute deviation, then to 1 % of
        // the median, so a constant series still flags a real jump but not float noise.
        var scale = mad / 0.6745
        if scale == 0 { scale = history.map { abs($0 - median) }.reduce(0, +) / Double(history.count) * 1.2533 }
        if scale == 0 { scale = max(abs(median) * 0.01, 1e-9) }
        let z = (value - median) / scale
        let minimumDeviation = max(minRelativeDeviation * abs(median), Self.absoluteFloor(metric))
        let halfWidth = max(threshold * scale, minimumDeviation)
        return Score(z: z, median: median, low: median - halfWidth, high: median + halfWidth,
                     isAnomaly: abs(z) > threshold && abs(value - median) > minimumDeviation)
    }

    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Anomalies of one run (default: the newest run that loaded anything) against the runs before it.
    /// `currentQuality` stands in for the run's quality snapshot while the run is still being written.
    public func detect(catalog: Catalog, runId: Int64? = nil, now: Date = Date(), currentQuality: Double? = nil) throws -> [Anomaly] {
        try catalog.pool.read { db in
            let target: Int64?
            if let runId { target = runId } else {
                target = try Int64.fetchOne(db, sql: """
                    SELECT id FROM run WHERE status IN ('success','partial') AND rows_read > 0 ORDER BY id DESC LIMIT 1
                    """)
            }
            guard let target else { return [] }
            // The run itself and the previous `window` runs that loaded rows.
            let runs = try Row.fetchAll(db, sql: """
                SELECT r.id, r.status, r.started_at, r.finished_at, q.score,
                       (SELECT COALESCE(SUM(rows_read), 0) FROM run_step WHERE run_id = r.id) AS read,
                       (SELECT COALESCE(SUM(rows_quarantined), 0) FROM run_step WHERE run_id = r.id) AS quarantined
                FROM run r LEFT JOIN quality_snapshot q ON q.run_id = r.id
                WHERE r.id = ? OR (r.id < ? AND r.status IN ('success','partial') AND r.rows_read > 0)
                ORDER BY r.id DESC LIMIT ?
                """, arguments: [target, target, window + 1])
            guard let current = runs.first, current["id"] as Int64 == target else { return [] }
            let previous = Array(runs.dropFirst())
            guard previous.count >= minHistory else { return [] }
            var found: [Anomaly] = []
            func check(_ metric: Anomaly.Metric, _ subject: String, _ value: Double?, _ history: [Double]) {
                guard let value, let s = score(value, history: history, metric: metric), s.isAnomaly else { return }
                found.append(Anomaly(metric: metric, subject: subject, runId: target, value: value, median: s.median,
                                     expectedLow: s.low, expectedHigh: s.high, z: s.z))
            }
            func duration(_ r: Row) -> Double? {
                guard let s = (r["started_at"] as String?).flatMap(Timestamp.date) else { return nil }
                let f = (r["finished_at"] as String?).flatMap(Timestamp.date) ?? now
                return f.timeIntervalSince(s)
            }
            func rate(_ r: Row) -> Double? {
                let read: Int = r["read"]
                return read > 0 ? Double(r["quarantined"] as Int) / Double(read) : nil
            }
            let currentRead: Int = current["read"]
            if currentRead > 0 {
                check(.runDuration, "run", duration(current), previous.compactMap(duration))
                check(.quarantineRate, "run", rate(current), previous.compactMap(rate))
            }
            check(.qualityScore, "run", (current["score"] as Double?) ?? currentQuality, previous.compactMap { $0["score"] as Double? })

            let ids = runs.map { $0["id"] as Int64 }
            var perSource: [String: [Int64: Double]] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT source, run_id, SUM(rows_loaded) AS loaded FROM run_step
                WHERE run_id >= ? AND run_id <= ? AND status = 'success' AND batches > 0 GROUP BY source, run_id
                """, arguments: [ids.min()!, target]) {
                perSource[row["source"], default: [:]][row["run_id"]] = Double(row["loaded"] as Int)
            }
            let previousIds = Set(previous.map { $0["id"] as Int64 })
            for (source, byRun) in perSource.sorted(by: { $0.key < $1.key }) {
                guard let value = byRun[target] else { continue }
                check(.rowsLoaded, source, value, byRun.filter { previousIds.contains($0.key) }.sorted { $0.key < $1.key }.map(\.value))
            }
            return found
        }
    }
}
