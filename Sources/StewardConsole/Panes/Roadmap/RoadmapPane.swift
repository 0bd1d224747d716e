import Foundation
import StewardCatalog
import StewardConfig
import StewardMetrics
import StewardRoadmap

extension PlanFacts {
    /// What the plan's risks link to, measured now without storing anything: KPIs (with status and
    /// trend), source health, failing checks and the quality score. Empty without a catalog.
    public static func measure(config: ProjectConfig, catalog: Catalog?, now: Date = Date()) -> PlanFacts {
        guard let catalog else { return PlanFacts() }
        let kpis = (try? KPIEvaluator(config: config, catalog: catalog, now: now).evaluate(store: false)) ?? []
        return measure(catalog: catalog, kpis: kpis, now: now)
    }

    /// The same from KPI statuses already evaluated (the console's snapshot has them).
    public static func measure(catalog: Catalog?, kpis: [KPIStatus], now: Date = Date()) -> PlanFacts {
        var facts = PlanFacts(kpis: kpis.map {
            PlanFacts.KPI(name: $0.name, status: $0.status.rawValue, actual: $0.value.map($0.unit.format), target: $0.definition.targetText,
                          trend: $0.trend, trendText: $0.trend.map($0.unit.format))
        })
        guard let catalog else { return facts }
        facts.sources = ((try? catalog.sourceOverviews(now: now)) ?? []).map {
            PlanFacts.Source(name: $0.name, system: $0.system, status: $0.status.rawValue)
        }
        if let quality = try? catalog.qualityOverview() {
            facts.qualityScore = quality.score
            facts.failingChecks = quality.failingChecks.map { PlanFacts.FailingCheck(source: $0.source, name: $0.name, failed: $0.failed) }
        }
        return facts
    }
}

/// What the Roadmap pane shows: the plan as read from its file, with evidence, notes and progress.
public struct RoadmapSnapshot: Sendable, Equatable {
    public var path: String
    public var document: RoadmapDocument
    public var progress: RoadmapProgress
    public var evidence: [String: TaskEvidence]
    public var notes: [String: RoadmapNote]
    public var lastChanges: [String: RoadmapChangeRecord]
    public var today: Day
    /// Deliverables with sign-off, risks with signals, dependencies, budget vs actual, cadence.
    public var plan: PlanStatus

    /// Without `plan`, the plan's sections as written, with no decisions or measurements applied.
    public init(path: String, document: RoadmapDocument, progress: RoadmapProgress, evidence: [String: TaskEvidence] = [:],
                notes: [String: RoadmapNote] = [:], lastChanges: [String: RoadmapChangeRecord] = [:], today: Day,
                plan: PlanStatus? = nil) {
        self.path = path; self.document = document; self.progress = progress; self.evidence = evidence
        self.notes = notes; self.lastChanges = lastChanges; self.today = today
        self.plan = plan ?? PlanStatus(document: document, progress: progress, state: PlanState(), today: today)
    }

    /// Reads the roadmap file and what the catalog knows about its tasks and plan (`kpis`: the
    /// snapshot's KPI statuses, for the risks' signals).
    public static func load(url: URL, rules: [EvidenceRule], catalog: Catalog?, kpis: [KPIStatus] = [], now: Date = Date()) throws -> RoadmapSnapshot {
        let document = try RoadmapDocument(contentsOf: url)
        let today = Day.today(now)
        let ticks = (try? catalog?.roadmapTickEvents()) ?? []
        let progress = RoadmapProgress(document, ticks: ticks, today: today, now: now)
        let state = PlanState((try? catalog?.planEvents()) ?? [])
        let plan = PlanStatus(document: document, progress: progress, state: state,
                              facts: PlanFacts.measure(catalog: catalog, kpis: kpis, now: now), today: today, now: now)
        return RoadmapSnapshot(
            path: url.lastPathComponent, document: document, progress: progress,
            evidence: RoadmapEvidence(document, rules: rules, catalog: catalog).byTask,
            notes: (try? catalog?.roadmapLatestNotes()) ?? [:],
            lastChanges: (try? catalog?.roadmapLastChanges()) ?? [:], today: today, plan: plan)
    }
}

