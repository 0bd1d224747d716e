import ArgumentParser
import Foundation
import StewardCatalog
import StewardMetrics
import StewardDemo
import StewardPipeline
import StewardIdentity
import StewardConfig

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Scaffold a project; --demo also generates sources and truth.csv.")
    @Argument(help: "Folder to create (default: the current folder).") var directory: String?
    @Flag(help: "Generate the demo project: five systems, N people, deterministic for a seed.") var demo = false
    @Option(help: "People in the demo.") var customers = 5_000
    @Option(help: "Random seed of the demo.") var seed: UInt64 = 42

    func validate() throws {
        if customers < 1 { throw ValidationError("--customers must be at least 1") }
        // Refused before anything is written: a size past this aborts mid-way and leaves a partial folder.
        if customers > DemoGenerator.maximumCustomers {
            throw ValidationError("--customers \(customers) is too many for a demo (at most \(CLI.count(DemoGenerator.maximumCustomers)))")
        }
    }

    func run() throws {
        let dir = URL(fileURLWithPath: directory ?? ".", relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL
        let yml = dir.appendingPathComponent(ConfigLoader.fileName)
        if FileManager.default.fileExists(atPath: yml.path) {
            CLI.fail("\(yml.path) already exists; not overwriting it", code: 2)
        }
        if demo {
            let started = Date()
            let manifest = try CLI.writingFiles(at: dir) { try DemoGenerator(customers: customers, seed: seed).write(to: dir) }
            let rows = manifest.sources.values.reduce(0) { $0 + $1.rows }
            print("Demo project written to \(dir.path): \(CLI.count(customers)) people, \(manifest.sources.count) sources, \(CLI.count(rows)) rows in \(String(format: "%.1f", Date().timeIntervalSince(started)))s.")
            print("Its first `steward run` runs twice: the audiences enter at the demo calendar's end, then \(DemoCampaign.audience)'s campaign orders are planted with a known lift (\(DemoLift.truthFile)).")
        } else {
            try CLI.writingFiles(at: dir) { try Scaffold.write(to: dir) }
            print("Project scaffolded in \(dir.path): edit steward.yml, then run `steward run`.")
        }
        print("Next: cd \(dir.path) && steward run && steward")
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the pipeline (all sources, or the named ones).",
        discussion: "KPIs, anomalies and alerts are evaluated after every run. --every (or --scheduled, which takes schedule.every from steward.yml) keeps running until Ctrl-C; a plain `steward run` always runs once, so cron jobs and scripts keep working with a schedule: in the file.")
    @OptionGroup var projectOptions: ProjectOptions
    @Option(name: .customLong("source"), help: "Run only this source (repeatable).") var sources: [String] = []
    @Option(help: "Trigger recorded with the run.") var trigger = "manual"
    @Option(help: "Keep running: start a run every DURATION (90s, 15m, 1h) until Ctrl-C.") var every: String?
    @Flag(help: "Keep running on steward.yml's schedule: {every: …}.") var scheduled = false
    @Flag(help: "Load sources only: skip identity resolution and KPI evaluation (the next full run catches up).") var loadOnly = false
    @Option(name: .customLong("allow-delete"), help: "Apply the deletions the deletion guard holds for this source (repeatable; audited).")
    var allowDelete: [String] = []

    func validate() throws {
        if let every, (Duration.parse(every) ?? 0) <= 0 { throw ValidationError("--every '\(every)' is not a duration such as 15m or 1h") }
    }

    func run() throws {
        let config = try projectOptions.load()
        var interval = every.flatMap(Duration.parse)
        if scheduled {
            guard let e = config.scheduleEvery, e > 0 else {
                CLI.fail("\(config.file.path): schedule.every: --scheduled needs `schedule: {every: 15m}` in steward.yml", code: 2)
            }
            interval = interval ?? e
        }
        // Refused before the catalog is opened: opening it for writing already writes to it.
        try PipelineRunner.validate(config: config, sources: sources, allowDelete: Set(allowDelete))
        let catalog = try Catalog.open(at: config.catalogURL)
        let stop = StopFlag()
        let signals = SignalStop(stop)
        defer { _ = signals }
        let evaluation = KPIEvaluation(log: { CLI.note($0) }, onReport: { report in
            let kpis = report.kpis.filter { $0.status != .noData }
            let breached = kpis.filter { $0.status == .breached }.count
            CLI.note("health \(report.status.rawValue): \(report.problems.count) problem\(report.problems.count == 1 ? "" : "s"), "
                     + "\(breached) of \(kpis.count) measured KPIs breached\(report.problems.isEmpty ? "" : " (steward check lists them)")")
        })
        // This process has the catalog to itself: big files may skip WAL's second write.
        let runner = PipelineRunner(config: config, catalog: catalog, progress: CLI.progressReporter(), stop: stop,
                                    extensions: loadOnly ? [] : StandardRun.extensions(kpis: evaluation),
                                    rollbackJournalMinimumBytes: Catalog.rollbackJournalMinimumBytes)
        // A demo from `steward init --demo`, never run: its first runs plant the campaign with a known
        // lift, as the bundled demo's first use does (DemoLift).
        if sources.isEmpty, !loadOnly, allowDelete.isEmpty, let seed = try DemoLift.pending(config: config, catalog: catalog) {
            CLI.note("First run of a generated demo: the audiences enter at the demo calendar's end, then win_back's campaign orders are planted and a second run measures them.")
            var problems = false
            try DemoLift.firstRuns(config: config, catalog: catalog, seed: seed, progress: CLI.progressReporter(), trigger: trigger,
                                   stop: stop, kpis: evaluation) { summary in
                Self.printSummary(summary)
                problems = problems || summary.hasProblems
            }
            if interval == nil {
                if problems { throw ExitCode(1) }
                return
            }
        }
        guard let interval else {
            let summary = try runner.run(sources: sources, trigger: trigger, allowDelete: Set(allowDelete))
            Self.printSummary(summary)
            if summary.hasProblems { throw ExitCode(1) }
            return
        }
        CLI.note("running every \(Duration.describe(interval)) until Ctrl-C")
        while !stop.isStopped {
            let started = Date()
            do {
                let summary = try runner.run(sources: sources, trigger: trigger == "manual" ? "schedule" : trigger)
                Self.printSummary(summary)
            } catch let error as PipelineError {
                // Another run in progress: skip this tick, try at the next.
                CLI.note("skipped: \(error)")
            }
            let next = started.addingTimeInterval(interval)
            if !stop.isStopped { print("next run at \(Timestamp.string(next))") }
            while !stop.isStopped && Date() < next { usleep(200_000) }
        }
        print("stopped")
    }

    static func printSummary(_ summary: RunSummary) {
        var table = TextTable(headers: ["source", "status", "files", "read", "loaded", "quarantined", "message"], rightAligned: [2, 3, 4, 5])
        for s in summary.steps {
            table.rows.append([s.source, s.status, String(s.batches), CLI.count(s.rowsRead), CLI.count(s.rowsLoaded),
                               CLI.count(s.rowsQuarantined), s.message ?? ""])
        }
        print("Run \(summary.runId): \(summary.status)")
        print(table.render())
        if summary.errorCheckFailures > 0 {
            print("\(CLI.count(summary.errorCheckFailures)) rows failed error-severity checks: see `steward quarantine`.")
        }
    }
}

