import Foundation
import Testing
@testable import StewardDemo
@testable import StewardRoadmap

/// Issue 21: the plan sections beyond checkboxes, in the writings plans use.
enum PlanTexts {
    /// The issue's example, verbatim.
    static let issue = """
    # Plan

    ## Phase 1: Build (Q1 2024)
    - [ ] A task

    ## Risk Management
    ### High-Risk Items
    1. **Data Quality Issues**
       - Mitigation: Early profiling, continuous monitoring
       - Owner: Data Engineering Lead
    ## Dependencies
    ### Critical Dependencies
    1. Warehouse contract finalized
    ### External Dependencies
    - Vendor support availability
    ## Resource Requirements
    ### Team Structure
    - Project Manager: 1 FTE
    ### Budget Allocation
    - Infrastructure: $200K/year
    - Consulting: $100K
    ## Communication Plan
    ### Stakeholder Updates
    - Executive steering: Monthly
    - Technical review: Bi-weekly
    ### Channels
    - Slack channels

    """

    /// The same content written another way: other levels and order, bold labels instead of headings,
    /// owner before mitigation, bulleted not numbered, no bold title, labels in bold, other currencies.
    static let variant = """
    Communication
    =============

    #### Cadence
    * Weekly: core team stand-up notes
    * **Quarterly** board review

    # Budget & Staffing

    **Team:**
    + 2 x Data Engineer
    + Data Scientist (0.5 FTE)

    **Costs:**
    + Licences €50k per year
    + Training: £12,500
    + Cloud: $4K/month

    ### Risks
    - Integration delays with the ERP: vendor API is late
        * **Owner:** Integration lead
        * **Mitigation:** Mock the API first
    - __User adoption__ — sales may not use it
      Mitigation: Champions in each team

    ###### dependencies (external)
    1) Legal review of the DPA
    """

    static func crlf(_ s: String) -> String { s.replacingOccurrences(of: "\n", with: "\r\n") }
}

@Suite struct PlanParseTests {
    @Test(arguments: [false, true]) func theIssueExampleInLFAndCRLF(crlf: Bool) {
        let doc = RoadmapDocument(text: crlf ? PlanTexts.crlf(PlanTexts.issue) : PlanTexts.issue)
        let plan = RoadmapPlan(doc)
        #expect(plan.risks.count == 1)
        let risk = plan.risks[0]
        #expect(risk.title == "Data Quality Issues")
        #expect(risk.mitigation == "Early profiling, continuous monitoring")
        #expect(risk.owner == "Data Engineering Lead")
        #expect(risk.severity == "high")
        #expect(plan.dependencies.map(\.text) == ["Warehouse contract finalized", "Vendor support availability"])
        #expect(plan.dependencies.map(\.kind) == [.critical, .external])
        #expect(plan.team == [TeamRole(role: "Project Manager", fte: 1, line: 18)])
        #expect(plan.budget.map(\.item) == ["Infrastructure", "Consulting"])
        #expect(plan.budget.map(\.amount) == [200_000, 100_000])
        #expect(plan.budget.map(\.period) == [.year, .once])
        #expect(plan.budget.map(\.currency) == ["USD", "USD"])
        #expect(plan.budgetTotals == [BudgetTotal(currency: "USD", perYear: 200_000, once: 100_000)])
        #expect(plan.cadence.map(\.audience) == ["Executive steering", "Technical review"])
        #expect(plan.cadence.map(\.every) == [.monthly, .biweekly])
        #expect(plan.channels == ["Slack channels"])
        // The task list is unchanged by the sections around it.
        #expect(doc.tasks.map(\.plainText) == ["A task"])
    }

