/// Numbered tabs: ` 1 Sources  2 Quality  3 Runs `. Returns the column range of each tab for mouse clicks.
public struct Tabs {
    public var titles: [String]
    public var selected: Int
    public var activeStyle: Style
    public var inactiveStyle: Style

    public init(titles: [String], selected: Int, theme: Theme) {
        self.titles = titles; self.selected = selected
        activeStyle = theme.tabActive; inactiveStyle = theme.tabInactive
    }

    public static func labels(_ titles: [String]) -> [String] {
        titles.enumerated().map { " \($0.offset + 1) \($0.element) " }
    }

    /// The columns between two tabs: one, or none when that is what lets every tab fit in `width`
    /// (the labels' own spaces still part them; seven panes at 80 columns).
    public static func gap(_ titles: [String], width: Int) -> Int {
        labels(titles).reduce(0) { $0 + $1.displayWidth } + max(0, titles.count - 1) <= width ? 1 : 0
    }

    /// Columns the tabs take in `width`.
    public static func width(_ titles: [String], width: Int) -> Int {
        labels(titles).reduce(0) { $0 + $1.displayWidth } + max(0, titles.count - 1) * gap(titles, width: width)
    }

    /// The x ranges of each tab when drawn from `x` in `width` columns.
    public static func hitRanges(_ titles: [String], x: Int, width: Int) -> [Range<Int>] {
        var col = x
        let gap = gap(titles, width: width)
        return labels(titles).map { label in
            defer { col += label.displayWidth + gap }
            return col..<(col + label.displayWidth)
        }
    }

    public func render(_ area: Rect, into buffer: inout ScreenBuffer) {
        let labels = Tabs.labels(titles)
        let gap = Tabs.gap(titles, width: area.width)
        var col = area.x
        for (i, label) in labels.enumerated() {
            let active = i == selected
            // The active tab is marked by brackets too, so it shows without colour.
            let text = active ? "[\(label.dropFirst().dropLast())]" : label
            col += buffer.write(text, x: col, y: area.y, style: active ? activeStyle : inactiveStyle, maxWidth: area.maxX - col)
            col += gap
            if col >= area.maxX { break }
        }
    }
}

/// A horizontal bar `███████░░░░ 64%` with an optional label after it.
public struct Gauge {
    public var ratio: Double
    public var label: String
    public var filledStyle: Style
    public var emptyStyle: Style
    public var textStyle: Style

    public init(ratio: Double, label: String = "", filled: Style, empty: Style, text: Style) {
        self.ratio = ratio.isFinite ? Swift.max(0, Swift.min(1, ratio)) : 0
        self.label = label; filledStyle = filled; emptyStyle = empty; textStyle = text
    }

    public func render(_ area: Rect, into buffer: inout ScreenBuffer) {
        guard area.width > 0, area.height > 0 else { return }
        let percent = " \(Int((ratio * 100).rounded(.down)))%" + (label.isEmpty ? "" : " \(label)")
        let barWidth = Swift.max(0, area.width - percent.displayWidth)
        let exact = ratio * Double(barWidth)
        let full = Int(exact)
        let partials = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        let partial = partials[Swift.min(7, Int((exact - Double(full)) * 8))]
        var x = area.x
        x += buffer.write(String(repeating: "█", count: full) + partial, x: x, y: area.y, style: filledStyle, maxWidth: barWidth)
        buffer.write(String(repeating: "░", count: Swift.max(0, barWidth - (x - area.x))), x: x, y: area.y, style: emptyStyle)
        buffer.write(percent, x: area.x + barWidth, y: area.y, style: textStyle, maxWidth: area.width - barWidth)
    }
}

/// `▁▂▃▄▅▆▇█` bars of the most recent values that fit, scaled to the largest.
public enum Sparkline {
    static let bars: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// - parameter relative: scale between the smallest and largest value shown (for scores that
    ///   hover near 100%), instead of between zero and the largest (for counts).
    /// - parameter minimumSpan: with `relative`, the smallest range the bars stand for, so a dip of a
    ///   hundredth of a point is not drawn as a fall to the floor.
    public static func text(_ values: [Double], width: Int, relative: Bool = false, minimumSpan: Double = 0) -> String {
        let shown = values.suffix(Swift.max(0, width))
        guard let top = shown.max(), var low = shown.min() else { return "" }
        if relative {
            low = Swift.min(low, top - minimumSpan)
            guard top > low else { return String(repeating: "▄", count: shown.count) }
            return String(shown.map { bars[Swift.min(7, Int(($0 - low) / (top - low) * 7 + 0.5))] })
        }
        guard top > 0 else { return String(repeating: "▁", count: shown.count) }
        // Zero sits on the floor; anything above it gets at least the second bar, so it is seen.
        return String(shown.map { v -> Character in
            let level = v <= 0 ? 0 : Swift.max(1, Int((v / top * 7).rounded()))
            return bars[Swift.min(7, level)]
        })
    }

