import Foundation
import StewardCatalog
import StewardConfig

/// Quality pane: the overall score and its trend, a sources × dimensions matrix coloured against the
/// thresholds (with marks), and failing checks by failed rows. Enter on a source lists its checks;
/// Enter on a check opens it: definition, pass/fail history and sample failing records (PII masked).
public struct QualityPane: Equatable, Sendable {
    /// Scores at or above this are ok (✓); below `errorThreshold` they are errors (✗); between, warnings (▲).
    public static let okThreshold = 0.95
    public static let errorThreshold = 0.90

    public enum Focus: Int, Sendable { case matrix, failing }

    public var filter = ""
    public var focus: Focus = .matrix
    public var matrixList = ListState()
    public var failingList = ListState()
    public var sort = SortState()
    /// Source whose checks are listed (Enter on the matrix).
    public var openSource: String?
    public var sourceChecksList = ListState()
    /// Check opened with Enter.
    public var openCheck: CheckRef?
    public var samplesList = ListState()
    var savedFilter = ""

    public init() {}

    // MARK: data

    func matrixRows(_ ctx: PaneContext) -> [SourceQuality] {
        let all = ctx.snapshot?.quality?.sources ?? []
        return Columns.sorted(all.filter { Format.matches(filter, [$0.source]) }, by: sort, in: Self.matrixColumns(ctx))
    }

    func failingRows(_ ctx: PaneContext) -> [CheckStatus] {
        (ctx.snapshot?.quality?.failingChecks ?? []).filter { Format.matches(filter, [$0.source, $0.name, $0.dimension, $0.type]) }
    }

    func sourceChecks(_ ctx: PaneContext) -> [CheckStatus] {
        guard let open = openSource else { return [] }
        let checks = ctx.snapshot?.quality?.sources.first { $0.source == open }?.checks ?? []
        return checks.filter { Format.matches(filter, [$0.name, $0.dimension, $0.type, $0.status]) }
    }

    func checkDetail(_ ctx: PaneContext) -> CheckDetail? {
        guard let ref = openCheck, let d = ctx.snapshot?.checkDetail, d.check.source == ref.source, d.check.name == ref.name else { return nil }
        return d
    }

    /// The check's failing records: quarantined rows with their values masked by the project's PII policy
    /// (filtered by where they are and why, not by the values it hides), else the check's samples, which
    /// are record keys, lines and counts (never values), shown as they are.
    func samples(_ d: CheckDetail, _ pii: PIIPolicy, theme: Theme = .builtinMonochrome) -> [Line] {
        let quarantined: [Line] = d.failing.filter { Format.matches(filter, [$0.file, "\($0.line)", $0.recordKey] + $0.shownReasons) }.map {
            Self.failingLine($0, theme: theme)
        }
        let flagged: [Line] = d.check.samples.filter { Format.matches(filter, [$0]) }.map { [Span($0)] }
        return quarantined.isEmpty ? flagged : quarantined
    }

    // MARK: failing rows, paged through the catalog

    /// The page of the open check's quarantined rows the view needs.
    public var failingQuery: QuarantineQuery? {
        guard let ref = openCheck else { return nil }
        return QuarantineQuery(source: ref.source, check: ref.name, filter: filter,
                               offset: QuarantineRows.pageStart(listOffset: samplesList.offset), limit: QuarantineRows.pageSize)
    }

    /// The check's quarantined rows as the catalog pages them; nil when it kept none (a warn check flags
    /// rows without holding them: only sample keys exist) or with canned data.
    func failingPage(_ d: CheckDetail) -> QuarantinePage? {
        guard let page = QuarantineRows.sameSelection(failingQuery, d.page), page.total > 0 || !filter.isEmpty else { return nil }
        return page
    }

    func failingPageMissing(_ ctx: PaneContext, area: Rect) -> Bool {
        guard let d = checkDetail(ctx), let page = d.page, let query = failingQuery, failingPage(d) != nil else { return false }
        return page.query != query
    }

    /// How many entries the failing list has: every quarantined row, else the samples.
    func failingCount(_ d: CheckDetail, _ pii: PIIPolicy) -> Int { failingPage(d)?.total ?? samples(d, pii).count }

