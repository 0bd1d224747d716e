import CNCurses
import Foundation

/// The real terminal, through ncursesw. Lives on the main actor; only this type touches curses.
///
/// Draws only the cells that changed since the last frame, maps theme colours to what the terminal
/// supports, and restores the terminal on `shutdown()`, at exit, on SIGTERM/SIGINT/SIGHUP and on crashes.
@MainActor
public final class NCursesBackend: TerminalBackend {
    public enum ColorMode: Sendable { case none, basic8, palette256 }

    private let window: UnsafeMutablePointer<WINDOW>
    public private(set) var colorMode: ColorMode
    private var previous: ScreenBuffer?
    private var pairs: [PairKey: Int32] = [:]
    private var nextPair: Int32 = 1
    private var active = true

    private struct PairKey: Hashable { var fg: Int, bg: Int }

    /// Takes over the terminal. `noColor` (the `NO_COLOR` convention) forces monochrome.
    public init(noColor: Bool) {
        if setlocale(LC_ALL, "") == nil || !NCursesBackend.codesetIsUTF8() {
            setlocale(LC_CTYPE, "C.UTF-8")
        }
        cn_install_restore_handlers()
        guard let win = initscr() else { fatalError("initscr failed: is TERM set?") }
        window = win
        cn_set_screen_active(1)
        raw()            // Ctrl-C and Ctrl-Z arrive as keys: quitting runs our own cleanup.
        noecho()
        nonl()
        keypad(win, true)
        set_escdelay(25) // Esc reacts at once instead of after a second.
        curs_set(0)
        var oldMask: mmask_t = 0
        mousemask(mmask_t(cn_all_mouse_events()), &oldMask)
        mouseinterval(0)
        if !noColor, has_colors() {
            start_color()
            use_default_colors()
            colorMode = cn_colors() >= 256 ? .palette256 : (cn_colors() >= 8 ? .basic8 : .none)
        } else {
            colorMode = .none
        }
    }

    public var size: (width: Int, height: Int) { (Int(getmaxx(window)), Int(getmaxy(window))) }

    public func draw(_ buffer: ScreenBuffer) {
        guard active else { return }
        if let previous, previous.width != buffer.width || previous.height != buffer.height {
            werase(window)
            self.previous = nil
        }
        let changes = buffer.diff(from: previous)
        for change in changes where !change.cell.isContinuation {
            put(change.cell, x: change.x, y: change.y, buffer: buffer)
        }
        if let cursor = buffer.cursor {
            wmove(window, Int32(cursor.y), Int32(cursor.x))
            curs_set(1)
        } else {
            curs_set(0)
        }
        wnoutrefresh(window)
        doupdate()
        previous = buffer
    }

    private func put(_ cell: Cell, x: Int, y: Int, buffer: ScreenBuffer) {
        // The bottom-right cell would scroll some terminals; curses refuses it with an error we ignore.
        var scalars = cell.symbol.unicodeScalars.prefix(5).map { wchar_t(bitPattern: $0.value) }
        if scalars.isEmpty { scalars = [wchar_t(32)] }
        scalars.append(0)
        let (attrs, pair) = attributes(for: cell.style)
        scalars.withUnsafeBufferPointer { text in
            _ = cn_put_cell(window, Int32(y), Int32(x), text.baseAddress, attrs, pair)
        }
    }

    private func attributes(for style: Style) -> (attr_t, Int32) {
        var attrs = attr_t(cn_a_normal())
        var a = style.attributes
        if colorMode == .none, style.bg != .default, !a.contains(.reverse) {
            // Without colour, a coloured background (selection, header) still needs to stand out.
            a.insert(.reverse)
        }
        if a.contains(.bold) { attrs |= attr_t(cn_a_bold()) }
        if a.contains(.dim) { attrs |= attr_t(cn_a_dim()) }
        if a.contains(.underline) { attrs |= attr_t(cn_a_underline()) }
        if a.contains(.reverse) { attrs |= attr_t(cn_a_reverse()) }
        if a.contains(.italic) { attrs |= attr_t(cn_a_italic()) }
        return (attrs, colorPair(style))
    }