/// Ctrl-C / SIGTERM during a run: finish the current batch, then stop cleanly.
final class SignalStop: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    init(_ stop: StopFlag) {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                if stop.isStopped { exit(130) }
                CLI.note("\nstopping after the current file commits (press Ctrl-C again to abort it; it then loads on the next run)…")
                stop.stop()
            }
            source.resume()
            sources.append(source)
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Per-source health.")
    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func run() throws {
        try Self.printStatus(config: try projectOptions.load(), json: output.json)
    }

    static func printStatus(config: ProjectConfig, json: Bool) throws {
        let now = Date()
        let sources: [SourceOverview]
        let lastRun: RunInfo?
        if let catalog = try CLI.readCatalog(config) {
            sources = try catalog.sourceOverviews(now: now)
            lastRun = try catalog.lastRun()
        } else {
            // No catalog yet (or a first run is creating it): every declared source is "never loaded".
            sources = config.sources.map { s in
                SourceOverview.neverLoaded(name: s.name, system: s.system, entity: s.entity.rawValue, format: s.format.rawValue,
                                           warnAfter: s.warnAfter, errorAfter: s.errorAfter)
            }
            lastRun = nil
        }
        if json {
            CLI.printJSON([
                "project": config.name,
                "sources": sources.map { s in [
                    "name": s.name, "system": s.system, "entity": s.entity, "status": s.status.rawValue,
                    "status_reason": s.statusReason, "last_loaded_at": CLI.iso(s.lastLoadedAt),
                    "rows_raw": s.rowsRaw, "rows_staged": s.rowsStaged, "rows_quarantined": s.rowsQuarantined,
                    "rows_flagged": s.rowsFlagged, "quality_score": CLI.orNull(s.qualityScore),
                    "freshness": ["age_seconds": CLI.orNull(s.freshnessAge.map { Int($0) }), "status": s.freshnessStatus.rawValue,
                                  "warn_after_seconds": CLI.orNull(s.warnAfter), "error_after_seconds": CLI.orNull(s.errorAfter)],
                ] as [String: Any] },
                "last_run": lastRun.map { r in ["id": r.id, "status": r.status, "started_at": CLI.iso(r.startedAt),
                                                "finished_at": CLI.iso(r.finishedAt)] as [String: Any] } ?? NSNull(),
            ] as [String: Any])
            return
        }
        print("\(config.name) — \(config.catalogURL.path)")
        if let r = lastRun {
            print("last run \(r.id): \(r.status), \(CLI.age(r.finishedAt ?? r.startedAt, now: now))")
        } else {
            print("no runs yet: `steward run` loads the sources")
        }
        var table = TextTable(headers: ["", "source", "system", "entity", "status", "last load", "raw", "staged", "quarantined", "quality", "why"],
                              rightAligned: [6, 7, 8, 9])
        for s in sources {
            table.rows.append([Marks.health(s.status), s.name, s.system, s.entity, s.status.rawValue, CLI.age(s.lastLoadedAt, now: now),
                               CLI.count(s.rowsRaw), CLI.count(s.rowsStaged), CLI.count(s.rowsQuarantined),
                               CLI.percent(s.qualityScore), s.statusReason])
        }
        print(table.render())
    }
}

