/// Selection and scroll position of a list or table. Kept in pane state and moved by `update`.
public struct ListState: Hashable, Sendable {
    public var selected = 0
    public var offset = 0
    public init(selected: Int = 0, offset: Int = 0) { self.selected = selected; self.offset = offset }

    /// Moves the selection by `delta` rows within `count`, scrolling so it stays in a `height`-row view.
    public mutating func move(by delta: Int, count: Int, height: Int) {
        select(selected + delta, count: count, height: height)
    }

    public mutating func select(_ index: Int, count: Int, height: Int) {
        selected = count == 0 ? 0 : Swift.max(0, Swift.min(count - 1, index))
        clamp(count: count, height: height)
    }

    /// Keeps selection and offset valid after the rows changed or the view was resized.
    public mutating func clamp(count: Int, height: Int) {
        if count == 0 { selected = 0; offset = 0; return }
        selected = Swift.max(0, Swift.min(count - 1, selected))
        let h = Swift.max(1, height)
        if selected < offset { offset = selected }
        if selected >= offset + h { offset = selected - h + 1 }
        offset = Swift.max(0, Swift.min(offset, Swift.max(0, count - h)))
    }

    /// The first row to draw in a `height`-row view (valid even if `clamp` was not called).
    public func visibleOffset(count: Int, height: Int) -> Int {
        var s = self
        s.clamp(count: count, height: height)
        return s.offset
    }
}

public struct TableColumn: Sendable {
    public var title: String
    public var width: Constraint
    public var alignment: Alignment
    public init(_ title: String, _ width: Constraint, _ alignment: Alignment = .left) {
        self.title = title; self.width = width; self.alignment = alignment
    }
}

/// A table with a header row, a selected row and a sort marker (▲ ascending, ▼ descending).
///
/// Rows arrive already sorted and filtered; the table only draws them.
public struct Table {
    public var columns: [TableColumn]
    public var rows: [[Line]]
    public var sortColumn: Int?
    public var sortAscending = true
    public var headerStyle: Style
    public var selectedStyle: Style
    public var textStyle: Style
    /// Highlights the selected row (off when another part of the pane has focus).
    public var showSelection = true

    public init(columns: [TableColumn], rows: [[Line]], theme: Theme) {
        self.columns = columns; self.rows = rows
        headerStyle = theme.tableHeader; selectedStyle = theme.selected; textStyle = theme.text
    }

    /// Number of body rows visible in `area` (one line goes to the header).
    public static func bodyHeight(_ area: Rect) -> Int { Swift.max(0, area.height - 1) }

    public func render(_ area: Rect, state: ListState, into buffer: inout ScreenBuffer) {
        guard area.height > 0, area.width > 0 else { return }
        let cols = Layout.columns(area, columns.map(\.width), spacing: 1)
        for (i, column) in columns.enumerated() where cols[i].width > 0 {
            var title = column.title
            if sortColumn == i { title += sortAscending ? "▲" : "▼" }
            buffer.write(title.padded(to: cols[i].width, alignment: column.alignment), x: cols[i].x, y: area.y,
                         style: textStyle.patched(headerStyle))
        }
        let height = Table.bodyHeight(area)
        let offset = state.visibleOffset(count: rows.count, height: height)
        for r in 0..<height {
            let index = offset + r
            guard index < rows.count else { break }
            let y = area.y + 1 + r
            let selected = showSelection && index == state.selected
            let base = selected ? textStyle.patched(selectedStyle) : textStyle
            if selected { buffer.fill(Rect(x: area.x, y: y, width: area.width, height: 1), style: base) }
            for (i, column) in columns.enumerated() where cols[i].width > 0 && i < rows[index].count {
                let cell = rows[index][i]
                let w = Swift.min(cell.displayWidth, cols[i].width)
                let x: Int
                switch column.alignment {
                case .left: x = cols[i].x
                case .right: x = cols[i].maxX - w
                case .center: x = cols[i].x + (cols[i].width - w) / 2
                }
                let line = cell.displayWidth > cols[i].width ? truncate(cell, to: cols[i].width) : cell
                buffer.write(line, x: x, y: y, maxWidth: cols[i].width, base: base)
            }
            if selected { buffer.patchStyle(Rect(x: area.x, y: y, width: area.width, height: 1), Style(bg: selectedStyle.bg)) }
        }
        if rows.count > height, height > 0 {
            // A scroll hint in the header's last cell: where the view sits in the list.
            let hint = offset == 0 ? "↓" : (offset + height >= rows.count ? "↑" : "↕")
            buffer.write(hint, x: area.maxX - 1, y: area.y, style: textStyle.patched(headerStyle))
        }
    }

    /// The row index under screen row `y`, if any.
    public static func row(at y: Int, in area: Rect, state: ListState, count: Int) -> Int? {
        let r = y - area.y - 1
        guard r >= 0, r < bodyHeight(area) else { return nil }
        let index = state.visibleOffset(count: count, height: bodyHeight(area)) + r
        return index < count ? index : nil
    }
}

/// Cuts a styled line to `width` columns, ending in `…`.
public func truncate(_ line: Line, to width: Int) -> Line {
    guard line.displayWidth > width else { return line }
    var out: Line = [], used = 0
    for span in line {
        let w = span.text.displayWidth
        if used + w < width { out.append(span); used += w; continue }
        out.append(Span(span.text.truncated(to: width - used), span.style))
        break
    }
    return out
}

/// A single-column selectable list.
public struct ListView {
    public var items: [Line]
    public var selectedStyle: Style
    public var textStyle: Style
    public var showSelection = true

    public init(items: [Line], theme: Theme) {
        self.items = items; selectedStyle = theme.selected; textStyle = theme.text
    }

    public func render(_ area: Rect, state: ListState, into buffer: inout ScreenBuffer) {
        let offset = state.visibleOffset(count: items.count, height: area.height)
        for r in 0..<area.height {
            let index = offset + r
            guard index < items.count else { break }
            let selected = showSelection && index == state.selected
            let base = selected ? textStyle.patched(selectedStyle) : textStyle
            if selected { buffer.fill(area.row(r), style: base) }
            buffer.write(truncate([Span(selected ? "▸ " : "  ")] + items[index], to: area.width), x: area.x, y: area.y + r, maxWidth: area.width, base: base)
        }
    }
}
