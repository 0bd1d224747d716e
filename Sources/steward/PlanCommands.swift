import ArgumentParser
import Foundation
import StewardCatalog
import StewardConfig
import StewardConsole
import StewardRoadmap

/// The plan beyond checkboxes (issue 21): deliverables and sign-off, risks, dependencies, team and
/// budget, cadence. Decisions are audit events in the catalog; the roadmap file is never written here.
enum PlanCommands {
    static let subcommands: [ParsableCommand.Type] = [
        Deliverables.self, SignOff.self, Reopen.self, Risks.self, RiskSet.self, Deps.self, DepSet.self,
        Budget.self, Spend.self, CadenceList.self, PlanReportCommand.self,
    ]

    struct Deliverables: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deliverables per phase with their sign-off.")
        @OptionGroup var projectOptions: ProjectOptions
        @OptionGroup var output: JSONOption
        func run() throws {
            let ctx = try PlanContext(projectOptions)
            let status = ctx.status()
            if output.json {
                CLI.printJSON(status.deliverables.map { d -> [String: Any] in
                    let phase = status.phase(d.deliverable.phaseIndex)
                    return ["id": d.deliverable.id, "phase": d.deliverable.phase, "text": d.deliverable.text, "signed_off": d.signedOff,
                            "signed_off_by": CLI.orNull(d.signOff?.actor), "signed_off_at": CLI.orNull(d.signOff.map { Timestamp.string($0.at) }),
                            "note": CLI.orNull(d.signOff?.note),
                            "history": d.history.map { e -> [String: Any] in
                                ["action": e.action == .signOff ? "sign_off" : "reopen", "by": e.actor, "at": Timestamp.string(e.at),
                                 "note": CLI.orNull(e.detail.note)]
                            },
                            "phase_awaiting_sign_off": phase?.awaitingSignOff ?? false]
                })
                return
            }
            if status.deliverables.isEmpty { print("no deliverables: add a `**Deliverables:**` list under a phase of \(ctx.file)"); return }
            var lastPhase = -1
            for d in status.deliverables {
                if d.deliverable.phaseIndex != lastPhase {
                    lastPhase = d.deliverable.phaseIndex
                    let p = status.phase(lastPhase)
                    print((lastPhase == status.deliverables.first?.deliverable.phaseIndex ? "" : "\n") + d.deliverable.phase
                          + (p?.awaitingSignOff == true ? "  — awaiting sign-off (all tasks done)" : ""))
                }
                var line = "  \(d.signedOff ? "[✓]" : "[ ]") \(d.deliverable.id)  \(d.deliverable.text)"
                if let s = d.signOff { line += "  signed off by \(s.actor) \(Timestamp.string(s.at).prefix(10))" + (s.note.map { ": \($0)" } ?? "") }
                print(line)
                // Earlier sign-offs and reopens (the latest sign-off is on the line above).
                for e in d.history.dropLast(d.signedOff ? 1 : 0) {
                    print("        \(e.action == .signOff ? "signed off" : "reopened") by \(e.actor) \(Timestamp.string(e.at).prefix(10))"
                          + (e.detail.note.map { ": \($0)" } ?? ""))
                }
            }
        }
    }

    struct SignOff: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "sign-off", abstract: "Sign off a deliverable (audited; the file is not changed).")
        @OptionGroup var projectOptions: ProjectOptions
        @Argument(help: "Deliverable id, as `steward roadmap deliverables` shows it (or a unique prefix).") var id: String
        @Option(help: "A note kept with the sign-off.") var note: String?
        func run() throws { try PlanCommands.signOff(id, signed: true, note: note, projectOptions) }
    }

    struct Reopen: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Withdraw a deliverable's sign-off (audited).")
        @OptionGroup var projectOptions: ProjectOptions
        @Argument(help: "Deliverable id (or a unique prefix).") var id: String
        @Option(help: "Why it was reopened.") var note: String?
        func run() throws { try PlanCommands.signOff(id, signed: false, note: note, projectOptions) }
    }

    static func signOff(_ id: String, signed: Bool, note: String?, _ options: ProjectOptions) throws {
        let ctx = try PlanContext(options, writing: true)
        let d = ctx.find(id, in: ctx.plan.deliverables, kind: "deliverable", list: "deliverables", id: \.id, text: \.text)
        let already = ctx.state.signOffs[d.id] != nil
        if already == signed {
            print("\(d.id) is already \(signed ? "signed off" : "open"): nothing to do")
            return
        }
        try ctx.catalog!.recordPlan(signed ? .signOff : .reopen, subject: d.id, detail: PlanDetail(text: d.text, note: note))
        print("\(signed ? "signed off" : "reopened") \(d.id)  \(d.text)  (\(d.phase))")
    }

    struct Risks: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The risk register: mitigation, owner, status and signals from what Steward measures.")
        @OptionGroup var projectOptions: ProjectOptions
        @OptionGroup var output: JSONOption
        func run() throws {
            let ctx = try PlanContext(projectOptions)
            let status = ctx.status(measure: true)
            if output.json {
                CLI.printJSON(status.risks.map { r -> [String: Any] in
                    ["id": r.risk.id, "title": r.risk.title, "mitigation": CLI.orNull(r.risk.mitigation), "owner": CLI.orNull(r.risk.owner),
                     "status": r.status.rawValue, "signals": r.signals.map(\.text),
                     "signal_levels": r.signals.map(\.level.rawValue), "amber": r.amber,
                     "severity": CLI.orNull(r.risk.severity), "likelihood": CLI.orNull(r.risk.likelihood),
                     "description": CLI.orNull(r.risk.description), "line": r.risk.line,
                     "note": CLI.orNull(r.decision?.note), "changed_by": CLI.orNull(r.decision?.actor),
                     "changed_at": CLI.orNull(r.decision.map { Timestamp.string($0.at) })]
                })
                return
            }
            if status.risks.isEmpty { print("no risks: add a `## Risks` section to \(ctx.file)"); return }
            for r in status.risks {
                let flag = r.amber ? "▲ amber" : ""
                print("\(r.risk.id)  [\(r.status.rawValue)] \(r.risk.title)" + (r.risk.severity.map { "  (\($0))" } ?? "") + (flag.isEmpty ? "" : "  \(flag)"))
                if let m = r.risk.mitigation { print("    mitigation: \(m)") }
                if let o = r.risk.owner { print("    owner: \(o)") }
                for s in r.signals { print("    \(PlanText.mark(s.level)) \(s.text)") }
                if let d = r.decision, let n = d.note { print("    note: \(n) (\(d.actor))") }
            }
        }
    }

    struct RiskSet: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "risk", abstract: "Set a risk's status: open, mitigating or closed (audited).")
        @OptionGroup var projectOptions: ProjectOptions
        @Argument(help: "Risk id, as `steward roadmap risks` shows it (or a unique prefix).") var id: String
        @Argument(help: "open, mitigating or closed.") var status: String
        @Option(help: "A note kept with the change.") var note: String?
        func validate() throws {
            guard RiskStatus(rawValue: status.lowercased()) != nil else { throw ValidationError("status must be open, mitigating or closed, not '\(status)'") }
        }
        func run() throws {
            try PlanCommands.setStatus(.riskStatus, id, status, note: note, projectOptions) { ($0.plan.risks, "risk", "risks", \.id, \.title) }
        }
    }

    /// `risk ID STATUS` and `dep ID STATUS`: one audited status change of the item with that id.
    static func setStatus<T>(_ action: PlanAction, _ id: String, _ status: String, note: String?, _ options: ProjectOptions,
                             _ items: (PlanContext) -> ([T], String, String, KeyPath<T, String>, KeyPath<T, String>)) throws {
        let ctx = try PlanContext(options, writing: true)
        let (list, kind, command, idPath, textPath) = items(ctx)
        let item = ctx.find(id, in: list, kind: kind, list: command, id: idPath, text: textPath)
        let s = status.lowercased()
        try ctx.catalog!.recordPlan(action, subject: item[keyPath: idPath], detail: PlanDetail(text: item[keyPath: textPath], status: s, note: note))
        print("\(kind) \(item[keyPath: idPath]) \(item[keyPath: textPath]): \(s)")
    }

    struct Deps: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "deps", abstract: "Critical and external dependencies with their status.")
        @OptionGroup var projectOptions: ProjectOptions
        @OptionGroup var output: JSONOption
        func run() throws {
            let ctx = try PlanContext(projectOptions)
            let status = ctx.status()
            if output.json {
                CLI.printJSON(status.dependencies.map { d -> [String: Any] in
                    ["id": d.dependency.id, "text": d.dependency.text, "kind": d.dependency.kind.rawValue, "status": d.status.rawValue,
                     "owner": CLI.orNull(d.dependency.owner), "line": d.dependency.line, "note": CLI.orNull(d.decision?.note),
                     "changed_by": CLI.orNull(d.decision?.actor), "changed_at": CLI.orNull(d.decision.map { Timestamp.string($0.at) })]
                })
                return
            }
            if status.dependencies.isEmpty { print("no dependencies: add a `## Dependencies` section to \(ctx.file)"); return }
            for d in status.dependencies {
                print("\(d.dependency.id)  [\(d.status.rawValue)] \(d.dependency.kind.rawValue)  \(d.dependency.text)"
                      + (d.decision?.note.map { "  — \($0)" } ?? ""))
            }
            for reason in status.forecast.reasons { print("! \(reason): unfinished phases at risk, forecast pushed \(status.forecast.pushedDays) days") }
        }
    }

    struct DepSet: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "dep", abstract: "Set a dependency's status: pending, met or blocked (audited).")
        @OptionGroup var projectOptions: ProjectOptions
        @Argument(help: "Dependency id, as `steward roadmap deps` shows it (or a unique prefix).") var id: String
        @Argument(help: "pending, met or blocked.") var status: String
        @Option(help: "A note kept with the change.") var note: String?
        func validate() throws {
            guard DependencyStatus(rawValue: status.lowercased()) != nil else { throw ValidationError("status must be pending, met or blocked, not '\(status)'") }
        }
        func run() throws {
            try PlanCommands.setStatus(.dependencyStatus, id, status, note: note, projectOptions) {
                ($0.plan.dependencies, "dependency", "deps", \.id, \.text)
            }
        }
    }

    struct Budget: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Team (FTE) and budget per item with totals, and actual spend against it.")
        @OptionGroup var projectOptions: ProjectOptions
        @OptionGroup var output: JSONOption
        func run() throws {
            let ctx = try PlanContext(projectOptions)
            let status = ctx.status()
            let totals = status.plan.budgetTotals
            if output.json {
                let first = totals.first
                CLI.printJSON([
                    "items": status.budget.map { b -> [String: Any] in
                        ["id": b.item.id, "item": b.item.item, "amount": b.item.amount, "currency": b.item.currency,
                         "period": b.item.period.rawValue, "written": b.item.written, "written_per": CLI.orNull(b.item.writtenPer),
                         "actual": b.actual, "spend_entries": b.entries, "line": b.item.line]
                    },
                    "totals": ["per_year": first?.perYear ?? 0, "once": first?.once ?? 0, "currency": CLI.orNull(first?.currency),
                               "by_currency": totals.map { ["currency": $0.currency, "per_year": $0.perYear, "once": $0.once] as [String: Any] },
                               "actual": status.budget.filter { $0.item.currency == first?.currency }.reduce(0) { $0 + $1.actual }] as [String: Any],
                    "team": status.plan.team.map { ["role": $0.role, "fte": CLI.orNull($0.fte), "line": $0.line] as [String: Any] },
                    "fte_total": status.plan.totalFTE,
                ] as [String: Any])
                return
            }
            print(PlanText.budget(status))
        }
    }

    struct Spend: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record actual spend against a budget item (audited).")
        @OptionGroup var projectOptions: ProjectOptions
        @Argument(help: "Budget item: its id or name as `steward roadmap budget` shows it.") var item: String
        @Argument(help: "The amount: 12500, $12.5K, €3k.") var amount: String
        @Option(help: "The day it applies to (YYYY-MM-DD; default today).") var at: String?
        @Option(help: "A note kept with the entry.") var note: String?

        func run() throws {
            guard let money = PlanAmount.parse(amount) else {
                CLI.fail("'\(amount)' is not an amount: give a number such as 12500, $12.5K or €3k", code: 2)
            }
            var on = Day.today()
            if let at {
                guard let day = Day.parse(String(at.prefix(10))), at.count == 10 || at.dropFirst(10).first == "T" else {
                    CLI.fail("--at '\(at)' is not a date: give YYYY-MM-DD", code: 2)
                }
                on = day
            }
            let ctx = try PlanContext(projectOptions, writing: true)
            let key = Normalise.key(item)
            let byName = ctx.plan.budget.filter { Normalise.key($0.item) == key }
            let b = byName.count == 1 ? byName[0] : ctx.find(item, in: ctx.plan.budget, kind: "budget item", list: "budget", id: \.id, text: \.item)
            if let currency = money.currency, currency != b.currency {
                CLI.fail("'\(amount)' is in \(currency) but \(b.item) is budgeted in \(b.currency)", code: 2)
            }
            try ctx.catalog!.recordPlan(.spend, subject: b.id, detail: PlanDetail(text: b.item, note: note, amount: money.amount,
                                                                                   currency: b.currency, on: on.description))
            let state = try PlanState(ctx.catalog!.planEvents())
            let actual = (state.spend[b.id] ?? []).reduce(0) { $0 + $1.amount }
            print("recorded \(BudgetItem.format(money.amount, currency: b.currency)) on \(on) for \(b.item): \(BudgetItem.format(actual, currency: b.currency)) of \(b.amountText)")
        }
    }

    struct CadenceList: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cadence", abstract: "Stakeholder updates: next due date, overdue when no report was sent for the last one.")
        @OptionGroup var projectOptions: ProjectOptions
        @OptionGroup var output: JSONOption
        func run() throws {
            let ctx = try PlanContext(projectOptions)
            let status = ctx.status()
            if output.json {
                CLI.printJSON(status.cadence.map { c -> [String: Any] in
                    ["id": c.update.id, "audience": c.update.audience, "every": c.update.every.rawValue, "next_due": c.nextDue.description,
                     "overdue": c.overdue, "missed_due": CLI.orNull(c.missedDue?.description),
                     "last_sent_at": CLI.orNull(c.lastSent.map(Timestamp.string))]
                })
                return
            }
            if status.cadence.isEmpty { print("no stakeholder updates: add a `## Communication Plan` with `- Audience: Monthly` lines to \(ctx.file)"); return }
            for c in status.cadence {
                print("\(c.update.id)  \(c.update.audience): \(c.update.every.rawValue), next due \(c.nextDue)"
                      + (c.overdue ? "  ! overdue (no report for \(c.missedDue!))" : "")
                      + "  last sent " + (c.lastSent.map { String(Timestamp.string($0).prefix(10)) } ?? "never"))
            }
            if !status.plan.channels.isEmpty { print("channels: " + status.plan.channels.joined(separator: ", ")) }
        }
    }
}