enum Marks {
    static func health(_ h: SourceHealth) -> String {
        switch h {
        case .ok: return "✓"
        case .warn: return "▲"
        case .error: return "✗"
        case .stale: return "◷"
        case .never: return "○"
        case .running: return "●"
        }
    }
}

struct Quality: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Data-quality scores and check results.")
    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func run() throws {
        let config = try projectOptions.load()
        guard let q = try CLI.readCatalog(config)?.qualityOverview() else {
            if output.json {
                var dims: [String: Any] = [:]
                for d in QualityDimension.allCases { dims[d.rawValue] = NSNull() }
                CLI.printJSON(["score": NSNull(), "dimensions": dims, "trend": [Double](), "sources": [Any]()] as [String: Any])
            } else {
                print("no checks have run yet: `steward run` loads and checks the sources")
            }
            return
        }
        if output.json {
            var dims: [String: Any] = [:]
            for d in QualityDimension.allCases { dims[d.rawValue] = CLI.orNull(q.dimensions[d]) }
            CLI.printJSON([
                "score": CLI.orNull(q.score), "dimensions": dims, "trend": q.trend,
                "sources": q.sources.map { s in [
                    "name": s.source, "score": CLI.orNull(s.score), "rows": s.weight,
                    "checks": s.checks.map { c in [
                        "name": c.name, "type": c.type, "column": CLI.orNull(c.column), "dimension": c.dimension,
                        "severity": c.severity, "passed": c.passed, "failed": c.failed, "evaluated": c.evaluated,
                        "score": CLI.orNull(c.score), "status": c.status, "samples": c.samples,
                    ] as [String: Any] },
                ] as [String: Any] },
            ] as [String: Any])
            return
        }
        print("overall quality \(CLI.percent(q.score))   " + QualityDimension.allCases.map { "\($0.rawValue) \(CLI.percent(q.dimensions[$0]))" }.joined(separator: "  "))
        var table = TextTable(headers: ["source", "check", "type", "column", "dimension", "severity", "evaluated", "failed", "score", "status"],
                              rightAligned: [6, 7, 8])
        for s in q.sources {
            for c in s.checks {
                table.rows.append([s.source, c.name, c.type, c.column ?? "", c.dimension, c.severity, CLI.count(c.evaluated),
                                   CLI.count(c.failed), CLI.percent(c.score), c.status == "fail" ? "✗ fail" : c.status == "pass" ? "✓ pass" : "○ not run"])
            }
        }
        print(table.render())
    }
}

