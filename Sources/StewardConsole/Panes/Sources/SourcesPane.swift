import Foundation
import StewardCatalog
import StewardMetrics
import StewardConfig

/// Sources pane: one row per source with its health, freshness, row counts, quality and a sparkline
/// of rows per recent run. Enter opens a source: batches, steps, quarantined rows (PII masked), checks.
public struct SourcesPane: Equatable, Sendable {
    public enum Section: Int, CaseIterable, Sendable {
        case batches, steps, quarantine, checks
        var title: String { ["Batches", "Steps", "Quarantine", "Checks"][rawValue] }
    }

    public var filter = ""
    public var list = ListState()
    /// Worst first (the status column's order) until `s` picks another column.
    public var sort = SortState(column: "status")
    /// The source opened with Enter.
    public var openSource: String?
    public var section: Section = .batches
    public var sectionLists: [Int: ListState] = [:]
    /// The overview filter, put back when leaving a source.
    var savedFilter = ""

    public init() {}

    // MARK: data

    func rows(_ ctx: PaneContext) -> [SourceOverview] {
        let all = ctx.snapshot?.sources ?? []
        let filtered = all.filter {
            Format.matches(filter, [$0.name, $0.system, $0.entity, $0.status.rawValue, $0.statusReason])
        }
        return Columns.sorted(filtered, by: sort, in: Self.columns(ctx))
    }

    func detail(_ ctx: PaneContext) -> SourceDetail? {
        guard let open = openSource, let d = ctx.snapshot?.sourceDetail, d.overview.name == open else { return nil }
        return d
    }

    func batches(_ d: SourceDetail) -> [BatchInfo] {
        d.batches.filter { Format.matches(filter, [$0.file, $0.sha256, "\($0.runId)"]) }
    }

    func steps(_ d: SourceDetail) -> [StepInfo] {
        d.steps.filter { Format.matches(filter, [$0.status, $0.message, "\($0.runId)"]) }
    }

    func quarantine(_ d: SourceDetail) -> [QuarantinedRow] {
        // Not by raw values: they are shown masked, and a filter must not find rows by what it hides.
        d.quarantine.filter { Format.matches(filter, [$0.file, "\($0.line)", $0.recordKey] + $0.shownReasons + $0.checks) }
    }

    func checks(_ d: SourceDetail) -> [CheckStatus] {
        d.checks.filter { Format.matches(filter, [$0.name, $0.type, $0.column, $0.dimension, $0.status]) }
    }

    func sectionCount(_ d: SourceDetail, _ ctx: PaneContext) -> Int {
        switch section {
        case .batches: return batches(d).count
        case .steps: return steps(d).count
        case .quarantine: return quarantinePage(ctx)?.total ?? quarantine(d).count
        case .checks: return checks(d).count
        }
    }

    // MARK: quarantine, paged through the catalog

    /// The page of the open source's quarantine the view needs (nil outside the Quarantine section).
    public var quarantineQuery: QuarantineQuery? {
        guard let open = openSource, section == .quarantine else { return nil }
        let list = sectionLists[Section.quarantine.rawValue, default: ListState()]
        return QuarantineQuery(source: open, filter: filter, offset: QuarantineRows.pageStart(listOffset: list.offset),
                               limit: QuarantineRows.pageSize)
    }

    /// A page of the rows the section lists (right total, maybe another offset); nil with canned data.
    func quarantinePage(_ ctx: PaneContext) -> QuarantinePage? {
        QuarantineRows.sameSelection(quarantineQuery, ctx.snapshot?.sourceQuarantine)
    }

    /// The loader pages this source's quarantine but not yet at the rows the view shows.
    func quarantinePageMissing(_ ctx: PaneContext, area: Rect) -> Bool {
        guard let query = quarantineQuery, let page = ctx.snapshot?.sourceQuarantine, page.query.source == query.source else { return false }
        return page.query != query
    }

    /// The quarantined row at a position of the section's list.
    func quarantineRow(at index: Int, _ d: SourceDetail, _ ctx: PaneContext) -> QuarantinedRow? {
        if let page = quarantinePage(ctx) { return page.row(at: index) }
        return quarantine(d)[safe: index]
    }