/// Roadmap pane: the tree phase › month › task with progress bars; Enter/←/→ collapse and expand,
/// Space ticks or unticks (written to the file at once), `n` adds a note, `:progress` sums up.
public struct RoadmapPane: Equatable, Sendable {
    public enum Row: Equatable, Sendable {
        case phase(Int)
        case section(Int, Int)
        case task(Int)
        case deliverables(Int)
        case deliverable(Int, Int)
        /// The plan's other sections, below the phases: a heading row, then one row per item.
        case planHeading(PlanSection)
        case risk(Int)
        case dependency(Int)
        case budget(Int)
        case cadence(Int)
    }

    public enum PlanSection: String, Equatable, Sendable, CaseIterable { case risks, dependencies, budget, cadence }

    public var filter = ""
    public var list = ListState()
    /// Collapsed phases (`p3`) and sections (`s3.1`).
    public var collapsed: Set<String> = []
    /// The `:progress` overlay is open.
    public var showProgress = false
    /// The task a note is being typed for.
    public var noteTarget: String?
    /// A tick, note or sign-off is being written (off the main actor).
    public var writing = false

    public init() {}

    // MARK: data

    func rows(_ ctx: PaneContext) -> [Row] {
        guard let rm = ctx.snapshot?.roadmap else { return [] }
        let doc = rm.document
        var out: [Row] = []
        func addTree(_ t: Int, into rows: inout [Row]) {
            rows.append(.task(t))
            for c in doc.tasks[t].children { addTree(c, into: &rows) }
        }
        if !filter.isEmpty {
            let needle = filter.lowercased()
            var lastPhase: Int?, lastSection: (Int, Int)?
            for (i, t) in doc.tasks.enumerated() {
                let hay = [t.plainText, t.id, t.section, t.phase, rm.notes[t.id]?.note ?? ""].joined(separator: " ").lowercased()
                guard hay.contains(needle) else { continue }
                if let p = t.phaseIndex, p != lastPhase { out.append(.phase(p)); lastPhase = p; lastSection = nil }
                if let p = t.phaseIndex, let s = t.sectionIndex, lastSection.map({ $0 != (p, s) }) ?? true {
                    out.append(.section(p, s)); lastSection = (p, s)
                }
                out.append(.task(i))
            }
            return out
        }
        for (p, phase) in doc.phases.enumerated() {
            out.append(.phase(p))
            if collapsed.contains("p\(p)") { continue }
            for t in phase.taskIndexes where doc.tasks[t].sectionIndex == nil { addTree(t, into: &out) }
            for (s, section) in phase.sections.enumerated() where !section.taskIndexes.isEmpty {
                out.append(.section(p, s))
                if collapsed.contains("s\(p).\(s)") { continue }
                for t in section.taskIndexes { addTree(t, into: &out) }
            }
            if !phase.deliverables.isEmpty {
                out.append(.deliverables(p))
                for d in phase.deliverables.indices { out.append(.deliverable(p, d)) }
            }
        }
        let plan = rm.plan
        if !plan.risks.isEmpty { out.append(.planHeading(.risks)); out += plan.risks.indices.map(Row.risk) }
        if !plan.dependencies.isEmpty { out.append(.planHeading(.dependencies)); out += plan.dependencies.indices.map(Row.dependency) }
        if !plan.budget.isEmpty || !plan.plan.team.isEmpty { out.append(.planHeading(.budget)); out += plan.budget.indices.map(Row.budget) }
        if !plan.cadence.isEmpty { out.append(.planHeading(.cadence)); out += plan.cadence.indices.map(Row.cadence) }
        return out
    }

    func selectedRow(_ ctx: PaneContext) -> Row? { rows(ctx)[safe: list.selected] }