/// The roadmap, its plan sections and the catalog's decisions.
struct PlanContext {
    var roadmap: RoadmapContext
    var plan: RoadmapPlan
    var state: PlanState
    var catalog: Catalog? { roadmap.catalog }
    var file: String { roadmap.file.url.lastPathComponent }

    init(_ options: ProjectOptions, writing: Bool = false) throws {
        roadmap = try RoadmapContext(options, writing: writing)
        plan = RoadmapPlan(roadmap.document)
        state = PlanState((try? roadmap.catalog?.planEvents()) ?? [])
    }

    /// The plan with decisions applied; `measure` also evaluates KPIs and source health for risk signals.
    func status(measure: Bool = false, now: Date = Date()) -> PlanStatus {
        let today = Day.today(now)
        let ticks = (try? catalog?.roadmapTickEvents()) ?? []
        let progress = RoadmapProgress(roadmap.document, ticks: ticks, today: today, now: now)
        let facts = measure ? PlanFacts.measure(config: roadmap.config, catalog: catalog, now: now) : PlanFacts()
        return PlanStatus(document: roadmap.document, progress: progress, state: state, facts: facts, today: today, now: now)
    }

    /// The item with this id, or the only one whose id starts with it; else exit 2 naming the listing.
    func find<T>(_ id: String, in items: [T], kind: String, list: String, id key: KeyPath<T, String>, text: KeyPath<T, String>) -> T {
        if let exact = items.first(where: { $0[keyPath: key] == id }) { return exact }
        let matches = items.filter { $0[keyPath: key].hasPrefix(id) }
        if matches.count == 1 { return matches[0] }
        if matches.count > 1 {
            CLI.fail("'\(id)' matches several \(kind)s (\(matches.prefix(5).map { $0[keyPath: key] }.joined(separator: ", "))); give more of the id", code: 2)
        }
        CLI.fail("no \(kind) with id '\(id)' in \(roadmap.file.url.path); `steward roadmap \(list)` shows the ids", code: 2)
    }
}

