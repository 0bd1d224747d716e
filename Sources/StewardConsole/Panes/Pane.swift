import Foundation
import StewardCatalog

/// One pane of the console: its state, how its keys update it, how it draws, its help entries and
/// what it asks the catalog for at each refresh. The app reaches panes only through this protocol
/// and `PaneRegistry`, so a pane is one folder plus one registry line.
public protocol Pane: Equatable, Sendable {
    /// The state of a pane nobody has touched yet.
    init()
    /// The tab's title.
    static var title: String { get }
    /// The pane's own keys (help lists them first; those marked `footer` are offered in the footer).
    static var keys: [KeyBinding] { get }
    /// Whether `s`/`S` sort its list.
    static var sortable: Bool { get }
    /// Lines `?` shows after the pane's keys: what its words and marks mean.
    static func helpNotes(_ theme: Theme) -> [Line]
    /// What `/` edits.
    var filter: String { get set }

    /// An action of the key map (or a wheel step) while the pane is shown.
    static func update(_ app: inout AppState, _ action: Action) -> [Command]
    /// A key in an input mode the pane owns (a note, a search box); nil when the mode is not its own.
    static func key(_ app: inout AppState, _ key: Key) -> [Command]?
    /// A click inside the body.
    static func click(_ app: inout AppState, x: Int, y: Int) -> [Command]
    /// The pane was brought to the front.
    static func shown(_ app: inout AppState) -> [Command]
    /// A snapshot arrived; `ranSince`: a run finished since the previous one.
    static func snapshotArrived(_ app: inout AppState, ranSince: Bool) -> [Command]
    /// `ctrl-r` while the pane is shown: what it reads besides the snapshot, read again.
    static func refreshNow(_ app: inout AppState) -> [Command]
    /// After every message: drop what must not outlive the pane being shown (revealed PII).
    static func settle(_ app: inout AppState)

    func draw(_ area: Rect, _ app: AppState, into buffer: inout ScreenBuffer)
    /// Keeps selections inside the lists after the data or the size changed.
    mutating func clamp(_ ctx: PaneContext, area: Rect)
    /// Puts the current list back at its top (the filter changed what it holds).
    mutating func resetSelection()
    /// What `y` copies.
    func selectedID(_ ctx: PaneContext) -> String?
    /// The refresh query: what the pane's open drill-ins need from the next snapshot.
    func refresh(_ request: inout SnapshotRequest)
    /// Whether the footer offers `action` now.
    func offers(_ action: Action, _ app: AppState) -> Bool
    /// The view waits for data its next keys act on (keys typed meanwhile are held, see `KeyQueue`).
    func awaitingData(_ app: AppState) -> Bool
    /// Whether `/` filters the pane's list; when false `/` reaches `update` as `.filter`.
    static var filters: Bool { get }
    /// Footer labels that differ from the standard ones.
    static var footerLabels: [Action: String] { get }
    /// The footer's order of hints; nil keeps the standard order.
    static var footerOrder: [Action]? { get }
}

extension Pane {
    public static var keys: [KeyBinding] { [] }
    public static var sortable: Bool { false }
    public static func helpNotes(_ theme: Theme) -> [Line] { [] }
    public static func key(_ app: inout AppState, _ key: Key) -> [Command]? { nil }
    public static func shown(_ app: inout AppState) -> [Command] { [] }
    public static func snapshotArrived(_ app: inout AppState, ranSince: Bool) -> [Command] { [] }
    public static func refreshNow(_ app: inout AppState) -> [Command] { [] }
    public static func settle(_ app: inout AppState) {}
    public func refresh(_ request: inout SnapshotRequest) {}
    public func offers(_ action: Action, _ app: AppState) -> Bool { true }
    public func awaitingData(_ app: AppState) -> Bool { false }
    public static var filters: Bool { true }
    public static var footerLabels: [Action: String] { [:] }
    public static var footerOrder: [Action]? { nil }

    /// This pane's id (its place in `PaneRegistry.all`).
    public static var id: PaneID { PaneID(Self.self) }
}

/// A pane made of lists over the snapshot: keys move and drill, a click selects; a change in what
/// its drill-ins need reads a new snapshot.
public protocol ListPane: Pane {
    mutating func handle(_ action: Action, _ ctx: PaneContext, area: Rect) -> Bool
    mutating func click(x: Int, y: Int, _ ctx: PaneContext, area: Rect) -> Bool
    func render(_ area: Rect, _ ctx: PaneContext, into buffer: inout ScreenBuffer)
}

