import Foundation
import StewardCatalog
import StewardMetrics

/// SLA/KPI pane: one row per KPI (target, actual, baseline, status mark, trend, due), the uptime error
/// budget as a gauge, and the anomalies of the last run. Enter opens a KPI: its definition and its
/// measurement history as a line chart; Esc goes back.
public struct SLAPane: Equatable, Sendable {
    public var filter = ""
    public var list = ListState()
    /// The KPI open in the detail view, by name.
    public var openKPI: String?

    public init() {}

    // MARK: data

    func rows(_ ctx: PaneContext) -> [KPIStatus] {
        (ctx.snapshot?.kpis ?? []).filter { Format.matches(filter, [$0.name, $0.status.rawValue, $0.definition.targetText]) }
    }

    func selected(_ ctx: PaneContext) -> KPIStatus? { rows(ctx)[safe: list.selected] }

    public func selectedID(_ ctx: PaneContext) -> String? { openKPI ?? selected(ctx)?.name }

    // MARK: update

    public mutating func handle(_ action: Action, _ ctx: PaneContext, area: Rect) -> Bool {
        switch action {
        case .open:
            guard openKPI == nil, let k = selected(ctx) else { return false }
            openKPI = k.name
            return true
        case .back:
            if openKPI != nil { openKPI = nil; return true }
            guard !filter.isEmpty else { return false }
            filter = ""; return true
        default:
            guard openKPI == nil else { return false }
            return navigate(&list, action, count: rows(ctx).count, height: Table.bodyHeight(Self.layout(area, ctx).table))
        }
    }

    public mutating func clamp(_ ctx: PaneContext, area: Rect) {
        list.clamp(count: rows(ctx).count, height: Table.bodyHeight(Self.layout(area, ctx).table))
    }

    public mutating func click(x: Int, y: Int, _ ctx: PaneContext, area: Rect) -> Bool {
        guard openKPI == nil else { return false }
        let table = Self.layout(area, ctx).table
        guard let row = Table.row(at: y, in: table, state: list, count: rows(ctx).count) else { return false }
        list.select(row, count: rows(ctx).count, height: Table.bodyHeight(table))
        return true
    }

    // MARK: view

    struct Areas { var table: Rect; var budget: Rect; var anomaliesTitle: Rect; var anomalies: Rect }

    static func layout(_ area: Rect, _ ctx: PaneContext) -> Areas {
        let inner = area.inset(1)
        let anomalies = min(max(ctx.snapshot?.anomalies.count ?? 0, 1), 6)
        let p = Layout.rows(inner, [.fill(), .fixed(1), .fixed(1), .fixed(anomalies)])
        return Areas(table: p[0], budget: p[1], anomaliesTitle: p[2], anomalies: p[3])
    }

