import Foundation
import Testing
@testable import StewardCatalog
@testable import StewardConsole

/// End-to-end tests in a real terminal: a detached tmux session, `send-keys`, `capture-pane`.
///
/// Two hosts:
/// - `ConsoleTTYHostTests.consoleTTYHost` (this test bundle re-run inside tmux) shows canned data
///   through the real ncurses backend, so the terminal layer is tested without the CLI;
/// - the built `steward tui --project DIR` on a demo project (enabled once `steward` has `tui`).
/// If tmux is missing the tests fail and say to install it.
@Suite("Console in tmux", .serialized)
struct ConsoleTmuxTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let testBundle = root.appendingPathComponent(".build/debug/StewardPackageTests.xctest")
    static let steward = root.appendingPathComponent(".build/debug/steward")

    /// The TTY host: the real ncurses backend over canned data.
    @Test func realTerminalDrawsKeysResizeAndQuit() async throws {
        try await offPool {
            let tmux = try Tmux(width: 100, height: 30, command: Self.hostCommand())
            defer { tmux.kill() }
            var screen = try tmux.waitFor("Sources (3)")
            // ncurses puts wide characters in the same columns as the in-memory backend.
            #expect(screen.contains("│○ never   東京_顧客    never     ○ —            0      0       · ▁▁▁▁     never loaded            │"))
            #expect(screen.contains("╭ Sources (3) ─"))  // Unicode box drawing, never ACS (lqqk)
            #expect(!screen.contains("lqq"))
            tmux.send("2"); screen = try tmux.waitFor("Failing checks")
            tmux.send("Tab"); screen = try tmux.waitFor("Audit log")
            tmux.send("BTab"); screen = try tmux.waitFor("Overall")
            tmux.send("1", "/"); tmux.sendLiteral("shop"); screen = try tmux.waitFor("Sources (1 of 3) filter: shop")
            tmux.send("Escape"); screen = try tmux.waitFor("Sources (3)")
            tmux.send("?"); screen = try tmux.waitFor("Help — Sources")
            tmux.send("Escape"); screen = try tmux.waitForAbsence("Help — Sources")
            tmux.send("r"); screen = try tmux.waitFor("● running")
            screen = try tmux.waitFor("run #7 succeeded", timeout: 10)
            tmux.resize(width: 120, height: 40)
            screen = try tmux.waitFor("Sources (3) " + String(repeating: "─", count: 100)) // the box spans the new width
            #expect(screen.split(separator: "\n", omittingEmptySubsequences: false)[2].count == 120)
            tmux.resize(width: 70, height: 20)
            screen = try tmux.waitFor("need 80x24, have 70x20")
            tmux.resize(width: 100, height: 30)
            screen = try tmux.waitFor("Sources (3)")
            tmux.send("q")
            screen = try tmux.waitFor("TTY sane: icanon echo")
            #expect(screen.contains("EXIT=0"))
        }
    }

    @Test func sigtermRestoresTheTerminal() async throws {
        try await offPool {
            let tmux = try Tmux(width: 100, height: 30, command: Self.hostCommand())
            defer { tmux.kill() }
            _ = try tmux.waitFor("Sources (3)")
            try tmux.signalChild("TERM")
            let screen = try tmux.waitFor("TTY sane: icanon echo")
            #expect(screen.contains("EXIT=143"))
        }
    }

    @Test func noColorMeansNoColourEscapes() async throws {
        try await offPool {
            let tmux = try Tmux(width: 100, height: 30, command: Self.hostCommand(env: "NO_COLOR=1"))
            defer { tmux.kill() }
            _ = try tmux.waitFor("Sources (3)")
            let escaped = tmux.capture(escapes: true)
            #expect(!escaped.contains("[38;") && !escaped.contains("[48;"))
            #expect(escaped.contains("✓ ok"))
        }
    }

    /// The built `steward` on a demo project, as a user would run it.
    @Test(.enabled(if: stewardHasTUI(), "`steward tui` is not wired yet"))
    func stewardTUIOnTheDemoProject() async throws {
        try await offPool {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("steward-tmux-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: dir) }
            try run(Self.steward.path, ["init", dir.path, "--demo", "--customers", "1000"])
            let tmux = try Tmux(width: 100, height: 30, command: "\(Self.steward.path) tui --project \(dir.path)")
            defer { tmux.kill() }
            // Generous waits: CI runs this beside every other suite on two cores.
            _ = try tmux.waitFor("Sources (", timeout: 30)
            tmux.send("2"); _ = try tmux.waitFor("Overall", timeout: 15)
            tmux.send("Tab"); _ = try tmux.waitFor("Audit log")
            tmux.send("1", "/"); tmux.sendLiteral("crm"); _ = try tmux.waitFor("filter: crm")
            tmux.send("Escape", "?"); _ = try tmux.waitFor("Help — Sources")
            tmux.send("Escape", ":"); tmux.sendLiteral("run"); tmux.send("Enter")
            _ = try tmux.waitFor("succeeded", timeout: 120)
            tmux.send("3"); _ = try tmux.waitFor("#1 ", timeout: 30)
            // The SLA/KPI pane measures the demo's KPIs from the catalog the run just wrote.
            tmux.send("4"); _ = try tmux.waitFor("Data quality score", timeout: 30)
            _ = try tmux.waitFor("Error budget", timeout: 30)
            tmux.send("3")
            tmux.resize(width: 120, height: 40); _ = try tmux.waitFor("Runs (")
            tmux.send("q")
            let screen = try tmux.waitFor("TTY sane: icanon echo")
            #expect(screen.contains("EXIT=0"))
        }
    }

    static func hostCommand(env: String = "") -> String {
        "env STEWARD_TTY_HOST=1 \(env) \(testBundle.path) --testing-library swift-testing --filter consoleTTYHost 2>/dev/null"
    }
}