    /// The quarantined row selected in an open check, for Enter's detail.
    public func selectedFailingRow(_ ctx: PaneContext) -> QuarantinedRow? {
        guard let d = checkDetail(ctx) else { return nil }
        if let page = failingPage(d) { return page.row(at: samplesList.selected) }
        return d.failing.filter { Format.matches(filter, [$0.file, "\($0.line)", $0.recordKey] + $0.shownReasons) }[safe: samplesList.selected]
    }

    /// One failing row in the list: where, its key and why (its values are in its detail, masked).
    static func failingLine(_ row: QuarantinedRow, theme: Theme) -> Line {
        [Span("\(row.file):\(row.line) ", theme.accent), Span("key \(row.recordKey ?? "—")  ", theme.text),
         Span(QuarantineRows.reasons(row), theme.warn)]
    }

    public func selectedID(_ ctx: PaneContext) -> String? {
        if let ref = openCheck { return "\(ref.source).\(ref.name)" }
        if openSource != nil { return sourceChecks(ctx)[safe: sourceChecksList.selected].map { "\($0.source).\($0.name)" } }
        switch focus {
        case .matrix: return matrixRows(ctx)[safe: matrixList.selected]?.source
        case .failing: return failingRows(ctx)[safe: failingList.selected].map { "\($0.source).\($0.name)" }
        }
    }

    // MARK: update

    public mutating func handle(_ action: Action, _ ctx: PaneContext, area: Rect) -> Bool {
        let layout = Self.layout(area, ctx, state: self)
        if openCheck != nil {
            let count = checkDetail(ctx).map { failingCount($0, ctx.pii) } ?? 0
            if navigate(&samplesList, action, count: count, height: layout.samples.height) { return true }
            guard action == .back else { return false }
            if !filter.isEmpty { filter = ""; return true }
            openCheck = nil
            if openSource == nil { filter = savedFilter }
            return true
        }
        if openSource != nil {
            let checks = sourceChecks(ctx)
            if navigate(&sourceChecksList, action, count: checks.count, height: Table.bodyHeight(layout.main)) { return true }
            switch action {
            case .open:
                guard let c = checks[safe: sourceChecksList.selected] else { return false }
                openCheck(CheckRef(source: c.source, name: c.name))
                return true
            case .back:
                if !filter.isEmpty { filter = ""; return true }
                openSource = nil; filter = savedFilter; return true
            default: return false
            }
        }
        switch (action, focus) {
        case (.nextSection, _), (.prevSection, _):
            focus = focus == .matrix ? .failing : .matrix
            return true
        case (.open, .matrix):
            guard let s = matrixRows(ctx)[safe: matrixList.selected] else { return false }
            savedFilter = filter; filter = ""
            openSource = s.source; sourceChecksList = ListState()
            return true
        case (.open, .failing):
            guard let c = failingRows(ctx)[safe: failingList.selected] else { return false }
            savedFilter = filter; filter = ""
            openCheck(CheckRef(source: c.source, name: c.name))
            return true
        case (.back, _):
            guard !filter.isEmpty else { return false }
            filter = ""; return true
        case (.sort, .matrix): sort.advance(Self.matrixColumns(ctx)); return true
        case (.reverseSort, .matrix): sort.ascending.toggle(); if sort.column == nil { sort.advance(Self.matrixColumns(ctx)) }; return true
        case (_, .matrix):
            return navigate(&matrixList, action, count: matrixRows(ctx).count, height: Table.bodyHeight(layout.main))
        case (_, .failing):
            return navigate(&failingList, action, count: failingRows(ctx).count, height: Table.bodyHeight(layout.second))
        }
    }

    mutating func openCheck(_ ref: CheckRef) {
        openCheck = ref
        samplesList = ListState()
    }

    public mutating func clamp(_ ctx: PaneContext, area: Rect) {
        let layout = Self.layout(area, ctx, state: self)
        matrixList.clamp(count: matrixRows(ctx).count, height: Table.bodyHeight(layout.main))
        failingList.clamp(count: failingRows(ctx).count, height: Table.bodyHeight(layout.second))
        sourceChecksList.clamp(count: sourceChecks(ctx).count, height: Table.bodyHeight(layout.main))
    }

