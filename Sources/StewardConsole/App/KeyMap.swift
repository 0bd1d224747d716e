import StewardConfig

/// Everything a key can do (defined with the `keys:` config names in StewardPipeline).
public typealias Action = ConsoleAction

/// One row of the key map: what keys do, where, and how help describes it.
public struct KeyBinding: Sendable, Equatable {
    public var action: Action
    public var keys: [Key]
    public var description: String
    /// Panes where the binding applies; nil means everywhere.
    public var panes: Set<PaneID>?
    /// Shown in the footer (the keys that matter most), not only in help.
    public var inFooter: Bool

    public init(_ action: Action, _ keys: [Key], _ description: String, panes: Set<PaneID>? = nil, footer: Bool = false) {
        self.action = action; self.keys = keys; self.description = description; self.panes = panes; inFooter = footer
    }

    public func applies(to pane: PaneID) -> Bool { panes?.contains(pane) ?? true }
    public var keyLabel: String { keys.map(\.description).joined(separator: " ") }
}

public enum KeyMapError: Error, CustomStringConvertible, Equatable {
    case unknownAction(String)
    case badKey(action: String, spec: String)

    public var description: String {
        switch self {
        case .unknownAction(let name):
            return "keys: unknown action '\(name)' (known: \(Action.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .badKey(let action, let spec):
            return "keys.\(action): cannot read key '\(spec)' (examples: x, G, ctrl-r, F5, enter, esc, tab, shift-tab, pgdn)"
        }
    }
}

/// The single table of key bindings. It drives dispatch, the footer and the `?` help overlay.
public struct KeyMap: Sendable, Equatable {
    public private(set) var bindings: [KeyBinding]

    public init(bindings: [KeyBinding]) { self.bindings = bindings }

    /// The keys every pane has, then each pane's own (from `PaneRegistry`), then copy and refresh.
    public static let standard = KeyMap(bindings: [
        KeyBinding(.help, [.char("?")], "show the keys of this pane", footer: true),
        KeyBinding(.command, [.char(":")], "command line (:run, :theme, :help, :quit)", footer: true),
        KeyBinding(.filter, [.char("/")], "filter the list as you type", footer: true),
        KeyBinding(.run, [.char("r")], "run the pipeline in the background", footer: true),
        KeyBinding(.quit, [.char("q"), .ctrl("c")], "quit (asks first while a run is in progress)", footer: true),
        KeyBinding(.nextPane, [.tab], "next pane"),
        KeyBinding(.prevPane, [.backTab], "previous pane"),
        KeyBinding(.pane1, [.char("1")], "go to pane 1"),
        KeyBinding(.pane2, [.char("2")], "go to pane 2"),
        KeyBinding(.pane3, [.char("3")], "go to pane 3"),
        KeyBinding(.pane4, [.char("4")], "go to pane 4"),
        KeyBinding(.pane5, [.char("5")], "go to pane 5"),
        KeyBinding(.pane6, [.char("6")], "go to pane 6"),
        KeyBinding(.pane7, [.char("7")], "go to pane 7"),
        KeyBinding(.pane8, [.char("8")], "go to pane 8"),
        KeyBinding(.pane9, [.char("9")], "go to pane 9"),
        KeyBinding(.up, [.up, .char("k")], "move up"),
        KeyBinding(.down, [.down, .char("j")], "move down"),
        KeyBinding(.pageUp, [.pageUp, .ctrl("b")], "page up"),
        KeyBinding(.pageDown, [.pageDown, .ctrl("f")], "page down"),
        KeyBinding(.top, [.home, .char("g")], "first row"),
        KeyBinding(.bottom, [.end, .char("G")], "last row"),
        KeyBinding(.open, [.enter], "open the selected item", footer: true),
        KeyBinding(.back, [.escape], "back / clear the filter", footer: true),
        KeyBinding(.nextSection, [.right, .char("l")], "next section", footer: true),
        KeyBinding(.prevSection, [.left, .char("h")], "previous section"),
        KeyBinding(.sort, [.char("s")], "sort by the next column", panes: sortable, footer: true),
        KeyBinding(.reverseSort, [.char("S")], "reverse the sort order", panes: sortable),
    ] + PaneRegistry.all.flatMap { $0.keys } + [
        KeyBinding(.copyID, [.char("y")], "copy the selected id to the clipboard (OSC 52)", footer: true),
        KeyBinding(.refresh, [.ctrl("r"), .function(5)], "refresh from the catalog now"),
    ])

    /// The panes whose lists `s` sorts.
    static var sortable: Set<PaneID> { Set(PaneID.allCases.filter { $0.type.sortable }) }

    /// The action of `key` in `pane`: pane-specific bindings win over global ones.
    public func action(for key: Key, in pane: PaneID) -> Action? {
        if let b = bindings.first(where: { $0.panes != nil && $0.applies(to: pane) && $0.keys.contains(key) }) { return b.action }
        return bindings.first(where: { $0.panes == nil && $0.keys.contains(key) })?.action
    }

    public func binding(for action: Action) -> KeyBinding? { bindings.first { $0.action == action } }

    /// The bindings help shows for `pane`, in table order; a global binding whose keys the pane
    /// takes for itself (`/` searches in Customers) is left out.
    public func bindings(for pane: PaneID) -> [KeyBinding] {
        let taken = Set(bindings.filter { $0.panes?.contains(pane) == true }.flatMap(\.keys))
        return bindings.filter { b in b.applies(to: pane) && (b.panes != nil || b.keys.isEmpty || !b.keys.allSatisfy(taken.contains)) }
    }

    /// This map with user overrides from the `keys:` config section applied.
    ///
    /// Each entry maps an action name to one key or several separated by spaces (`"ctrl-r F5"`).
    /// A key taken by an override is removed from whatever action had it before, so one key never
    /// means two things.
    public func applying(_ overrides: [String: String]) throws -> KeyMap {
        var map = self
        for (name, spec) in overrides.sorted(by: { $0.key < $1.key }) {
            guard let action = Action(rawValue: name) else { throw KeyMapError.unknownAction(name) }
            let (keys, unreadable) = Key.list(spec)
            if let unreadable { throw KeyMapError.badKey(action: name, spec: unreadable) }
            guard !keys.isEmpty else { throw KeyMapError.badKey(action: name, spec: spec) }
            for i in map.bindings.indices { map.bindings[i].keys.removeAll { keys.contains($0) } }
            if let i = map.bindings.firstIndex(where: { $0.action == action }) { map.bindings[i].keys = keys }
        }
        return map
    }
}
