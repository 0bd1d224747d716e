import Foundation
import Testing
@testable import StewardCatalog
@testable import StewardDemo
@testable import StewardRoadmap

/// Issue 21: the status report's figures come from the plan and the catalog, never from the text.
@Suite(.serialized) struct PlanReportTests {
    static let plan = """
    # Launch plan

    ## Phase 1: Build (Q1 2024)
    - [x] One
    - [x] Two
    - [x] Three
    - [ ] Four

    **Deliverables:**
    - Working build

    ## Risks
    1. **Data Quality Issues**
       - Owner: Dana
       - Mitigation: profiling
    2. Vendor lock-in

    ## Dependencies
    - Contract signed
    ### External Dependencies
    - Vendor SLA

    ## Budget
    - Consulting: $25K
    - Hosting: $2K/month

    ## Communication Plan
    - Executive steering: Monthly
    """

    static func report(_ text: String, events: [PlanEvent] = [], facts: PlanFacts = PlanFacts(), today: Day = Day(year: 2024, month: 3, day: 10),
                       changes: [RoadmapChangeRecord] = [], since: Date? = nil) -> PlanReport {
        let doc = RoadmapDocument(text: text)
        let progress = RoadmapProgress(doc, today: today)
        let status = PlanStatus(document: doc, progress: progress, state: PlanState(events), facts: facts, today: today)
        return PlanReport(project: "acme", planTitle: doc.title, status: status, progress: progress, facts: facts, changes: changes, since: since)
    }

    @Test func figuresFollowTheData() throws {
        let plan = RoadmapPlan(RoadmapDocument(text: Self.plan))
        let at = Date(timeIntervalSince1970: 1_709_900_000)   // 2024-03-08
        let consulting = try #require(plan.budget.first { $0.item == "Consulting" })
        let contract = try #require(plan.dependencies.first)
        let events = [
            PlanEvent(at: at, actor: "pm", action: .spend, subject: consulting.id, detail: PlanDetail(amount: 5_000, currency: "USD")),
            PlanEvent(at: at, actor: "pm", action: .dependencyStatus, subject: contract.id, detail: PlanDetail(status: "blocked", note: "legal")),
            PlanEvent(at: at, actor: "pm", action: .riskStatus, subject: plan.risks[1].id, detail: PlanDetail(status: "closed")),
        ]
        let facts = PlanFacts(kpis: [PlanFacts.KPI(name: "Data quality score", status: "breached", actual: "80.0%", target: "> 95%", trend: [0.9, 0.8]),
                                     // Written in the KPI's unit by the caller (PlanFacts.measure uses the KPI's own format).
                                     PlanFacts.KPI(name: "Marketing ROI", status: "met", actual: "4.4:1", target: "4:1", trend: [2.1, 4.4],
                                                   trendText: ["2.1:1", "4.4:1"])],
                              failingChecks: [PlanFacts.FailingCheck(source: "crm", name: "not_null_email", failed: 7)], qualityScore: 0.8)
        let changes = [RoadmapChangeRecord(at: at, actor: "pm", taskId: "x", text: "Three", done: true)]
        let md = Self.report(Self.plan, events: events, facts: facts, changes: changes).markdown

        #expect(md.contains("Overall 75% — 3 of 4 tasks done."))
        #expect(md.contains("| Phase 1: Build (Q1 2024) | 75% | 3/4 | 2024-03-31 | at risk |"))
        #expect(md.contains("“Contract signed” blocked since 2024-03-08"))
        #expect(md.contains("## Since the last report: 1 ticked, 0 signed off"))
        #expect(md.contains("- Ticked: Three (pm, 2024-03-08)") || md.contains("Ticked: Three (pm, 2024-03-08)"))
        #expect(md.contains("1 met, 0 at risk, 1 breached of 2."))
        #expect(md.contains("| Data quality score | 80.0% | > 95% | breached | ↓ 0.9 → 0.8 |"))
        #expect(md.contains("| Marketing ROI | 4.4:1 | 4:1 | met | ↑ 2.1:1 → 4.4:1 |"))
        #expect(md.contains("Data quality score 80.0%; 1 failing checks (7 rows): crm.not_null_email 7."))
        // One risk closed: one open, amber from the breached KPI.
        #expect(md.contains("## Risks: 1 open, 1 amber"))
        #expect(md.contains("| ▲ Data Quality Issues | open | Dana | Data quality score 80.0% (target > 95%): breached; 1 failing checks (7 rows): crm.not_null_email |"))
        #expect(!md.contains("Vendor lock-in"))
        #expect(md.contains("1 pending, 0 met, 1 blocked."))
        #expect(md.contains("Blocked (critical): Contract signed — legal"))
        #expect(md.contains("Budget $24K per year and $25K one-off; spent $5K."))
        #expect(md.contains("| Consulting | $25K | $5K | 20% |"))
        #expect(md.contains("| Hosting | $24K/year | $0 | 0% |"))
        #expect(md.contains("Executive steering (monthly): next due 2024-03-31 — overdue since 2024-02-29"))

        // Change the data: the figures follow.
        let done = Self.plan.replacingOccurrences(of: "- [ ] Four", with: "- [x] Four")
        let sent = events + [PlanEvent(at: at, actor: "pm", action: .reportSent, subject: "report", detail: PlanDetail(channel: "manual"))]
        let md2 = Self.report(done, events: sent, facts: PlanFacts()).markdown
        #expect(md2.contains("Overall 100% — 4 of 4 tasks done."))
        #expect(md2.contains("| Phase 1: Build (Q1 2024) | 100% | 4/4 | 2024-03-31 | awaiting sign-off (0/1) |"))
        #expect(md2.contains("## Risks: 1 open\n"))
        #expect(md2.contains("Executive steering (monthly): next due 2024-03-31\n"))
        #expect(md2.contains("Data quality not measured yet"))
    }

