import Foundation
import Testing
@testable import StewardCatalog
@testable import StewardConsole

/// A runner that reports a few batches and then succeeds or fails, without any pipeline.
struct ScriptedRunner: ConsoleRunner {
    var fail: String?
    func startRun(sources: [String], allowDelete: [String],
                  progress: @escaping @Sendable (RunProgressEvent) -> Void) async throws -> RunOutcome {
        progress(RunProgressEvent(phase: .started, runId: 7, sourcesTotal: 2))
        for i in 1...3 {
            progress(RunProgressEvent(phase: .batchCommitted, runId: 7, source: "crm_contacts", rowsDone: i * 100, rowsTotal: 300))
        }
        if let fail { throw ScriptedFailure(message: fail) }
        return RunOutcome(runId: 7, status: "succeeded", rowsRead: 300, rowsLoaded: 290, rowsQuarantined: 10)
    }
}

struct ScriptedFailure: Error, CustomStringConvertible { var message: String; var description: String { message } }

/// Sessions driven through the in-memory backend: the loop, background loads and runs, real catalogs.
@MainActor
@Suite("Console session")
struct ConsoleSessionTests {
    func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("steward-console-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func frame(_ session: ConsoleSession, _ backend: TestBackend) {
        session.run(backend: backend, maxIterations: 1)
    }

    /// Draws the current state without the loop's clock tick: a slow CI machine must not let a
    /// 5-second status message expire between the assertion on the state and the one on the screen.
    func draw(_ session: ConsoleSession, _ backend: TestBackend) {
        session.send(.resize(width: backend.size.width, height: backend.size.height), backend: backend)
        var buffer = ScreenBuffer(width: backend.size.width, height: backend.size.height)
        ConsoleApp.render(session.state, into: &buffer)
        backend.draw(buffer)
    }

