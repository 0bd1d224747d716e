import Foundation
import StewardCatalog
import StewardRoadmap
import StewardMetrics
import StewardConfig

/// How the console is started. The `steward` executable fills this from flags and steward.yml.
public struct ConsoleOptions: Sendable {
    public var projectName: String
    /// `--theme NAME`: wins over `projectTheme`.
    public var theme: String?
    /// `theme:` from steward.yml.
    public var projectTheme: String?
    /// `--read-only`: no action that writes (runs, later edits) is offered.
    public var readOnly: Bool
    /// Seconds between catalog refreshes; never below 0.25.
    public var refreshInterval: TimeInterval
    /// The `keys:` section: action name → key spec(s), e.g. `["run": "ctrl-r", "quit": "q F10"]`.
    public var keyOverrides: [String: String]
    /// Log file; nil means `$XDG_STATE_HOME/steward/steward.log`. The console never logs to stdout.
    public var logFile: URL?
    /// Where themes are looked for; nil means the standard places (see `ThemeLibrary.standard`).
    public var themeDirectories: [URL]?
    /// The project's roadmap file (Roadmap pane) and its `evidence:` rules.
    public var roadmap: URL?
    public var evidence: [EvidenceRule] = []
    /// The KPIs the SLA/KPI pane measures (from steward.yml and the roadmap).
    public var kpiDefinitions: [KPIDefinition] = []
    /// `matching.threshold` of steward.yml: Explain says "match" at or above it.
    public var matchThreshold: Double = MatchingConfig().threshold
    /// Which stored values are personal (from steward.yml); the default masks every value.
    public var pii = PIIPolicy()
    /// steward.yml as loaded: the header's verdict is `steward check`'s, computed from it.
    public var projectConfig: ProjectConfig?

    public init(projectName: String, theme: String? = nil, projectTheme: String? = nil, readOnly: Bool = false,
                refreshInterval: TimeInterval = 2, keyOverrides: [String: String] = [:], logFile: URL? = nil,
                themeDirectories: [URL]? = nil) {
        self.projectName = projectName; self.theme = theme; self.projectTheme = projectTheme; self.readOnly = readOnly
        self.refreshInterval = max(0.25, refreshInterval); self.keyOverrides = keyOverrides; self.logFile = logFile
        self.themeDirectories = themeDirectories
    }

    /// `$XDG_STATE_HOME/steward/steward.log` (default `~/.local/state/steward/steward.log`).
    public static func defaultLogFile(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        let base = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: environment["HOME"] ?? NSTemporaryDirectory()).appendingPathComponent(".local/state")
        return base.appendingPathComponent("steward/steward.log")
    }
}

/// The terminal console.
///
/// ```swift
/// let code = Console.run(options: ConsoleOptions(projectName: "demo"), catalogURL: catalogURL, runner: PipelineRunner(...))
/// ```
public enum Console {
    /// Takes over the terminal until the user quits; returns the process exit code.
    /// Configuration errors (bad `keys:`, unknown theme) are returned before the screen is touched.
    @MainActor
    public static func run(options: ConsoleOptions, catalogURL: URL?, runner: ConsoleRunner?) -> Int32 {
        let environment = ProcessInfo.processInfo.environment
        let log = ConsoleLog(url: options.logFile ?? ConsoleOptions.defaultLogFile(environment: environment))
        let session: ConsoleSession
        do {
            session = try ConsoleSession(options: options, catalogURL: catalogURL, runner: runner, environment: environment, log: log)
        } catch {
            FileHandle.standardError.write(Data("steward: \(error)\n".utf8))
            log.write("console not started: \(error)")
            return 2
        }
        let noColor = !(environment["NO_COLOR"] ?? "").isEmpty
        let backend = NCursesBackend(noColor: noColor)
        log.write("console started (\(backend.size.width)x\(backend.size.height), colour \(backend.colorMode))")
        session.run(backend: backend)
        backend.shutdown()
        log.write("console stopped")
        return 0
    }
}

/// One console session: the state, the loop and the commands' side effects. Backend-agnostic,
/// so tests drive it with a `TestBackend`.
@MainActor
public final class ConsoleSession {
    public private(set) var state: AppState
    /// Reads a snapshot off the main actor (the catalog in real use; canned data in tests and demos).
    public typealias Loader = @Sendable (SnapshotRequest) async throws -> ConsoleSnapshot
    let load: Loader
    /// Where roadmap notes are kept and ticks audited (nil with canned data).
    let catalogURL: URL?
    /// The project's roadmap file, written at once when a task is ticked.
    let roadmapURL: URL?
    let runner: ConsoleRunner?
    /// Answers the Customers pane (search, 360, explain, review, audited reveals and decisions).
    let customerSource: CustomerSource
    let library: ThemeLibrary
    let log: ConsoleLog
    let mailbox = Mailbox()
    /// Keys typed while the view awaited data (see `AppState.awaitingData`), applied once it came.
    var keyQueue = KeyQueue()