    /// The quarantined row selected, for Enter's detail.
    public func selectedQuarantineRow(_ ctx: PaneContext) -> QuarantinedRow? {
        guard openSource != nil, section == .quarantine, let d = detail(ctx) else { return nil }
        return quarantineRow(at: sectionLists[section.rawValue, default: ListState()].selected, d, ctx)
    }

    /// The id `y` copies: the source name, or the batch hash / quarantine id / check name in a source.
    public func selectedID(_ ctx: PaneContext) -> String? {
        if openSource != nil {
            guard let d = detail(ctx) else { return openSource }
            let i = sectionLists[section.rawValue, default: ListState()].selected
            switch section {
            case .batches: return batches(d)[safe: i]?.sha256
            case .steps: return steps(d)[safe: i].map { "run \($0.runId) \($0.source)" }
            case .quarantine: return quarantineRow(at: i, d, ctx).map { "\($0.id)" }
            case .checks: return checks(d)[safe: i].map { "\($0.source).\($0.name)" }
            }
        }
        return rows(ctx)[safe: list.selected]?.name
    }

    // MARK: update

    /// Handles a pane action; returns false when the action means nothing here.
    public mutating func handle(_ action: Action, _ ctx: PaneContext, area: Rect) -> Bool {
        let layout = Self.layout(area, ctx, state: self)
        if openSource != nil {
            var sl = sectionLists[section.rawValue, default: ListState()]
            let count = detail(ctx).map { sectionCount($0, ctx) } ?? 0
            defer { sectionLists[section.rawValue] = sl }
            if navigate(&sl, action, count: count, height: Table.bodyHeight(layout.table)) { return true }
            switch action {
            case .nextSection: section = Section(rawValue: (section.rawValue + 1) % 4)!; return true
            case .prevSection: section = Section(rawValue: (section.rawValue + 3) % 4)!; return true
            case .back:
                if !filter.isEmpty { filter = ""; return true }
                openSource = nil; filter = savedFilter; return true
            default: return false
            }
        }
        let count = rows(ctx).count
        if navigate(&list, action, count: count, height: Table.bodyHeight(layout.table)) { return true }
        switch action {
        case .open:
            guard let name = rows(ctx)[safe: list.selected]?.name else { return false }
            open(name)
            return true
        case .back:
            guard !filter.isEmpty else { return false }
            filter = ""; return true
        case .sort: sort.advance(Self.columns(ctx)); return true
        case .reverseSort: sort.ascending.toggle(); if sort.column == nil { sort.advance(Self.columns(ctx)) }; return true
        default: return false
        }
    }

    /// Opens a source's detail (also used by other panes to jump here).
    public mutating func open(_ name: String, section: Section = .batches) {
        savedFilter = filter
        filter = ""
        openSource = name
        self.section = section
        sectionLists = [:]
    }

    /// Keeps selections inside the lists after new data or a resize.
    public mutating func clamp(_ ctx: PaneContext, area: Rect) {
        let layout = Self.layout(area, ctx, state: self)
        list.clamp(count: rows(ctx).count, height: Table.bodyHeight(layout.table))
        if let d = detail(ctx) {
            var sl = sectionLists[section.rawValue, default: ListState()]
            sl.clamp(count: sectionCount(d, ctx), height: Table.bodyHeight(layout.table))
            sectionLists[section.rawValue] = sl
        }
    }

    public mutating func click(x: Int, y: Int, _ ctx: PaneContext, area: Rect) -> Bool {
        let layout = Self.layout(area, ctx, state: self)
        if openSource != nil {
            guard let d = detail(ctx) else { return false }
            var sl = sectionLists[section.rawValue, default: ListState()]
            guard let row = Table.row(at: y, in: layout.table, state: sl, count: sectionCount(d, ctx)) else { return false }
            sl.select(row, count: sectionCount(d, ctx), height: Table.bodyHeight(layout.table))
            sectionLists[section.rawValue] = sl
            return true
        }
        let count = rows(ctx).count
        guard let row = Table.row(at: y, in: layout.table, state: list, count: count) else { return false }
        if row == list.selected { return handle(.open, ctx, area: area) }
        list.select(row, count: count, height: Table.bodyHeight(layout.table))
        return true
    }