func stewardHasTUI() -> Bool {
    let path = ConsoleTmuxTests.steward.path
    guard FileManager.default.isExecutableFile(atPath: path) else { return false }
    return (try? run(path, ["tui", "--help"]))?.contains("--read-only") == true
}

/// Runs a program to completion and returns its output (posix_spawn + waitpid: Foundation's
/// `Process` can wait forever on a tmux client whose server daemonized). `detached` programs send
/// their output to /dev/null so the server holds no file of ours open.
@discardableResult
func run(_ executable: String, _ arguments: [String], detached: Bool = false) throws -> String {
    let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("steward-run-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: outputPath) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, detached ? "/dev/null" : outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp: [UnsafeMutablePointer<CChar>?] = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
    // Test threads may block signals; tmux must start with a clean mask and default handlers.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t(), allSignals = sigset_t()
    sigemptyset(&noSignals)
    sigfillset(&allSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    posix_spawnattr_setsigdefault(&attributes, &allSignals)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
    guard spawned == 0 else { throw TmuxError(message: "cannot start \(executable): error \(spawned)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    guard exitCode == 0 else {
        throw TmuxError(message: "\(executable) \(arguments.joined(separator: " ")) exited \(exitCode): \(output)")
    }
    return output
}

struct TmuxError: Error, CustomStringConvertible { var message: String; var description: String { message } }

/// One detached tmux server (private socket) running one command, then reporting how it ended.
struct Tmux {
    let socket = "steward-\(UUID().uuidString.prefix(8))"
    static let binary = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/opt/homebrew/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }

    init(width: Int, height: Int, command: String) throws {
        guard Tmux.binary != nil else {
            throw TmuxError(message: "tmux is not installed: the console's end-to-end tests need it (apt-get install tmux / brew install tmux)")
        }
        // After the console exits, print its exit code and whether the terminal is back in cooked mode.
        let script = "env LANG=C.UTF-8 TERM=tmux-256color \(command); echo EXIT=$?; " +
            "stty -a | tr ' ' '\\n' | grep -qx icanon && stty -a | tr ' ' '\\n' | grep -qx echo && echo 'TTY sane: icanon echo'; sleep 30"
        try run(Tmux.binary!, ["-L", socket, "new-session", "-d", "-s", "s", "-x", "\(width)", "-y", "\(height)", script], detached: true)
    }

    @discardableResult
    func tmux(_ args: [String]) throws -> String { try run(Tmux.binary!, ["-L", socket] + args) }

    func send(_ keys: String...) { _ = try? tmux(["send-keys", "-t", "s"] + keys) }
    func sendLiteral(_ text: String) { _ = try? tmux(["send-keys", "-t", "s", "-l", text]) }
    func resize(width: Int, height: Int) { _ = try? tmux(["resize-window", "-t", "s", "-x", "\(width)", "-y", "\(height)"]) }
    func capture(escapes: Bool = false) -> String { (try? tmux(["capture-pane", "-p", "-t", "s"] + (escapes ? ["-e"] : []))) ?? "" }
    func kill() {
        do { try tmux(["kill-server"]) } catch { FileHandle.standardError.write(Data("tmux kill-server: \(error)\n".utf8)) }
        let tmpdir = ProcessInfo.processInfo.environment["TMUX_TMPDIR"] ?? "/tmp"
        try? FileManager.default.removeItem(atPath: "\(tmpdir)/tmux-\(getuid())/\(socket)")
    }

    /// Sends a signal to the program running in the pane (the shell's child).
    func signalChild(_ signal: String) throws {
        let shell = try tmux(["list-panes", "-t", "s", "-F", "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let children = try run("/usr/bin/pgrep", ["-P", shell]).split(separator: "\n")
        for child in children { try run("/bin/kill", ["-\(signal)", String(child)]) }
    }

    /// Polls the screen until it shows `text`; fails with the last screen when it does not. The default
    /// wait is long because CI runs every suite at once on two cores; a passing wait returns at once.
    func waitFor(_ text: String, timeout: TimeInterval = 15) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var screen = ""
        while Date() < deadline {
            screen = capture()
            if screen.contains(text) { return screen }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw TmuxError(message: "screen never showed “\(text)”; last screen:\n\(screen)")
    }

    func waitForAbsence(_ text: String, timeout: TimeInterval = 5) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var screen = ""
        while Date() < deadline {
            screen = capture()
            if !screen.contains(text) { return screen }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw TmuxError(message: "screen still shows “\(text)”; last screen:\n\(screen)")
    }
}

/// Runs the console on the real terminal with canned data when started by the tmux tests
/// (`STEWARD_TTY_HOST=1`); does nothing in a normal test run.
@MainActor
@Suite("Console TTY host")
struct ConsoleTTYHostTests {
    struct HostRunner: ConsoleRunner {
        func startRun(sources: [String], allowDelete: [String],
                      progress: @escaping @Sendable (RunProgressEvent) -> Void) async throws -> RunOutcome {
            progress(RunProgressEvent(phase: .started, runId: 7, sourcesTotal: 1))
            for i in 1...10 {
                try await Task.sleep(nanoseconds: 150_000_000)
                progress(RunProgressEvent(phase: .batchCommitted, runId: 7, source: "crm_contacts", rowsDone: i * 1000, rowsTotal: 10_000))
            }
            return RunOutcome(runId: 7, status: "succeeded", rowsRead: 10_000, rowsLoaded: 9_990, rowsQuarantined: 10)
        }
    }

    @Test func consoleTTYHost() throws {
        let env = ProcessInfo.processInfo.environment
        guard env["STEWARD_TTY_HOST"] != nil else { return }
        let snapshot = ConsoleFixtures.snapshot
        let session = try ConsoleSession(options: ConsoleOptions(projectName: "demo"), catalogPath: ".steward/catalog.sqlite",
                                         loader: { _ in snapshot }, runner: HostRunner(), environment: env)
        let backend = NCursesBackend(noColor: !(env["NO_COLOR"] ?? "").isEmpty)
        session.run(backend: backend)
        backend.shutdown()
    }
}