    public convenience init(options: ConsoleOptions, catalogURL: URL?, runner: ConsoleRunner?,
                            environment: [String: String] = ProcessInfo.processInfo.environment, log: ConsoleLog = ConsoleLog(url: nil)) throws {
        let source = SnapshotSource(url: catalogURL, roadmap: options.roadmap, evidence: options.evidence,
                                    kpiDefinitions: options.kpiDefinitions, pii: options.pii,
                                    config: options.projectConfig)
        let path = catalogURL.map { ConsoleSession.shortPath($0, environment: environment) } ?? "no catalog"
        try self.init(options: options, catalogPath: path, loader: { try await source.load($0) }, runner: runner,
                      catalogURL: catalogURL, environment: environment, log: log)
    }

    public init(options: ConsoleOptions, catalogPath: String, loader: @escaping Loader, runner: ConsoleRunner?,
                catalogURL: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment, log: ConsoleLog = ConsoleLog(url: nil)) throws {
        library = options.themeDirectories.map(ThemeLibrary.init(directories:)) ?? ThemeLibrary.standard(environment: environment)
        let noColor = !(environment["NO_COLOR"] ?? "").isEmpty
        let themeName = noColor ? "monochrome" : (options.theme ?? options.projectTheme ?? "dark")
        let theme = try library.load(themeName)
        let keyMap = try KeyMap.standard.applying(options.keyOverrides)
        load = loader
        self.catalogURL = catalogURL
        roadmapURL = options.roadmap
        self.runner = runner
        self.log = log
        customerSource = CustomerSource(url: catalogURL, threshold: options.matchThreshold, readOnly: options.readOnly)
        state = AppState(projectName: options.projectName, catalogPath: catalogPath, width: 80, height: 24, theme: theme,
                         themeNames: library.names(), keyMap: keyMap, readOnly: options.readOnly, canRun: runner != nil,
                         refreshInterval: options.refreshInterval)
    }

    /// Runs until the user quits: input, mailbox (finished background work), clock; draws after changes.
    public func run(backend: TerminalBackend, maxIterations: Int? = nil) {
        let size = backend.size
        send(.resize(width: size.width, height: size.height), backend: backend)
        send(.tick(Date()), backend: backend)
        var buffer = ScreenBuffer(width: size.width, height: size.height)
        var dirty = true
        var lastTick = Date()
        var iterations = 0
        while !state.shouldQuit {
            if let max = maxIterations { if iterations >= max { break }; iterations += 1 }
            for message in mailbox.drain() { dirty = send(message, backend: backend) || dirty }
            dirty = releaseHeldKeys(backend: backend) || dirty
            if state.shouldQuit { break }
            if dirty {
                if buffer.width != state.width || buffer.height != state.height {
                    buffer = ScreenBuffer(width: state.width, height: state.height)
                }
                ConsoleApp.render(state, into: &buffer)
                backend.draw(buffer)
                dirty = false
            }
            // Short polls keep background results and the clock flowing between key presses. A paste
            // arrives as thousands of keys: those already waiting are taken before the next frame
            // (a bounded batch, so the screen still follows a long paste).
            var timeout = 0.05
            var keys: [Key] = []
            for _ in 0..<2_048 where !state.shouldQuit {
                guard let event = backend.poll(timeout: timeout) else { break }
                timeout = 0
                if case .key(let key) = event { keys.append(key); continue }
                dirty = sendKeys(keys, backend: backend) || dirty
                keys = []
                switch event {
                case .key: break
                case .mouse(let m): dirty = send(.mouse(m), backend: backend) || dirty
                case .resize(let w, let h): dirty = send(.resize(width: w, height: h), backend: backend) || dirty
                }
            }
            dirty = sendKeys(keys, backend: backend) || dirty
            let now = Date()
            if now.timeIntervalSince(lastTick) >= 0.25 {
                lastTick = now
                let before = Format.clock(state.now)
                _ = send(.tick(now), backend: backend)
                // Only a new second on the clock (or new data, handled above) needs a frame.
                if Format.clock(now) != before { dirty = true }
            }
        }
    }