    @Test func deliverablesWithTheirSignOffHistoryAndReopensSinceTheLastReport() throws {
        let plan = RoadmapPlan(RoadmapDocument(text: Self.plan))
        let build = try #require(plan.deliverables.first)
        let day = 86_400.0, t0 = Date(timeIntervalSince1970: 1_709_900_000)   // 2024-03-08
        let events = [
            PlanEvent(at: t0, actor: "pm", action: .signOff, subject: build.id, detail: PlanDetail(text: build.text, note: "demoed")),
            PlanEvent(at: t0 + day, actor: "cto", action: .reopen, subject: build.id, detail: PlanDetail(text: build.text, note: "fails on CRLF")),
        ]
        let md = Self.report(Self.plan, events: events, since: t0 + day / 2).markdown
        #expect(md.contains("## Deliverables: 0 of 1 signed off"))
        #expect(md.contains("| Phase 1: Build (Q1 2024) | Working build | open | signed off by pm 2024-03-08: demoed; reopened by cto 2024-03-09: fails on CRLF |"), "\(md)")
        #expect(md.contains("## Since the last report: 0 ticked, 0 signed off, 1 reopened"))
        #expect(md.contains("Reopened: Working build — Phase 1: Build (Q1 2024) (cto, 2024-03-09: fails on CRLF)"))
        // Signed off again: the history keeps all three, the status names the latest.
        let again = events + [PlanEvent(at: t0 + 2 * day, actor: "pm", action: .signOff, subject: build.id, detail: PlanDetail(text: build.text))]
        let md2 = Self.report(Self.plan, events: again, since: t0 + day * 1.5).markdown
        #expect(md2.contains("| Working build | signed off (pm, 2024-03-10) | signed off by pm 2024-03-08: demoed; reopened by cto 2024-03-09: fails on CRLF; signed off by pm 2024-03-10 |"), "\(md2)")
        #expect(md2.contains("## Since the last report: 0 ticked, 1 signed off\n"))
    }

    @Test func anEmptyPlanReportsWhatIsMissingNotAForecast() {
        for text in ["", "# Notes\nNothing planned yet.\n"] {
            let md = Self.report(text).markdown
            #expect(md.contains("## Progress\n\nNo tasks in the plan yet.\n"), "\(md)")
            #expect(!md.contains("Forecast"))
            #expect(!md.contains("| Phase |"))
            #expect(md.contains("No risks listed in the plan."))
        }
        // Risks all closed is another thing than none listed.
        let plan = RoadmapPlan(RoadmapDocument(text: Self.plan))
        let closed = plan.risks.map { PlanEvent(at: Date(), actor: "pm", action: .riskStatus, subject: $0.id, detail: PlanDetail(status: "closed")) }
        #expect(Self.report(Self.plan, events: closed).markdown.contains("No open risks."))
    }

