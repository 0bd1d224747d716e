import Foundation
import GRDB
import StewardCatalog
import StewardConfig

/// The outcome of one `steward run`.
public struct RunSummary: Sendable {
    public var runId: Int64
    public var status: String
    public var steps: [StepSummary]
    /// Error-severity check failures in this run (rows sent to quarantine by checks).
    public var errorCheckFailures: Int
    public var hasProblems: Bool { status != "success" || errorCheckFailures > 0 }
}

public struct StepSummary: Sendable {
    public var source: String
    public var status: String
    public var batches: Int
    public var rowsRead: Int
    public var rowsLoaded: Int
    public var rowsQuarantined: Int
    public var message: String?
}

public enum PipelineError: Error, CustomStringConvertible {
    case runInProgress(Int64, Int32)
    case unknownSource(String)
    /// `--allow-delete NAME` for a source this run does not load: the allowance would be silently ignored.
    case allowDeleteNotRun(String)

    public var description: String {
        switch self {
        case .runInProgress(let id, let pid): return "run \(id) is still in progress (pid \(pid)); wait for it or stop it"
        case .unknownSource(let name): return "no source named '\(name)' in steward.yml"
        case .allowDeleteNotRun(let name): return "--allow-delete \(name): this run does not load \(name) (add --source \(name))"
        }
    }
}

/// Runs the pipeline: for each source, each new or changed file becomes a batch that is read, checked,
/// staged or quarantined, and committed in one transaction. A failing source never stops the others.
public struct PipelineRunner: Sendable {
    public let config: ProjectConfig
    public let catalog: Catalog
    public let progress: ProgressReporter
    public let stop: StopFlag?
    public let extensions: [RunExtension]
    public let now: @Sendable () -> Date
    /// Files at least this big load with the rollback journal (`Catalog.withRollbackJournal`); nil keeps
    /// WAL for every batch, as a process that reads the catalog while it loads (the console) needs.
    public let rollbackJournalMinimumBytes: Int64?

    public init(config: ProjectConfig, catalog: Catalog, progress: ProgressReporter = SilentProgress(),
                stop: StopFlag? = nil, extensions: [RunExtension] = [], now: @escaping @Sendable () -> Date = { Date() },
                rollbackJournalMinimumBytes: Int64? = nil) {
        self.config = config
        self.catalog = catalog
        self.progress = progress
        self.stop = stop
        self.extensions = extensions
        self.now = now
        self.rollbackJournalMinimumBytes = rollbackJournalMinimumBytes
    }

