import Foundation
import StewardCatalog

/// Runs pane: run history, the steps of the selected run, and the tail of the audit log.
/// ←/→ (or Enter / Esc) move the focus between the three lists.
public struct RunsPane: Equatable, Sendable {
    public enum Focus: Int, CaseIterable, Sendable { case runs, steps, audit }

    public var filter = ""
    public var focus: Focus = .runs
    public var runsList = ListState()
    public var stepsList = ListState()
    public var auditList = ListState()
    /// The audit event open over the pane (Enter on an audit row), by id.
    public var openAudit: Int64?
    public var sort = SortState()

    public init() {}

    // MARK: data

    func runRows(_ ctx: PaneContext) -> [RunInfo] {
        let rows = (ctx.snapshot?.runs ?? []).filter {
            Format.matches(filter, ["#\($0.id)", $0.trigger, $0.status, $0.actor, $0.message] + $0.steps.map(\.source))
        }
        return Columns.sorted(rows, by: sort, in: Self.runColumns(ctx))
    }

    func selectedRun(_ ctx: PaneContext) -> RunInfo? { runRows(ctx)[safe: runsList.selected] }

    func stepRows(_ ctx: PaneContext) -> [StepInfo] { selectedRun(ctx)?.steps ?? [] }

    func auditRows(_ ctx: PaneContext) -> [AuditEvent] {
        (ctx.snapshot?.audit ?? []).filter { Format.matches(filter, [$0.actor, $0.action, $0.subject, $0.detail]) }
    }

    public func selectedID(_ ctx: PaneContext) -> String? {
        switch focus {
        case .runs: return selectedRun(ctx).map { "\($0.id)" }
        case .steps: return stepRows(ctx)[safe: stepsList.selected].map { "run \($0.runId) \($0.source)" }
        case .audit: return auditRows(ctx)[safe: auditList.selected].map { "\($0.id)" }
        }
    }

    // MARK: update

    public mutating func handle(_ action: Action, _ ctx: PaneContext, area: Rect) -> Bool {
        let layout = Self.layout(area)
        if openAudit != nil {
            // The event's detail is open: Enter or Esc closes it, nothing else moves underneath.
            guard action == .open || action == .back else { return false }
            openAudit = nil
            return true
        }
        switch action {
        case .nextSection: focus = Focus(rawValue: (focus.rawValue + 1) % 3)!; return true
        case .prevSection: focus = Focus(rawValue: (focus.rawValue + 2) % 3)!; return true
        case .open where focus == .audit:
            guard let event = auditRows(ctx)[safe: auditList.selected] else { return false }
            openAudit = event.id
            return true
        case .open:
            guard focus == .runs, !stepRows(ctx).isEmpty else { return false }
            focus = .steps; stepsList = ListState(); return true
        case .back:
            if focus != .runs { focus = .runs; return true }
            guard !filter.isEmpty else { return false }
            filter = ""; return true
        case .sort where focus == .runs: sort.advance(Self.runColumns(ctx)); return true
        case .reverseSort where focus == .runs:
            sort.ascending.toggle(); if sort.column == nil { sort.advance(Self.runColumns(ctx)) }; return true
        default: break
        }
        switch focus {
        case .runs:
            let before = runsList.selected
            let moved = navigate(&runsList, action, count: runRows(ctx).count, height: Table.bodyHeight(layout.runs))
            if runsList.selected != before { stepsList = ListState() }
            return moved
        case .steps: return navigate(&stepsList, action, count: stepRows(ctx).count, height: Table.bodyHeight(layout.steps))
        case .audit: return navigate(&auditList, action, count: auditRows(ctx).count, height: Table.bodyHeight(layout.audit))
        }
    }

    public mutating func clamp(_ ctx: PaneContext, area: Rect) {
        let layout = Self.layout(area)
        runsList.clamp(count: runRows(ctx).count, height: Table.bodyHeight(layout.runs))
        stepsList.clamp(count: stepRows(ctx).count, height: Table.bodyHeight(layout.steps))
        auditList.clamp(count: auditRows(ctx).count, height: Table.bodyHeight(layout.audit))
    }

