import Foundation
import Testing
@testable import StewardCatalog
@testable import StewardConsole
@testable import StewardDemo
@testable import StewardRoadmap

/// Issue 21: pane 5 shows the plan's sections below the phases (deliverables with sign-off, risks
/// with signals, dependencies, budget vs actual, stakeholder updates) at 80x24 and 120x40.
@MainActor
@Suite("Roadmap pane: plan sections")
struct PlanConsoleTests {
    typealias F = ConsoleFixtures
    static let today = Day(year: 2024, month: 5, day: 15)
    static let now = Date(timeIntervalSince1970: 1_715_731_200)   // 2024-05-15

    /// The demo plan with decisions recorded: a sign-off, a mitigating risk, a blocked critical
    /// dependency, spend on consulting; and a breached data-quality KPI.
    static func state(width: Int, height: Int) -> AppState {
        var s = F.state(width: width, height: height)
        let doc = RoadmapDocument(text: DemoProjectFiles.roadmap)
        let plan = RoadmapPlan(doc)
        let at = now.addingTimeInterval(-10 * 86_400)
        let events = [
            PlanEvent(at: at, actor: "alice", action: .signOff, subject: plan.deliverables[0].id, detail: PlanDetail(text: plan.deliverables[0].text)),
            PlanEvent(at: at, actor: "alice", action: .riskStatus, subject: plan.risks[1].id, detail: PlanDetail(status: "mitigating")),
            PlanEvent(at: at, actor: "bob", action: .dependencyStatus, subject: plan.dependencies[0].id, detail: PlanDetail(status: "blocked", note: "legal review")),
            PlanEvent(at: at, actor: "bob", action: .spend, subject: plan.budget.first { $0.item == "Consulting" }!.id, detail: PlanDetail(amount: 5_000, currency: "USD")),
        ]
        let progress = RoadmapProgress(doc, ticks: [TickEvent(at: now.addingTimeInterval(-86_400), taskId: doc.tasks[0].id, done: true)], today: today, now: now)
        let facts = PlanFacts(kpis: [PlanFacts.KPI(name: "Data quality score", status: "breached", actual: "80.0%", target: "> 95%")], qualityScore: 0.8)
        let status = PlanStatus(document: doc, progress: progress, state: PlanState(events), facts: facts, today: today, now: now)
        s.snapshot?.roadmap = RoadmapSnapshot(path: "roadmap.md", document: doc, progress: progress, today: today, plan: status)
        s.pane = .roadmap
        return s
    }

    /// Moves the selection to the first (or last) row matching, through the pane's own navigation;
    /// the list scrolls so the selection is the bottom row and the rows above it show.
    static func select(_ s: AppState, last: Bool = false, _ match: (RoadmapPane.Row) -> Bool) -> AppState {
        var s = s
        let rows = s.roadmap.rows(s.context)
        let target = (last ? rows.lastIndex(where: match) : rows.firstIndex(where: match))!
        for _ in 0..<target { s = F.send(s, [.key(.down)]) }
        return s
    }

    @Test(arguments: [(80, 24), (120, 40)]) func sectionsRenderAndFit(size: (Int, Int)) {
        let (w, h) = size
        let base = Self.state(width: w, height: h)
        let summary = F.screen(base).lines[3]
        #expect(summary.contains("▲") || w == 80, "\(summary)")
        #expect(F.screen(base).lines.allSatisfy { $0.displayWidth <= w })

        // The risks heading and the amber data-quality risk with its signal.
        let risks = Self.select(base, last: true) { if case .risk = $0 { return true }; return false }
        var text = F.screen(risks).lines.joined(separator: "\n")
        #expect(text.contains("▾ Risks · 6 open · 1 amber"), "\(text)")
        #expect(text.contains("▲ [open]"))
        #expect(text.contains("Data Quality Issues"))
        #expect(text.contains("[mitigating] False merges of different customers"))
        #expect(F.screen(risks).lines.allSatisfy { $0.displayWidth <= w })

        // Dependencies, budget and cadence further down.
        let cadence = Self.select(base) { if case .cadence = $0 { return true }; return false }
        text = F.screen(cadence).lines.joined(separator: "\n")
        #expect(text.contains("▾ Stakeholder updates · 2 overdue"), "\(text)")
        #expect(text.contains("Executive steering"))
        #expect(text.contains("! overdue"))
        #expect(F.screen(cadence).lines.allSatisfy { $0.displayWidth <= w })

        let budget = Self.select(base, last: true) { if case .budget = $0 { return true }; return false }
        text = F.screen(budget).lines.joined(separator: "\n")
        #expect(text.contains("▾ Budget · $36K/year · $368K one-off · 3.5 FTE"), "\(text)")
        if h >= 40 {
            #expect(text.contains("▾ Dependencies · 0/4 met · 1 blocked"))
            #expect(text.contains("[blocked] Warehouse contract finalized"))
            #expect(text.contains("Consulting"))
        }
    }