    @Test func anotherWritingOfTheSameSections() {
        let plan = RoadmapPlan(RoadmapDocument(text: PlanTexts.variant))
        #expect(plan.cadence.map(\.every) == [.weekly, .quarterly])
        #expect(plan.cadence.map(\.audience) == ["core team stand-up notes", "board review"])
        #expect(plan.team.map(\.role) == ["Data Engineer", "Data Scientist"])
        #expect(plan.team.map(\.fte) == [2, 0.5])
        #expect(plan.totalFTE == 2.5)
        #expect(plan.budget.map(\.item) == ["Licences", "Training", "Cloud"])
        #expect(plan.budget.map(\.currency) == ["EUR", "GBP", "USD"])
        #expect(plan.budget.map(\.amount) == [50_000, 12_500, 48_000])
        #expect(plan.budget.map(\.period) == [.year, .once, .year])
        #expect(plan.budget[2].writtenPer == "month")
        #expect(plan.budgetTotals.count == 3)
        #expect(plan.risks.map(\.title) == ["Integration delays with the ERP", "User adoption"])
        #expect(plan.risks[0].description == "vendor API is late")
        #expect(plan.risks[0].owner == "Integration lead")
        #expect(plan.risks[0].mitigation == "Mock the API first")
        #expect(plan.risks[1].description == "sales may not use it")
        #expect(plan.risks[1].mitigation == "Champions in each team")
        #expect(plan.risks[1].owner == nil)
        #expect(plan.dependencies.map(\.text) == ["Legal review of the DPA"])
        #expect(plan.dependencies.map(\.kind) == [.external])
    }

    @Test func riskAndBudgetTablesAsTheDemoWritesThem() {
        let plan = RoadmapPlan(RoadmapDocument(text: DemoProjectFiles.roadmap))
        #expect(plan.risks.count >= 4)
        let merges = plan.risks.first { $0.title == "False merges of different customers" }
        #expect(merges?.mitigation == "Conservative threshold, review queue, truth sample")
        #expect(merges?.severity == "high" && merges?.likelihood == "medium")
        let engineering = plan.budget.first { $0.item == "Engineering (2 FTE)" }
        #expect(engineering?.amount == 240_000 && engineering?.period == .once)
        // The team is the plan's own list; budget rows naming FTEs count only without one.
        #expect(plan.team.map(\.role) == ["Project Manager", "Data Engineers", "Data Steward"])
        #expect(plan.totalFTE == 3.5)
        let tableOnly = RoadmapPlan(RoadmapDocument(text: "## Budget\n| Item | Total |\n|---|---|\n| Engineering (2 FTE) | $240,000 |\n| Total | $240,000 |\n"))
        #expect(tableOnly.team == [TeamRole(role: "Engineering", fte: 2, line: 4)])
        #expect(tableOnly.budget.map(\.item) == ["Engineering (2 FTE)"])
        // The demo gains the issue's sections, so a new user sees them.
        #expect(plan.risks.contains { $0.title == "Data Quality Issues" && $0.owner == "Data Engineering Lead" })
        #expect(plan.dependencies.filter { $0.kind == .critical }.count == 2 && plan.dependencies.filter { $0.kind == .external }.count == 2)
        #expect(plan.cadence.map(\.every) == [.monthly, .biweekly])
        #expect(plan.budgetTotals == [BudgetTotal(currency: "USD", perYear: 36_000, once: 343_000 + 25_000)])
        // Each phase's deliverables, with ids.
        #expect(plan.deliverables.count == 12)
        #expect(plan.deliverables.first?.text == "Source inventory and data ownership matrix")
        #expect(Set(plan.deliverables.map(\.id)).count == 12)
    }

    @Test func moneyAndPeriods() {
        func one(_ line: String) -> BudgetItem? {
            RoadmapPlan(RoadmapDocument(text: "## Budget\n- \(line)\n")).budget.first
        }
        #expect(one("Infrastructure: $200K/year")?.amount == 200_000)
        #expect(one("Hosting: $1.2M per year")?.amount == 1_200_000)
        #expect(one("Hosting: $1.2M per year")?.period == .year)
        #expect(one("Support: USD 50,000 annually")?.amount == 50_000)
        #expect(one("Support: USD 50,000 annually")?.currency == "USD")
        #expect(one("Tools: 3 000 EUR")?.amount == 3_000)
        #expect(one("Tools: 3 000 EUR")?.currency == "EUR")
        #expect(one("Ops: $2,500/quarter")?.amount == 10_000)
        #expect(one("Ops: $2,500/quarter")?.period == .year)
        #expect(one("Licences: €50k")?.amount == 50_000)
        #expect(one("Licences: €50k")?.period == .once)
        #expect(one("Nothing to pay") == nil)
    }

