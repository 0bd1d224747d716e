/// A rectangle of terminal cells, in columns and rows from the top-left corner.
public struct Rect: Hashable, Sendable {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = max(0, width); self.height = max(0, height)
    }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var isEmpty: Bool { width == 0 || height == 0 }
    public func contains(x px: Int, y py: Int) -> Bool { px >= x && px < maxX && py >= y && py < maxY }
    /// The rectangle shrunk by `by` cells on every side.
    public func inset(_ by: Int) -> Rect { Rect(x: x + by, y: y + by, width: width - 2 * by, height: height - 2 * by) }
    public func inset(horizontal: Int, vertical: Int) -> Rect {
        Rect(x: x + horizontal, y: y + vertical, width: width - 2 * horizontal, height: height - 2 * vertical)
    }
    /// A row of this rectangle (relative index).
    public func row(_ i: Int) -> Rect { Rect(x: x, y: y + i, width: width, height: i < height ? 1 : 0) }
}

/// One terminal cell: a grapheme cluster and its style. The right half of a wide character is a
/// continuation cell with an empty symbol.
public struct Cell: Hashable, Sendable {
    public var symbol: String
    public var style: Style
    public init(_ symbol: String = " ", style: Style = .plain) { self.symbol = symbol; self.style = style }
    public var isContinuation: Bool { symbol.isEmpty }
    public static let blank = Cell()
}

/// A change the diff found: write `cell` at (`x`, `y`).
public struct CellChange: Hashable, Sendable {
    public var x: Int, y: Int
    public var cell: Cell
}

/// The frame views draw into: a grid of cells, rendered whole each frame and diffed against the
/// previous one by the backend.
///
/// ```swift
/// var buffer = ScreenBuffer(width: 80, height: 24)
/// buffer.write("名前 ok", x: 0, y: 0, style: theme.text)   // 名 and 前 take two columns each
/// ```
public struct ScreenBuffer: Equatable, Sendable {
    public private(set) var width: Int
    public private(set) var height: Int
    public private(set) var cells: [Cell]
    /// Where the terminal cursor should be shown (input lines), or nil to hide it.
    public var cursor: (x: Int, y: Int)? {
        get { cursorX.map { ($0, cursorY) } }
        set { cursorX = newValue?.x; cursorY = newValue?.y ?? 0 }
    }
    private var cursorX: Int?
    private var cursorY = 0

    public init(width: Int, height: Int, fill: Cell = .blank) {
        self.width = max(0, width); self.height = max(0, height)
        cells = Array(repeating: fill, count: self.width * self.height)
    }

    public var area: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
    }

    public mutating func clear(style: Style = .plain) {
        cells = Array(repeating: Cell(" ", style: style), count: width * height)
        cursorX = nil
    }

    /// Fills `rect` (clipped to the buffer) with `symbol` in `style`.
    public mutating func fill(_ rect: Rect, symbol: String = " ", style: Style) {
        let x0 = max(0, rect.x), x1 = min(width, rect.maxX), y0 = max(0, rect.y), y1 = min(height, rect.maxY)
        guard x0 < x1, y0 < y1 else { return }
        for y in y0..<y1 {
            clearWideFragments(x: x0, y: y); clearWideFragments(x: x1 - 1, y: y)
            for x in x0..<x1 { cells[y * width + x] = Cell(symbol, style: style) }
        }
    }

    /// Applies `style` on top of the existing cells in `rect` (e.g. a selection highlight).
    public mutating func patchStyle(_ rect: Rect, _ style: Style) {
        let x0 = max(0, rect.x), x1 = min(width, rect.maxX), y0 = max(0, rect.y), y1 = min(height, rect.maxY)
        guard x0 < x1, y0 < y1 else { return }
        for y in y0..<y1 { for x in x0..<x1 { cells[y * width + x].style = cells[y * width + x].style.patched(style) } }
    }

    /// Writes text from (`x`, `y`), never past `maxWidth` columns nor the buffer's edge; a wide
    /// character that would straddle the limit is replaced by a space. Returns the columns used.
    @discardableResult
    public mutating func write(_ text: String, x: Int, y: Int, style: Style, maxWidth: Int? = nil) -> Int {
        guard y >= 0, y < height, x < width else { return 0 }
        let limit = min(width, maxWidth.map { x + max(0, $0) } ?? width)
        var col = x
        for ch in text {
            var w = ch.displayWidth
            var symbol = String(ch)
            if ch == "\t" || ch.isNewline { symbol = " "; w = 1 }
            if w == 0 {
                // A lone zero-width scalar (control or combining) is dropped: it has no cell.
                continue
            }
            if col + w > limit {
                if w == 2, col < limit, col >= 0 { put(Cell(" ", style: style), x: col, y: y); col += 1 }
                break
            }
            if col >= 0 {
                put(Cell(symbol, style: style), x: col, y: y)
                if w == 2 { put(Cell("", style: style), x: col + 1, y: y) }
            }
            col += w
        }
        return max(0, col - max(x, 0))
    }

    /// Writes styled spans one after another; returns the columns used.
    @discardableResult
    public mutating func write(_ line: Line, x: Int, y: Int, maxWidth: Int, base: Style = .plain) -> Int {
        var used = 0
        for span in line {
            guard used < maxWidth else { break }
            used += write(span.text, x: x + used, y: y, style: base.patched(span.style), maxWidth: maxWidth - used)
        }
        return used
    }

    private mutating func put(_ cell: Cell, x: Int, y: Int) {
        guard x >= 0, x < width else { return }
        clearWideFragments(x: x, y: y)
        cells[y * width + x] = cell
    }

    /// Overwriting half of a wide character leaves the other half as a blank.
    private mutating func clearWideFragments(x: Int, y: Int) {
        let i = y * width + x
        if cells[i].isContinuation, x > 0 { cells[i - 1] = Cell(" ", style: cells[i - 1].style) }
        if !cells[i].isContinuation, cells[i].symbol.displayWidth == 2, x + 1 < width {
            cells[i + 1] = Cell(" ", style: cells[i + 1].style)
        }
    }

    /// The cells that differ from `previous`; everything when the sizes differ.
    public func diff(from previous: ScreenBuffer?) -> [CellChange] {
        var changes: [CellChange] = []
        let same = previous.map { $0.width == width && $0.height == height } ?? false
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x
                let cell = cells[i]
                if same, previous!.cells[i] == cell { continue }
                changes.append(CellChange(x: x, y: y, cell: cell))
            }
        }
        return changes
    }

    /// The screen as text, one string per row, trailing spaces kept (wide characters once).
    public var lines: [String] {
        (0..<height).map { y in
            var s = ""
            for x in 0..<width where !cells[y * width + x].isContinuation { s += cells[y * width + x].symbol }
            return s
        }
    }

    public static func == (a: ScreenBuffer, b: ScreenBuffer) -> Bool {
        a.width == b.width && a.height == b.height && a.cells == b.cells && a.cursorX == b.cursorX && a.cursorY == b.cursorY
    }
}
