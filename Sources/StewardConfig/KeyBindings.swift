/// The vocabulary of steward.yml's `keys:` section: the console's actions and the key grammar. They live
/// with the config (the console imports them) so a bad binding is a config error at load, naming file,
/// line and key, for every command, rather than a failure when the console starts.

/// Everything a console key can do (the console calls it `Action`). The raw value is the name used in
/// the `keys:` config section.
public enum ConsoleAction: String, CaseIterable, Sendable {
    case quit, help, command, filter, run, refresh
    case copyID = "copy_id"
    case nextPane = "next_pane", prevPane = "prev_pane"
    case pane1 = "pane_1", pane2 = "pane_2", pane3 = "pane_3", pane4 = "pane_4", pane5 = "pane_5"
    case pane6 = "pane_6", pane7 = "pane_7", pane8 = "pane_8", pane9 = "pane_9"
    case up, down
    case pageUp = "page_up", pageDown = "page_down"
    case top, bottom
    case open, back
    case nextSection = "next_section", prevSection = "prev_section"
    case sort
    case reverseSort = "reverse_sort"
    case toggleTask = "toggle_task"
    /// Pane 5: the selected risk's or dependency's status, to the next one.
    case cycleStatus = "cycle_status"
    case note
    case search, reveal, accept, reject, review

    /// For `pane_N` actions, the zero-based pane index.
    public var paneIndex: Int? {
        guard rawValue.hasPrefix("pane_"), let n = Int(rawValue.dropFirst(5)) else { return nil }
        return n - 1
    }
}

/// A key press, independent of the terminal library (the console calls it `Key`).
public enum KeyStroke: Hashable, Sendable, CustomStringConvertible {
    case char(Character)
    case ctrl(Character)
    case function(Int)
    case up, down, left, right, pageUp, pageDown, home, end
    case enter, escape, tab, backTab, backspace, delete, insert

    /// Parses a key spec as written in the `keys:` config section: `x`, `G`, `?`, `ctrl-r`, `F5`,
    /// `enter`, `esc`, `tab`, `shift-tab`, `up`, `pgdn`, `space`, …
    public init?(spec raw: String) {
        let spec = raw.trimmingCharacters(in: .whitespaces)
        if spec.count == 1, let c = spec.first { self = .char(c); return }
        let s = spec.lowercased()
        for prefix in ["ctrl-", "ctrl+", "c-", "^"] where s.hasPrefix(prefix) {
            let rest = s.dropFirst(prefix.count)
            guard rest.count == 1, let c = rest.first, c.isLetter || "[\\]^_ ".contains(c) else { return nil }
            self = .ctrl(c); return
        }
        if s.hasPrefix("f"), let n = Int(s.dropFirst()), (1...24).contains(n) { self = .function(n); return }
        switch s {
        case "enter", "return", "ret": self = .enter
        case "esc", "escape": self = .escape
        case "tab": self = .tab
        case "shift-tab", "backtab", "s-tab": self = .backTab
        case "backspace", "bs": self = .backspace
        case "delete", "del": self = .delete
        case "insert", "ins": self = .insert
        case "up": self = .up
        case "down": self = .down
        case "left": self = .left
        case "right": self = .right
        case "pgup", "pageup", "page-up": self = .pageUp
        case "pgdn", "pgdown", "pagedown", "page-down": self = .pageDown
        case "home": self = .home
        case "end": self = .end
        case "space": self = .char(" ")
        default: return nil
        }
    }

    /// How the key is written in help and footers.
    public var description: String {
        switch self {
        case .char(" "): return "space"
        case .char(let c): return String(c)
        case .ctrl(let c): return "ctrl-\(c)"
        case .function(let n): return "F\(n)"
        case .up: return "↑"
        case .down: return "↓"
        case .left: return "←"
        case .right: return "→"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case .home: return "Home"
        case .end: return "End"
        case .enter: return "Enter"
        case .escape: return "Esc"
        case .tab: return "Tab"
        case .backTab: return "Shift-Tab"
        case .backspace: return "Backspace"
        case .delete: return "Del"
        case .insert: return "Ins"
        }
    }
}

extension KeyStroke {
    /// The keys of one `keys:` entry: one key or several separated by spaces (`"ctrl-r F5"`); a single
    /// space is the space bar. Returns the keys read and the first part that is not a key.
    public static func list(_ spec: String) -> (keys: [KeyStroke], unreadable: String?) {
        if !spec.isEmpty && spec.allSatisfy({ $0 == " " }) { return ([.char(" ")], nil) }
        var keys: [KeyStroke] = []
        for part in spec.split(separator: " ").map(String.init) {
            guard let key = KeyStroke(spec: part) else { return (keys, part) }
            keys.append(key)
        }
        return (keys, nil)
    }
}
