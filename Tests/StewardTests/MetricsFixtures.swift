import Foundation
import GRDB
@testable import StewardCatalog
@testable import StewardMetrics

/// A catalog built row by row, so each measure can be checked against hand-computed figures.
final class MetricsCatalog {
    let project = TempProject("metrics")
    let catalog: Catalog
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    init() throws {
        catalog = try Catalog.open(at: project.dir.appendingPathComponent("catalog.sqlite"))
    }

    func source(_ name: String, system: String = "crm", warnAfter: Double? = 1800, errorAfter: Double? = 3600) throws {
        try catalog.pool.write { db in
            try db.execute(sql: """
                INSERT INTO source (name, system, entity, format, path, key_column, warn_after_seconds, error_after_seconds, updated_at)
                VALUES (?, ?, 'person', 'csv', 'x.csv', 'id', ?, ?, ?)
                """, arguments: [name, system, warnAfter, errorAfter, Timestamp.string(Self.now)])
            try db.execute(sql: "INSERT INTO source_stats (source) VALUES (?)", arguments: [name])
        }
    }

    /// A run at `at` (seconds before `now`) lasting `duration`, with one step per source given.
    @discardableResult
    func run(ago: TimeInterval, duration: TimeInterval = 10, status: String = "success",
             steps: [(source: String, read: Int, loaded: Int, quarantined: Int)] = [], quality: Double? = nil) throws -> Int64 {
        try catalog.pool.write { db in
            let start = Self.now.addingTimeInterval(-ago)
            let end = start.addingTimeInterval(duration)
            let read = steps.reduce(0) { $0 + $1.read }, loaded = steps.reduce(0) { $0 + $1.loaded }
            let q = steps.reduce(0) { $0 + $1.quarantined }
            try db.execute(sql: """
                INSERT INTO run (trigger, status, started_at, finished_at, actor, rows_read, rows_loaded, rows_quarantined)
                VALUES ('test', ?, ?, ?, 'test', ?, ?, ?)
                """, arguments: [status, Timestamp.string(start), Timestamp.string(end), read, loaded, q])
            let id = db.lastInsertedRowID
            for s in steps {
                try db.execute(sql: """
                    INSERT INTO run_step (run_id, source, status, started_at, finished_at, duration_ms, batches, rows_read, rows_loaded, rows_quarantined)
                    VALUES (?, ?, 'success', ?, ?, ?, 1, ?, ?, ?)
                    """, arguments: [id, s.source, Timestamp.string(start), Timestamp.string(end), duration * 1000, s.read, s.loaded, s.quarantined])
                try db.execute(sql: """
                    INSERT INTO batch (source, run_id, file, sha256, size, rows, rows_loaded, rows_quarantined, loaded_at)
                    VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)
                    """, arguments: [s.source, id, "f\(id).csv", "h\(id)", s.read, s.loaded, s.quarantined, Timestamp.string(end)])
                try db.execute(sql: "UPDATE source_stats SET last_loaded_at = ?, rows_raw = rows_raw + ? WHERE source = ?",
                               arguments: [Timestamp.string(end), s.read, s.source])
            }
            if let quality {
                try db.execute(sql: "INSERT INTO quality_snapshot (run_id, score, dimensions_json, at) VALUES (?, ?, '{}', ?)",
                               arguments: [id, quality, Timestamp.string(end)])
            }
            return id
        }
    }

    /// A load of `source` at `ago` seconds before now (a batch row only).
    func load(_ source: String, ago: TimeInterval) throws {
        try catalog.pool.write { db in
            if try Int64.fetchOne(db, sql: "SELECT id FROM run LIMIT 1") == nil {
                try db.execute(sql: "INSERT INTO run (trigger, status, started_at, actor) VALUES ('t', 'success', ?, 't')",
                               arguments: [Timestamp.string(Self.now)])
            }
            let at = Timestamp.string(Self.now.addingTimeInterval(-ago))
            try db.execute(sql: """
                INSERT INTO batch (source, run_id, file, sha256, size, rows, rows_loaded, rows_quarantined, loaded_at)
                VALUES (?, 1, ?, ?, 1, 1, 1, 0, ?)
                """, arguments: [source, "f\(ago)", "h\(ago)", at])
            try db.execute(sql: "UPDATE source_stats SET last_loaded_at = MAX(COALESCE(last_loaded_at, ''), ?) WHERE source = ?",
                           arguments: [at, source])
        }
    }

    func check(_ source: String, name: String, severity: String = "error", evaluated: Int, failed: Int, runId: Int64 = 1) throws {
        try catalog.pool.write { db in
            try db.execute(sql: """
                INSERT INTO check_definition (source, name, type, column_name, dimension, severity, params_json)
                VALUES (?, ?, 'not_null', 'id', 'completeness', ?, '{}')
                """, arguments: [source, name, severity])
            try db.execute(sql: """
                INSERT INTO check_result (run_id, source, check_name, type, column_name, dimension, severity, evaluated, passed, failed,
                                          score, weight, evaluated_at)
                VALUES (?, ?, ?, 'not_null', 'id', 'completeness', ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [runId, source, name, severity, evaluated, evaluated - failed, failed,
                                 Double(evaluated - failed) / Double(evaluated), evaluated, Timestamp.string(Self.now)])
            try db.execute(sql: "UPDATE source_stats SET quality_weight = ? WHERE source = ?", arguments: [evaluated, source])
        }
    }

    func measures() -> Measures { Measures(catalog: catalog, now: Self.now) }
}
