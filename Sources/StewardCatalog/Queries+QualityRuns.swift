import Foundation
import GRDB

/// The overall quality score a run left, and how many checks failed in it.
public struct QualityRunPoint: Sendable, Equatable {
    public var runId: Int64
    public var at: Date?
    public var score: Double
    /// Checks (source and name) with at least one failed row in this run.
    public var failingChecks: Int

    public init(runId: Int64, at: Date?, score: Double, failingChecks: Int) {
        self.runId = runId; self.at = at; self.score = score; self.failingChecks = failingChecks
    }
}

extension Catalog {
    /// The score per run, newest first (the Quality pane's table beside the trend).
    public func qualityRuns(limit: Int = 20) throws -> [QualityRunPoint] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT q.run_id, q.score, q.at,
                       (SELECT COUNT(*) FROM (SELECT 1 FROM check_result c WHERE c.run_id = q.run_id
                                              GROUP BY c.source, c.check_name HAVING SUM(c.failed) > 0)) AS failing
                FROM quality_snapshot q WHERE q.score IS NOT NULL ORDER BY q.run_id DESC LIMIT ?
                """, arguments: [limit]).map { row in
                QualityRunPoint(runId: row["run_id"], at: (row["at"] as String?).flatMap(Timestamp.date), score: row["score"],
                                failingChecks: row["failing"])
            }
        }
    }
}