    /// The selected task, if the selection is on one.
    public func selectedTask(_ ctx: PaneContext) -> RoadmapTask? {
        guard case .task(let t)? = selectedRow(ctx) else { return nil }
        return ctx.snapshot?.roadmap?.document.tasks[t]
    }

    public func selectedID(_ ctx: PaneContext) -> String? { selectedTask(ctx)?.id }

    /// Space on a deliverable: sign it off, or reopen it when it is signed off (audited in the catalog).
    public func signOffCommand(_ ctx: PaneContext) -> Command? {
        guard case .deliverable(let p, let d)? = selectedRow(ctx), let rm = ctx.snapshot?.roadmap else { return nil }
        let text = rm.document.phases[p].deliverables[d]
        guard let view = rm.plan.deliverables.first(where: { $0.deliverable.phaseIndex == p && $0.deliverable.text == text }) else { return nil }
        let signed = view.signedOff
        return .recordPlan(action: signed ? .reopen : .signOff, subject: view.deliverable.id, detail: PlanDetail(text: text),
                           done: "\(signed ? "reopened" : "signed off") “\(text)”")
    }

    /// `s` on a risk or dependency: its next status (open → mitigating → closed → open; pending →
    /// met → blocked → pending), recorded in the catalog like `steward roadmap risk|dep`.
    public func statusCommand(_ ctx: PaneContext) -> Command? {
        guard let plan = ctx.snapshot?.roadmap?.plan else { return nil }
        func next<S: CaseIterable & Equatable & RawRepresentable>(_ s: S) -> S where S.RawValue == String {
            let all = Array(S.allCases)
            return all[(all.firstIndex(of: s)! + 1) % all.count]
        }
        switch selectedRow(ctx) {
        case .risk(let i)? where plan.risks.indices.contains(i):
            let r = plan.risks[i], to = next(r.status)
            return .recordPlan(action: .riskStatus, subject: r.risk.id, detail: PlanDetail(text: r.risk.title, status: to.rawValue),
                               done: "risk “\(r.risk.title)”: \(to.rawValue)")
        case .dependency(let i)? where plan.dependencies.indices.contains(i):
            let d = plan.dependencies[i], to = next(d.status)
            return .recordPlan(action: .dependencyStatus, subject: d.dependency.id, detail: PlanDetail(text: d.dependency.text, status: to.rawValue),
                               done: "dependency “\(d.dependency.text)”: \(to.rawValue)")
        default:
            return nil
        }
    }

    // MARK: update

    public mutating func handle(_ action: Action, _ ctx: PaneContext, area: Rect) -> Bool {
        let height = Self.layout(area).list.height
        let rows = rows(ctx)
        if showProgress {
            if action == .back || action == .open { showProgress = false; return true }
            return false
        }
        switch action {
        case .open: return toggleCollapse(ctx)
        case .prevSection: return setCollapsed(true, ctx)
        case .nextSection: return setCollapsed(false, ctx)
        case .back:
            guard !filter.isEmpty else { return false }
            filter = ""; list = ListState(); return true
        default:
            return navigate(&list, action, count: rows.count, height: height)
        }
    }

    /// Enter or Space on a phase or month row folds it; returns false on other rows.
    public mutating func toggleCollapse(_ ctx: PaneContext) -> Bool {
        guard let key = foldKey(selectedRow(ctx)) else { return false }
        if collapsed.contains(key) { collapsed.remove(key) } else { collapsed.insert(key) }
        return true
    }

    /// ← folds the selected phase or month (or the month of the selected task); → unfolds it.
    mutating func setCollapsed(_ fold: Bool, _ ctx: PaneContext) -> Bool {
        var row = selectedRow(ctx)
        if fold, case .task(let t)? = row, let task = ctx.snapshot?.roadmap?.document.tasks[t], let p = task.phaseIndex {
            row = task.sectionIndex.map { .section(p, $0) } ?? .phase(p)
            let rows = rows(ctx)
            if let i = rows.firstIndex(of: row!) { list.selected = i }
        }
        guard let key = foldKey(row) else { return false }
        if fold { collapsed.insert(key) } else { collapsed.remove(key) }
        return true
    }