    public static func text(_ values: [Int], width: Int) -> String { text(values.map(Double.init), width: width) }
}

/// Word-wrapped styled text.
public enum TextBlock {
    /// Wraps each line to `width` columns, breaking at spaces and hard-breaking longer words.
    public static func wrap(_ lines: [Line], width: Int) -> [Line] {
        guard width > 0 else { return [] }
        var out: [Line] = []
        for line in lines {
            var current: Line = [], used = 0
            func flush() {
                // A line never ends in the space where it broke.
                while let last = current.last, last.text == " " { current.removeLast() }
                out.append(current); current = []; used = 0
            }
            for span in line {
                for word in tokens(span.text) {
                    let w = word.displayWidth
                    if word == " " && used == 0 && !current.isEmpty { continue }
                    if used + w > width {
                        if word.allSatisfy({ $0 == " " }) { flush(); continue }
                        if used > 0 { flush() }
                        var rest = Substring(word)
                        while rest.displayWidth > width {
                            var piece = "", pw = 0
                            while let c = rest.first, pw + c.displayWidth <= width { piece.append(c); pw += c.displayWidth; rest.removeFirst() }
                            if piece.isEmpty { rest.removeFirst(); continue }
                            current.append(Span(piece, span.style)); flush()
                        }
                        current.append(Span(String(rest), span.style)); used = rest.displayWidth
                        continue
                    }
                    current.append(Span(word, span.style)); used += w
                }
            }
            flush()
        }
        return out
    }

    /// Splits text into words and single spaces.
    static func tokens(_ text: String) -> [String] {
        var out: [String] = [], word = ""
        for c in text {
            if c == " " { if !word.isEmpty { out.append(word); word = "" }; out.append(" ") } else { word.append(c) }
        }
        if !word.isEmpty { out.append(word) }
        return out
    }

    /// Draws wrapped lines from `scroll` on; returns the total number of wrapped lines.
    @discardableResult
    public static func render(_ lines: [Line], _ area: Rect, scroll: Int = 0, base: Style, into buffer: inout ScreenBuffer) -> Int {
        let wrapped = wrap(lines, width: area.width)
        let start = Swift.max(0, Swift.min(scroll, Swift.max(0, wrapped.count - area.height)))
        for (i, line) in wrapped.dropFirst(start).prefix(area.height).enumerated() {
            buffer.write(line, x: area.x, y: area.y + i, maxWidth: area.width, base: base)
        }
        return wrapped.count
    }
}

/// A centred box drawn over everything else; returns its inner area.
public enum Modal {
    @discardableResult
    public static func render(title: String, width: Int, height: Int, in area: Rect, theme: Theme, into buffer: inout ScreenBuffer) -> Rect {
        let box = Layout.centered(area, width: width, height: height)
        buffer.fill(box, style: theme.modal)
        let block = Block(title: title, border: .rounded, style: theme.modal.patched(theme.modalBorder),
                          titleStyle: theme.modal.patched(theme.title))
        return block.render(box, into: &buffer).inset(horizontal: 1, vertical: 0)
    }
}

/// A one-line text editor: the text, a cursor position, and the usual editing keys.
///
/// A line holds at most `limit` characters: the rest of a longer paste is dropped and counted, and
/// the line says so. Drawing looks only at the characters around the cursor that fit the box, so a
/// long line costs no more to draw than a short one.
public struct InputLine: Hashable, Sendable {
    /// Enough for any search, filter, command or note; a paste of a whole document is cut here.
    public static let defaultLimit = 1_000

    /// Setting it keeps `characters` current; the editing keys below change it only one way.
    public var text: String = "" { didSet { characters = text.count } }
    /// `text.count`, kept so a full line refuses each further key of a paste in O(1), not O(length).
    public private(set) var characters = 0
    /// Cursor position in characters.
    public var cursor: Int = 0
    /// The most characters the line takes.
    public let limit: Int
    /// Characters refused because the line was full, since it was last edited otherwise.
    public private(set) var dropped = 0