    public mutating func click(x: Int, y: Int, _ ctx: PaneContext, area: Rect) -> Bool {
        guard openCheck == nil else { return false }
        let layout = Self.layout(area, ctx, state: self)
        if openSource != nil {
            let n = sourceChecks(ctx).count
            guard let row = Table.row(at: y, in: layout.main, state: sourceChecksList, count: n) else { return false }
            sourceChecksList.select(row, count: n, height: Table.bodyHeight(layout.main))
            return true
        }
        if let row = Table.row(at: y, in: layout.main, state: matrixList, count: matrixRows(ctx).count) {
            focus = .matrix
            matrixList.select(row, count: matrixRows(ctx).count, height: Table.bodyHeight(layout.main))
            return true
        }
        if let row = Table.row(at: y, in: layout.second, state: failingList, count: failingRows(ctx).count) {
            focus = .failing
            failingList.select(row, count: failingRows(ctx).count, height: Table.bodyHeight(layout.second))
            return true
        }
        return false
    }

    // MARK: view

    struct Areas {
        var summary: Rect; var main: Rect; var secondTitle: Rect; var second: Rect; var samples: Rect
        /// The score-per-run table beside the failing checks, when the width allows.
        var runs: Rect = Rect(x: 0, y: 0, width: 0, height: 0)
    }

    static func layout(_ area: Rect, _ ctx: PaneContext, state: QualityPane) -> Areas {
        let inner = area.inset(1)
        let zero = Rect(x: 0, y: 0, width: 0, height: 0)
        if state.openCheck != nil {
            let parts = Layout.rows(inner, [.fixed(4), .fill()])
            let cols = Layout.columns(parts[1], [.percentage(45), .fill()], spacing: 2)
            return Areas(summary: parts[0], main: cols[0], secondTitle: Rect(x: cols[1].x, y: cols[1].y, width: cols[1].width, height: 1),
                         second: zero, samples: Rect(x: cols[1].x, y: cols[1].y + 1, width: cols[1].width, height: cols[1].height - 1))
        }
        if state.openSource != nil {
            let parts = Layout.rows(inner, [.fixed(1), .fill()])
            return Areas(summary: parts[0], main: parts[1], secondTitle: zero, second: zero, samples: zero)
        }
        let sources = ctx.snapshot?.quality?.sources.count ?? 0
        let body = Swift.max(0, inner.height - 3)
        let matrixHeight = Swift.min(sources + 1, Swift.max(4, body * 55 / 100))
        let parts = Layout.rows(inner, [.fixed(2), .fixed(matrixHeight), .fixed(1), .fill()])
        guard inner.width >= 110 else { return Areas(summary: parts[0], main: parts[1], secondTitle: parts[2], second: parts[3], samples: zero) }
        let title = Layout.columns(parts[2], [.fill(), .fixed(40)], spacing: 2)
        let below = Layout.columns(parts[3], [.fill(), .fixed(40)], spacing: 2)
        return Areas(summary: parts[0], main: parts[1], secondTitle: title[0], second: below[0], samples: zero,
                     runs: Rect(x: title[1].x, y: title[1].y, width: title[1].width, height: below[1].height + 1))
    }