    private func foldKey(_ row: Row?) -> String? {
        switch row {
        case .phase(let p)?: return "p\(p)"
        case .section(let p, let s)?: return "s\(p).\(s)"
        default: return nil
        }
    }

    public mutating func clamp(_ ctx: PaneContext, area: Rect) {
        list.clamp(count: rows(ctx).count, height: Self.layout(area).list.height)
    }

    public mutating func click(x: Int, y: Int, _ ctx: PaneContext, area: Rect) -> Bool {
        let l = Self.layout(area).list
        guard l.contains(x: x, y: y) else { return false }
        let count = rows(ctx).count
        let index = list.visibleOffset(count: count, height: l.height) + (y - l.y)
        guard index < count else { return false }
        if index == list.selected { return toggleCollapse(ctx) }
        list.select(index, count: count, height: l.height)
        return true
    }

    // MARK: view

    struct Areas { var summary: Rect; var list: Rect; var detail: Rect }

    static func layout(_ area: Rect) -> Areas {
        let p = Layout.rows(area.inset(1), [.fixed(1), .fill(), .fixed(2)])
        return Areas(summary: p[0], list: p[1], detail: p[2])
    }

    public func render(_ area: Rect, _ ctx: PaneContext, into buffer: inout ScreenBuffer) {
        let theme = ctx.theme
        let filterTitle: Line = filter.isEmpty ? [] : [Span(" filter: ", theme.muted), Span(filter, theme.accent)]
        guard let rm = ctx.snapshot?.roadmap else {
            let inner = Block(title: [Span("Roadmap", theme.title)], style: theme.borderFocused, titleStyle: theme.title)
                .render(area, into: &buffer).inset(horizontal: 1, vertical: 0)
            let message = ctx.snapshot?.roadmapError
                ?? (ctx.snapshot?.verdictPending == true ? "Reading the roadmap and measuring the KPIs its evidence needs…" : nil)
                ?? "No roadmap: add `roadmap: roadmap.md` to steward.yml to track a markdown plan here."
            buffer.write(message, x: inner.x, y: inner.y, style: ctx.snapshot?.roadmapError == nil ? theme.muted : theme.error, maxWidth: inner.width)
            return
        }
        let total = rm.progress.total
        Block(title: [Span("Roadmap ", theme.title), Span(rm.path, theme.muted)] + filterTitle,
              style: theme.borderFocused, titleStyle: theme.title).render(area, into: &buffer)
        let layout = Self.layout(area)

        // Summary line: overall progress, overdue tasks, forecast.
        var summary: Line = [Span(bar(total.fraction, width: 16), theme.gaugeFilled),
                             Span(" \(total.percent)% ", theme.title), Span("\(total.done)/\(total.total) tasks done", theme.text)]
        if total.overdue > 0 { summary += [Span("  ! \(total.overdue) overdue", theme.error)] }
        if let f = rm.progress.forecast {
            let pushed = rm.plan.forecast.pushedDays > 0 ? rm.plan.forecast.completion : nil
            summary += [Span("  forecast ", theme.muted), Span((pushed ?? f.completion).map { "\($0)" } ?? "— no recent ticks", pushed == nil ? theme.accent : theme.warn)]
        }
        let awaiting = rm.plan.awaitingSignOff.count, amber = rm.plan.openRisks.filter(\.amber).count
        let blocked = rm.plan.blockedDependencies.count, overdueUpdates = rm.plan.cadence.filter(\.overdue).count
        if awaiting > 0 { summary += [Span("  \(awaiting) awaiting sign-off", theme.warn)] }
        if amber > 0 { summary += [Span("  ▲ \(amber) risks amber", theme.warn)] }
        if blocked > 0 { summary += [Span("  \(blocked) blocked", theme.error)] }
        if overdueUpdates > 0 { summary += [Span("  \(overdueUpdates) updates overdue", theme.error)] }
        buffer.write(summary, x: layout.summary.x, y: layout.summary.y, maxWidth: layout.summary.width, base: theme.text)

        let rows = rows(ctx)
        let l = layout.list
        let offset = list.visibleOffset(count: rows.count, height: l.height)
        for (i, row) in rows.dropFirst(offset).prefix(l.height).enumerated() {
            let y = l.y + i
            let selected = offset + i == list.selected
            if selected { buffer.fill(Rect(x: l.x, y: y, width: l.width, height: 1), style: theme.selected) }
            let line = self.line(row, rm, width: l.width, theme: theme)
            buffer.write(line, x: l.x, y: y, maxWidth: l.width, base: selected ? theme.selected : theme.text)
        }
        if rows.isEmpty {
            let hint = filter.isEmpty ? "The roadmap has no tasks (`- [ ] task` items)." : "No task matches “\(filter)” — Esc clears the filter"
            buffer.write(hint, x: l.x, y: l.y, style: theme.muted, maxWidth: l.width)
        }
        renderDetail(rows[safe: list.selected], rm, layout.detail, theme: theme, into: &buffer)
        if showProgress { renderProgress(rm, area: buffer.area, theme: theme, into: &buffer) }
    }

