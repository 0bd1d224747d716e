import Foundation
import StewardCatalog
import StewardRoadmap

/// What the keyboard is talking to right now.
public enum InputMode: Equatable, Sendable {
    case normal
    /// `/` typing a filter for the current list.
    case filter
    /// `:` typing a command.
    case command
    case help
    /// Quit was asked while a run is in progress.
    case confirmQuit
    /// `n` in the Roadmap pane: typing a note for the selected task.
    case note
    /// `/` in the Customers pane: typing in the search box (results follow each key).
    case search
    /// Enter on a quarantined row: its detail is open over the pane.
    case row
}

/// A message in the status line; errors stay until the next key, notices fade after a few seconds.
public struct StatusMessage: Equatable, Sendable {
    public var text: String
    public var isError: Bool
    public var at: Date
    /// Not an error, but not done either (a refusal, nothing to act on, a partial run): `▲`, never `✓`.
    public var isWarning = false

    public init(text: String, isError: Bool, at: Date, isWarning: Bool = false) {
        self.text = text; self.isError = isError; self.at = at; self.isWarning = isWarning
    }

    /// A refusal or a "nothing to do": it fades like a notice but is marked `▲`.
    public static func refused(_ text: String, at: Date) -> StatusMessage { StatusMessage(text: text, isError: false, at: at, isWarning: true) }

    /// `✗` errors, `▲` refusals and partial outcomes, `✓` things done.
    public var mark: String { isError ? " ✗ " : (isWarning ? " ▲ " : " ✓ ") }
}

/// The run started from the console, while it is in progress.
public struct ActiveRun: Equatable, Sendable {
    public var sources: [String]
    public var startedAt: Date
    public var last: RunProgressEvent?
    public var lastAt: Date

    /// Rows per second since the start.
    public var rowsPerSecond: Double {
        let elapsed = lastAt.timeIntervalSince(startedAt)
        guard let rows = last?.rowsDone, elapsed > 0.05 else { return 0 }
        return Double(rows) / elapsed
    }
}

/// Everything the console shows and knows. Changed only by `update`; drawn only by `render`.
public struct AppState: Equatable, Sendable {
    public var projectName: String
    public var catalogPath: String
    public var width: Int
    public var height: Int
    public var now: Date
    public var theme: Theme
    public var themeNames: [String]
    public var keyMap: KeyMap
    public var readOnly: Bool
    public var canRun: Bool
    public var refreshInterval: TimeInterval

    public var pane: PaneID = .sources
    public var mode: InputMode = .normal
    /// The text being typed in `.filter` or `.command` mode.
    public var input = InputLine()
    /// Tab completion in progress: the candidates and which one is shown.
    public var completion: (candidates: [String], index: Int)? {
        get { completionCandidates.isEmpty ? nil : (completionCandidates, completionIndex) }
        set { completionCandidates = newValue?.candidates ?? []; completionIndex = newValue?.index ?? 0 }
    }
    var completionCandidates: [String] = []
    var completionIndex = 0
    public var helpScroll = 0

    public var snapshot: ConsoleSnapshot?
    /// Why the catalog could not be read (shown as an error screen when there is no snapshot yet).
    public var catalogError: String?
    public var loading = false
    /// Another load was asked for while one was in flight.
    public var reloadPending = false
    public var lastLoadStarted: Date?

    public var run: ActiveRun?
    public var status: StatusMessage?
    public var shouldQuit = false

    /// Every pane's state (each pane names its own accessor, e.g. `sources`).
    public var panes = PaneStates()
    /// The quarantined row open in `.row` mode.
    public var rowDetail: RowDetail?

    public init(projectName: String, catalogPath: String, width: Int, height: Int, now: Date = Date(),
                theme: Theme = .builtinDark, themeNames: [String] = ["dark", "monochrome"], keyMap: KeyMap = .standard,
                readOnly: Bool = false, canRun: Bool = true, refreshInterval: TimeInterval = 2) {
        self.projectName = projectName; self.catalogPath = catalogPath; self.width = width; self.height = height
        self.now = now; self.theme = theme; self.themeNames = themeNames; self.keyMap = keyMap
        self.readOnly = readOnly; self.canRun = canRun
        self.refreshInterval = max(0.25, refreshInterval)
    }