    /// - parameter allowDelete: sources whose deletions beyond `max_delete` this run may apply (audited).
    public func run(sources names: [String] = [], trigger: String = "manual", allowDelete: Set<String> = []) throws -> RunSummary {
        try Self.validate(config: config, sources: names, allowDelete: allowDelete)
        try recoverInterruptedRuns()
        try catalog.prepareVault(wanted: config.privacy.vault)
        try syncDefinitions()
        // An http source has no files to read: its batches arrive through `steward serve` (EventIntake).
        let selected = Self.dependencyOrder(config.sources).filter { (names.isEmpty || names.contains($0.name)) && $0.format != .http }
        let runId: Int64 = try catalog.pool.write { db in
            try db.execute(sql: """
                INSERT INTO run (trigger, status, started_at, pid, actor) VALUES (?, 'running', ?, ?, ?)
                """, arguments: [trigger, Timestamp.string(now()), Int(getpid()), Catalog.osUser])
            return db.lastInsertedRowID
        }
        progress.report(.runStarted(runId: runId, sources: selected.map(\.name)))
        var steps: [StepSummary] = []
        var errorFailures = 0
        for source in selected {
            if stop?.isStopped == true { break }
            var loader = SourceLoader(config: config, source: source, catalog: catalog, runId: runId,
                                      progress: progress, stop: stop, now: now,
                                      rollbackJournalMinimumBytes: rollbackJournalMinimumBytes)
            loader.allowDelete = allowDelete.contains(source.name)
            let (step, failures) = loader.load()
            steps.append(step)
            errorFailures += failures
        }
        // A held deletion did not apply what the source sent: the run is not a plain success.
        let failed = steps.filter { $0.status == "failed" }.count
        let held = steps.filter { $0.status == "held" }.count
        let stopped = stop?.isStopped == true && (steps.count < selected.count || steps.contains { $0.status == "interrupted" })
        var status = stopped ? "interrupted" : failed + held == 0 ? "success" : (failed == steps.count ? "failed" : "partial")
        var extensionNotes: [String] = []
        // The passes after the load (matching, golden records, facts) read the same sealed values
        // again and again: each is decrypted once per run.
        if !stopped { catalog.vault.rememberingOpened {
            for ext in extensions {
                let partial = RunSummary(runId: runId, status: status, steps: steps, errorCheckFailures: errorFailures)
                do {
                    if let note = try ext.afterLoad(runId: runId, summary: partial, config: config, catalog: catalog, progress: progress) {
                        extensionNotes.append("\(ext.name): \(note)")
                    }
                } catch {
                    extensionNotes.append("\(ext.name) failed: \(error)")
                    if status == "success" { status = "partial" }
                }
            }
        } }
        try catalog.pool.write { db in
            let totals = try Row.fetchOne(db, sql: """
                SELECT COALESCE(SUM(rows_read),0) AS r, COALESCE(SUM(rows_loaded),0) AS l, COALESCE(SUM(rows_quarantined),0) AS q
                FROM run_step WHERE run_id = ?
                """, arguments: [runId])!
            let failures = steps.filter { $0.status == "failed" || $0.status == "held" }.map { "\($0.source): \($0.message ?? $0.status)" }
                + extensionNotes.filter { $0.contains(" failed: ") }
            try db.execute(sql: """
                UPDATE run SET status = ?, finished_at = ?, rows_read = ?, rows_loaded = ?, rows_quarantined = ?, message = ?
                WHERE id = ?
                """, arguments: [status, Timestamp.string(now()), totals["r"] as Int, totals["l"] as Int, totals["q"] as Int,
                                 failures.isEmpty ? nil : failures.joined(separator: "; "), runId])
            try Self.snapshotQuality(db, runId: runId, at: now())
            let notes = extensionNotes.isEmpty ? "" : "; " + extensionNotes.joined(separator: "; ")
            try Catalog.audit(db, action: "run", subject: "run:\(runId)",
                              detail: "\(status); \(steps.count) sources, \(totals["l"] as Int) rows loaded, \(totals["q"] as Int) quarantined\(notes)")
        }
        progress.report(.runFinished(runId: runId, status: status))
        return RunSummary(runId: runId, status: status, steps: steps, errorCheckFailures: errorFailures)
    }

    /// Refuses a run's arguments that name no source, or allow deletions for a source the run does not
    /// load; callable before the catalog is opened (a refused command must not write it).
    public static func validate(config: ProjectConfig, sources names: [String], allowDelete: Set<String>) throws {
        for name in names where config.source(named: name) == nil { throw PipelineError.unknownSource(name) }
        for name in allowDelete.sorted() where config.source(named: name) == nil { throw PipelineError.unknownSource(name) }
        for name in allowDelete.sorted() where !names.isEmpty && !names.contains(name) { throw PipelineError.allowDeleteNotRun(name) }
    }

    /// Marks runs whose process is gone as interrupted; refuses to start while another run is alive.
    func recoverInterruptedRuns() throws {
        try catalog.pool.write { db in
            for row in try Row.fetchAll(db, sql: "SELECT id, pid FROM run WHERE status = 'running'") {
                let id: Int64 = row["id"]
                let pid: Int32? = row["pid"]
                if let pid, pid != getpid(), RunLiveness.isAlive(pid: pid) {
                    throw PipelineError.runInProgress(id, pid)
                }
                let at = Timestamp.string(now())
                try db.execute(sql: "UPDATE run SET status = 'interrupted', finished_at = ?, message = ? WHERE id = ?",
                               arguments: [at, RunLiveness.goneMessage, id])
                try db.execute(sql: "UPDATE run_step SET status = 'interrupted', finished_at = ?, message = COALESCE(message, 'interrupted') WHERE run_id = ? AND status = 'running'",
                               arguments: [at, id])
                try Catalog.audit(db, action: "recover", subject: "run:\(id)", detail: "marked interrupted")
            }
        }
    }