    private func bar(_ fraction: Double, width: Int) -> String {
        let filled = Int((max(0, min(1, fraction)) * Double(width)).rounded())
        return String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
    }

    /// `[bar] 75%  7/10  due 2024-03-31`, right-aligned on phase and month rows.
    private func figures(_ f: RoadmapProgress.Figures, due: Day?, theme: Theme) -> Line {
        var line: Line = [Span(bar(f.fraction, width: 10), theme.gaugeFilled), Span(String(format: " %3d%% ", f.percent)),
                          Span("\(f.done)/\(f.total)".padded(to: 6, alignment: .right), theme.muted)]
        line += [Span(" " + (due.map { "\($0)" } ?? "").padded(to: 10), f.overdue > 0 ? theme.error : theme.muted)]
        return line
    }

    private func line(_ row: Row, _ rm: RoadmapSnapshot, width: Int, theme: Theme) -> Line {
        let doc = rm.document
        func withRight(_ left: Line, _ right: Line) -> Line {
            let rw = right.displayWidth
            let lw = max(0, width - rw - 1)
            let leftText = left.map(\.text).joined()
            var out = left
            if leftText.displayWidth > lw { out = [Span(leftText.truncated(to: lw), left.first?.style ?? theme.text)] }
            return out + [Span(String(repeating: " ", count: max(1, width - rw - out.displayWidth)))] + right
        }
        switch row {
        case .phase(let p):
            let phase = doc.phases[p]
            let fold = collapsed.contains("p\(p)") && filter.isEmpty ? "▸ " : "▾ "
            let figs = rm.progress.phases[safe: p]
            return withRight([Span(fold + phase.title, theme.title)],
                             figs.map { figures($0.figures, due: $0.due, theme: theme) } ?? [])
        case .section(let p, let s):
            let section = doc.phases[p].sections[s]
            let fold = collapsed.contains("s\(p).\(s)") && filter.isEmpty ? "▸ " : "▾ "
            let figs = rm.progress.phases[safe: p]?.sections[safe: s]
            return withRight([Span("  " + fold + section.title, theme.accent)],
                             figs.map { figures($0.figures, due: $0.due, theme: theme) } ?? [])
        case .task(let t):
            let task = doc.tasks[t]
            let indent = String(repeating: "  ", count: task.depth + (task.sectionIndex == nil ? 1 : 2))
            let box: Span
            switch task.state {
            case .done: box = Span("[x]", theme.ok)
            case .inProgress: box = Span("[~]", theme.running)
            case .open: box = Span("[ ]", theme.text)
            }
            var right: Line = []
            if let e = rm.evidence[task.id] { right.append(evidenceSpan(e.mark, theme: theme)) }
            if rm.notes[task.id] != nil { right.append(Span(" ✎", theme.accent)) }
            let overdue = !task.isDone && (task.due.map { $0 < rm.today } ?? false)
            right.append(Span(" " + (overdue ? "! " + (task.due.map { "\($0)" } ?? "") : "").padded(to: 13), theme.error))
            return withRight([Span(" " + indent), box, Span(" " + task.plainText, task.isDone ? theme.muted : theme.text)], right)
        case .deliverables:
            return [Span("    Deliverables", theme.muted.with(.bold))]
        case .deliverable(let p, let d):
            let view = rm.plan.deliverables.first { $0.deliverable.phaseIndex == p && $0.deliverable.text == doc.phases[p].deliverables[d] }
            let right: Line
            if let s = view?.signOff {
                right = [Span("✓ signed off by \(s.actor) \(Day.today(s.at))", theme.ok)]
            } else if rm.plan.phase(p)?.awaitingSignOff == true {
                right = [Span("awaiting sign-off", theme.warn)]
            } else {
                right = []
            }
            return withRight([Span("      ◆ ", view?.signedOff == true ? theme.ok : theme.accent), Span(doc.phases[p].deliverables[d], theme.muted)], right)
        case .planHeading(let section):
            return [Span("▾ " + Self.heading(section, rm.plan), theme.title)]
        case .risk(let i):
            let r = rm.plan.risks[i]
            let status = Span("[\(r.status.rawValue)]".padded(to: 13), r.status == .closed ? theme.muted : r.status == .mitigating ? theme.running : theme.text)
            let flag = r.amber ? Span("▲ ", theme.warn) : Span("  ")
            let signal = r.signals.max { $0.level < $1.level }
            // The signal gives way to the title: at most half the row.
            let right = (signal.map { $0.text } ?? (r.risk.owner.map { "owner \($0)" } ?? "")).truncated(to: max(0, width / 2 - 2))
            return withRight([Span("    "), flag, status, Span(r.risk.title, r.status == .closed ? theme.muted : theme.text)],
                             [Span(right, r.amber ? theme.warn : theme.muted)])
        case .dependency(let i):
            let d = rm.plan.dependencies[i]
            let style = d.status == .blocked ? theme.error : d.status == .met ? theme.ok : theme.text
            return withRight([Span("      "), Span("[\(d.status.rawValue)]".padded(to: 10), style), Span(d.dependency.text, theme.text)],
                             [Span(d.dependency.kind.rawValue, theme.muted)])
        case .budget(let i):
            let b = rm.plan.budget[i]
            let used = b.fraction.map { " (\(Int(($0 * 100).rounded()))%)" } ?? ""
            return withRight([Span("      "), Span(b.item.item, theme.text)],
                             [Span(b.item.amountText, theme.text), Span("  spent \(BudgetItem.format(b.actual, currency: b.item.currency))\(used)",
                                                                       (b.fraction ?? 0) > 1 ? theme.error : theme.muted)])
        case .cadence(let i):
            let c = rm.plan.cadence[i]
            return withRight([Span("      "), Span(c.update.audience, theme.text), Span("  \(c.update.every.rawValue)", theme.muted)],
                             [Span("next \(c.nextDue)", theme.muted)] + (c.overdue ? [Span("  ! overdue", theme.error)] : []))
        }
    }

