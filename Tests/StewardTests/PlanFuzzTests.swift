import Foundation
import Testing
@testable import StewardIdentity
@testable import StewardRoadmap

/// Seeded property tests for the plan section parsers (issue 21): any bytes parse, quickly, without
/// crashing; ids are unique; amounts are finite; the document's bytes are never changed.
enum PlanFuzz {
    static let pieces: [String] = [
        "## Risk Management\n", "### High-Risk Items\n", "# Dependencies\n", "#### External Dependencies\n", "## Critical\n",
        "## Resource Requirements\n", "### Team Structure\n", "### Budget Allocation\n", "## Communication Plan\n", "### Channels\n",
        "**Budget:**\n", "__Risks__\n", "**unbalanced\n", "*x**y__z\n", "1. **Data Quality Issues**\n", "   - Mitigation: early\n",
        "   - Owner: Lead\n", "- Owner:\n", "Mitigation:", ": \n", "- Project Manager: 1 FTE\n", "- FTE\n", "- 0.5 FTE FTE fte\n",
        "- Infra: $200K/year\n", "- $\n", "- $$$ 1e308K\n", "- €50k\n", "- £1.2M per month\n", "- USD 99999999999999999999999999999 bn\n",
        "- 1,2,3,4,5 EUR\n", "- Weekly: team\n", "- Bi-weekly\n", "- every two weeks every\n", "| Risk | Owner |\n", "|---|---|\n",
        "| a |\n", "| | | | |\n", "|\n", "| Item | Total |\n", "| x | $5 | $6 |\n", "```\n", "~~~\n", "\r\n", "\n", "\n", "\t",
        "    ", "é", "日本語", "🚀", "\u{0}", "- [ ] task\n", "- [x] done\n", "**Deliverables:**\n", "- shipped\n", "## Phase 1 (Q1 2024)\n",
        "1) item\n", "99999999999. item\n", "---\n", "* * *\n", "- **a** — b\n", "- __x__: y\n", "Owner: z\n",
    ]

    static func plan(_ rng: inout FuzzRNG) -> [UInt8] {
        var out: [UInt8] = []
        for _ in 0..<Int.random(in: 0...120, using: &rng) {
            switch Int.random(in: 0..<400, using: &rng) {
            case 0:
                // A very long line: money, emphasis or plain.
                let unit = ["$9", "**", "a", "FTE ", "é", "|"][Int.random(in: 0..<6, using: &rng)]
                out += Array(String(repeating: unit, count: Int.random(in: 1_000...40_000, using: &rng)).utf8) + [10]
            case 1:
                out += [0xFF, 0xC3, 0xE2, 0x82]   // invalid UTF-8
            default:
                out += Array(pieces[Int.random(in: 0..<pieces.count, using: &rng)].utf8)
            }
        }
        return out
    }

    static func check(_ bytes: [UInt8]) {
        let doc = RoadmapDocument(bytes: bytes)
        let plan = RoadmapPlan(doc)
        #expect(doc.bytes == bytes)
        for ids in [plan.risks.map(\.id), plan.dependencies.map(\.id), plan.budget.map(\.id), plan.cadence.map(\.id), plan.deliverables.map(\.id)] {
            #expect(Set(ids).count == ids.count)
        }
        #expect(plan.budget.allSatisfy { $0.amount.isFinite && $0.amount >= 0 })
        #expect(plan.team.allSatisfy { $0.fte.map { $0.isFinite && $0 >= 0 } ?? true })
        #expect(plan.budgetTotals.allSatisfy { $0.perYear.isFinite && $0.once.isFinite })
        // Status over the plan with every kind of decision recorded must not trap either.
        var events: [PlanEvent] = []
        let at = Date(timeIntervalSince1970: 1_700_000_000)
        for r in plan.risks { events.append(PlanEvent(at: at, actor: "t", action: .riskStatus, subject: r.id, detail: PlanDetail(status: "closed"))) }
        for d in plan.dependencies { events.append(PlanEvent(at: at, actor: "t", action: .dependencyStatus, subject: d.id, detail: PlanDetail(status: "blocked"))) }
        for b in plan.budget { events.append(PlanEvent(at: at, actor: "t", action: .spend, subject: b.id, detail: PlanDetail(amount: 1, on: "2024-02-30"))) }
        let today = Day(year: 2024, month: 5, day: 1)
        let status = PlanStatus(document: doc, progress: RoadmapProgress(doc, today: today), state: PlanState(events),
                                facts: PlanFacts(kpis: [PlanFacts.KPI(name: "Data quality score", status: "breached", actual: "1%", target: "> 95%")]),
                                today: today)
        #expect(status.risks.count == plan.risks.count)
        #expect(status.cadence.allSatisfy { $0.nextDue >= today })
    }
}

@Suite struct PlanFuzzTests {
    @Test func randomPlansNeverCrashOrHang() {
        var rng = FuzzRNG(seed: 2121)
        let start = Date()
        for _ in 0..<400 { PlanFuzz.check(PlanFuzz.plan(&rng)) }
        // Linear parsing: 400 plans (some with 40 000-character lines) in well under a minute on CI.
        #expect(Date().timeIntervalSince(start) < 60)
    }

    @Test func mutatedIssueExampleParses() {
        var rng = FuzzRNG(seed: 2122)
        let base = Array(PlanTexts.issue.utf8)
        for _ in 0..<500 { PlanFuzz.check(FuzzInput.mutate(base, &rng)) }
    }

    @Test func hugeFileIsLinear() {
        // 20 000 risks with many mitigation lines each, and a 2 MB money line: bounded time.
        var text = "## Risks\n"
        for i in 0..<20_000 { text += "\(i). **Risk \(i)**\n   - Mitigation: a\n   - Mitigation: b\n   - Owner: o\n" }
        text += "## Budget\n- " + String(repeating: "$1,000 ", count: 300_000) + "\n"
        let start = Date()
        let plan = RoadmapPlan(RoadmapDocument(text: text))
        #expect(plan.risks.count == 20_000)
        #expect(plan.risks[19_999].mitigation == "a; b")
        #expect(plan.budget.count == 1)
        #expect(Date().timeIntervalSince(start) < 30)
    }

    @Test func tablesWithMissingCellsAndUnicode() {
        let text = """
        ## Risks
        | Risk | Mitigation | Owner |
        |---|---|---|
        | Überlastung 🚀 |
        | | only mitigation |
        | Données | contrôle | Équipe | extra | cells |
        ## Budget
        | Item |
        |---|
        | Nothing |
        | Café | €1.234,5 |
        """
        let plan = RoadmapPlan(RoadmapDocument(text: text))
        #expect(plan.risks.map(\.title) == ["Überlastung 🚀", "Données"])
        #expect(plan.risks[1].owner == "Équipe")
        #expect(plan.budget.count == 1 && plan.budget[0].currency == "EUR")
    }
}