    public mutating func click(x: Int, y: Int, _ ctx: PaneContext, area: Rect) -> Bool {
        let layout = Self.layout(area)
        if let row = Table.row(at: y, in: layout.runs, state: runsList, count: runRows(ctx).count) {
            focus = .runs
            if row != runsList.selected { stepsList = ListState() }
            runsList.select(row, count: runRows(ctx).count, height: Table.bodyHeight(layout.runs))
            return true
        }
        if let row = Table.row(at: y, in: layout.steps, state: stepsList, count: stepRows(ctx).count) {
            focus = .steps
            stepsList.select(row, count: stepRows(ctx).count, height: Table.bodyHeight(layout.steps))
            return true
        }
        if let row = Table.row(at: y, in: layout.audit, state: auditList, count: auditRows(ctx).count) {
            focus = .audit
            auditList.select(row, count: auditRows(ctx).count, height: Table.bodyHeight(layout.audit))
            return true
        }
        return false
    }

    // MARK: view

    struct Areas { var runs: Rect; var stepsTitle: Rect; var steps: Rect; var auditTitle: Rect; var audit: Rect }

    static func layout(_ area: Rect) -> Areas {
        let inner = area.inset(1)
        let p = Layout.rows(inner, [.percentage(40), .fixed(1), .percentage(30), .fixed(1), .fill()])
        return Areas(runs: p[0], stepsTitle: p[1], steps: p[2], auditTitle: p[3], audit: p[4])
    }

    public func render(_ area: Rect, _ ctx: PaneContext, into buffer: inout ScreenBuffer) {
        let theme = ctx.theme
        let layout = Self.layout(area)
        let runs = runRows(ctx)
        let filterTitle: Line = filter.isEmpty ? [] : [Span(" filter: ", theme.muted), Span(filter, theme.accent)]
        Block(title: [Span("Runs ", focus == .runs ? theme.accent : theme.title), Span("(\(runs.count))", theme.muted)] + filterTitle,
              style: theme.borderFocused, titleStyle: theme.title).render(area, into: &buffer)
        var runTable = Columns.table(Self.runColumns(ctx), rows: runs, width: layout.runs.width, sort: sort, theme: theme)
        // One highlighted row at a time: the focused list's (the steps' title names the run they belong to).
        runTable.showSelection = focus == .runs
        runTable.render(layout.runs, state: runsList, into: &buffer)
        if runs.isEmpty {
            let hint = filter.isEmpty ? "No runs yet: press r to run the pipeline." : "No run matches “\(filter)” — Esc clears the filter"
            buffer.write(hint, x: layout.runs.x, y: layout.runs.y + 1, style: theme.muted, maxWidth: layout.runs.width)
        }

        let run = selectedRun(ctx)
        var stepsTitle: Line = [Span("Steps", focus == .steps ? theme.accent : theme.title)]
        if let run { stepsTitle += [Span(" of run #\(run.id)", theme.muted)] + (run.message.map { [Span(" — \($0)", theme.muted)] } ?? []) }
        buffer.fill(layout.stepsTitle, symbol: "─", style: theme.border)
        buffer.write(stepsTitle + [Span(" ")], x: layout.stepsTitle.x + 1, y: layout.stepsTitle.y, maxWidth: layout.stepsTitle.width - 2, base: theme.text)
        var steps = Columns.table(Self.stepColumns(ctx), rows: stepRows(ctx), width: layout.steps.width, sort: SortState(), theme: theme)
        steps.showSelection = focus == .steps
        steps.render(layout.steps, state: stepsList, into: &buffer)

        let audit = auditRows(ctx)
        buffer.fill(layout.auditTitle, symbol: "─", style: theme.border)
        buffer.write([Span("Audit log", focus == .audit ? theme.accent : theme.title), Span(" (latest first) ", theme.muted)],
                     x: layout.auditTitle.x + 1, y: layout.auditTitle.y, maxWidth: layout.auditTitle.width - 2, base: theme.text)
        var auditTable = Columns.table(Self.auditColumns(ctx), rows: audit, width: layout.audit.width, sort: SortState(), theme: theme)
        auditTable.showSelection = focus == .audit
        auditTable.render(layout.audit, state: auditList, into: &buffer)
        if let id = openAudit { renderAuditEvent(id, area, ctx, into: &buffer) }
    }