    // MARK: view

    struct Areas { var frame: Rect; var summary: Rect; var sections: Rect; var table: Rect; var preview: Rect }

    /// The pane's areas; the summary grows by the lines the selected source's status needs (a long
    /// reason, held deletions), so handle, clamp, click and render all measure the same table.
    static func layout(_ area: Rect, _ ctx: PaneContext, state: SourcesPane) -> Areas {
        let width = area.inset(1).width
        if state.openSource != nil {
            let lines = state.detail(ctx).map { state.detailSummary($0.overview, ctx, width: width).count } ?? 3
            return layout(area, open: true, section: state.section, summaryLines: lines)
        }
        return layout(area, open: false, section: state.section, summaryLines: max(1, state.overviewStatus(ctx, width: width).count))
    }

    static func layout(_ area: Rect, open: Bool, section: Section, summaryLines: Int) -> Areas {
        let inner = area.inset(1)
        if !open {
            let parts = Layout.rows(inner, [.fill(), .fixed(summaryLines)])
            return Areas(frame: area, summary: parts[1], sections: Rect(x: 0, y: 0, width: 0, height: 0), table: parts[0],
                         preview: Rect(x: 0, y: 0, width: 0, height: 0))
        }
        let preview = section == .quarantine ? 4 : 0
        let parts = Layout.rows(inner, [.fixed(summaryLines), .fixed(1), .fill(), .fixed(preview)])
        return Areas(frame: area, summary: parts[0], sections: parts[1], table: parts[2], preview: parts[3])
    }

    public func render(_ area: Rect, _ ctx: PaneContext, into buffer: inout ScreenBuffer) {
        let theme = ctx.theme
        let layout = Self.layout(area, ctx, state: self)
        if let open = openSource {
            Block(title: [Span("Source "), Span(open, theme.accent)] + filterTitle(theme), style: theme.borderFocused, titleStyle: theme.title)
                .render(area, into: &buffer)
            guard let d = detail(ctx) else {
                let (text, style) = ctx.loadingLine(open)
                TextBlock.render([[Span(text, style)]], layout.table, base: theme.text, into: &buffer)
                return
            }
            renderSummary(d.overview, layout.summary, ctx, into: &buffer)
            renderSections(Section.allCases.map { s in "\(s.title) \(itemCount(of: s, d, ctx))" }, current: section.rawValue,
                           layout.sections, theme: theme, into: &buffer)
            renderSection(d, layout, ctx, into: &buffer)
            return
        }
        let rows = rows(ctx)
        let total = ctx.snapshot?.sources.count ?? 0
        let count = filter.isEmpty ? "\(total)" : "\(rows.count) of \(total)"
        Block(title: [Span("Sources "), Span("(\(count))", theme.muted)] + filterTitle(theme), style: theme.borderFocused, titleStyle: theme.title)
            .render(area, into: &buffer)
        if total == 0 {
            TextBlock.render([[Span("No sources in the catalog yet.", theme.text)],
                              [Span("Define sources in steward.yml, then press r (or run `steward run`) to load them.", theme.muted)]],
                             layout.table, base: theme.text, into: &buffer)
            return
        }
        Columns.table(Self.columns(ctx), rows: rows, width: layout.table.width, sort: sort, theme: theme)
            .render(layout.table, state: list, into: &buffer)
        if rows.isEmpty {
            buffer.write("No source matches “\(filter)” — Esc clears the filter", x: layout.table.x, y: layout.table.y + 1, style: theme.muted)
        }
        for (i, line) in overviewStatus(ctx, width: layout.summary.width).enumerated() where i < layout.summary.height {
            buffer.write(line, x: layout.summary.x, y: layout.summary.y + i, maxWidth: layout.summary.width, base: theme.text)
        }
    }