    @Test func ownerBeforeMitigationAndEitherLabelStyle() {
        for owner in ["Owner: Ann", "**Owner:** Ann", "*Owner*: Ann", "OWNER: Ann"] {
            let text = "## Risks\n1. Late data\n   - \(owner)\n   - Mitigation: buffer\n2. **Churn**\n   - Mitigation: x\n"
            let risks = RoadmapPlan(RoadmapDocument(text: text)).risks
            #expect(risks.map(\.title) == ["Late data", "Churn"], "\(owner)")
            #expect(risks[0].owner == "Ann" && risks[0].mitigation == "buffer", "\(owner)")
            #expect(risks[1].owner == nil && risks[1].mitigation == "x")
        }
    }

    @Test func idsAreStableAcrossEditsElsewhere() {
        let before = RoadmapPlan(RoadmapDocument(text: PlanTexts.issue))
        let edited = PlanTexts.issue
            .replacingOccurrences(of: "# Plan\n", with: "# Plan\n\nA new paragraph.\n\n## Intro\n- [x] new task\n")
            .replacingOccurrences(of: "- Owner: Data Engineering Lead", with: "- Owner: Someone Else")
        let after = RoadmapPlan(RoadmapDocument(text: PlanTexts.crlf(edited)))
        #expect(before.risks.map(\.id) == after.risks.map(\.id))
        #expect(before.dependencies.map(\.id) == after.dependencies.map(\.id))
        #expect(before.budget.map(\.id) == after.budget.map(\.id))
        #expect(before.cadence.map(\.id) == after.cadence.map(\.id))
        // Emphasis added to a title keeps its id.
        let bolded = RoadmapPlan(RoadmapDocument(text: PlanTexts.issue.replacingOccurrences(of: "1. Warehouse contract finalized", with: "1. **Warehouse contract** finalized")))
        #expect(bolded.dependencies.first?.id == before.dependencies.first?.id)
        // Ids of different kinds never collide, and duplicates are numbered.
        let dup = RoadmapPlan(RoadmapDocument(text: "## Dependencies\n- Same\n- Same\n"))
        #expect(dup.dependencies.map(\.id) == [dup.dependencies[0].id, dup.dependencies[0].id + "-2"])
    }

    /// Red team: what a PM's real file throws at the parser.
    @Test func hostileWritings() {
        // A URL or a time in a risk's title is no `label: description` colon; a label's colon still is.
        let url = "https://vendor.example.com/status"
        let risks = RoadmapPlan(RoadmapDocument(text: "## Risks\n1. **Vendor outage \(url)**\n2. Cutover at 10:30 slips\n3. Churn: customers leave\n")).risks
        #expect(risks.map(\.title) == ["Vendor outage \(url)", "Cutover at 10:30 slips", "Churn"])
        #expect(risks[2].description == "customers leave")

        // BOM, CRLF, emoji in headings and items, nested sub-bullets below the labelled lines.
        let emoji = "\u{FEFF}# Plan 🚀\r\n## ⚠️ Risk Management\r\n1. **🔥 Data Quality Issues**\r\n   * Owner: Dana 👩‍💻\r\n"
            + "     - Mitigation: profiling\r\n       - deeper detail\r\n## 🔗 Dependencies\r\n### Critical Dependencies\r\n"
            + "1. **Warehouse contract** finalized ✍️\r\n## 💰 Budget Allocation\r\n- Licences: £1,200 per month\r\n"
            + "## 📣 Communication Plan\r\n- Executive steering 🧑‍💼: Monthly\r\n"
        let plan = RoadmapPlan(RoadmapDocument(text: emoji))
        #expect(plan.risks.map(\.title) == ["🔥 Data Quality Issues"])
        #expect(plan.risks.first?.owner == "Dana 👩‍💻")
        #expect(plan.risks.first?.mitigation?.hasPrefix("profiling") == true)
        #expect(plan.dependencies.map(\.text) == ["Warehouse contract finalized ✍️"])
        #expect(plan.dependencies.first?.kind == .critical)
        #expect(plan.budget.first.map { ($0.currency, $0.amount, $0.period) } ?? ("", 0, .once) == ("GBP", 14_400, .year))
        #expect(plan.cadence.map(\.every) == [.monthly])

        // No plan sections at all, or an empty file: empty lists, no crash.
        for text in ["", "# Only tasks\n- [ ] a\n", "\r\n\r\n", "## Risks\n", "## Budget\n- Coffee\n"] {
            let empty = RoadmapPlan(RoadmapDocument(text: text))
            #expect(empty.risks.isEmpty && empty.dependencies.isEmpty && empty.budget.isEmpty && empty.cadence.isEmpty, "\(text)")
        }
    }

