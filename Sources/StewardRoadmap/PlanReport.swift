import Foundation
import StewardCatalog

/// The status update a PM sends, built only from the plan and the catalog: progress per phase with
/// the forecast, what was ticked and signed off since the last report, KPIs with status and trend,
/// the data-quality headline, open risks with their signals, dependencies, budget vs actual and
/// the next stakeholder updates. Rendered as Markdown (also the Slack text) or one self-contained HTML page.
///
/// ```swift
/// let report = PlanReport(project: "acme", status: status, progress: progress, facts: facts,
///                         changes: try catalog.roadmapChanges(since: last), since: last)
/// print(report.markdown)
/// ```
public struct PlanReport: Sendable {
    public struct Section: Sendable, Equatable {
        public var title: String
        public var lines: [String]
        public var table: Table?
    }
    public struct Table: Sendable, Equatable {
        public var headers: [String]
        public var rows: [[String]]
    }

    public var title: String
    public var subtitle: String
    public var sections: [Section]

    public init(project: String, planTitle: String?, status: PlanStatus, progress: RoadmapProgress, facts: PlanFacts,
                changes: [RoadmapChangeRecord], since: Date?) {
        let today = status.today
        title = "\(project) — status report \(today)"
        subtitle = (planTitle.map { "\($0). " } ?? "") + (since.map { "Changes since the last report (\(Self.day($0)))." } ?? "First report: changes are all recorded so far.")
        var sections: [Section] = []

        // Progress.
        let total = progress.total
        var lines = ["Overall \(total.percent)% — \(total.done) of \(total.total) tasks done"
                     + (total.inProgress > 0 ? ", \(total.inProgress) in progress" : "") + (total.overdue > 0 ? ", \(total.overdue) overdue" : "") + "."]
        let f = status.forecast
        if total.total == 0 {
            lines = ["No tasks in the plan yet."]
        } else if let c = f.completion {
            lines.append("Forecast: done by \(c)" + (f.pushedDays > 0 ? " (pushed \(f.pushedDays) days: " + f.reasons.joined(separator: "; ") + ")" : "")
                         + (progress.forecast.map { String(format: " at %.1f tasks/week", $0.perWeek) } ?? "") + ".")
        } else {
            lines.append("Forecast: none — no tasks ticked in the last \(progress.forecast?.windowDays ?? 28) days"
                         + (f.reasons.isEmpty ? "" : "; " + f.reasons.joined(separator: "; ")) + ".")
        }
        let phaseRows = status.phases.map { p -> [String] in
            var state = p.done ? "done" : p.figures.overdue > 0 ? "\(p.figures.overdue) overdue" : "on track"
            if p.awaitingSignOff { state = "awaiting sign-off (\(p.signedOff)/\(p.deliverables))" }
            if !p.atRisk.isEmpty { state = "at risk" }
            return [p.title, "\(p.figures.percent)%", "\(p.figures.done)/\(p.figures.total)", p.due?.description ?? "", state]
        }
        sections.append(Section(title: "Progress", lines: lines,
                                table: phaseRows.isEmpty ? nil : Table(headers: ["Phase", "Progress", "Done", "Due", "Status"], rows: phaseRows)))

        // Since the last report.
        let ticked = changes.filter(\.done), unticked = changes.filter { !$0.done }
        let signed = status.deliverables.filter { d in d.signOff.map { since == nil || $0.at > since! } ?? false }
        var recent: [String] = []
        for c in ticked { recent.append("Ticked: \(c.text) (\(c.actor), \(Self.day(c.at)))") }
        for c in unticked { recent.append("Unticked: \(c.text) (\(c.actor), \(Self.day(c.at)))") }
        for d in signed { recent.append("Signed off: \(d.deliverable.text) — \(d.deliverable.phase) (\(d.signOff!.actor), \(Self.day(d.signOff!.at)))") }
        let reopened = status.deliverables.compactMap { d -> (PlanStatus.DeliverableView, PlanEvent)? in
            guard !d.signedOff, let e = d.history.last, e.action == .reopen, since.map({ e.at > $0 }) ?? true else { return nil }
            return (d, e)
        }
        for (d, e) in reopened {
            recent.append("Reopened: \(d.deliverable.text) — \(d.deliverable.phase) (\(e.actor), \(Self.day(e.at))" + (e.detail.note.map { ": \($0)" } ?? "") + ")")
        }
        if recent.isEmpty { recent = ["Nothing ticked or signed off."] }
        sections.append(Section(title: "Since the last report: \(ticked.count) ticked, \(signed.count) signed off"
                                + (reopened.isEmpty ? "" : ", \(reopened.count) reopened"), lines: recent, table: nil))

        // KPIs and data quality.
        if !facts.kpis.isEmpty {
            let rows = facts.kpis.map { k in [k.name, k.actual ?? "–", k.target, k.status.replacingOccurrences(of: "_", with: " "), Self.trend(k)] }
            let breached = facts.kpis.filter { $0.status == "breached" }.count, atRisk = facts.kpis.filter { $0.status == "at_risk" }.count
            let met = facts.kpis.filter { $0.status == "met" }.count
            sections.append(Section(title: "KPIs", lines: ["\(met) met, \(atRisk) at risk, \(breached) breached of \(facts.kpis.count)."],
                                    table: Table(headers: ["KPI", "Actual", "Target", "Status", "Trend"], rows: rows)))
        }
        var dq: [String] = []
        if let score = facts.qualityScore {
            let rows = facts.failingChecks.reduce(0) { $0 + $1.failed }
            dq.append(String(format: "Data quality score %.1f%%", score * 100)
                      + (facts.failingChecks.isEmpty ? "; no failing checks." : "; \(facts.failingChecks.count) failing checks (\(rows) rows): "
                         + facts.failingChecks.prefix(5).map { "\($0.source).\($0.name) \($0.failed)" }.joined(separator: ", ") + "."))
        } else {
            dq.append("Data quality not measured yet (no pipeline run).")
        }
        sections.append(Section(title: "Data quality", lines: dq, table: nil))

        // Risks.
        // Amber risks first: the ones a reader must see; otherwise the plan's order.
        let open = status.openRisks.filter(\.amber) + status.openRisks.filter { !$0.amber }
        let amber = open.filter(\.amber).count
        sections.append(Section(
            title: "Risks: \(open.count) open" + (amber > 0 ? ", \(amber) amber" : ""),
            lines: status.risks.isEmpty ? ["No risks listed in the plan."] : open.isEmpty ? ["No open risks."] : [],
            table: open.isEmpty ? nil : Table(headers: ["Risk", "Status", "Owner", "Signals"], rows: open.map { r in
                [(r.amber ? "▲ " : "") + r.risk.title, r.status.rawValue, r.risk.owner ?? "–",
                 r.signals.isEmpty ? "–" : r.signals.map(\.text).joined(separator: "; ")]
            })))

        // Dependencies.
        if !status.dependencies.isEmpty {
            let counts = DependencyStatus.allCases.map { s in "\(status.dependencies.filter { $0.status == s }.count) \(s.rawValue)" }
            var lines = [counts.joined(separator: ", ") + "."]
            for d in status.blockedDependencies {
                lines.append("Blocked (\(d.dependency.kind.rawValue)): \(d.dependency.text)" + (d.decision?.note.map { " — \($0)" } ?? ""))
            }
            sections.append(Section(title: "Dependencies", lines: lines, table: nil))
        }

        // Deliverables with their sign-off history.
        if !status.deliverables.isEmpty {
            let signedCount = status.deliverables.filter(\.signedOff).count
            let rows = status.deliverables.map { d -> [String] in
                let phase = status.phase(d.deliverable.phaseIndex)
                let state = d.signOff.map { "signed off (\($0.actor), \(Self.day($0.at)))" }
                    ?? (phase?.awaitingSignOff == true ? "awaiting sign-off" : "open")
                let history = d.history.map { e in
                    "\(e.action == .signOff ? "signed off" : "reopened") by \(e.actor) \(Self.day(e.at))" + (e.detail.note.map { ": \($0)" } ?? "")
                }
                return [d.deliverable.phase, d.deliverable.text, state, history.isEmpty ? "–" : history.joined(separator: "; ")]
            }
            sections.append(Section(title: "Deliverables: \(signedCount) of \(status.deliverables.count) signed off", lines: [],
                                    table: Table(headers: ["Phase", "Deliverable", "Status", "Sign-off history"], rows: rows)))
        }

        // Budget vs actual.
        if !status.budget.isEmpty {
            let rows = status.budget.map { b in
                [b.item.item, BudgetItem.format(b.item.amount, currency: b.item.currency) + (b.item.period == .year ? "/year" : ""),
                 BudgetItem.format(b.actual, currency: b.item.currency), b.fraction.map { "\(Int(($0 * 100).rounded()))%" } ?? "–"]
            }
            var lines: [String] = []
            for t in status.plan.budgetTotals {
                let actual = status.budget.filter { $0.item.currency == t.currency }.reduce(0) { $0 + $1.actual }
                lines.append("Budget \(t.perYearText) per year and \(t.onceText) one-off; spent \(BudgetItem.format(actual, currency: t.currency)).")
            }
            if !status.plan.team.isEmpty {
                lines.append("Team: " + PlanReport.fte(status.plan.totalFTE) + " FTE (" + status.plan.team.map { "\($0.role) \($0.fte.map(PlanReport.fte) ?? "?")" }.joined(separator: ", ") + ").")
            }
            sections.append(Section(title: "Budget vs actual", lines: lines, table: Table(headers: ["Item", "Budget", "Actual", "Used"], rows: rows)))
        }

        // Cadence.
        if !status.cadence.isEmpty {
            sections.append(Section(title: "Stakeholder updates", lines: status.cadence.map { c in
                "\(c.update.audience) (\(c.update.every.rawValue)): next due \(c.nextDue)" + (c.overdue ? " — overdue since \(c.missedDue!)" : "")
            }, table: nil))
        }
        self.sections = sections
    }

