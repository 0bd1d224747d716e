import Foundation
import GRDB
import StewardCatalog
import StewardConfig

/// The `match report` summary (CONTRACTS.md) of the latest matching pass.
public struct MatchReport: Sendable {
    public var records: Int
    public var candidatePairs: Int
    public var matchedPairs: Int
    public var reviewPairs: Int
    public var refusedPairs: Int
    public var clusters: Int
    /// The customer match rate (`MatchRate`: the KPI's figure too).
    public var matchRate: Double
    /// Its counts, and its ceiling when the project has a truth file.
    public var matchRateDetail: MatchRate
    public var truth: PairwiseScore?
    public var junk: [(field: String, value: String, records: Int)]
    public var pairsPerRule: [String: Int]
    public var seconds: [String: Double]
    /// The latest pass's wall times (`matching_seconds`: staged records in → customers written;
    /// `whole_seconds`: with golden records, SCD2 history and the lookup index) and `peak_rss_mb`.
    public var pass: [String: Double]
    public var lambda: Double?
    public var emIterations: Int?
    public var runId: Int64?

    /// - parameter truth: `truth.csv` of the project, scored over the staged person records it names.
    public static func load(_ db: Database, truth: URL?) throws -> MatchReport {
        let records = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM staged_person WHERE is_deleted = 0") ?? 0
        let run = try Row.fetchOne(db, sql: "SELECT * FROM identity_run ORDER BY run_id DESC LIMIT 1")
        let clusters = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT customer_id) FROM identity_member") ?? 0
        var score: PairwiseScore?
        let truthMap = try truth.map(PairwiseScore.loadTruth)
        let rate = try MatchRate.measure(db, truth: truthMap)
        if let truthMap {
            var clustersById: [String: String] = [:]
            for r in try Row.fetchAll(db, sql: """
                SELECT m.source, m.record_key, m.customer_id FROM identity_member m
                JOIN staged_person p ON p.source = m.source AND p.record_key = m.record_key WHERE p.is_deleted = 0
                """) {
                clustersById["\(r[0] as String):\(r[1] as String)"] = r[2]
            }
            score = PairwiseScore.evaluate(clusters: clustersById, truth: truthMap)
        }
        let junk = try Row.fetchAll(db, sql: "SELECT field, vault_open(value) AS value, records FROM identity_junk ORDER BY records DESC, field, value")
            .map { (field: $0[0] as String, value: $0[1] as String, records: $0[2] as Int) }
        var perRule: [String: Int] = [:], seconds: [String: Double] = [:], pass: [String: Double] = [:]
        var lambda: Double?, iterations: Int?
        if let run,
           let detail = try? JSONSerialization.jsonObject(with: Data((run["detail_json"] as String).utf8)) as? [String: Any] {
            perRule = detail["pairs_per_rule"] as? [String: Int] ?? [:]
            seconds = detail["seconds"] as? [String: Double] ?? [:]
            pass = detail["pass"] as? [String: Double] ?? [:]
            if let model = try? JSONDecoder().decode(FSModel.self, from: Data((run["model_json"] as String).utf8)) {
                lambda = model.lambda
                iterations = model.iterations
            }
        }
        return MatchReport(records: records, candidatePairs: run?["candidate_pairs"] ?? 0, matchedPairs: run?["matched_pairs"] ?? 0,
                           reviewPairs: run?["review_pairs"] ?? 0, refusedPairs: run?["refused_pairs"] ?? 0, clusters: clusters,
                           matchRate: rate.rate, matchRateDetail: rate, truth: score, junk: junk,
                           pairsPerRule: perRule, seconds: seconds, pass: pass, lambda: lambda, emIterations: iterations, runId: run?["run_id"])
    }
}