    /// The lines under the table about the selected source: its mark, name and reason, then how to
    /// apply held deletions.
    func overviewStatus(_ ctx: PaneContext, width: Int) -> [Line] {
        guard let s = rows(ctx)[safe: list.selected] else { return [] }
        let theme = ctx.theme
        var line: Line = [Self.statusMark(s, ctx), Span(" \(s.name): ", theme.title), Span(Self.reason(s, ctx), theme.text)]
        if let anomaly = Self.anomalies(of: s.name, ctx).first {
            line += [Span("   ▲ anomaly: ", theme.warn), Span(anomaly.message, theme.warn)]
        }
        return Self.statusLines(line, s, ctx, width: width)
    }

    /// Before the check's verdict a source is not called ok (nor "healthy"): the check may name a
    /// problem its counts do not show.
    static func awaitingVerdict(_ s: SourceOverview, _ ctx: PaneContext) -> Bool {
        ctx.snapshot?.verdictPending == true && s.status == .ok
    }

    static func statusMark(_ s: SourceOverview, _ ctx: PaneContext) -> Span {
        awaitingVerdict(s, ctx) ? Span("… check", ctx.theme.muted) : Format.health(s.status, theme: ctx.theme)
    }

    static func reason(_ s: SourceOverview, _ ctx: PaneContext) -> String {
        awaitingVerdict(s, ctx) ? "waiting for steward check's verdict" : s.statusReason
    }

    /// A status line, followed by the held-deletions hint when there is one. A source that needs
    /// attention gets up to two lines for its reason (held deletions, unreadable rows and failures
    /// are long and their figures matter); a healthy one keeps one line, cut at the width.
    static func statusLines(_ line: Line, _ s: SourceOverview, _ ctx: PaneContext, width: Int) -> [Line] {
        let needsAttention = [.error, .warn, .stale].contains(s.status)
        let reason = needsAttention ? Array(TextBlock.wrap([line], width: width).prefix(2)) : [line]
        return reason + (heldHint(s, ctx).map { [$0] } ?? [])
    }

    /// For a source whose last step held its deletions (the deletion guard): the command that applies
    /// them. The reason line above says how many and why; this says what to do about it.
    static func heldHint(_ s: SourceOverview, _ ctx: PaneContext) -> Line? {
        guard s.lastStepStatus == "held" else { return nil }
        let theme = ctx.theme
        let command = (ctx.canRun ? ":run " : "steward run ") + "\(ConsoleCommandLine.allowDeleteOption) \(s.name)"
        return [Span("▸ apply the held deletions with ", theme.error), Span(command, theme.accent),
                Span(ctx.canRun ? " (audited), or restore the file" : " (this console is read-only)", theme.muted)]
    }

    func filterTitle(_ theme: Theme) -> Line {
        filter.isEmpty ? [] : [Span(" filter: ", theme.muted), Span(filter, theme.accent)]
    }

    func itemCount(of section: Section, _ d: SourceDetail, _ ctx: PaneContext) -> Int {
        switch section {
        case .batches: return d.batches.count
        case .steps: return d.steps.count
        case .quarantine:
            // Every open row, counted by the catalog (the detail itself holds only the newest few).
            if let page = ctx.snapshot?.sourceQuarantine, page.query.source == d.overview.name, page.query.filter.isEmpty { return page.total }
            return Swift.max(d.quarantine.count, d.overview.rowsQuarantined)
        case .checks: return d.checks.count
        }
    }