    public func render(_ area: Rect, _ ctx: PaneContext, into buffer: inout ScreenBuffer) {
        let theme = ctx.theme
        let layout = Self.layout(area, ctx, state: self)
        let filterTitle: Line = filter.isEmpty ? [] : [Span(" filter: ", theme.muted), Span(filter, theme.accent)]
        if let ref = openCheck {
            Block(title: [Span("Check "), Span("\(ref.source).\(ref.name)", theme.accent)] + filterTitle,
                  style: theme.borderFocused, titleStyle: theme.title).render(area, into: &buffer)
            guard let d = checkDetail(ctx) else {
                let (text, style) = ctx.loadingLine(ref.name)
                TextBlock.render([[Span(text, style)]], layout.summary, base: theme.text, into: &buffer)
                return
            }
            renderCheck(d, layout, ctx, into: &buffer)
            return
        }
        if let open = openSource {
            Block(title: [Span("Checks of "), Span(open, theme.accent)] + filterTitle, style: theme.borderFocused, titleStyle: theme.title)
                .render(area, into: &buffer)
            let sq = ctx.snapshot?.quality?.sources.first { $0.source == open }
            buffer.write([Span("Score ", theme.muted), Format.score(sq?.score, theme: theme), Span("   Enter opens a check · Esc back", theme.muted)],
                         x: layout.summary.x, y: layout.summary.y, maxWidth: layout.summary.width, base: theme.text)
            let table = Columns.table(Self.checkColumns(ctx), rows: sourceChecks(ctx), width: layout.main.width, sort: SortState(), theme: theme)
            table.render(layout.main, state: sourceChecksList, into: &buffer)
            if table.rows.isEmpty {
                buffer.write("No checks here.", x: layout.main.x, y: layout.main.y + 1, style: theme.muted)
            }
            return
        }
        Block(title: [Span("Quality")] + filterTitle, style: theme.borderFocused, titleStyle: theme.title).render(area, into: &buffer)
        guard let q = ctx.snapshot?.quality, !q.sources.isEmpty else {
            TextBlock.render([[Span("No quality results yet.")], [Span("Checks run with the pipeline: press r to run it.", theme.muted)]],
                             layout.summary, base: theme.text, into: &buffer)
            return
        }
        var overall: Line = [Span("Overall ", theme.title), Format.score(q.score, theme: theme), Span("%  ", theme.muted)]
        if q.trend.count > 1 {
            let delta = (q.trend.last! - q.trend[q.trend.count - 2]) * 100
            let word = abs(delta) < 0.05 ? "= steady" : (delta > 0 ? String(format: "▲ +%.1f", delta) : String(format: "▼ %.1f", delta))
            // Scaled to at least one point, and the scale is stated: a 0.08-point dip is a small step, not a fall.
            let shown = Array(q.trend.suffix(20))
            let low = Swift.min(shown.min()!, shown.max()! - 0.01), high = shown.max()!
            overall += [Span("trend ", theme.muted), Span(Sparkline.text(shown, width: 20, relative: true, minimumSpan: 0.01), theme.sparkline),
                        Span(" \(word) since last run", theme.muted),
                        Span(String(format: "  (scale %.1f–%.1f%%)", low * 100, high * 100), theme.muted)]
        }
        buffer.write(overall, x: layout.summary.x, y: layout.summary.y, maxWidth: layout.summary.width, base: theme.text)
        var dims: Line = []
        for dim in QualityDimension.allCases {
            dims += [Span("\(Self.dimensionTitles[dim]!) ", theme.muted), Format.score(q.dimensions[dim], theme: theme), Span("  ")]
        }
        buffer.write(dims, x: layout.summary.x, y: layout.summary.y + 1, maxWidth: layout.summary.width, base: theme.text)

        var matrix = Columns.table(Self.matrixColumns(ctx), rows: matrixRows(ctx), width: layout.main.width, sort: sort, theme: theme)
        matrix.showSelection = focus == .matrix
        matrix.render(layout.main, state: matrixList, into: &buffer)

        let failing = failingRows(ctx)
        let title: Line = [Span("Failing checks ", focus == .failing ? theme.accent : theme.title), Span("(\(failing.count), most failed rows first)", theme.muted)]
        buffer.write(title, x: layout.secondTitle.x, y: layout.secondTitle.y, maxWidth: layout.secondTitle.width, base: theme.text)
        var table = Columns.table(Self.checkColumns(ctx), rows: failing, width: layout.second.width, sort: SortState(), theme: theme)
        table.showSelection = focus == .failing
        table.render(layout.second, state: failingList, into: &buffer)
        if failing.isEmpty {
            buffer.write("✓ every check passes", x: layout.second.x, y: layout.second.y + 1, style: theme.ok, maxWidth: layout.second.width)
        }
        if layout.runs.width > 0 { renderRuns(ctx.snapshot?.qualityRuns ?? [], layout.runs, theme: theme, into: &buffer) }
    }