    /// `Risks · 4 open · 1 amber`, `Budget · $36K/year · $368K one-off · 3.5 FTE`.
    static func heading(_ section: PlanSection, _ plan: PlanStatus) -> String {
        switch section {
        case .risks:
            let amber = plan.openRisks.filter(\.amber).count
            return "Risks · \(plan.openRisks.count) open" + (amber > 0 ? " · \(amber) amber" : "")
        case .dependencies:
            let blocked = plan.blockedDependencies.count, met = plan.dependencies.filter { $0.status == .met }.count
            return "Dependencies · \(met)/\(plan.dependencies.count) met" + (blocked > 0 ? " · \(blocked) blocked" : "")
        case .budget:
            var parts = ["Budget"]
            for t in plan.plan.budgetTotals {
                if t.perYear > 0 { parts.append("\(t.perYearText)/year") }
                if t.once > 0 { parts.append("\(t.onceText) one-off") }
            }
            if !plan.plan.team.isEmpty { parts.append("\(PlanReport.fte(plan.plan.totalFTE)) FTE") }
            return parts.joined(separator: " · ")
        case .cadence:
            let overdue = plan.cadence.filter(\.overdue).count
            return "Stakeholder updates" + (overdue > 0 ? " · \(overdue) overdue" : "")
        }
    }

