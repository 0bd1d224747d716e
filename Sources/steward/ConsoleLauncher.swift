import Foundation
import StewardCatalog
import StewardConsole
import StewardIdentity
import StewardMetrics
import StewardPipeline
import StewardIdentity
import StewardConfig

/// Opens the console; nil when it cannot run here (stdout is not a terminal).
enum ConsoleLauncher {
    static func launch(config: ProjectConfig, theme: String?, readOnly requested: Bool) throws -> Int32? {
        guard isatty(STDOUT_FILENO) != 0 else { return nil }
        // A catalog this user cannot write still opens, read-only, rather than not at all.
        var readOnly = requested
        // A project not run yet has no catalog folder: the question then is whether it can be created.
        let folder = config.catalogURL.deletingLastPathComponent()
        let problem = FileManager.default.fileExists(atPath: folder.path)
            ? FileProblem.notWritable(config.catalogURL) : FileProblem.cannotCreateFolder(folder)
        if !readOnly, let problem {
            CLI.note("steward: the catalog is read-only (\(problem)): opening the console read-only")
            readOnly = true
        }
        var options = ConsoleOptions(
            projectName: config.name, theme: theme, projectTheme: config.theme, readOnly: readOnly,
            refreshInterval: config.refreshSeconds ?? 2, keyOverrides: config.keys)
        options.roadmap = config.roadmap
        options.evidence = config.evidence
        options.matchThreshold = config.matching.threshold
        options.pii = PIIPolicy(config: config)
        options.projectConfig = config
        options.kpiDefinitions = KPIDefinition.all(config: config, roadmap: RoadmapKPIs.load(config: config))
        let runner: ConsoleRunner? = readOnly ? nil : PipelineConsoleRunner(config: config)
        if !readOnly {
            // A new project opens on its sources (all "never loaded") rather than on a missing catalog.
            let catalog = try Catalog.open(at: config.catalogURL)
            try PipelineRunner(config: config, catalog: catalog).syncDefinitions()
        }
        return MainActor.assumeIsolated {
            Console.run(options: options, catalogURL: config.catalogURL, runner: runner)
        }
    }
}

/// The real pipeline behind the console's `r` and `:run`: runs off the main actor and turns the
/// engine's progress events into the console's.
struct PipelineConsoleRunner: ConsoleRunner {
    let config: ProjectConfig

    func startRun(sources: [String], allowDelete: [String],
                  progress: @escaping @Sendable (RunProgressEvent) -> Void) async throws -> RunOutcome {
        let config = self.config
        return try await Task.detached(priority: .userInitiated) {
            let catalog = try Catalog.open(at: config.catalogURL)
            let tracker = ProgressAdapter(forward: progress)
            // KPIs, anomalies and alerts after every run, as `steward run` does (alert failures are
            // audited in the catalog; the console never prints).
            let summary = try PipelineRunner(config: config, catalog: catalog, progress: tracker, extensions: StandardRun.extensions())
                .run(sources: sources, trigger: "console", allowDelete: Set(allowDelete))
            // Held deletions are reported with failures: the status line must say why the run is partial.
            let failed = summary.steps.filter { $0.status == "failed" || $0.status == "held" }
                .map { "\($0.source): \($0.message ?? $0.status)" }
            // The console speaks of runs that "succeeded"; the catalog records `success`.
            return RunOutcome(
                runId: summary.runId, status: summary.status == "success" ? "succeeded" : summary.status,
                rowsRead: summary.steps.reduce(0) { $0 + $1.rowsRead }, rowsLoaded: summary.steps.reduce(0) { $0 + $1.rowsLoaded },
                rowsQuarantined: summary.steps.reduce(0) { $0 + $1.rowsQuarantined },
                message: failed.isEmpty ? nil : failed.joined(separator: "; "))
        }.value
    }
}

final class ProgressAdapter: ProgressReporter, @unchecked Sendable {
    private let forward: @Sendable (RunProgressEvent) -> Void
    private let lock = NSLock()
    private var runId: Int64?
    private var sourcesTotal = 0
    private var sourcesDone = 0
    private var rowsBeforeSource = 0

    init(forward: @escaping @Sendable (RunProgressEvent) -> Void) { self.forward = forward }

    func report(_ event: ProgressEvent) {
        lock.lock()
        var out: RunProgressEvent?
        switch event {
        case .runStarted(let id, let sources):
            runId = id; sourcesTotal = sources.count
            out = RunProgressEvent(phase: .started, runId: id, sourcesTotal: sourcesTotal)
        case .stepStarted(let source):
            out = RunProgressEvent(phase: .sourceStarted, runId: runId, source: source, rowsDone: rowsBeforeSource,
                                   sourcesDone: sourcesDone, sourcesTotal: sourcesTotal)
        case .rows(let source, let rows, _):
            out = RunProgressEvent(phase: .step, runId: runId, source: source, rowsDone: rowsBeforeSource + rows,
                                   sourcesDone: sourcesDone, sourcesTotal: sourcesTotal)
        case .batchCommitted(let source, let file, let rows):
            rowsBeforeSource += rows
            out = RunProgressEvent(phase: .batchCommitted, runId: runId, source: source, rowsDone: rowsBeforeSource,
                                   sourcesDone: sourcesDone, sourcesTotal: sourcesTotal, message: "\(file): \(rows) rows")
        case .stepFinished(let source, let status, let message):
            sourcesDone += 1
            out = RunProgressEvent(phase: .sourceFinished, runId: runId, source: source, rowsDone: rowsBeforeSource,
                                   sourcesDone: sourcesDone, sourcesTotal: sourcesTotal,
                                   message: status == "failed" ? message : nil)
        case .runFinished:
            out = nil
        }
        lock.unlock()
        if let out { forward(out) }
    }
}
