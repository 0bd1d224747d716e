/// A table column described once for drawing, fitting to the width and sorting.
struct Column<Row> {
    var id: String
    var title: String
    var width: Constraint
    var alignment: Alignment = .left
    /// Lower numbers stay longest when the pane is narrow (0 never goes).
    var priority = 0
    /// Ascending order for `s` sorting; nil when the column does not sort.
    var less: ((Row, Row) -> Bool)?
    var cell: (Row) -> Line

    init(_ id: String, _ title: String, _ width: Constraint, _ alignment: Alignment = .left, priority: Int = 0,
         less: ((Row, Row) -> Bool)? = nil, cell: @escaping (Row) -> Line) {
        self.id = id; self.title = title; self.width = width; self.alignment = alignment
        self.priority = priority; self.less = less; self.cell = cell
    }

    var minimumWidth: Int {
        switch width {
        case .fixed(let n), .min(let n): return n
        case .fill(let n): return max(8, n)
        case .percentage: return 6
        }
    }
}

/// Sort order of a table: a column id and a direction.
public struct SortState: Hashable, Sendable {
    public var column: String?
    public var ascending = true
    public init(column: String? = nil, ascending: Bool = true) { self.column = column; self.ascending = ascending }

    /// Moves to the next sortable column (ascending), wrapping to "no sort".
    mutating func advance<Row>(_ columns: [Column<Row>]) {
        let ids = columns.filter { $0.less != nil }.map(\.id)
        guard !ids.isEmpty else { return }
        if let current = column, let i = ids.firstIndex(of: current) {
            column = i + 1 < ids.count ? ids[i + 1] : ids[0]
        } else {
            column = ids[0]
        }
        ascending = true
    }
}

enum Columns {
    /// Drops the least important columns until the rest fit in `width`.
    static func fit<Row>(_ columns: [Column<Row>], width: Int) -> [Column<Row>] {
        var kept = columns
        func needed(_ cols: [Column<Row>]) -> Int { cols.reduce(0) { $0 + $1.minimumWidth } + max(0, cols.count - 1) }
        while needed(kept) > width, let drop = kept.indices.filter({ kept[$0].priority > 0 }).max(by: { kept[$0].priority < kept[$1].priority }) {
            kept.remove(at: drop)
        }
        return kept
    }

    /// A fixed-width column cut its values ("support_ticke…") while a fill column beside it showed
    /// blank space: fixed and minimum widths grow to their content (title, sort marker, the first
    /// rows' cells) when every column's content then fits (a fill column's up to `fillShare`); the
    /// fill columns keep the rest.
    /// How much of a fill column's content counts when fixed columns ask to widen.
    static let fillShare = 32

    static func widenedToContent(_ widths: [Constraint], titles: [String], cells: [[Line]], width: Int) -> [Constraint] {
        let sample = cells.prefix(500)
        var needed: [Int] = []
        for (i, constraint) in widths.enumerated() {
            var content = titles[i].displayWidth
            for row in sample where i < row.count { content = max(content, row[i].displayWidth) }
            switch constraint {
            case .fixed(let n), .min(let n): needed.append(max(n, content))
            // A fill column takes what is left and may cut a long value (a reason): fixed columns
            // widen when the fill columns keep a readable share.
            case .fill(let n): needed.append(min(content, max(n, fillShare)))
            case .percentage: return widths
            }
        }
        guard needed.reduce(0, +) + max(0, widths.count - 1) <= width else { return widths }
        return zip(widths, needed).map { constraint, n in
            switch constraint {
            case .fixed: return .fixed(n)
            case .min: return .min(n)
            default: return constraint
            }
        }
    }

    static func sorted<Row>(_ rows: [Row], by sort: SortState, in columns: [Column<Row>]) -> [Row] {
        guard let id = sort.column, let less = columns.first(where: { $0.id == id })?.less else { return rows }
        // Stable: equal rows keep their catalog order.
        let indexed = rows.enumerated().sorted { a, b in
            if less(a.element, b.element) { return sort.ascending }
            if less(b.element, a.element) { return !sort.ascending }
            return a.offset < b.offset
        }
        return indexed.map(\.element)
    }

    static func table<Row>(_ columns: [Column<Row>], rows: [Row], width: Int, sort: SortState, theme: Theme) -> Table {
        let fitted = fit(columns, width: width)
        let cells = rows.map { row in fitted.map { $0.cell(row) } }
        // The sorted column's title carries a marker (▲/▼): one more column of content.
        let titles = fitted.map { $0.id == sort.column ? $0.title + "▲" : $0.title }
        let widths = widenedToContent(fitted.map(\.width), titles: titles, cells: cells, width: width)
        var table = Table(columns: zip(fitted, widths).map { TableColumn($0.title, $1, $0.alignment) }, rows: cells, theme: theme)
        table.sortColumn = fitted.firstIndex { $0.id == sort.column }
        table.sortAscending = sort.ascending
        return table
    }
}

/// Moves a list selection for the navigation actions; returns false for other actions.
func navigate(_ list: inout ListState, _ action: Action, count: Int, height: Int) -> Bool {
    let page = max(1, height - 1)
    switch action {
    case .up: list.move(by: -1, count: count, height: height)
    case .down: list.move(by: 1, count: count, height: height)
    case .pageUp: list.move(by: -page, count: count, height: height)
    case .pageDown: list.move(by: page, count: count, height: height)
    case .top: list.select(0, count: count, height: height)
    case .bottom: list.select(count - 1, count: count, height: height)
    default: return false
    }
    return true
}

/// Draws a section switcher: `Batches │ [Steps] │ Quarantine │ Checks`, the current one in brackets.
func renderSections(_ titles: [String], current: Int, _ area: Rect, theme: Theme, into buffer: inout ScreenBuffer) {
    var x = area.x
    for (i, title) in titles.enumerated() {
        if i > 0 { x += buffer.write(" │ ", x: x, y: area.y, style: theme.border, maxWidth: area.maxX - x) }
        let label = i == current ? "[\(title)]" : " \(title) "
        x += buffer.write(label, x: x, y: area.y, style: i == current ? theme.tabActive : theme.tabInactive, maxWidth: area.maxX - x)
    }
    buffer.write("  ←/→ switch", x: x, y: area.y, style: theme.muted, maxWidth: area.maxX - x)
}