    private func colorPair(_ style: Style) -> Int32 {
        let fg: Int, bg: Int
        switch colorMode {
        case .none: return 0
        case .basic8: fg = style.fg.palette8; bg = style.bg.palette8
        case .palette256: fg = style.fg.palette256; bg = style.bg.palette256
        }
        if fg == -1 && bg == -1 { return 0 }
        let key = PairKey(fg: fg, bg: bg)
        if let pair = pairs[key] { return pair }
        guard nextPair < min(Int32(cn_color_pairs()), 32_767) else { return 0 }
        let pair = nextPair
        nextPair += 1
        init_pair(Int16(pair), Int16(fg), Int16(bg))
        pairs[key] = pair
        return pair
    }

    public func poll(timeout: TimeInterval) -> InputEvent? {
        guard active else { return nil }
        wtimeout(window, Int32(max(0, timeout * 1000)))
        var ch: wint_t = 0
        let rc = wget_wch(window, &ch)
        if rc == ERR { return nil }
        if rc == KEY_CODE_YES { return special(Int32(ch)) }
        return character(UInt32(ch))
    }

    private func character(_ value: UInt32) -> InputEvent? {
        switch value {
        case 9: return .key(.tab)
        case 10, 13: return .key(.enter)
        case 27: return .key(.escape)
        case 8, 127: return .key(.backspace)
        case 0: return .key(.ctrl(" "))
        case 1...26: return .key(.ctrl(Character(Unicode.Scalar(value + 96)!)))
        case 28...31: return .key(.ctrl(Character(Unicode.Scalar(value + 64)!)))
        default:
            guard let scalar = Unicode.Scalar(value) else { return nil }
            return .key(.char(Character(scalar)))
        }
    }

    private func special(_ code: Int32) -> InputEvent? {
        switch code {
        case KEY_RESIZE:
            previous = nil
            return .resize(width: size.width, height: size.height)
        case KEY_MOUSE:
            var event = MEVENT()
            guard getmouse(&event) == OK else { return nil }
            let state = UInt(event.bstate)
            let x = Int(event.x), y = Int(event.y)
            if state & UInt(cn_button4_pressed()) != 0 { return .mouse(MouseEvent(kind: .wheelUp, x: x, y: y)) }
            if state & UInt(cn_button5_pressed()) != 0 { return .mouse(MouseEvent(kind: .wheelDown, x: x, y: y)) }
            if state & UInt(cn_button1_pressed() | cn_button1_clicked()) != 0 {
                return .mouse(MouseEvent(kind: .click, x: x, y: y))
            }
            return nil
        case KEY_UP: return .key(.up)
        case KEY_DOWN: return .key(.down)
        case KEY_LEFT: return .key(.left)
        case KEY_RIGHT: return .key(.right)
        case KEY_PPAGE: return .key(.pageUp)
        case KEY_NPAGE: return .key(.pageDown)
        case KEY_HOME: return .key(.home)
        case KEY_END: return .key(.end)
        case KEY_ENTER: return .key(.enter)
        case KEY_BTAB: return .key(.backTab)
        case KEY_BACKSPACE: return .key(.backspace)
        case KEY_DC: return .key(.delete)
        case KEY_IC: return .key(.insert)
        default:
            for n in 1...24 where code == cn_key_f(Int32(n)) { return .key(.function(n)) }
            return nil
        }
    }

    public func copyToClipboard(_ text: String) {
        // OSC 52: the terminal (even across SSH and tmux with set-clipboard) puts it on the clipboard.
        let sequence = "\u{1B}]52;c;\(Data(text.utf8).base64EncodedString())\u{07}"
        cn_flush_stdout()
        _ = sequence.withCString { write(STDOUT_FILENO, $0, strlen($0)) }
    }

    public func shutdown() {
        guard active else { return }
        active = false
        curs_set(1)
        cn_restore_terminal()
    }

    private static func codesetIsUTF8() -> Bool {
        guard let codeset = nl_langinfo(nl_item(CODESET)) else { return false }
        let name = String(cString: codeset).uppercased()
        return name == "UTF-8" || name == "UTF8"
    }
}