    private func evidenceSpan(_ mark: EvidenceMark, theme: Theme) -> Span {
        switch mark {
        case .verified: return Span("✓ verified", theme.ok)
        case .tickedWithoutEvidence: return Span("▲ no evidence", theme.warn)
        case .evidenceNotTicked: return Span("● evidence, tick?", theme.accent)
        case .pending: return Span("· pending", theme.muted)
        case .unknown: return Span("? unknown", theme.muted)
        }
    }

    private func renderDetail(_ row: Row?, _ rm: RoadmapSnapshot, _ area: Rect, theme: Theme, into buffer: inout ScreenBuffer) {
        buffer.fill(Rect(x: area.x, y: area.y, width: area.width, height: 1), symbol: "─", style: theme.border)
        if let lines = planDetail(row, rm, theme: theme) {
            buffer.write(lines.0, x: area.x + 1, y: area.y, maxWidth: area.width - 2, base: theme.text)
            buffer.write(lines.1, x: area.x, y: area.y + 1, maxWidth: area.width, base: theme.text)
            return
        }
        guard case .task(let t)? = row else {
            buffer.write(" Enter/←/→ fold · Space tick · n note · / filter · :progress ", x: area.x + 1, y: area.y, style: theme.muted, maxWidth: area.width - 2)
            return
        }
        let task = rm.document.tasks[t]
        var head: Line = [Span(" \(task.id) ", theme.accent), Span("line \(task.line)", theme.muted)]
        if let due = task.due { head += [Span(" · due \(due)", theme.muted)] }
        if let c = rm.lastChanges[task.id] {
            head += [Span(" · \(c.done ? "ticked" : "unticked") by \(c.actor) \(Format.dateTime(c.at)) ", theme.muted)]
        }
        buffer.write(head, x: area.x + 1, y: area.y, maxWidth: area.width - 2, base: theme.text)
        var info: Line = []
        if let e = rm.evidence[task.id] {
            info += [Span("evidence ", theme.muted), Span(e.condition.description, theme.text), Span(" — \(e.result.reason)", theme.muted)]
        }
        if let n = rm.notes[task.id] {
            info += [Span(info.isEmpty ? "" : "  "), Span("✎ ", theme.accent), Span(n.note), Span(" (\(n.actor))", theme.muted)]
        }
        if info.isEmpty { info = [Span("no evidence rule · no note (n adds one)", theme.muted)] }
        buffer.write(info, x: area.x, y: area.y + 1, maxWidth: area.width, base: theme.text)
    }

