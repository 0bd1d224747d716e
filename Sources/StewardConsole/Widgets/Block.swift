/// Unicode box drawing, never the terminal's ACS line set (which comes out as `lqqk` in tmux).
public enum BorderSet: Sendable {
    case plain, rounded, double, thick

    var glyphs: (h: String, v: String, tl: String, tr: String, bl: String, br: String) {
        switch self {
        case .plain: return ("─", "│", "┌", "┐", "└", "┘")
        case .rounded: return ("─", "│", "╭", "╮", "╰", "╯")
        case .double: return ("═", "║", "╔", "╗", "╚", "╝")
        case .thick: return ("━", "┃", "┏", "┓", "┗", "┛")
        }
    }
}

/// A bordered box with an optional title; returns the inner area.
public struct Block: Sendable {
    public var title: Line
    public var border: BorderSet
    public var style: Style
    public var titleStyle: Style

    public init(title: Line = [], border: BorderSet = .rounded, style: Style, titleStyle: Style) {
        self.title = title; self.border = border; self.style = style; self.titleStyle = titleStyle
    }

    public init(title: String, border: BorderSet = .rounded, style: Style, titleStyle: Style) {
        self.init(title: title.isEmpty ? [] : [Span(title)], border: border, style: style, titleStyle: titleStyle)
    }

    @discardableResult
    public func render(_ area: Rect, into buffer: inout ScreenBuffer) -> Rect {
        guard area.width >= 2, area.height >= 2 else { return Rect(x: area.x, y: area.y, width: 0, height: 0) }
        let g = border.glyphs
        let inner = String(repeating: g.h, count: area.width - 2)
        buffer.write(g.tl + inner + g.tr, x: area.x, y: area.y, style: style)
        for y in (area.y + 1)..<(area.maxY - 1) {
            buffer.write(g.v, x: area.x, y: y, style: style)
            buffer.write(g.v, x: area.maxX - 1, y: y, style: style)
        }
        buffer.write(g.bl + inner + g.br, x: area.x, y: area.maxY - 1, style: style)
        if !title.isEmpty, area.width > 4 {
            var line: Line = [Span(" ")] + title + [Span(" ")]
            line = line.map { Span($0.text, titleStyle.patched($0.style)) }
            buffer.write(line, x: area.x + 1, y: area.y, maxWidth: area.width - 2, base: titleStyle)
        }
        return area.inset(1)
    }
}