    public func render(_ area: Rect, _ ctx: PaneContext, into buffer: inout ScreenBuffer) {
        if let name = openKPI {
            renderDetail(name, area, ctx, into: &buffer)
            return
        }
        let theme = ctx.theme
        let layout = Self.layout(area, ctx)
        let kpis = rows(ctx)
        let filterTitle: Line = filter.isEmpty ? [] : [Span(" filter: ", theme.muted), Span(filter, theme.accent)]
        Block(title: [Span("SLA / KPI ", theme.title), Span("(\(kpis.count))", theme.muted)] + filterTitle,
              style: theme.borderFocused, titleStyle: theme.title).render(area, into: &buffer)
        var table = Columns.table(Self.columns(ctx), rows: kpis, width: layout.table.width, sort: SortState(), theme: theme)
        table.showSelection = true
        table.render(layout.table, state: list, into: &buffer)
        if kpis.isEmpty {
            let hint = ctx.snapshot?.verdictPending == true ? "Measuring the KPIs (with steward check's verdict)…"
                : filter.isEmpty ? "No KPIs: add kpis: to steward.yml or a Metric | Target table to the roadmap."
                : "No KPI matches “\(filter)” — Esc clears the filter"
            buffer.write(hint, x: layout.table.x, y: layout.table.y + 1, style: theme.muted, maxWidth: layout.table.width)
        }

        // The gauge shows the uptime KPI's own budget (same observed window, same numbers as its status);
        // before uptime can be judged it says why, as the KPI does.
        let uptimeKPI = ctx.snapshot?.kpis.first { $0.result.budget != nil }
            ?? ctx.snapshot?.kpis.first { $0.definition.measure == .uptime && $0.definition.target?.unit == .percent }
        if let uptime = uptimeKPI, uptime.result.budget == nil {
            buffer.write([Span("Error budget ", theme.title), Span("\(uptime.name) ", theme.muted), Span(uptime.reason, theme.muted)],
                         x: layout.budget.x, y: layout.budget.y, maxWidth: layout.budget.width, base: theme.text)
        } else if let uptime = uptimeKPI, let budget = uptime.result.budget {
            let label: Line = [Span("Error budget ", theme.title), Span("\(uptime.name) ", theme.muted)]
            let used = buffer.write(label, x: layout.budget.x, y: layout.budget.y, maxWidth: layout.budget.width, base: theme.text)
            let text = budget.left >= 0
                ? "\(Duration.describe(budget.left)) of \(Duration.describe(budget.allowed)) left"
                : "overspent by \(Duration.describe(-budget.left)) (allowed \(Duration.describe(budget.allowed)))"
            let fill = budget.fractionLeft < 0.1 ? theme.error : budget.fractionLeft < 0.5 ? theme.warn : theme.gaugeFilled
            Gauge(ratio: max(0, min(1, budget.fractionLeft)), label: text, filled: fill, empty: theme.gaugeEmpty, text: theme.text)
                .render(Rect(x: layout.budget.x + used, y: layout.budget.y, width: max(0, layout.budget.width - used), height: 1), into: &buffer)
        } else {
            buffer.write("Error budget: no uptime KPI with a % target", x: layout.budget.x, y: layout.budget.y, style: theme.muted,
                         maxWidth: layout.budget.width)
        }

        let anomalies = ctx.snapshot?.anomalies ?? []
        buffer.fill(layout.anomaliesTitle, symbol: "─", style: theme.border)
        buffer.write([Span("Anomalies", theme.title), Span(" (robust z over the last runs) ", theme.muted)],
                     x: layout.anomaliesTitle.x + 1, y: layout.anomaliesTitle.y, maxWidth: layout.anomaliesTitle.width - 2, base: theme.text)
        if anomalies.isEmpty {
            buffer.write("none in the last run", x: layout.anomalies.x, y: layout.anomalies.y, style: theme.muted, maxWidth: layout.anomalies.width)
        }
        for (i, a) in anomalies.prefix(layout.anomalies.height).enumerated() {
            buffer.write([Span("▲ ", theme.warn), Span(a.message)], x: layout.anomalies.x, y: layout.anomalies.y + i,
                         maxWidth: layout.anomalies.width, base: theme.text)
        }
    }

    static func mark(_ s: KPIState, theme: Theme) -> Span {
        switch s {
        case .met: return Span("✓ met", theme.ok)
        case .atRisk: return Span("▲ at risk", theme.warn)
        case .breached: return Span("✗ breached", theme.error)
        case .noData: return Span("○ no data", theme.never)
        }
    }

    static func due(_ d: KPIDefinition) -> String {
        d.due.map { String(Timestamp.string($0).prefix(10)) } ?? d.dueText ?? ""
    }

    static func baseline(_ d: KPIDefinition) -> String {
        d.baseline.map { $0.unit.format($0.value) } ?? d.baselineText ?? ""
    }