struct QuarantineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "quarantine", abstract: "Rows held back, with reasons.")
    @OptionGroup var projectOptions: ProjectOptions
    @Option(help: "Only this source.") var source: String?
    @Option(help: "At most this many rows (newest first).") var limit: Int?
    @Flag(help: "Show the rows' personal data unmasked (audited).") var reveal = false
    @OptionGroup var output: JSONOption

    func run() throws {
        let config = try projectOptions.load()
        if let source, config.source(named: source) == nil { throw PipelineError.unknownSource(source) }
        // A reveal is audited before anything is shown, so it needs a writable catalog.
        let catalog = try CLI.readCatalog(config).map { reveal ? try Catalog.open(at: config.catalogURL) : $0 }
        let rows = try catalog?.quarantine(source: source, limit: limit) ?? []
        if reveal, let catalog, !rows.isEmpty {
            try catalog.audit(action: "reveal", subject: "quarantine:\(source ?? "all")",
                              detail: "quarantine --reveal: \(rows.count) row\(rows.count == 1 ? "" : "s")")
        }
        // Which columns are personal comes from steward.yml's mappings and `pii:` lists (PIIPolicy).
        let policy = PIIPolicy(config: config)
        func readable(_ r: QuarantinedRow) -> Bool { !r.checks.contains("readable") }
        if output.json {
            CLI.printJSON(rows.map { r in
                let fields = Self.rawJSON(r, policy: policy, readable: readable(r), reveal: reveal)
                return [
                    "source": r.source, "file": r.file, "line": r.line, "record_key": CLI.orNull(r.recordKey),
                    "checks": r.checks, "reasons": PIIPolicy.displayReasons(r.reasons, raw: r.raw, reveal: reveal),
                    "run_id": r.runId, "masked": !reveal,
                    // The contract's `raw` stays a string (the masked row as JSON text); `fields` is its object.
                    "raw": (fields as? [String: Any]).map(Self.jsonText) ?? fields,
                    "fields": fields is [String: Any] ? fields : NSNull(),
                ] as [String: Any]
            })
            return
        }
        if rows.isEmpty { print("quarantine is empty"); return }
        for r in rows {
            print("\(r.source)  \(r.file):\(r.line)  key \(r.recordKey ?? "–")  (run \(r.runId))")
            for reason in PIIPolicy.displayReasons(r.reasons, raw: r.raw, reveal: reveal) { print("    ✗ \(reason)") }
            print("    raw: \(policy.displayRawLine(r.raw, source: r.source, readable: readable(r), reveal: reveal))")
        }
        print("\(CLI.count(rows.count)) rows in quarantine\(reveal ? "" : "   (PII masked; --reveal shows it, audited)")")
    }

    /// The raw row as a JSON object of column → value (masked per column by the policy); text that is not
    /// an object (an unreadable NDJSON line) is masked whole.
    static func jsonText(_ object: [String: Any]) -> String {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func rawJSON(_ r: QuarantinedRow, policy: PIIPolicy, readable: Bool, reveal: Bool) -> Any {
        guard let fields = policy.displayRaw(r.raw, source: r.source, readable: readable, reveal: reveal) else {
            return reveal ? r.raw : PIIPolicy.maskFreeText(r.raw)
        }
        var object: [String: Any] = [:]
        for f in fields { object[f.column] = CLI.orNull(f.value) }
        return object
    }
}

struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run history with per-source steps.")
    @OptionGroup var projectOptions: ProjectOptions
    @Option(help: "Newest N runs.") var limit = 20
    @OptionGroup var output: JSONOption

    func run() throws {
        let config = try projectOptions.load()
        let runs = try CLI.readCatalog(config)?.runs(limit: limit) ?? []
        if output.json {
            CLI.printJSON(runs.map { r in [
                "id": r.id, "trigger": r.trigger, "status": r.status, "started_at": CLI.iso(r.startedAt),
                "finished_at": CLI.iso(r.finishedAt), "actor": r.actor, "rows_read": r.rowsRead, "rows_loaded": r.rowsLoaded,
                "rows_quarantined": r.rowsQuarantined, "message": CLI.orNull(r.message),
                "steps": r.steps.map { s in [
                    "source": s.source, "status": s.status, "rows_read": s.rowsRead, "rows_loaded": s.rowsLoaded,
                    "rows_quarantined": s.rowsQuarantined, "batches": s.batches, "duration_ms": CLI.orNull(s.durationMs),
                    "message": CLI.orNull(s.message),
                ] as [String: Any] },
            ] as [String: Any] })
            return
        }
        var table = TextTable(headers: ["run", "trigger", "started", "duration", "status", "read", "loaded", "quarantined"],
                              rightAligned: [0, 3, 5, 6, 7])
        for r in runs {
            table.rows.append([String(r.id), r.trigger, r.startedAt.map(Timestamp.string) ?? "", r.duration.map { String(format: "%.1fs", $0) } ?? "–",
                               r.status, CLI.count(r.rowsRead), CLI.count(r.rowsLoaded), CLI.count(r.rowsQuarantined)])
        }
        print(table.render())
    }
}