    static func columns(_ ctx: PaneContext) -> [Column<SourceOverview>] {
        let theme = ctx.theme, now = ctx.now
        let severity: [SourceHealth: Int] = [.error: 0, .stale: 1, .warn: 2, .running: 3, .never: 4, .ok: 5]
        return [
            Column("status", "Status", .fixed(9), less: { severity[$0.status]! < severity[$1.status]! }) { [statusMark($0, ctx)] },
            // The name is what a row is read by: it is not cut to make room for a reason (up to 24 columns).
            Column("name", "Source", .min(min(24, max(12, ctx.snapshot?.sources.map(\.name.displayWidth).max() ?? 12))),
                   less: { $0.name < $1.name }) { [Span($0.name, theme.title)] },
            Column("system", "System/entity", .fixed(14), priority: 5, less: { ($0.system, $0.entity) < ($1.system, $1.entity) }) {
                [Span($0.system), Span("/\($0.entity)", theme.muted)]
            },
            Column("loaded", "Last load", .fixed(9), priority: 2, less: { ($0.lastLoadedAt ?? .distantPast) < ($1.lastLoadedAt ?? .distantPast) }) {
                [Span(Format.age($0.lastLoadedAt, now: now).replacingOccurrences(of: " ago", with: ""), theme.text)]
            },
            Column("fresh", "Fresh", .fixed(8), priority: 1, less: { ($0.freshnessAge ?? .infinity) < ($1.freshnessAge ?? .infinity) }) {
                [freshness($0, theme: theme)]
            },
            Column("raw", "Raw", .fixed(7), .right, priority: 6, less: { $0.rowsRaw < $1.rowsRaw }) { [Span(Format.count($0.rowsRaw))] },
            Column("staged", "Staged", .fixed(7), .right, priority: 3, less: { $0.rowsStaged < $1.rowsStaged }) { [Span(Format.count($0.rowsStaged))] },
            Column("quarantined", "Quar.", .fixed(6), .right, priority: 2, less: { $0.rowsQuarantined < $1.rowsQuarantined }) {
                [Span(Format.count($0.rowsQuarantined), $0.rowsQuarantined > 0 ? theme.warn : theme.text)]
            },
            Column("dq", "DQ", .fixed(7), .right, priority: 1, less: { ($0.qualityScore ?? -1) < ($1.qualityScore ?? -1) }) {
                [Format.score($0.qualityScore, theme: theme)]
            },
            Column("trend", "Rows/run", .fixed(8), priority: 3) { [Span(Sparkline.text($0.recentRows, width: 8), theme.sparkline)] },
            // Why a source is not ok, whenever 24 columns are left for it: it outranks the raw count and
            // the system (the status line under the table has the whole reason).
            Column("why", "Why", .fill(24), priority: 4) { s in
                [Span(brief(reason(s, ctx)), s.status == .ok ? theme.muted : theme.status(s.status == .stale ? "error" : s.status.rawValue))]
            },
        ]
    }

    /// A reason for the Why column: what is wrong comes first, so a leading file path
    /// (`sources/crm/contacts_1.csv: 8 of 2210 rows unreadable…`) goes.
    static func brief(_ reason: String) -> String {
        guard let colon = reason.range(of: ": ") else { return reason }
        let head = reason[..<colon.lowerBound]
        guard head.contains("/") || head.contains("."), !head.contains(" ") else { return reason }
        return String(reason[colon.upperBound...])
    }

    /// `✓ <6h` while fresh, `▲ >6h` past the warning threshold, `✗ >24h` past the error one.
    static func freshness(_ s: SourceOverview, theme: Theme) -> Span {
        func d(_ t: TimeInterval?) -> String { t.map { StewardCatalog.Duration.describe($0) } ?? "—" }
        switch s.freshnessStatus {
        case .ok:
            // A source with no freshness SLA (a monthly spend file) is loaded, not "fresh within —".
            guard let limit = s.warnAfter ?? s.errorAfter else { return Span("✓ no SLA", theme.ok) }
            return Span("✓ <\(d(limit))", theme.ok)
        case .warn: return Span("▲ >\(d(s.warnAfter))", theme.warn)
        case .error: return Span("✗ >\(d(s.errorAfter))", theme.error)
        case .never: return Span("○ —", theme.never)
        }
    }

    func renderSummary(_ s: SourceOverview, _ area: Rect, _ ctx: PaneContext, into buffer: inout ScreenBuffer) {
        for (i, line) in detailSummary(s, ctx, width: area.width).enumerated() where i < area.height {
            buffer.write(line, x: area.x, y: area.y + i, maxWidth: area.width, base: ctx.theme.text)
        }
    }

