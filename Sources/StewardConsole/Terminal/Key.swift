/// A key press, independent of the terminal library.
public enum Key: Hashable, Sendable, CustomStringConvertible {
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

/// What the terminal reports.
public enum InputEvent: Hashable, Sendable {
    case key(Key)
    case mouse(MouseEvent)
    case resize(width: Int, height: Int)
}

public struct MouseEvent: Hashable, Sendable {
    public enum Kind: Hashable, Sendable { case click, wheelUp, wheelDown }
    public var kind: Kind
    public var x: Int, y: Int
    public init(kind: Kind, x: Int, y: Int) { self.kind = kind; self.x = x; self.y = y }
}