    @Test func spaceOnADeliverableSignsItOffOrReopensIt() {
        let s = Self.state(width: 120, height: 40)
        let plan = s.snapshot!.roadmap!.plan
        // The first deliverable is signed off: Space reopens it; the second is not: Space signs it off.
        let first = Self.select(s) { if case .deliverable(0, 0) = $0 { return true }; return false }
        let (_, reopen) = ConsoleApp.update(first, .key(.char(" ")))
        #expect(reopen.contains(.recordPlan(action: .reopen, subject: plan.deliverables[0].deliverable.id,
                                            detail: PlanDetail(text: plan.deliverables[0].deliverable.text),
                                            done: "reopened “\(plan.deliverables[0].deliverable.text)”")))
        let second = Self.select(s) { if case .deliverable(0, 1) = $0 { return true }; return false }
        let (_, sign) = ConsoleApp.update(second, .key(.char(" ")))
        #expect(sign.contains { if case .recordPlan(.signOff, plan.deliverables[1].deliverable.id, _, _) = $0 { return true }; return false })
        // Read-only: refused, nothing recorded.
        var ro = second
        ro.readOnly = true
        let (after, none) = ConsoleApp.update(ro, .key(.char(" ")))
        #expect(!none.contains { if case .recordPlan = $0 { return true }; return false })
        #expect(after.status?.text.contains("read-only") == true)
    }

    @Test func sCyclesARiskOrDependencyStatus() throws {
        let s = Self.state(width: 120, height: 40)
        let plan = s.snapshot!.roadmap!.plan
        func press(_ row: RoadmapPane.Row, readOnly: Bool = false) -> (AppState, [Command]) {
            var at = Self.select(s) { $0 == row }
            at.readOnly = readOnly
            return ConsoleApp.update(at, .key(.char("s")))
        }
        // Risks: open → mitigating, mitigating → closed (risk 1 was set mitigating).
        let (writing, open) = press(.risk(0))
        #expect(open == [.recordPlan(action: .riskStatus, subject: plan.risks[0].risk.id,
                                     detail: PlanDetail(text: plan.risks[0].risk.title, status: "mitigating"),
                                     done: "risk “\(plan.risks[0].risk.title)”: mitigating")])
        #expect(writing.roadmap.writing)
        #expect(press(.risk(1)).1.contains { if case .recordPlan(.riskStatus, plan.risks[1].risk.id, let d, _) = $0 { return d.status == "closed" }; return false })
        // Dependencies: blocked → pending (dependency 0 was blocked), pending → met.
        #expect(press(.dependency(0)).1.contains { if case .recordPlan(.dependencyStatus, plan.dependencies[0].dependency.id, let d, _) = $0 { return d.status == "pending" }; return false })
        #expect(press(.dependency(1)).1.contains { if case .recordPlan(.dependencyStatus, plan.dependencies[1].dependency.id, let d, _) = $0 { return d.status == "met" }; return false })
        // Elsewhere `s` says what it is for; read-only refuses it.
        let (onBudget, none) = press(.budget(0))
        #expect(none.isEmpty)
        #expect(onBudget.status?.text == "select a risk or a dependency to change its status")
        let (ro, refused) = press(.risk(0), readOnly: true)
        #expect(refused.isEmpty)
        #expect(ro.status?.text == "read-only: status changes are disabled (started with --read-only)")
        #expect(ro.status?.isError == true)
        #expect(KeyMap.standard.bindings(for: .roadmap).contains { $0.action == .cycleStatus && $0.keys == [.char("s")] })

        // The command is what the console runs: an audited decision in the catalog, the file untouched.
        let p = planProject()
        let roadmap = p.dir.appendingPathComponent("roadmap.md")
        let before = try Data(contentsOf: roadmap)
        let catalogURL = try p.config().catalogURL
        _ = try Catalog.open(at: catalogURL)
        guard case .recordPlan(let action, let subject, let detail, let done)? = open.first else { Issue.record("no command"); return }
        let message = ConsoleSession.recordPlan(action, subject: subject, detail: detail, done: done, catalogURL: catalogURL)
        if case .roadmapWritten(let text, _) = message {
            #expect(text == "risk “\(plan.risks[0].risk.title)”: mitigating")
        } else {
            Issue.record("not written: \(message)")
        }
        let state = PlanState(try Catalog.open(at: catalogURL).planEvents())
        #expect(state.risks[subject]?.status == "mitigating")
        #expect(state.risks[subject]?.actor == Catalog.osUser)
        #expect(try Data(contentsOf: roadmap) == before)
    }

    @Test func detailLinesExplainTheSelectedItem() {
        let dq = Self.select(Self.state(width: 120, height: 40)) {
            if case .risk(let i) = $0 { return i == 4 }   // the first risk of the list: after the table's four
            return false
        }
        let lines = F.screen(dq).lines
        let detail = lines[lines.count - 5] + "\n" + lines[lines.count - 4]
        #expect(detail.contains("mitigation Early profiling, continuous monitoring"), "\(detail)")
        #expect(detail.contains("risk · owner Data Engineering Lead"))
        #expect(detail.contains("▲ Data quality score 80.0% (target > 95%): breached"))

        let dep = Self.select(Self.state(width: 120, height: 40)) { if case .dependency(0) = $0 { return true }; return false }
        let depLines = F.screen(dep).lines
        let depDetail = depLines[depLines.count - 5] + "\n" + depLines[depLines.count - 4]
        #expect(depDetail.contains("blocked by bob"), "\(depDetail)")
        #expect(depDetail.contains("✎ legal review"))
        #expect(depDetail.contains("forecast pushed 10 days"))

        let signed = Self.select(Self.state(width: 120, height: 40)) { if case .deliverable(0, 0) = $0 { return true }; return false }
        #expect(F.screen(signed).lines.contains { $0.contains("◆ Source inventory and data ownership matrix") && $0.contains("✓ signed off by alice 2024-05-05") })
    }
}