    /// Score per run, newest first: run, time, score, change since the run before, checks failing.
    func renderRuns(_ points: [QualityRunPoint], _ area: Rect, theme: Theme, into buffer: inout ScreenBuffer) {
        buffer.write([Span("Score per run", theme.title)], x: area.x, y: area.y, maxWidth: area.width, base: theme.text)
        let rows = points.enumerated().map { i, p in (p, points[safe: i + 1].map { (p.score - $0.score) * 100 }) }
        let cols: [Column<(QualityRunPoint, Double?)>] = [
            Column("run", "Run", .fixed(5), .right) { [Span("#\($0.0.runId)")] },
            Column("at", "At", .fixed(11)) { [Span(Format.dateTime($0.0.at), theme.muted)] },
            Column("score", "Score", .fixed(7), .right) { [Format.score($0.0.score, theme: theme)] },
            Column("delta", "Δ", .fixed(5), .right) { row in
                guard let d = row.1 else { return [Span("—", theme.muted)] }
                return [Span(abs(d) < 0.05 ? "=" : String(format: "%+.1f", d), d < -0.05 ? theme.warn : theme.text)]
            },
            Column("failing", "Fail", .fixed(4), .right) { [Span("\($0.0.failingChecks)", $0.0.failingChecks > 0 ? theme.error : theme.text)] },
        ]
        var table = Columns.table(cols, rows: rows, width: area.width, sort: SortState(), theme: theme)
        table.showSelection = false
        let body = Rect(x: area.x, y: area.y + 1, width: area.width, height: area.height - 1)
        table.render(body, state: ListState(), into: &buffer)
        if points.isEmpty { buffer.write("No run scored yet.", x: body.x, y: body.y + 1, style: theme.muted, maxWidth: body.width) }
    }

    static func matrixColumns(_ ctx: PaneContext) -> [Column<SourceQuality>] {
        let theme = ctx.theme
        var cols: [Column<SourceQuality>] = [
            Column("source", "Source", .fill(12), less: { $0.source < $1.source }) { [Span($0.source, theme.title)] },
            Column("score", "Score", .fixed(7), .right, less: { ($0.score ?? -1) < ($1.score ?? -1) }) { [Format.score($0.score, theme: theme)] },
        ]
        for dim in QualityDimension.allCases {
            cols.append(Column(dim.rawValue, Self.dimensionTitles[dim]!, .fixed(9), .right, less: { ($0.dimensions[dim] ?? -1) < ($1.dimensions[dim] ?? -1) }) {
                [Format.score($0.dimensions[dim], theme: theme)]
            })
        }
        return cols
    }

    static let dimensionTitles: [QualityDimension: String] = [
        .completeness: "Complete", .validity: "Valid", .uniqueness: "Unique", .consistency: "Consist.", .timeliness: "Timely"]

    static func checkColumns(_ ctx: PaneContext) -> [Column<CheckStatus>] {
        let theme = ctx.theme
        return [
            Column("status", "Status", .fixed(10)) { [Format.checkStatus($0, theme: theme)] },
            Column("source", "Source", .fixed(14), priority: 1) { [Span($0.source)] },
            Column("check", "Check", .fill(14)) { [Span($0.name, theme.title)] },
            Column("dim", "Dimension", .fixed(12), priority: 2) { [Span($0.dimension)] },
            Column("severity", "Severity", .fixed(8), priority: 3) { [Span($0.severity, $0.severity == "error" ? theme.error : theme.warn)] },
            Column("failed", "Failed", .fixed(7), .right) { [Span(Format.count($0.failed), $0.failed > 0 ? theme.error : theme.text)] },
            Column("evaluated", "Of", .fixed(7), .right, priority: 2) { [Span(Format.count($0.evaluated))] },
            Column("score", "Score", .fixed(7), .right) { [Format.checkScore($0, theme: theme)] },
        ]
    }