    static func day(_ d: Date) -> String { Day.today(d).description }
    public static func fte(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(format: "%.1f", v) }

    /// `↑ 0.91 → 0.95`: the direction over the last two measurements.
    /// The last two values with an arrow, in the KPI's unit when the caller wrote them.
    static func trend(_ kpi: PlanFacts.KPI) -> String {
        let values = kpi.trend
        guard values.count >= 2 else { return "–" }
        let a = values[values.count - 2], b = values[values.count - 1]
        let arrow = b > a ? "↑" : b < a ? "↓" : "→"
        func f(_ v: Double) -> String { abs(v) >= 100 ? String(format: "%.0f", v) : String(format: "%.3g", v) }
        let text = kpi.trendText.isEmpty ? [f(a), f(b)] : Array(kpi.trendText.suffix(2))
        return "\(arrow) \(text[0]) → \(text[1])"
    }

    // MARK: rendering

    public var markdown: String {
        var out = "# \(title)\n\n\(subtitle)\n"
        for s in sections {
            out += "\n## \(s.title)\n\n"
            // Several lines without a table are a list; above a table each is its own paragraph.
            let list = s.table == nil && s.lines.count > 1
            out += s.lines.map { (list ? "- " : "") + Self.mdEscape($0) + "\n" }.joined(separator: list ? "" : "\n")
            if let t = s.table {
                if !s.lines.isEmpty { out += "\n" }
                out += "| " + t.headers.map(Self.mdCell).joined(separator: " | ") + " |\n"
                out += "|" + t.headers.map { _ in "---|" }.joined() + "\n"
                for r in t.rows { out += "| " + r.map(Self.mdCell).joined(separator: " | ") + " |\n" }
            }
        }
        return out
    }