    /// The summary above an open source's sections: status and reason (with the held-deletions
    /// hint), freshness, row counts.
    func detailSummary(_ s: SourceOverview, _ ctx: PaneContext, width: Int) -> [Line] {
        let theme = ctx.theme
        let anomaly: Line = Self.anomalies(of: s.name, ctx).first.map { [Span("  ▲ anomaly: \($0.message)", theme.warn)] } ?? []
        let status: Line = [Self.statusMark(s, ctx), Span("  \(Self.reason(s, ctx))", theme.text)] + anomaly + [
            Span("   system ", theme.muted), Span(s.system), Span(" · entity ", theme.muted), Span(s.entity),
            Span(" · format ", theme.muted), Span(s.format)]
        return Self.statusLines(status, s, ctx, width: width) + [
            [Span("Last load ", theme.muted), Span(Format.age(s.lastLoadedAt, now: ctx.now)), Span("   freshness ", theme.muted),
             Self.freshness(s, theme: theme),
             Span("  (warn after \(s.warnAfter.map { StewardCatalog.Duration.describe($0) } ?? "—"), error after \(s.errorAfter.map { StewardCatalog.Duration.describe($0) } ?? "—"))", theme.muted)],
            [Span("Rows ", theme.muted), Span("raw \(Format.count(s.rowsRaw)) · staged \(Format.count(s.rowsStaged)) · "),
             Span("quarantined \(Format.count(s.rowsQuarantined))", s.rowsQuarantined > 0 ? theme.warn : theme.text),
             Span(" · flagged \(Format.count(s.rowsFlagged))   "), Span("DQ ", theme.muted), Format.score(s.qualityScore, theme: theme),
             // Rows read per run (not the score), from zero to the largest, both stated.
             Span("   rows/run ", theme.muted), Span(Sparkline.text(s.recentRows, width: 12), theme.sparkline),
             Span(" 0–\(Format.count(s.recentRows.suffix(12).max() ?? 0))", theme.muted)],
        ]
    }

    /// Anomalies of the last run about this source (rows loaded far outside its recent range).
    static func anomalies(of source: String, _ ctx: PaneContext) -> [Anomaly] {
        (ctx.snapshot?.anomalies ?? []).filter { $0.subject == source }
    }