    @Test func cadenceDueDates() {
        let day = Day(year: 2026, month: 12, day: 7)   // a Monday
        #expect(Cadence.weekly.lastDue(onOrBefore: day) == Day(year: 2026, month: 12, day: 4))
        #expect(Cadence.weekly.nextDue(after: day) == Day(year: 2026, month: 12, day: 11))
        #expect(Cadence.monthly.lastDue(onOrBefore: day) == Day(year: 2026, month: 11, day: 30))
        #expect(Cadence.monthly.nextDue(after: day) == Day(year: 2026, month: 12, day: 31))
        #expect(Cadence.monthly.nextDue(after: Day(year: 2026, month: 1, day: 30)) == Day(year: 2026, month: 1, day: 31))
        #expect(Cadence.quarterly.lastDue(onOrBefore: day) == Day(year: 2026, month: 9, day: 30))
        #expect(Cadence.quarterly.nextDue(after: day) == Day(year: 2026, month: 12, day: 31))
        #expect(Cadence.annual.lastDue(onOrBefore: day) == Day(year: 2025, month: 12, day: 31))
        let b = Cadence.biweekly.lastDue(onOrBefore: day)
        #expect((day.ordinal - b.ordinal) < 14 && (b.ordinal - Day(year: 1970, month: 1, day: 2).ordinal) % 14 == 0)
        #expect(Cadence.biweekly.nextDue(after: day).ordinal == b.ordinal + 14)
        #expect(Cadence.find(in: "Every two weeks") == .biweekly)
        #expect(Cadence.find(in: "Bi-monthly newsletter") == .bimonthly)
        #expect(Cadence.find(in: "weekly, then monthly") == .weekly)
    }

    @Test func riskSignalsFromWhatStewardMeasures() {
        let risk = RoadmapPlan(RoadmapDocument(text: "## Risks\n1. **Data Quality Issues**\n2. CRM integration delays\n3. Low user adoption\n")).risks
        let checks = [PlanFacts.FailingCheck(source: "crm", name: "not_null_email", failed: 3)]
        func kpi(_ status: String) -> [PlanFacts.KPI] {
            [PlanFacts.KPI(name: "Data quality score", status: status, actual: "90%", target: "> 95%"),
             PlanFacts.KPI(name: "User adoption", status: "at_risk", actual: "40%", target: "80%")]
        }
        let sources = [PlanFacts.Source(name: "crm_contacts", system: "crm", status: "error"), PlanFacts.Source(name: "web", system: "web", status: "ok")]
        func amber(_ r: PlanRisk, _ facts: PlanFacts) -> Bool { PlanStatus.signals(for: r, facts: facts).contains { $0.level >= .warn } }
        // The DQ KPI decides: breached turns the risk amber by itself; met with a few failing rows does not.
        #expect(amber(risk[0], PlanFacts(kpis: kpi("breached"), failingChecks: checks)))
        #expect(!amber(risk[0], PlanFacts(kpis: kpi("met"), failingChecks: checks)))
        #expect(amber(risk[0], PlanFacts(failingChecks: checks)))   // no quality KPI: failing checks warn
        // Integration: the source the title names (crm), not the healthy others.
        let integration = PlanStatus.signals(for: risk[1], facts: PlanFacts(sources: sources))
        #expect(integration == [RiskSignal(text: "source crm_contacts: error", level: .breach)])
        // Adoption: the User adoption KPI.
        #expect(PlanStatus.signals(for: risk[2], facts: PlanFacts(kpis: kpi("met"))).map(\.text) == ["User adoption 40% (target 80%): at risk"])
    }

    @Test func deliverablesUnderATaskSectionAreNotCadence() {
        // `Reporting` in a month heading does not make its deliverables stakeholder updates.
        let text = "## Phase 1 (Q1 2024)\n### Month 3: Reporting\n- [ ] Build\n\n**Deliverables:**\n- Weekly sales report\n"
        let plan = RoadmapPlan(RoadmapDocument(text: text))
        #expect(plan.cadence.isEmpty)
        #expect(plan.deliverables.map(\.text) == ["Weekly sales report"])
    }
}