    static func columns(_ ctx: PaneContext) -> [Column<KPIStatus>] {
        let theme = ctx.theme
        return [
            Column("kpi", "KPI", .fill(18)) { [Span($0.name, theme.title)] },
            Column("target", "Target", .fixed(12)) { [Span($0.definition.targetText)] },
            Column("actual", "Actual", .fixed(9), .right) { k in
                [Span(k.formatted(k.value), k.status == .breached ? theme.error : k.status == .atRisk ? theme.warn : theme.text)]
            },
            Column("baseline", "Baseline", .fixed(9), .right, priority: 2) { [Span(baseline($0.definition), theme.muted)] },
            Column("status", "Status", .fixed(11)) { [mark($0.status, theme: theme)] },
            Column("trend", "Trend", .fixed(12), priority: 1) { [Span(Sparkline.text($0.trend, width: 12, relative: true), theme.sparkline)] },
            Column("due", "Due", .fixed(10), priority: 3) { [Span(due($0.definition), theme.muted)] },
        ]
    }

    func renderDetail(_ name: String, _ area: Rect, _ ctx: PaneContext, into buffer: inout ScreenBuffer) {
        let theme = ctx.theme
        guard let k = ctx.snapshot?.kpis.first(where: { $0.name == name }) else {
            let inner = Block(title: name, style: theme.borderFocused, titleStyle: theme.title).render(area, into: &buffer).inset(horizontal: 1, vertical: 0)
            let (text, style) = ctx.loadingLine(name)
            buffer.write(text, x: inner.x, y: inner.y, style: style, maxWidth: inner.width)
            return
        }
        let inner = Block(title: [Span("\(k.name) ", theme.title), SLAPane.mark(k.status, theme: theme), Span(" — Esc back ", theme.muted)],
                          style: theme.borderFocused, titleStyle: theme.title).render(area, into: &buffer).inset(horizontal: 1, vertical: 0)
        let d = k.definition
        var lines: [Line] = [
            [Span("Target   ", theme.muted), Span(d.targetText), Span(d.target.map { "  (\($0.comparison == .atMost ? "at most" : "at least") \($0.unit.format($0.value)))" } ?? "", theme.muted)],
            [Span("Actual   ", theme.muted), Span(k.formatted(k.value)), Span("   baseline ", theme.muted), Span(SLAPane.baseline(d).isEmpty ? "–" : SLAPane.baseline(d)),
             Span("   due ", theme.muted), Span(SLAPane.due(d).isEmpty ? "–" : SLAPane.due(d))],
            [Span("Measure  ", theme.muted), Span(d.measure == .manual ? "manual (steward kpi record)" : d.measure.rawValue),
             Span("   from ", theme.muted), Span(d.origin == .config ? "steward.yml" : "roadmap")],
            [Span("Why      ", theme.muted), Span(k.reason)],
        ]
        if !k.result.parts.isEmpty {
            lines.append([Span("Sources  ", theme.muted)] + k.result.parts.flatMap { p in
                [Span(p.label + " "), Span(p.value.map { k.unit.format($0) } ?? p.note, theme.muted), Span("  ")]
            })
        }
        if let b = k.result.budget {
            lines.append([Span("Budget   ", theme.muted), Span("\(Duration.describe(b.allowed)) per \(Duration.describe(b.window)), used \(Duration.describe(b.used))")])
        }
        let used = TextBlock.render(lines, Rect(x: inner.x, y: inner.y, width: inner.width, height: min(inner.height, lines.count + 2)),
                                    base: theme.text, into: &buffer)
        let chartArea = Rect(x: inner.x, y: inner.y + used + 1, width: inner.width, height: max(0, inner.height - used - 1))
        let history = (ctx.snapshot?.kpiHistory ?? []).compactMap { m in m.value.map { (m.at, $0) } }
        // The measurements as a table beside the chart, newest first, when the width allows.
        var plot = chartArea
        if chartArea.width >= 90, !history.isEmpty {
            let parts = Layout.columns(chartArea, [.fill(), .fixed(28)], spacing: 2)
            plot = parts[0]
            buffer.write([Span("History", theme.title)], x: parts[1].x, y: parts[1].y, maxWidth: parts[1].width, base: theme.text)
            for (i, m) in history.reversed().prefix(Swift.max(0, parts[1].height - 1)).enumerated() {
                buffer.write([Span(Format.dateTime(m.0), theme.muted), Span("  "), Span(k.unit.format(m.1))],
                             x: parts[1].x, y: parts[1].y + 1 + i, maxWidth: parts[1].width, base: theme.text)
            }
        }
        LineChart(values: history.map(\.1), target: d.target?.value, format: { k.unit.format($0) },
                  from: history.first?.0, to: history.last?.0, theme: theme).render(plot, into: &buffer)
    }
}