/// An amount given on the command line: `12500`, `$12.5K`, `€3k`, `1,200`.
enum PlanAmount {
    static func parse(_ text: String) -> (amount: Double, currency: String?)? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let item = RoadmapPlan(RoadmapDocument(text: "## Budget\n- x: \(t)\n")).budget.first, item.period == .once {
            return (item.amount, item.currency)
        }
        let plain = t.replacingOccurrences(of: ",", with: "")
        guard let v = Double(plain), v.isFinite else { return nil }
        return (v, nil)
    }
}

enum PlanText {
    static func mark(_ level: RiskSignal.Level) -> String {
        switch level { case .ok: return "✓"; case .unknown: return "?"; case .warn: return "▲"; case .breach: return "✗" }
    }

    static func budget(_ status: PlanStatus) -> String {
        var out: [String] = []
        if !status.plan.team.isEmpty {
            var t = TextTable(headers: ["role", "fte"], rightAligned: [1])
            for r in status.plan.team { t.rows.append([r.role, r.fte.map { fte($0) } ?? ""]) }
            t.rows.append(["Total", fte(status.plan.totalFTE)])
            out.append(t.render())
        }
        if !status.budget.isEmpty {
            var t = TextTable(headers: ["id", "item", "budget", "period", "actual", "used"], rightAligned: [2, 4, 5])
            for b in status.budget {
                t.rows.append([b.item.id, b.item.item, BudgetItem.format(b.item.amount, currency: b.item.currency),
                               b.item.period == .year ? "per year" : "one-off", BudgetItem.format(b.actual, currency: b.item.currency),
                               b.fraction.map { "\(Int(($0 * 100).rounded()))%" } ?? ""])
            }
            out.append(t.render())
            for total in status.plan.budgetTotals {
                out.append("Total \(total.currency): \(total.perYearText) per year, \(total.onceText) one-off")
            }
        }
        return out.isEmpty ? "no team or budget: add `## Resource Requirements` with `- Role: 1 FTE` and `- Item: $100K` lines" : out.joined(separator: "\n\n")
    }

    static func fte(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(format: "%.1f", v) }
}
