import Foundation
import StewardCatalog
import StewardConfig
import StewardConsole
import StewardMetrics

/// `console --project DIR`: the console on an existing project (e.g. the 1 M-customer demo), as
/// `steward tui --read-only` opens it: steward.yml's verdict in every snapshot, the roadmap, the KPIs.
/// Nothing is written. Figures: each snapshot query (median of `repeats`), the first frame in process
/// and through the real binary in tmux (launch → the verdict on screen), key → frame over a cycle
/// of every pane's keys.
@MainActor
func measureConsoleProject(_ project: URL, steward: String, repeats: Int) throws -> [String: Any] {
    let config = try ConfigLoader.load(project.appendingPathComponent("steward.yml"))
    // The project is the user's, and so is its vault key (this bench points XDG_CONFIG_HOME elsewhere).
    if originalConfigHome.isEmpty { unsetenv("XDG_CONFIG_HOME") } else { setenv("XDG_CONFIG_HOME", originalConfigHome, 1) }
    let catalog = try Catalog.open(at: config.catalogURL, readOnly: true)
    var options = ConsoleOptions(projectName: config.name, readOnly: true, refreshInterval: config.refreshSeconds ?? 2)
    options.roadmap = config.roadmap
    options.evidence = config.evidence
    options.pii = PIIPolicy(config: config)
    options.projectConfig = config
    options.kpiDefinitions = KPIDefinition.all(config: config, roadmap: RoadmapKPIs.load(config: config))

    func median(_ body: () throws -> Void) rethrows -> Double {
        var samples: [Double] = []
        for _ in 0..<max(1, repeats) { let t = Date(); try body(); samples.append(Date().timeIntervalSince(t) * 1000) }
        return samples.sorted()[samples.count / 2]
    }
    let sources = try catalog.sourceOverviews()
    // The source with the most open quarantined rows: its pages and `/` filter are the slowest.
    let worst = sources.max { $0.rowsQuarantined < $1.rowsQuarantined }?.name ?? sources.first?.name ?? ""
    let snapshotSource = SnapshotSource(url: config.catalogURL, roadmap: options.roadmap, evidence: options.evidence,
                                        kpiDefinitions: options.kpiDefinitions, pii: options.pii, config: config)
    let refresh: [String: Double] = [
        "sources_ms": try median { _ = try catalog.sourceOverviews() },
        "quality_ms": try median { _ = try catalog.qualityOverview(); _ = try catalog.qualityRuns(limit: 20) },
        "runs_audit_ms": try median { _ = try catalog.runs(limit: 50); _ = try catalog.auditTail(limit: 100) },
        "verdict_check_report_ms": try median {
            _ = try HealthCheck(config: config, catalog: catalog, now: Date()).report(storeMeasurements: false)
        },
        "source_detail_ms": try median { _ = try catalog.sourceDetail(worst) },
        "quarantine_page_ms": try median { _ = try catalog.quarantinePage(QuarantineQuery(source: worst)) },
        "quarantine_last_page_ms": try median {
            let total = try catalog.quarantinePage(QuarantineQuery(source: worst, limit: 1)).total
            _ = try catalog.quarantinePage(QuarantineQuery(source: worst, offset: max(0, total - 200)))
        },
        "quarantine_filter_ms": try median { _ = try catalog.quarantinePage(QuarantineQuery(source: worst, filter: "email")) },
        "full_snapshot_ms": try median { _ = try blockingAwait { try await snapshotSource.load(SnapshotRequest()) } },
    ]

    // First frame in process as the console draws it: its first snapshot leaves the verdict for a
    // second one (`deferVerdict`); then the frame with the verdict, as before.
    let deferredStart = Date()
    let deferredSession = try ConsoleSession(options: options, catalogURL: config.catalogURL, runner: nil, environment: ["NO_COLOR": "1"])
    let deferredBackend = TestBackend(width: 100, height: 30)
    deferredSession.send(.resize(width: 100, height: 30), backend: deferredBackend)
    let deferred: SnapshotRequest = { var r = SnapshotRequest(); r.deferVerdict = true; return r }()
    let cold = SnapshotSource(url: config.catalogURL, roadmap: options.roadmap, evidence: options.evidence,
                              kpiDefinitions: options.kpiDefinitions, pii: options.pii, config: config)
    deferredSession.send(.snapshotLoaded(try blockingAwait { try await cold.load(deferred) }), backend: deferredBackend)
    var deferredBuffer = ScreenBuffer(width: 100, height: 30)
    ConsoleApp.render(deferredSession.state, into: &deferredBuffer)
    deferredBackend.draw(deferredBuffer)
    let firstDataFrameInProcess = Date().timeIntervalSince(deferredStart) * 1000

    // First frame in process with the verdict: the session, a snapshot with the report, layout and
    // render at 100x30.
    let started = Date()
    let session = try ConsoleSession(options: options, catalogURL: config.catalogURL, runner: nil, environment: ["NO_COLOR": "1"])
    let backend = TestBackend(width: 100, height: 30)
    session.send(.resize(width: 100, height: 30), backend: backend)
    session.send(.snapshotLoaded(try blockingAwait { try await snapshotSource.load(SnapshotRequest()) }), backend: backend)
    var buffer = ScreenBuffer(width: 100, height: 30)
    ConsoleApp.render(session.state, into: &buffer)
    backend.draw(buffer)
    let firstFrameInProcess = Date().timeIntervalSince(started) * 1000
    let verdictShown = buffer.lines[0]

    // Key → frame: update, render and diff for every pane and its moves, sorts and drill-ins.
    let cycle: [Key] = [.char("1"), .char("j"), .char("j"), .char("s"), .char("k"), .char("2"), .char("j"), .right, .char("j"), .left,
                        .char("3"), .char("j"), .right, .char("j"), .char("4"), .char("j"), .char("5"), .char("j"), .char("j"),
                        .char("k"), .char("6"), .char("1")]
    var keySamples: [Double] = []
    for i in 0..<(cycle.count * 30) {
        let t = Date()
        session.send(.key(cycle[i % cycle.count]), backend: backend)
        ConsoleApp.render(session.state, into: &buffer)
        backend.draw(buffer)
        keySamples.append(Date().timeIntervalSince(t) * 1000)
    }
    keySamples.sort()
    var result: [String: Any] = [
        "project": project.path, "worst_source": worst,
        "refresh": refresh, "first_frame_in_process_ms": firstFrameInProcess,
        "first_data_frame_in_process_ms": firstDataFrameInProcess, "header": verdictShown,
        "keys": keySamples.count,
        "key_to_frame_p50_ms": keySamples[keySamples.count / 2], "key_to_frame_p99_ms": keySamples[keySamples.count * 99 / 100],
        "key_to_frame_max_ms": keySamples.last ?? 0,
    ]
    if let tmux = which("tmux") {
        result["tmux_first_frame_ms"] = tmuxFirstFrames(tmux: tmux, steward: steward, project: project, times: 5)
    }
    return result
}