/// A line chart of values in a terminal rectangle: y labels on the left, the target as a dotted line,
/// one column per point (the most recent that fit), joined with vertical strokes.
struct LineChart {
    var values: [Double]
    var target: Double?
    var format: (Double) -> String
    var from: Date?
    var to: Date?
    var theme: Theme

    func render(_ area: Rect, into buffer: inout ScreenBuffer) {
        guard area.height >= 4, area.width >= 20 else { return }
        guard !values.isEmpty else {
            buffer.write("No measurements yet: KPIs are measured after each run and by steward kpi / check.",
                         x: area.x, y: area.y, style: theme.muted, maxWidth: area.width)
            return
        }
        let plotHeight = area.height - 1
        var lo = values.min()!, hi = values.max()!
        // The target joins the scale only when it is near the data: a far target would squash every
        // point onto one row. Otherwise it is named, with where it lies.
        let span = Swift.max(hi - lo, Swift.max(abs(hi) * 0.01, 1e-9))
        let targetOnScale = target.map { $0 >= lo - span && $0 <= hi + span } ?? false
        if let target, targetOnScale { lo = min(lo, target); hi = max(hi, target) }
        if hi == lo { hi += max(abs(hi) * 0.05, 1e-9); lo -= max(abs(lo) * 0.05, 1e-9) }
        let labels = [format(hi), format(lo)]
        let labelWidth = labels.map(\.displayWidth).max()! + 1
        let plotWidth = area.width - labelWidth - 1
        let shown = Array(values.suffix(plotWidth))
        // Points spread over the whole width (not bunched at the left edge).
        func column(_ i: Int) -> Int { shown.count > 1 ? i * (plotWidth - 1) / (shown.count - 1) : 0 }
        func row(_ v: Double) -> Int { plotHeight - 1 - Int(((v - lo) / (hi - lo) * Double(plotHeight - 1)).rounded()) }
        buffer.write(labels[0], x: area.x, y: area.y, style: theme.muted)
        buffer.write(labels[1], x: area.x, y: area.y + plotHeight - 1, style: theme.muted)
        let x0 = area.x + labelWidth
        for y in 0..<plotHeight { buffer.write("│", x: x0, y: area.y + y, style: theme.border) }
        if let target, targetOnScale {
            let ty = row(target)
            for x in 0..<plotWidth { buffer.write("┄", x: x0 + 1 + x, y: area.y + ty, style: theme.warn) }
            buffer.write(" target \(format(target)) ", x: max(x0 + 1, x0 + plotWidth - 20), y: area.y + ty, style: theme.warn)
        }
        var previous: Int?
        for (i, v) in shown.enumerated() {
            let y = row(v)
            if let p = previous, abs(p - y) > 1 {
                for yy in (min(p, y) + 1)..<max(p, y) { buffer.write("│", x: x0 + 1 + column(i), y: area.y + yy, style: theme.sparkline) }
            }
            buffer.write("●", x: x0 + 1 + column(i), y: area.y + y, style: theme.accent)
            previous = y
        }
        let axis = "\(from.map { Format.dateTime($0) } ?? "") … \(to.map { Format.dateTime($0) } ?? "")  (\(shown.count) of \(values.count) measurements)"
        var x = x0 + 1
        if let target, !targetOnScale {
            x += buffer.write("target \(format(target)) (\((target < lo ? "below" : "above")) this scale)  ", x: x, y: area.y + plotHeight,
                              style: theme.warn, maxWidth: plotWidth)
        }
        buffer.write(axis, x: x, y: area.y + plotHeight, style: theme.muted, maxWidth: x0 + 1 + plotWidth - x)
    }
}