    func renderSection(_ d: SourceDetail, _ layout: Areas, _ ctx: PaneContext, into buffer: inout ScreenBuffer) {
        let theme = ctx.theme
        let state = sectionLists[section.rawValue, default: ListState()]
        let table: Table
        let empty: String
        switch section {
        case .batches:
            let cols: [Column<BatchInfo>] = [
                Column("run", "Run", .fixed(5), .right) { [Span("#\($0.runId)")] },
                Column("file", "File", .fill(14)) { [Span($0.file)] },
                Column("sha", "SHA-256", .fixed(14), priority: 2) { [Span(String($0.sha256.prefix(12)) + "…", theme.muted)] },
                Column("rows", "Rows", .fixed(7), .right) { [Span(Format.count($0.rows))] },
                Column("loaded", "Loaded", .fixed(7), .right, priority: 1) { [Span(Format.count($0.rowsLoaded))] },
                Column("quar", "Quar.", .fixed(6), .right) { [Span(Format.count($0.rowsQuarantined), $0.rowsQuarantined > 0 ? theme.warn : theme.text)] },
                Column("at", "At", .fixed(11), priority: 1) { [Span(Format.dateTime($0.loadedAt))] },
            ]
            table = Columns.table(cols, rows: batches(d), width: layout.table.width, sort: SortState(), theme: theme)
            empty = "No batches loaded yet."
        case .steps:
            let cols: [Column<StepInfo>] = [
                Column("run", "Run", .fixed(5), .right) { [Span("#\($0.runId)")] },
                Column("status", "Status", .fixed(11)) { [Format.status($0.status, theme: theme)] },
                Column("at", "Started", .fixed(11), priority: 2) { [Span(Format.dateTime($0.startedAt))] },
                Column("took", "Took", .fixed(6), .right, priority: 1) { [Span(Format.duration($0.durationMs.map { $0 / 1000 }))] },
                Column("read", "Read", .fixed(7), .right) { [Span(Format.count($0.rowsRead))] },
                Column("quar", "Quar.", .fixed(6), .right, priority: 1) { [Span(Format.count($0.rowsQuarantined))] },
                Column("message", "Message", .fill(10)) { [Span($0.message ?? "", theme.muted)] },
            ]
            table = Columns.table(cols, rows: steps(d), width: layout.table.width, sort: SortState(), theme: theme)
            empty = "No steps recorded yet."
        case .quarantine:
            let height = Table.bodyHeight(layout.table)
            let page = quarantinePage(ctx)
            let (rows, shown) = page.map { QuarantineRows.window($0, list: state, height: height) } ?? (quarantine(d), state)
            let cols: [Column<QuarantinedRow>] = [
                Column("id", "Id", .fixed(6), .right) { [Span("\($0.id)")] },
                Column("where", "File:line", .fill(18)) { [Span("\($0.file):\($0.line)")] },
                Column("key", "Key", .fixed(10), priority: 2) { [Span($0.recordKey ?? "—")] },  // record ids are not PII
                Column("checks", "Checks", .fixed(18), priority: 1) { [Span($0.checks.joined(separator: ","), theme.warn)] },
                Column("reason", "Reason", .fill(12)) { [Span($0.shownReasons.joined(separator: "; "))] },
            ]
            table = Columns.table(cols, rows: rows, width: layout.table.width, sort: SortState(), theme: theme)
            empty = "Nothing in quarantine. ✓"
            table.render(layout.table, state: shown, into: &buffer)
            if let page, rows.count < Swift.min(height, page.total - state.visibleOffset(count: page.total, height: height)) {
                buffer.write("Reading rows from \(state.visibleOffset(count: page.total, height: height) + rows.count + 1)…",
                             x: layout.table.x, y: layout.table.y + 1 + rows.count, style: theme.muted, maxWidth: layout.table.width)
            }
            if let row = rows[safe: shown.selected], layout.preview.height > 0 {
                // The reason first: a long raw row wraps below it, never pushes it out of the box.
                let lines: [Line] = [[Span("why: ", theme.muted), Span(row.shownReasons.joined(separator: "; "), theme.warn),
                                      Span("   Enter: every reason and value", theme.muted)],
                                     [Span("raw (masked): ", theme.muted), Span(ctx.pii.line(of: row))]]
                buffer.fill(layout.preview.row(0), symbol: "─", style: theme.border)
                TextBlock.render(lines, Rect(x: layout.preview.x, y: layout.preview.y + 1, width: layout.preview.width, height: 3),
                                 base: theme.text, into: &buffer)
            }
        case .checks:
            let cols: [Column<CheckStatus>] = [
                Column("status", "Status", .fixed(10)) { [Format.checkStatus($0, theme: theme)] },
                Column("name", "Check", .fill(14)) { [Span($0.name, theme.title)] },
                Column("type", "Type", .fixed(12), priority: 2) { [Span($0.type)] },
                Column("dim", "Dimension", .fixed(12), priority: 1) { [Span($0.dimension)] },
                Column("failed", "Failed", .fixed(7), .right) { [Span(Format.count($0.failed), $0.failed > 0 ? theme.error : theme.text)] },
                Column("score", "Score", .fixed(7), .right) { [Format.checkScore($0, theme: theme)] },
            ]
            table = Columns.table(cols, rows: checks(d), width: layout.table.width, sort: SortState(), theme: theme)
            empty = "No checks defined for this source."
        }
        if section != .quarantine { table.render(layout.table, state: state, into: &buffer) }
        // A page not read yet is not an empty list: the quarantine section says so above instead.
        if table.rows.isEmpty, section != .quarantine || (quarantinePage(ctx)?.total ?? 0) == 0 {
            buffer.write(filter.isEmpty ? empty : "Nothing matches “\(filter)” — Esc clears the filter",
                         x: layout.table.x, y: layout.table.y + 1, style: theme.muted, maxWidth: layout.table.width)
        }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