/// Launch → the first paint (the header), → the catalog's data (the Sources table's rows) and → the
/// verdict word in the header, through the real binary under tmux (process start, config, catalog
/// open, the first snapshot, then `steward check`'s report, ncurses), `times` times each.
func tmuxFirstFrames(tmux: String, steward: String, project: URL, times: Int) -> [String: [Double]] {
    var painted: [Double] = [], data: [Double] = [], verdict: [Double] = []
    for i in 0..<times {
        let socket = "steward-bench-console-\(getpid())-\(i)"
        let started = Date()
        _ = measure(tmux, ["-L", socket, "new-session", "-d", "-x", "100", "-y", "30",
                           "env NO_COLOR=1 \(steward) tui --read-only --project \(project.path); sleep 30"])
        var header = false
        while Date().timeIntervalSince(started) < 30 {
            let screen = captureOutput(tmux, ["-L", socket, "capture-pane", "-p"]).split(separator: "\n")
            let top = screen.first ?? ""
            if !header, top.contains("◆ steward") { header = true; painted.append(Date().timeIntervalSince(started) * 1000) }
            // The Sources table's column header is drawn with its rows, once the first snapshot is in.
            if data.count == i, screen.contains(where: { $0.contains("Source") && $0.contains("Last load") }) {
                data.append(Date().timeIntervalSince(started) * 1000)
            }
            if ["OK", "WARNING", "CRITICAL", "UNKNOWN"].contains(where: { top.contains($0) }) {
                verdict.append(Date().timeIntervalSince(started) * 1000)
                break
            }
            Thread.sleep(forTimeInterval: 0.002)
        }
        _ = measure(tmux, ["-L", socket, "kill-server"])
    }
    return ["first_paint_ms": painted, "data_shown_ms": data, "verdict_shown_ms": verdict]
}

func captureOutput(_ command: String, _ arguments: [String]) -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: command)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return "" }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}