    func renderCheck(_ d: CheckDetail, _ layout: Areas, _ ctx: PaneContext, into buffer: inout ScreenBuffer) {
        let theme = ctx.theme, c = d.check
        let lines: [Line] = [
            [Format.checkStatus(c, theme: theme), Span("  \(c.type)", theme.title), Span(c.column.map { " on column \($0)" } ?? "", theme.text),
             Span("   dimension ", theme.muted), Span(c.dimension), Span("   severity ", theme.muted),
             Span(c.severity, c.severity == "error" ? theme.error : theme.warn)],
            [Span("params ", theme.muted), Span(c.params.isEmpty || c.params == "{}" ? "none" : c.params)],
            [Span("Last evaluation ", theme.muted), Span(c.runId.map { "run #\($0): " } ?? "never run"),
             Span("\(Format.count(c.passed)) passed", theme.ok), Span(" · "),
             Span("\(Format.count(c.failed)) failed", c.failed > 0 ? theme.error : theme.text),
             Span(" of \(Format.count(c.evaluated)) · score "), Format.checkScore(c, theme: theme)],
        ]
        for (i, line) in lines.enumerated() where i < layout.summary.height {
            buffer.write(line, x: layout.summary.x, y: layout.summary.y + i, maxWidth: layout.summary.width, base: theme.text)
        }
        // History: one row per run, with failed counts as a sparkline in the title.
        let failedTrend = Sparkline.text(d.history.map(\.failed), width: Swift.max(0, layout.main.width - 18))
        buffer.write([Span("History ", theme.title), Span("failed ", theme.muted), Span(failedTrend, theme.sparkline)],
                     x: layout.main.x, y: layout.main.y, maxWidth: layout.main.width, base: theme.text)
        let historyArea = Rect(x: layout.main.x, y: layout.main.y + 1, width: layout.main.width, height: layout.main.height - 1)
        let cols: [Column<CheckHistoryPoint>] = [
            Column("run", "Run", .fixed(6), .right) { [Span("#\($0.runId)")] },
            Column("at", "At", .fill(11)) { [Span(Format.dateTime($0.evaluatedAt))] },
            Column("passed", "Passed", .fixed(7), .right) { [Span(Format.count($0.passed), theme.ok)] },
            Column("failed", "Failed", .fixed(7), .right) { [Span(Format.count($0.failed), $0.failed > 0 ? theme.error : theme.text)] },
        ]
        let newestFirst = Array(d.history.reversed())
        var table = Columns.table(cols, rows: newestFirst, width: historyArea.width, sort: SortState(), theme: theme)
        table.showSelection = false
        table.render(historyArea, state: ListState(), into: &buffer)
        if newestFirst.isEmpty { buffer.write("Not evaluated yet.", x: historyArea.x, y: historyArea.y + 1, style: theme.muted) }

        if let page = failingPage(d) {
            // Every quarantined row of the check, paged: the title counts them all.
            buffer.write([Span("Failing records ", theme.title), Span("\(Format.count(page.total)) in quarantine · Enter opens one", theme.muted)],
                         x: layout.secondTitle.x, y: layout.secondTitle.y, maxWidth: layout.secondTitle.width, base: theme.text)
            let (rows, shown) = QuarantineRows.window(page, list: samplesList, height: layout.samples.height)
            ListView(items: rows.map { Self.failingLine($0, theme: theme) }, theme: theme).render(layout.samples, state: shown, into: &buffer)
            if page.total == 0 {
                buffer.write("Nothing matches “\(filter)” — Esc clears the filter", x: layout.samples.x, y: layout.samples.y,
                             style: theme.muted, maxWidth: layout.samples.width)
            }
            return
        }
        let samples = samples(d, ctx.pii, theme: theme)
        // A warn check flags rows and keeps them loaded: only sample record keys are stored, and the title says so.
        let what = d.failing.isEmpty && !d.check.samples.isEmpty
            ? "\(samples.count) sample key\(samples.count == 1 ? "" : "s") of \(Format.count(c.failed)) flagged (rows stay loaded)"
            : "\(samples.count) in quarantine · Enter opens one"
        buffer.write([Span("Failing records ", theme.title), Span(what, theme.muted)],
                     x: layout.secondTitle.x, y: layout.secondTitle.y, maxWidth: layout.secondTitle.width, base: theme.text)
        ListView(items: samples, theme: theme).render(layout.samples, state: samplesList, into: &buffer)
        if samples.isEmpty {
            buffer.write(c.failed == 0 ? "✓ none: the check passes" : "No samples kept for this check.",
                         x: layout.samples.x, y: layout.samples.y, style: theme.muted, maxWidth: layout.samples.width)
        }
    }
}