extension ListPane {
    public static func update(_ app: inout AppState, _ action: Action) -> [Command] { listUpdate(&app, action) }

    /// Moves and drills in the pane's lists; reads a snapshot when an open drill-in changed.
    public static func listUpdate(_ app: inout AppState, _ action: Action) -> [Command] {
        let before = app.snapshotRequest
        let ctx = app.context, area = app.bodyArea
        _ = app[Self.self].handle(action, ctx, area: area)
        return app.snapshotRequest != before ? app.requestSnapshot() : []
    }

    /// A click selects a row; a click on the row already selected (the second of a double click) opens it.
    public static func click(_ app: inout AppState, x: Int, y: Int) -> [Command] {
        let before = app.snapshotRequest, state = app[Self.self]
        let ctx = app.context, area = app.bodyArea
        let hit = app[Self.self].click(x: x, y: y, ctx, area: area)
        if hit && app[Self.self] == state { return update(&app, .open) }
        return app.snapshotRequest != before ? app.requestSnapshot() : []
    }

    public func draw(_ area: Rect, _ app: AppState, into buffer: inout ScreenBuffer) { render(area, app.context, into: &buffer) }
}

/// A pane in the tab bar: its place in `PaneRegistry.all` (1–9 and Tab follow it).
public struct PaneID: Hashable, Sendable, RawRepresentable, CaseIterable, CustomStringConvertible {
    public let rawValue: Int

    public init?(rawValue: Int) {
        guard PaneRegistry.all.indices.contains(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// The id of a registered pane type (a pane missing from the registry is a programming error).
    public init<P: Pane>(_ type: P.Type) {
        guard let index = PaneRegistry.all.firstIndex(where: { $0 == type }) else {
            preconditionFailure("\(P.self) is not in PaneRegistry.all")
        }
        rawValue = index
    }

    public static var allCases: [PaneID] { PaneRegistry.all.indices.map { PaneID(rawValue: $0)! } }
    public var type: any Pane.Type { PaneRegistry.all[rawValue] }
    public var title: String { type.title }
    public var description: String { title }
}

/// The state of every pane, in registry order. Compared pane by pane, so `AppState` keeps a
/// synthesised `Equatable`.
public struct PaneStates: Equatable, Sendable {
    var states: [any Pane] = PaneRegistry.all.map { $0.init() }

    public init() {}

    public subscript<P: Pane>(_ type: P.Type) -> P {
        get { states[P.id.rawValue] as! P }
        set { states[P.id.rawValue] = newValue }
    }

    public subscript(id id: PaneID) -> any Pane {
        get { states[id.rawValue] }
        set { states[id.rawValue] = newValue }
    }

    public static func == (a: PaneStates, b: PaneStates) -> Bool {
        guard a.states.count == b.states.count else { return false }
        for i in a.states.indices where !same(a.states[i], b.states[i]) { return false }
        return true
    }

    private static func same<P: Pane>(_ x: P, _ y: any Pane) -> Bool {
        guard let y = y as? P else { return false }
        return x == y
    }
}

extension AppState {
    /// The state of pane type `P`.
    public subscript<P: Pane>(_ type: P.Type) -> P {
        get { panes[type] }
        set { panes[type] = newValue }
    }
}

/// A pane's own read at each refresh (off the main actor, with the snapshot), for data the shared
/// snapshot does not carry. Requests compare by `key`: the same key is the same query.
public struct PaneQuery: Sendable, Hashable {
    public var key: String
    public var read: @Sendable (Catalog) throws -> PaneData

    public init(key: String, read: @escaping @Sendable (Catalog) throws -> PaneData) { self.key = key; self.read = read }
    public static func == (a: PaneQuery, b: PaneQuery) -> Bool { a.key == b.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }
}

/// What a `PaneQuery` read, kept in the snapshot under the pane's id.
public struct PaneData: Sendable, Equatable {
    public let value: any Sendable
    private let equals: @Sendable (any Sendable) -> Bool

    public init<T: Sendable & Equatable>(_ value: T) {
        self.value = value
        equals = { ($0 as? T) == value }
    }

    public static func == (a: PaneData, b: PaneData) -> Bool { a.equals(b.value) }
}

extension ConsoleSnapshot {
    /// What pane `id`'s query read, as `T`.
    public func paneData<T>(_ type: T.Type, for id: PaneID) -> T? { panes[id]?.value as? T }
}