    /// The two detail lines of a risk, dependency, budget or cadence row: id and history, then the
    /// mitigation and signals, the note, the spend or the last report. Nil on other rows.
    func planDetail(_ row: Row?, _ rm: RoadmapSnapshot, theme: Theme) -> (Line, Line)? {
        let plan = rm.plan
        func who(_ d: PlanState.Decision?) -> Line {
            d.map { [Span(" · \($0.status) by \($0.actor) \(Format.dateTime($0.at)) ", theme.muted)] } ?? []
        }
        switch row {
        case .risk(let i)?:
            let r = plan.risks[i]
            // Problems first, then the mitigation, then the signals that are fine.
            var info: Line = r.signals.filter { $0.level >= .warn }.map { Span("▲ \($0.text)  ", theme.warn) }
            info += [Span("mitigation ", theme.muted), Span(r.risk.mitigation ?? "–")]
            info += r.signals.filter { $0.level < .warn }.map { Span("  ✓ \($0.text)", theme.ok) }
            return ([Span(" \(r.risk.id) ", theme.accent), Span("risk · owner \(r.risk.owner ?? "–")", theme.muted)] + who(r.decision), info)
        case .dependency(let i)?:
            let d = plan.dependencies[i]
            var info: Line = [Span("\(d.dependency.kind.rawValue) dependency", theme.muted)]
            if let note = d.decision?.note { info += [Span("  ✎ \(note)", theme.accent)] }
            if d.status == .blocked, d.dependency.kind == .critical { info += [Span("  unfinished phases at risk; forecast pushed \(plan.forecast.pushedDays) days", theme.error)] }
            return ([Span(" \(d.dependency.id) ", theme.accent), Span("dependency", theme.muted)] + who(d.decision), info)
        case .budget(let i)?:
            let b = plan.budget[i]
            return ([Span(" \(b.item.id) ", theme.accent), Span("written \(b.item.written)", theme.muted)],
                    [Span("budget \(b.item.amountText) · spent \(BudgetItem.format(b.actual, currency: b.item.currency)) in \(b.entries) entries", theme.text)])
        case .cadence(let i)?:
            let c = plan.cadence[i]
            return ([Span(" \(c.update.id) ", theme.accent), Span("\(c.update.every.rawValue) · next due \(c.nextDue)", theme.muted)],
                    [Span("last report " + (c.lastSent.map { Format.dateTime($0) } ?? "never sent"), c.overdue ? theme.error : theme.muted)]
                    + (c.overdue ? [Span("  overdue: none sent for \(c.missedDue!)", theme.error)] : []))
        case .planHeading(let section)?:
            return ([Span(" " + Self.heading(section, plan) + " ", theme.muted)],
                    [Span("`steward roadmap report` writes the status update from these figures", theme.muted)])
        default:
            return nil
        }
    }

    /// The `:progress` overlay: every phase and month with its bar, then the forecast.
    func progressLines(_ rm: RoadmapSnapshot, theme: Theme, width: Int) -> [Line] {
        var lines: [Line] = []
        func row(_ title: String, _ f: RoadmapProgress.Figures, _ due: Day?, _ style: Style) -> Line {
            let right = figures(f, due: due, theme: theme)
            let lw = max(4, width - right.displayWidth - 1)
            // A long title is cut, never the figures and due date after it.
            return [Span(title.truncated(to: lw).padded(to: lw), style), Span(" ")] + right
        }
        for p in rm.progress.phases {
            lines.append(row(p.title, p.figures, p.due, theme.title))
            for s in p.sections { lines.append(row("  " + s.title, s.figures, s.due, theme.text)) }
        }
        lines.append([])
        lines.append(row("Total", rm.progress.total, nil, theme.title))
        if let f = rm.progress.forecast {
            if let c = f.completion {
                lines.append([Span("Forecast: done by ", theme.muted), Span("\(c)", theme.accent),
                              Span(String(format: " at %.1f tasks/week (last %d days), %.1f left", f.perWeek, f.windowDays, f.remaining), theme.muted)])
            } else {
                lines.append([Span("Forecast: none — no task ticked in the last \(f.windowDays) days", theme.muted)])
            }
        }
        return lines
    }

    private func renderProgress(_ rm: RoadmapSnapshot, area: Rect, theme: Theme, into buffer: inout ScreenBuffer) {
        let width = min(90, area.width - 4)
        // The modal's text area is its width less the border and a space each side.
        let lines = progressLines(rm, theme: theme, width: width - 4)
        let inner = Modal.render(title: "Roadmap progress  (Esc closes)", width: width, height: min(lines.count + 2, area.height - 2),
                                 in: area, theme: theme, into: &buffer)
        for (i, line) in lines.prefix(inner.height).enumerated() {
            buffer.write(line, x: inner.x, y: inner.y + i, maxWidth: inner.width, base: theme.modal)
        }
    }
}