    /// The console needs at least this much room; below it, a message replaces the screen.
    public static let minimumSize = (width: 80, height: 24)
    public var isTooSmall: Bool { width < AppState.minimumSize.width || height < AppState.minimumSize.height }

    /// What the drill-ins that are open need from the next snapshot (every pane's refresh query).
    public var snapshotRequest: SnapshotRequest {
        var request = SnapshotRequest()
        for state in panes.states { state.refresh(&request) }
        // The first screen shows the catalog at once and the verdict as soon as it is computed.
        request.deferVerdict = snapshot == nil
        return request
    }

    public var context: PaneContext {
        PaneContext(snapshot: snapshot, theme: theme, now: now, loadError: catalogError, canRun: canRun && !readOnly)
    }

    /// The filter of the current pane (what `/` edits).
    public var currentFilter: String {
        get { panes[id: pane].filter }
        set { panes[id: pane].filter = newValue }
    }
}

/// What panes read while updating and drawing.
public struct PaneContext {
    public var snapshot: ConsoleSnapshot?
    public var theme: Theme
    public var now: Date
    /// Why the last refresh failed, if it did (drill-ins show it instead of "Loading…").
    public var loadError: String?
    /// Whether `:run` works here (not read-only, a pipeline wired): hints name `:run` or `steward run`.
    public var canRun: Bool
    public init(snapshot: ConsoleSnapshot?, theme: Theme, now: Date, loadError: String? = nil, canRun: Bool = true) {
        self.snapshot = snapshot; self.theme = theme; self.now = now; self.loadError = loadError; self.canRun = canRun
    }

    /// "Loading NAME…", or why it cannot load.
    func loadingLine(_ name: String) -> (String, Style) {
        if let loadError { return ("Cannot load \(name): \(loadError)", theme.error) }
        return ("Loading \(name)…", theme.muted)
    }
}

/// Input, timers and finished background work: everything that changes the state arrives as one of these.
public enum Message: Sendable {
    case key(Key)
    case mouse(MouseEvent)
    case resize(width: Int, height: Int)
    /// The clock moved (drives the header clock, ages and refresh timing).
    case tick(Date)
    case snapshotLoaded(ConsoleSnapshot)
    case snapshotFailed(String)
    case runProgress(RunProgressEvent, at: Date)
    case runFinished(RunOutcome, at: Date)
    case runFailed(String, at: Date)
    case themeLoaded(Theme)
    case themeFailed(String)
    /// A tick, untick or note was written; the document as it is now on disk.
    case roadmapWritten(String, RoadmapDocument?)
    case roadmapWriteFailed(String)
    /// A reveal of a quarantined row's values was audited (its id), or could not be.
    case rowRevealAudited(Int64)
    case rowRevealFailed(String)
    /// The catalog answered a Customers pane request.
    case customers(CustomerReply)
}

/// Side effects `update` asks for; the console loop performs them and answers with messages.
public enum Command: Equatable, Sendable {
    case loadSnapshot(SnapshotRequest)
    /// `allowDelete`: sources whose deletions held by the deletion guard this run applies.
    case startRun(sources: [String], allowDelete: [String] = [])
    case copyToClipboard(String)
    case loadTheme(String)
    /// Tick (`.done`) or untick (`.open`) a roadmap task in its file, auditing it.
    case setRoadmapTask(id: String, state: TaskState)
    case addRoadmapNote(id: String, note: String)
    /// Record a plan decision (a deliverable's sign-off or reopen) in the catalog's audit log.
    case recordPlan(action: PlanAction, subject: String, detail: PlanDetail, done: String)
    /// Audit a reveal of one quarantined row's values before they are shown.
    case auditRowReveal(id: Int64, source: String)
    /// Ask the catalog something for the Customers pane (search, a 360, explain, reveal audit, a decision).
    case customers(CustomerRequest)
    case log(String)
    case quit
}