    public init(text: String = "", limit: Int = InputLine.defaultLimit) {
        self.limit = max(1, limit)
        let kept = String(text.prefix(self.limit))
        self.text = kept
        characters = kept.count
        cursor = characters
    }

    /// Whether another character would exceed the limit.
    public var isFull: Bool { characters >= limit }

    /// Applies an editing key; returns false for keys it does not handle.
    @discardableResult
    public mutating func handle(_ key: Key) -> Bool {
        if case .char = key, isFull {
            dropped += 1
            return true
        }
        switch key {
        case .char(let c):
            let i = text.index(text.startIndex, offsetBy: cursor)
            text.insert(c, at: i)
            // A combining mark joins the character before it: the count may not grow.
            cursor = Swift.min(cursor + 1, characters)
        case .backspace, .ctrl("h"):
            guard cursor > 0 else { return true }
            let i = text.index(text.startIndex, offsetBy: cursor - 1)
            text.remove(at: i); cursor -= 1
        case .delete, .ctrl("d"):
            guard cursor < characters else { return true }
            text.remove(at: text.index(text.startIndex, offsetBy: cursor))
        case .left, .ctrl("b"): cursor = Swift.max(0, cursor - 1)
        case .right, .ctrl("f"): cursor = Swift.min(characters, cursor + 1)
        case .home, .ctrl("a"): cursor = 0
        case .end, .ctrl("e"): cursor = characters
        case .ctrl("u"): text.removeFirst(cursor); cursor = 0
        case .ctrl("k"): text = String(text.prefix(cursor))
        case .ctrl("w"):
            var head = String(text.prefix(cursor))
            while head.last == " " { head.removeLast() }
            while let last = head.last, last != " " { head.removeLast() }
            text = head + text.dropFirst(cursor); cursor = head.count
        default: return false
        }
        dropped = 0
        return true
    }

    /// The part of a line shown in `room` columns: it ends at the cursor when the text before the
    /// cursor does not fit, as far left as it can go otherwise.
    public struct Window: Equatable, Sendable {
        /// The characters drawn.
        public var visible: String
        /// Characters of the text left of the window.
        public var start: Int
        /// Columns from the window's left edge to the cursor.
        public var cursorColumn: Int
        /// Characters whose width was looked at (the cost of drawing, independent of the line's length).
        public var examined: Int
    }

    /// Walks back from the cursor while the characters fit, then forward to fill the room: it looks
    /// at no more characters than fit in `room` (plus the ones that stop each walk), whatever the length.
    public static func window(_ text: String, cursor: Int, room: Int) -> Window {
        let room = Swift.max(0, room)
        let cursorIndex = text.index(text.startIndex, offsetBy: Swift.max(0, cursor), limitedBy: text.endIndex) ?? text.endIndex
        var start = cursorIndex, used = 0, examined = 0, back = 0
        while start > text.startIndex {
            let previous = text.index(before: start)
            let w = text[previous].displayWidth
            examined += 1
            if used + w > room { break }
            used += w; start = previous; back += 1
        }
        var visible = String(text[start..<cursorIndex])
        var end = cursorIndex, width = used
        while end < text.endIndex {
            let c = text[end]
            let w = c.displayWidth
            examined += 1
            if width + w > room { break }
            visible.append(c); width += w; end = text.index(after: end)
        }
        return Window(visible: visible, start: Swift.max(0, cursor) - back, cursorColumn: used, examined: examined)
    }

    /// Draws `prompt` + text, scrolled so the cursor is visible, and places the terminal cursor.
    /// A full line that refused characters says how many on its right.
    public func render(prompt: String, _ area: Rect, style: Style, into buffer: inout ScreenBuffer) {
        guard area.width > prompt.displayWidth + 1 else { return }
        buffer.fill(area.row(0), style: style)
        let px = buffer.write(prompt, x: area.x, y: area.y, style: style)
        var room = area.width - px - 1
        if dropped > 0 {
            let hint = " max \(limit) characters: \(Format.count(dropped)) dropped "
            let shown = hint.truncated(to: Swift.max(0, room - 10))
            buffer.write(shown, x: area.maxX - shown.displayWidth, y: area.y, style: style.with(.reverse))
            room -= shown.displayWidth
        }
        let w = InputLine.window(text, cursor: cursor, room: room)
        buffer.write(w.visible, x: area.x + px, y: area.y, style: style, maxWidth: room)
        buffer.cursor = (area.x + px + w.cursorColumn, area.y)
    }
}