    /// One audit event whole, over the pane: the table's row cuts its subject and detail.
    func renderAuditEvent(_ id: Int64, _ area: Rect, _ ctx: PaneContext, into buffer: inout ScreenBuffer) {
        let theme = ctx.theme
        let width = min(100, area.width - 4)
        var lines: [Line]
        if let e = ctx.snapshot?.audit.first(where: { $0.id == id }) {
            func field(_ name: String, _ value: String) -> Line { [Span(name.padded(to: 9), theme.muted), Span(value)] }
            lines = [field("when", e.at.map { Timestamp.string($0) } ?? "–"), field("actor", e.actor), field("action", e.action),
                     field("subject", e.subject), [], [Span("detail", theme.muted)]]
            lines += e.detail.split(separator: "\n", omittingEmptySubsequences: false).map { [Span(String($0))] }
        } else {
            lines = [[Span("Event \(id) is no longer among the latest \(ctx.snapshot?.audit.count ?? 0) events shown.", theme.muted)]]
        }
        lines = TextBlock.wrap(lines, width: width - 4)
        let inner = Modal.render(title: "Audit event \(id)  (Esc closes)", width: width, height: min(lines.count + 2, area.height - 2),
                                 in: area, theme: theme, into: &buffer)
        TextBlock.render(lines, inner, base: theme.modal, into: &buffer)
    }

    static func runColumns(_ ctx: PaneContext) -> [Column<RunInfo>] {
        let theme = ctx.theme
        return [
            Column("id", "Run", .fixed(6), .right, less: { $0.id < $1.id }) { [Span("#\($0.id)", theme.title)] },
            Column("trigger", "Trigger", .fixed(8), priority: 2, less: { $0.trigger < $1.trigger }) { [Span($0.trigger)] },
            Column("start", "Started", .fixed(11), less: { ($0.startedAt ?? .distantPast) < ($1.startedAt ?? .distantPast) }) {
                [Span(Format.dateTime($0.startedAt))]
            },
            Column("took", "Took", .fixed(7), .right, less: { ($0.duration ?? -1) < ($1.duration ?? -1) }) { [Span(Format.duration($0.duration))] },
            Column("status", "Status", .fixed(11), less: { $0.status < $1.status }) { [Format.status($0.status, theme: theme)] },
            Column("read", "Read", .fixed(8), .right, less: { $0.rowsRead < $1.rowsRead }) { [Span(Format.count($0.rowsRead))] },
            Column("loaded", "Loaded", .fixed(8), .right, priority: 1, less: { $0.rowsLoaded < $1.rowsLoaded }) { [Span(Format.count($0.rowsLoaded))] },
            Column("quar", "Quar.", .fixed(7), .right, priority: 1, less: { $0.rowsQuarantined < $1.rowsQuarantined }) {
                [Span(Format.count($0.rowsQuarantined), $0.rowsQuarantined > 0 ? theme.warn : theme.text)]
            },
            Column("actor", "By", .fill(6), priority: 3) { [Span($0.actor, theme.muted)] },
        ]
    }

    static func stepColumns(_ ctx: PaneContext) -> [Column<StepInfo>] {
        let theme = ctx.theme
        return [
            Column("source", "Source", .fixed(16)) { [Span($0.source, theme.title)] },
            Column("status", "Status", .fixed(11)) { [Format.status($0.status, theme: theme)] },
            Column("took", "Took", .fixed(7), .right) { [Span(Format.duration($0.durationMs.map { $0 / 1000 }))] },
            Column("batches", "Files", .fixed(5), .right, priority: 2) { [Span("\($0.batches)")] },
            Column("read", "Read", .fixed(8), .right) { [Span(Format.count($0.rowsRead))] },
            Column("loaded", "Loaded", .fixed(8), .right, priority: 1) { [Span(Format.count($0.rowsLoaded))] },
            Column("quar", "Quar.", .fixed(7), .right, priority: 1) { [Span(Format.count($0.rowsQuarantined), $0.rowsQuarantined > 0 ? theme.warn : theme.text)] },
            Column("message", "Message", .fill(8)) { [Span($0.message ?? "", theme.muted)] },
        ]
    }

    static func auditColumns(_ ctx: PaneContext) -> [Column<AuditEvent>] {
        let theme = ctx.theme
        return [
            Column("at", "At", .fixed(11)) { [Span(Format.dateTime($0.at), theme.muted)] },
            Column("actor", "Actor", .fixed(10), priority: 2) { [Span($0.actor)] },
            Column("action", "Action", .fixed(16)) { [Span($0.action, theme.title)] },
            Column("subject", "Subject", .fixed(18), priority: 1) { [Span($0.subject)] },
            Column("detail", "Detail", .fill(10)) { [Span($0.detail, theme.muted)] },
        ]
    }
}