    /// Applies a message and performs the commands; returns whether the state changed.
    @discardableResult
    public func send(_ message: Message, backend: TerminalBackend) -> Bool {
        let (next, commands) = ConsoleApp.update(state, message)
        let changed = next != state
        state = next
        for command in commands { perform(command, backend: backend) }
        return changed
    }

    /// Applies keys in order, exactly as one `send(.key)` each would: each key's commands are
    /// performed before the next key. The state is compared once for the burst, not once per key.
    /// A key that arrives while the view awaits the data it acts on (a source just opened) is held,
    /// and so is every key after it, until the data is there: no key is dropped or applied early.
    @discardableResult
    func sendKeys(_ keys: [Key], backend: TerminalBackend) -> Bool {
        guard !keys.isEmpty else { return false }
        let before = state
        for key in keys where !state.shouldQuit {
            if !KeyQueue.bypasses(key), !keyQueue.isEmpty || state.awaitingData {
                keyQueue.hold(key, now: Date())
                continue
            }
            let commands = ConsoleApp.update(&state, .key(key))
            for command in commands { perform(command, backend: backend) }
        }
        return state != before
    }

    /// Applies the held keys once the data they wait for came, or once waiting took too long (then to
    /// the view as it is, without holding again); returns whether the state changed.
    func releaseHeldKeys(backend: TerminalBackend) -> Bool {
        guard !keyQueue.isEmpty else { return false }
        if keyQueue.expired(now: Date()) {
            let before = state
            for key in keyQueue.take() where !state.shouldQuit {
                for command in ConsoleApp.update(&state, .key(key)) { perform(command, backend: backend) }
            }
            return state != before
        }
        guard !state.awaitingData else { return false }
        return sendKeys(keyQueue.take(), backend: backend)
    }

    /// Waits for background work (snapshot loads, runs) to report, for tests.
    /// Returns as soon as no load or run is pending; `timeout` is only a safety net (a loaded 2-core CI
    /// machine can take seconds to schedule the background task).
    public func waitForMessages(timeout: TimeInterval, backend: TerminalBackend) async {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let messages = mailbox.drain()
            if !messages.isEmpty {
                for m in messages { send(m, backend: backend) }
                releaseHeldKeys(backend: backend)
                if !state.loading && state.run == nil && state.customers.inFlight.isEmpty && !state.roadmap.writing && keyQueue.isEmpty { return }
            }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
    }

    func perform(_ command: Command, backend: TerminalBackend) {
        switch command {
        case .loadSnapshot(let request):
            let load = self.load, mailbox = self.mailbox
            Task.detached {
                do {
                    mailbox.post(.snapshotLoaded(try await load(request)))
                } catch {
                    mailbox.post(.snapshotFailed("\(error)"))
                }
            }
        case .startRun(let sources, let allowDelete):
            guard let runner else { return }
            let mailbox = self.mailbox
            Task.detached {
                do {
                    let outcome = try await runner.startRun(sources: sources, allowDelete: allowDelete) { event in
                        mailbox.post(.runProgress(event, at: Date()))
                    }
                    mailbox.post(.runFinished(outcome, at: Date()))
                } catch {
                    mailbox.post(.runFailed("\(error)", at: Date()))
                }
            }
        case .copyToClipboard(let text):
            backend.copyToClipboard(text)
        case .loadTheme(let name):
            do { send(.themeLoaded(try library.load(name)), backend: backend) } catch { send(.themeFailed("\(error)"), backend: backend) }
        case .setRoadmapTask(let id, let target):
            // Off the main actor, like customer requests: a write may wait for a run's lock. Keys typed
            // meanwhile are held (`RoadmapPane.awaitingData`), so a second Space sees this one's result.
            let url = roadmapURL, catalogURL = self.catalogURL, document = state.snapshot?.roadmap?.document
            let mailbox = self.mailbox
            Task.detached { mailbox.post(ConsoleSession.writeRoadmap(id: id, state: target, url: url, document: document, catalogURL: catalogURL)) }
        case .addRoadmapNote(let id, let note):
            let catalogURL = self.catalogURL, text = state.snapshot?.roadmap?.document.task(id: id)?.plainText ?? ""
            let mailbox = self.mailbox
            Task.detached { mailbox.post(ConsoleSession.addNote(id: id, text: text, note: note, catalogURL: catalogURL)) }
        case .recordPlan(let action, let subject, let detail, let done):
            let catalogURL = self.catalogURL, mailbox = self.mailbox
            Task.detached {
                mailbox.post(ConsoleSession.recordPlan(action, subject: subject, detail: detail, done: done, catalogURL: catalogURL))
            }
        case .customers(let request):
            let source = customerSource, mailbox = self.mailbox
            Task.detached { mailbox.post(.customers(await source.perform(request))) }
        case .auditRowReveal(let id, let source):
            // Audited before anything is shown, off the main actor (a write may wait for a run's lock).
            let url = catalogURL, mailbox = self.mailbox
            Task.detached {
                guard let url, FileManager.default.fileExists(atPath: url.path) else {
                    mailbox.post(.rowRevealFailed("no catalog to audit the reveal in")); return
                }
                do {
                    try Catalog.open(at: url).audit(action: "reveal", subject: "quarantine:\(source):\(id)",
                                                    detail: "console: one quarantined row's values")
                    mailbox.post(.rowRevealAudited(id))
                } catch {
                    mailbox.post(.rowRevealFailed("the reveal could not be audited (\(error))"))
                }
            }
        case .log(let text):
            log.write(text)
        case .quit:
            break
        }
    }