    /// One self-contained page: inline CSS, no scripts, fonts or images from elsewhere.
    public var html: String {
        var out = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(Self.h(title))</title>
        <style>
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif,"Apple Color Emoji","Segoe UI Emoji","Noto Color Emoji";margin:2rem auto;max-width:60rem;color:#1f2933;background:#fff;padding:0 1rem}
        h1{font-size:1.6rem;border-bottom:3px solid #2f6fdd;padding-bottom:.4rem}h2{font-size:1.15rem;margin-top:1.8rem;color:#2f6fdd}
        table{border-collapse:collapse;width:100%;margin:.6rem 0}th,td{border:1px solid #d5dbe3;padding:.35rem .55rem;text-align:left;vertical-align:top}
        th{background:#eef3fb}tr:nth-child(even) td{background:#f8fafc}.sub{color:#52606d}.amber{color:#b7791f;font-weight:600}
        td:first-child{min-width:11rem}p,li,.long{overflow-wrap:anywhere}th.num,td.num{text-align:right;white-space:nowrap}
        </style></head><body>
        <h1>\(Self.h(title))</h1>
        <p class="sub">\(Self.h(subtitle))</p>

        """
        for s in sections {
            out += "<h2>\(Self.h(s.title))</h2>\n"
            if s.table == nil && s.lines.count > 1 {
                out += "<ul>\n" + s.lines.map { "<li>\(Self.h($0))</li>\n" }.joined() + "</ul>\n"
            } else {
                for l in s.lines { out += "<p>\(Self.h(l))</p>\n" }
            }
            if let t = s.table {
                // A column of figures is right-aligned; a long cell may break inside a word (a pasted URL
                // must not widen the page), short ones never do (a narrow column keeps `open` whole).
                let numeric = Set(t.headers.indices.filter { i in
                    let cells = t.rows.compactMap { $0.indices.contains(i) ? $0[i] : nil }.filter { $0 != "–" && !$0.isEmpty }
                    return !cells.isEmpty && cells.allSatisfy(Self.isFigure)
                })
                func cell(_ tag: String, _ c: String, _ i: Int) -> String {
                    let classes = (c.hasPrefix("▲ ") ? ["amber"] : []) + (numeric.contains(i) ? ["num"] : []) + (c.count > 30 ? ["long"] : [])
                    return "<\(tag)" + (classes.isEmpty ? "" : " class=\"\(classes.joined(separator: " "))\"") + ">\(Self.h(c))</\(tag)>"
                }
                out += "<table><thead><tr>" + t.headers.enumerated().map { cell("th", $1, $0) }.joined() + "</tr></thead><tbody>\n"
                for r in t.rows {
                    out += "<tr>" + r.enumerated().map { cell("td", $1, $0) }.joined() + "</tr>\n"
                }
                out += "</tbody></table>\n"
            }
        }
        return out + "</body></html>\n"
    }

    /// A cell that is one figure (`75%`, `3/4`, `$240K/year`, `€5k`): right-aligned so columns of figures line up.
    static func isFigure(_ cell: String) -> Bool {
        let c = cell.hasSuffix("/year") ? String(cell.dropLast(5)) : cell
        guard !c.isEmpty, c.count <= 16, c.contains(where: \.isNumber) else { return false }
        return c.allSatisfy { $0.isNumber || "$€£¥.,%/KkMm ".contains($0) }
    }

    static func h(_ s: String) -> String {
        var o = ""
        o.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "\"": o += "&quot;"
            default: o.append(c)
            }
        }
        return o
    }

    static func mdCell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
    static func mdEscape(_ s: String) -> String { s.replacingOccurrences(of: "\n", with: " ") }
}