    @Test func missingCatalogShowsWhatToDo() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent(".steward/catalog.sqlite")
        let backend = TestBackend(width: 100, height: 30)
        let session = try ConsoleSession(options: ConsoleOptions(projectName: "demo"), catalogURL: url, runner: ScriptedRunner(), environment: [:])
        session.send(.tick(Date()), backend: backend)
        await session.waitForMessages(timeout: 300, backend: backend)
        frame(session, backend)
        #expect(backend.text.contains("✗ Catalog unavailable"))
        #expect(backend.text.contains("catalog not found at"))
        #expect(session.state.catalogError == CatalogError.missing(url.path).description)
        #expect(backend.text.contains("press r to run the pipeline now"))
        // The console never creates the catalog itself.
        #expect(!FileManager.default.fileExists(atPath: url.path))
    }

    @Test func emptyCatalogLoadsAndSaysHowToFillIt() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("catalog.sqlite")
        _ = try Catalog.open(at: url)
        let backend = TestBackend(width: 80, height: 24)
        let session = try ConsoleSession(options: ConsoleOptions(projectName: "empty"), catalogURL: url, runner: nil, environment: [:])
        session.send(.tick(Date()), backend: backend)
        await session.waitForMessages(timeout: 300, backend: backend)
        frame(session, backend)
        #expect(session.state.snapshot != nil)
        #expect(backend.text.contains("No sources in the catalog yet."))
        #expect(!backend.lines[23].contains("r run")) // no runner: no run key offered
    }

    @Test func runReportsProgressThenOutcome() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("catalog.sqlite")
        _ = try Catalog.open(at: url)
        let backend = TestBackend(width: 100, height: 30)
        let session = try ConsoleSession(options: ConsoleOptions(projectName: "demo"), catalogURL: url, runner: ScriptedRunner(), environment: [:])
        session.send(.snapshotLoaded(ConsoleFixtures.snapshot), backend: backend)
        session.send(.key(.char("r")), backend: backend)
        #expect(session.state.run != nil)
        await session.waitForMessages(timeout: 300, backend: backend)
        #expect(session.state.run == nil)
        #expect(session.state.status?.text == "run #7 succeeded: 300 rows read, 290 loaded, 10 quarantined")
        draw(session, backend)
        #expect(backend.lines[28].contains("✓ run #7 succeeded"))
    }

    @Test func failedRunKeepsTheConsoleUp() async throws {
        let backend = TestBackend(width: 100, height: 30)
        let session = try ConsoleSession(options: ConsoleOptions(projectName: "demo"), catalogURL: nil,
                                         runner: ScriptedRunner(fail: "sources/crm.csv: no such file"), environment: [:])
        session.send(.snapshotLoaded(ConsoleFixtures.snapshot), backend: backend)
        session.send(.key(.char(":")), backend: backend)
        for c in "run crm_contacts" { session.send(.key(.char(c)), backend: backend) }
        session.send(.key(.enter), backend: backend)
        await session.waitForMessages(timeout: 300, backend: backend)
        #expect(!session.state.shouldQuit)
        #expect(session.state.status?.text == "run failed: sources/crm.csv: no such file")
        frame(session, backend)
        #expect(backend.text.contains("✗ run failed: sources/crm.csv: no such file"))
    }

    @Test func loopQuitsOnQAndCopiesWithOSC52() throws {
        let backend = TestBackend(width: 100, height: 30)
        let session = try ConsoleSession(options: ConsoleOptions(projectName: "demo"), catalogURL: nil, runner: nil, environment: [:])
        session.send(.snapshotLoaded(ConsoleFixtures.snapshot), backend: backend)
        backend.input = [.key(.char("j")), .key(.char("y")), .key(.char("q"))]
        session.run(backend: backend, maxIterations: 50)
        #expect(session.state.shouldQuit)
        #expect(backend.clipboard == ["東京_顧客"])  // worst first: the second row
    }

    @Test func resizeRedrawsAtTheNewSize() throws {
        let backend = TestBackend(width: 100, height: 30)
        let session = try ConsoleSession(options: ConsoleOptions(projectName: "demo"), catalogURL: nil, runner: nil, environment: [:])
        session.send(.snapshotLoaded(ConsoleFixtures.snapshot), backend: backend)
        frame(session, backend)
        backend.resize(width: 70, height: 20)
        session.run(backend: backend, maxIterations: 2)
        #expect(backend.text.contains("need 80x24, have 70x20"))
        backend.resize(width: 120, height: 40)
        session.run(backend: backend, maxIterations: 2)
        #expect(backend.lines.count == 40)
        #expect(backend.lines[2].hasPrefix("╭ Sources (3) ") && backend.screen.lines[2].displayWidth == 120)
    }

    @Test func themeCommandSwitchesTheme() throws {
        let backend = TestBackend(width: 100, height: 30)
        let session = try ConsoleSession(options: ConsoleOptions(projectName: "demo"), catalogURL: nil, runner: nil, environment: [:])
        #expect(session.state.theme.name == "dark")
        session.send(.key(.char(":")), backend: backend)
        for c in "theme light" { session.send(.key(.char(c)), backend: backend) }
        session.send(.key(.enter), backend: backend)
        #expect(session.state.theme.name == "light")
        session.send(.key(.char(":")), backend: backend)
        for c in "theme nope" { session.send(.key(.char(c)), backend: backend) }
        session.send(.key(.enter), backend: backend)
        #expect(session.state.theme.name == "light")
        #expect(session.state.status?.text.contains("theme 'nope' not found") == true)
    }

    @Test func optionsChooseThemeAndKeysNoColorWins() throws {
        var options = ConsoleOptions(projectName: "demo", theme: "high-contrast", projectTheme: "light", keyOverrides: ["run": "ctrl-r"])
        var session = try ConsoleSession(options: options, catalogURL: nil, runner: nil, environment: [:])
        #expect(session.state.theme.name == "high-contrast")
        #expect(session.state.keyMap.action(for: .ctrl("r"), in: .sources) == .run)
        options.theme = nil
        session = try ConsoleSession(options: options, catalogURL: nil, runner: nil, environment: [:])
        #expect(session.state.theme.name == "light")
        session = try ConsoleSession(options: options, catalogURL: nil, runner: nil, environment: ["NO_COLOR": "1"])
        #expect(session.state.theme.name == "monochrome")
        options.keyOverrides = ["launch": "l"]
        #expect(throws: KeyMapError.self) { try ConsoleSession(options: options, catalogURL: nil, runner: nil, environment: [:]) }
        #expect(ConsoleOptions(projectName: "p", refreshInterval: 0.1).refreshInterval == 0.25)
        #expect(ConsoleOptions.defaultLogFile(environment: ["XDG_STATE_HOME": "/s"]).path == "/s/steward/steward.log")
        #expect(ConsoleOptions.defaultLogFile(environment: ["HOME": "/h"]).path == "/h/.local/state/steward/steward.log")
    }
}