    /// Mirrors steward.yml's sources and checks into the catalog, so queries can join on them.
    public func syncDefinitions() throws {
        try catalog.pool.write { db in
            let at = Timestamp.string(now())
            for s in config.sources {
                try db.execute(sql: """
                    INSERT INTO source (name, system, entity, format, path, key_column, warn_after_seconds, error_after_seconds, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET system = excluded.system, entity = excluded.entity, format = excluded.format,
                        path = excluded.path, key_column = excluded.key_column, warn_after_seconds = excluded.warn_after_seconds,
                        error_after_seconds = excluded.error_after_seconds,
                        updated_at = CASE WHEN system IS excluded.system AND entity IS excluded.entity AND format IS excluded.format
                            AND path IS excluded.path AND key_column IS excluded.key_column
                            AND warn_after_seconds IS excluded.warn_after_seconds AND error_after_seconds IS excluded.error_after_seconds
                            THEN updated_at ELSE excluded.updated_at END
                    """, arguments: [s.name, s.system, s.entity.rawValue, s.format.rawValue, s.path, s.key,
                                     s.warnAfter, s.errorAfter, at])
                try db.execute(sql: "INSERT OR IGNORE INTO source_stats (source) VALUES (?)", arguments: [s.name])
                let names = s.loadChecks.map(\.name)
                try db.execute(sql: "DELETE FROM check_definition WHERE source = ? AND name NOT IN (\(names.map { _ in "?" }.joined(separator: ",")))",
                               arguments: StatementArguments([s.name] + names))
                for c in s.loadChecks {
                    try db.execute(sql: """
                        INSERT INTO check_definition (source, name, type, column_name, dimension, severity, params_json)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT(source, name) DO UPDATE SET type = excluded.type, column_name = excluded.column_name,
                            dimension = excluded.dimension, severity = excluded.severity, params_json = excluded.params_json
                        """, arguments: [s.name, c.name, c.type, c.column, c.dimension.rawValue, c.severity.rawValue, c.paramsJSON])
                }
            }
            let names = config.sources.map(\.name)
            try db.execute(sql: "DELETE FROM check_definition WHERE source NOT IN (\(names.map { _ in "?" }.joined(separator: ",")))",
                           arguments: StatementArguments(names))
            try db.execute(sql: "DELETE FROM source WHERE name NOT IN (\(names.map { _ in "?" }.joined(separator: ",")))",
                           arguments: StatementArguments(names))
        }
    }

    static func snapshotQuality(_ db: Database, runId: Int64, at: Date) throws {
        let overall = try Catalog.qualityOverview(db, trendLength: 0)
        var dims: [String: Double] = [:]
        for (d, v) in overall.dimensions { dims[d.rawValue] = v }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: dims, options: [.sortedKeys]), as: UTF8.self)
        try db.execute(sql: "INSERT OR REPLACE INTO quality_snapshot (run_id, score, dimensions_json, at) VALUES (?, ?, ?, ?)",
                       arguments: [runId, overall.score, json, Timestamp.string(at)])
    }

    /// Sources in an order where every relationship target loads first; otherwise as declared.
    static func dependencyOrder(_ sources: [SourceConfig]) -> [SourceConfig] {
        var done = Set<String>(), ordered: [SourceConfig] = []
        let byName = Dictionary(uniqueKeysWithValues: sources.map { ($0.name, $0) })
        func visit(_ s: SourceConfig) {
            guard !done.contains(s.name) else { return }
            done.insert(s.name)
            for d in s.dependencies { if let dep = byName[d] { visit(dep) } }
            ordered.append(s)
        }
        sources.forEach(visit)
        return ordered
    }
}