    @Test func htmlIsOneSelfContainedEscapedPage() {
        let evil = Self.plan.replacingOccurrences(of: "Vendor lock-in", with: "<script>alert(1)</script> & \"quotes\"")
        let html = Self.report(evil).html
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(!html.contains("<script>"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"))
        for external in ["src=", "href=", "@import", "url(", "http://", "https://"] { #expect(!html.contains(external), "\(external)") }
        #expect(html.contains("<h2>Progress</h2>"))
    }

    @Test func reportEndToEndOutAndSendToALoopbackReceiver() async throws {
        let receiver = try WebhookListener()
        defer { receiver.stop() }
        let p = planProject()
        try p.edit("steward.yml", replacing: "name: plan\n", with: "name: plan\nalerts:\n  - webhook: \(receiver.url)\n")
        let dir = p.dir.path
        let roadmap = p.dir.appendingPathComponent("roadmap.md")
        let before = try Data(contentsOf: roadmap)
        try await offPool {
            _ = try StewardBinary.run(["run", "--project", dir])
            let out = p.dir.appendingPathComponent("report.md").path
            let md = try StewardBinary.run(["roadmap", "report", "--out", out, "--project", dir])
            #expect(md.status == 0, "\(md.stderr)")
            let text = try String(contentsOfFile: out, encoding: .utf8)
            #expect(text.hasPrefix("# plan — status report "))
            // The figures are the roadmap's own, computed here independently of the report.
            let total = RoadmapProgress(RoadmapDocument(text: DemoProjectFiles.roadmap)).total
            #expect(text.contains("Overall \(total.percent)% — \(total.done) of \(total.total) tasks done"), "\(text.prefix(400))")
            #expect(text.contains("▲ Data Quality Issues"))
            let attrs = try FileManager.default.attributesOfItem(atPath: out)
            #expect((attrs[.posixPermissions] as? Int) == 0o600)

            let html = try StewardBinary.run(["roadmap", "report", "--format", "html", "--project", dir])
            #expect(html.status == 0 && html.stdout.hasPrefix("<!DOCTYPE html>") && html.stdout.contains("Data Quality Issues"))

            // Before any report: both updates overdue. --send posts and records; then they are not.
            let cadence = try StewardBinary.run(["roadmap", "cadence", "--json", "--project", dir])
            #expect(cadence.stdout.contains("\"overdue\" : true"))
            let alerts = receiver.received.count   // the run's own KPI alert
            let send = try StewardBinary.run(["roadmap", "report", "--send", "--project", dir])
            #expect(send.status == 0, "\(send.stderr)")
            #expect(receiver.received.count == alerts + 1)
            let body = try JSONSerialization.jsonObject(with: Data(receiver.received.last!.utf8)) as? [String: Any]
            #expect((body?["text"] as? String)?.hasPrefix("# plan — status report ") == true)
            let after = try StewardBinary.run(["roadmap", "cadence", "--json", "--project", dir])
            let list = try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [[String: Any]] ?? []
            #expect(list.count == 2 && list.allSatisfy { $0["overdue"] as? Bool == false && $0["last_sent_at"] is String })

            // A receiver that refuses: exit 1, nothing recorded as sent.
            receiver.answer("HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            let failed = try StewardBinary.run(["roadmap", "report", "--send", "--project", dir])
            #expect(failed.status == 1)
            #expect(failed.stderr.contains("delivery to \(receiver.url) failed"))
            let sentCount: Int = try p.catalog().pool.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_event WHERE action = 'roadmap_report_sent'") ?? 0
            }
            #expect(sentCount == 1)

            // With a second measurement the KPI table's trend is written in each KPI's unit, as its value is.
            _ = try StewardBinary.run(["run", "--project", dir])
            let again = try StewardBinary.run(["roadmap", "report", "--project", dir]).stdout
            let row = try #require(again.split(separator: "\n").first { $0.hasPrefix("| Data quality score |") }, "\(again)")
            let trend = String(row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.last { !$0.isEmpty } ?? "")
            #expect(trend.contains("→") && trend.filter { $0 == "%" }.count == 2, "\(row)")
        }
        #expect(try Data(contentsOf: roadmap) == before)
    }
}