    /// Ticks or unticks in the file at once (re-reading it first if it changed on disk), then audits.
    nonisolated static func writeRoadmap(id: String, state target: TaskState, url: URL?, document: RoadmapDocument?, catalogURL: URL?) -> Message {
        guard let url else { return .roadmapWriteFailed("no roadmap file in steward.yml") }
        do {
            var file = try document.map { RoadmapFile(url: url, document: $0) } ?? RoadmapFile(url: url)
            // Audit into the catalog when it exists; the console never creates one.
            let catalog = try catalogURL.flatMap { FileManager.default.fileExists(atPath: $0.path) ? try Catalog.open(at: $0) : nil }
            let change = try file.set(id, to: target, auditingIn: catalog)
            let verb = target == .done ? "ticked" : "unticked"
            let note = change.reloaded ? " (the file had changed on disk: re-read first)" : ""
            return .roadmapWritten("\(verb) “\(change.task.plainText)” in \(url.lastPathComponent):\(change.task.line)\(note)", file.document)
        } catch {
            return .roadmapWriteFailed("\(error)")
        }
    }

    /// A plan decision into the catalog's audit log (the roadmap file is not written).
    nonisolated static func recordPlan(_ action: PlanAction, subject: String, detail: PlanDetail, done: String, catalogURL: URL?) -> Message {
        guard let url = catalogURL, FileManager.default.fileExists(atPath: url.path) else {
            return .roadmapWriteFailed("no catalog to record sign-offs and statuses in yet: run the pipeline first")
        }
        do {
            try Catalog.open(at: url).recordPlan(action, subject: subject, detail: detail)
            return .roadmapWritten(done, nil)
        } catch {
            return .roadmapWriteFailed("\(error)")
        }
    }

    nonisolated static func addNote(id: String, text: String, note: String, catalogURL: URL?) -> Message {
        guard let url = catalogURL, FileManager.default.fileExists(atPath: url.path) else {
            return .roadmapWriteFailed("no catalog to keep notes in yet: run the pipeline first")
        }
        do {
            try Catalog.open(at: url).addRoadmapNote(taskId: id, taskText: text, note: note)
            return .roadmapWritten(note.isEmpty ? "note cleared" : "note saved for “\(text)”", nil)
        } catch {
            return .roadmapWriteFailed("\(error)")
        }
    }

    static func shortPath(_ url: URL, environment: [String: String]) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        let path = url.standardizedFileURL.path
        if path.hasPrefix(cwd + "/") { return String(path.dropFirst(cwd.count + 1)) }
        if let home = environment["HOME"], path.hasPrefix(home + "/") { return "~/" + path.dropFirst(home.count + 1) }
        return path
    }
}

/// Messages from background tasks to the main loop.
final class Mailbox: @unchecked Sendable {
    // A lock rather than Synchronization.Mutex: the package also targets macOS 14.
    private let lock = NSLock()
    private var queue: [Message] = []
    func post(_ message: Message) { lock.withLock { queue.append(message) } }
    func drain() -> [Message] { lock.withLock { defer { queue.removeAll() }; return queue } }
}

/// Appends timestamped lines to the log file (never stdout: curses owns it).
public final class ConsoleLog: @unchecked Sendable {
    private let lock = NSLock()
    private let handle: FileHandle?

    public init(url: URL?) {
        var h: FileHandle?
        // 0600 in a 0700 folder: the log may name customers' records.
        if let url { h = try? PrivateFiles.openForAppending(url) }
        handle = h
    }

    public func write(_ line: String) {
        let text = "\(Timestamp.now()) console: \(line)\n"
        lock.withLock { try? handle?.write(contentsOf: Data(text.utf8)) }
    }
}
