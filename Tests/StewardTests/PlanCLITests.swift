import Foundation
import Testing
@testable import StewardCatalog
@testable import StewardDemo
@testable import StewardRoadmap

/// A project with the demo roadmap (which has every plan section) and one source whose quality
/// check fails on half its rows, so the data-quality KPI is breached.
func planProject() -> TempProject {
    let p = TempProject("plan")
    p.write("people.csv", "id,name\n1,Ann\n2,\n3,\n4,Dan\n")
    p.write("roadmap.md", DemoProjectFiles.roadmap)
    p.write("steward.yml", """
    name: plan
    roadmap: roadmap.md
    sources:
      - name: people
        system: crm
        entity: person
        format: csv
        path: people.csv
        key: id
        mapping: {full_name: name}
        checks:
          - not_null: [id, name]
    """)
    return p
}

func json(_ r: StewardBinary.Result) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
}

@Suite(.serialized) struct PlanCLITests {
    @Test func deliverablesSignOffAndReopenAreAuditedAndNeverTouchTheFile() async throws {
        let p = planProject()
        let dir = p.dir.path
        let roadmap = p.dir.appendingPathComponent("roadmap.md")
        let before = try Data(contentsOf: roadmap)
        func run(_ args: [String]) async throws -> StewardBinary.Result {
            try await offPool { try StewardBinary.run(["roadmap"] + args + ["--project", dir]) }
        }
        let list = try await run(["deliverables", "--json"])
        #expect(list.status == 0, "\(list.stderr)")
        let items = try #require(try json(list) as? [[String: Any]])
        #expect(items.count == 12)
        for key in ["id", "phase", "text", "signed_off"] { #expect(items[0][key] != nil, "missing \(key)") }
        #expect(items[0]["signed_off"] as? Bool == false)
        let id = try #require(items[0]["id"] as? String)

        let sign = try await run(["sign-off", String(id.prefix(5)), "--note", "approved in steering"])
        #expect(sign.status == 0, "\(sign.stderr)")
        let signed = try #require(try json(try await run(["deliverables", "--json"])) as? [[String: Any]])
        #expect(signed[0]["signed_off"] as? Bool == true)
        #expect(signed[0]["signed_off_by"] as? String == Catalog.osUser)
        #expect(signed[0]["note"] as? String == "approved in steering")
        #expect(signed.dropFirst().allSatisfy { $0["signed_off"] as? Bool == false })

        let reopen = try await run(["reopen", id])
        #expect(reopen.status == 0, "\(reopen.stderr)")
        let reopened = try #require(try json(try await run(["deliverables", "--json"])) as? [[String: Any]])
        #expect(reopened[0]["signed_off"] as? Bool == false)

        let unknown = try await run(["sign-off", "zzzz"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no deliverable with id 'zzzz'"))

        let actions: [String] = try await p.catalog().pool.read { db in
            try String.fetchAll(db, sql: "SELECT action FROM audit_event WHERE subject = ? ORDER BY id", arguments: [id])
        }
        #expect(actions == ["roadmap_signoff", "roadmap_reopen"])
        #expect(try Data(contentsOf: roadmap) == before)
    }

    @Test func risksDependenciesBudgetAndCadence() async throws {
        let p = planProject()
        let dir = p.dir.path
        let roadmap = p.dir.appendingPathComponent("roadmap.md")
        let before = try Data(contentsOf: roadmap)
        func run(_ args: [String]) async throws -> StewardBinary.Result {
            try await offPool { try StewardBinary.run(args + ["--project", dir]) }
        }
        _ = try await run(["run"])

        // Risks: the contract's fields; the data-quality risk turns amber by itself (half the rows fail).
        let risks = try #require(try json(try await run(["roadmap", "risks", "--json"])) as? [[String: Any]])
        for key in ["id", "title", "mitigation", "owner", "status", "signals"] { #expect(risks[0][key] != nil, "missing \(key)") }
        let dq = try #require(risks.first { $0["title"] as? String == "Data Quality Issues" })
        #expect(dq["owner"] as? String == "Data Engineering Lead")
        #expect(dq["status"] as? String == "open")
        #expect(dq["amber"] as? Bool == true)
        let signals = try #require(dq["signals"] as? [String])
        #expect(signals.contains { $0.hasPrefix("Data quality score") && $0.hasSuffix("breached") }, "\(signals)")
        #expect(signals.contains { $0.contains("failing checks") && $0.contains("people.") }, "\(signals)")
        let pii = try #require(risks.first { $0["title"] as? String == "PII exposure" })
        #expect(pii["amber"] as? Bool == false)

        let riskId = try #require(dq["id"] as? String)
        let set = try await run(["roadmap", "risk", riskId, "mitigating", "--note", "profiling started"])
        #expect(set.status == 0, "\(set.stderr)")
        let after = try #require(try json(try await run(["roadmap", "risks", "--json"])) as? [[String: Any]])
        #expect(after.first { $0["id"] as? String == riskId }?["status"] as? String == "mitigating")
        #expect(after.first { $0["id"] as? String == riskId }?["note"] as? String == "profiling started")
        let bad = try await run(["roadmap", "risk", riskId, "solved"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("open, mitigating or closed"))

        // Dependencies: a blocked critical one puts unfinished phases at risk and pushes the forecast.
        let deps = try #require(try json(try await run(["roadmap", "deps", "--json"])) as? [[String: Any]])
        #expect(deps.map { $0["kind"] as? String } == ["critical", "critical", "external", "external"])
        #expect(deps.allSatisfy { $0["status"] as? String == "pending" })
        let warehouse = try #require(deps.first?["id"] as? String)
        #expect(try await run(["roadmap", "dep", warehouse, "blocked", "--note", "legal review"]).status == 0)
        let blocked = try await run(["roadmap", "deps"])
        #expect(blocked.stdout.contains("[blocked] critical  Warehouse contract finalized  — legal review"))
        #expect(blocked.stdout.contains("“Warehouse contract finalized” blocked since"))
        #expect(blocked.stdout.contains("forecast pushed 7 days"))

        // Budget: items and totals in units; spend by name gives budget vs actual.
        let budget = try #require(try json(try await run(["roadmap", "budget", "--json"])) as? [String: Any])
        let totals = try #require(budget["totals"] as? [String: Any])
        #expect(totals["per_year"] as? Double == 36_000)
        #expect(totals["once"] as? Double == 368_000)
        let items = try #require(budget["items"] as? [[String: Any]])
        let consulting = try #require(items.first { $0["item"] as? String == "Consulting" })
        for key in ["item", "amount", "currency", "period"] { #expect(consulting[key] != nil, "missing \(key)") }
        #expect(consulting["period"] as? String == "once")
        #expect(budget["fte_total"] as? Double == 3.5)
        #expect(try await run(["roadmap", "spend", "consulting", "$5K", "--at", "2024-03-01"]).status == 0)
        #expect(try await run(["roadmap", "spend", "Consulting", "2500"]).status == 0)
        let spent = try #require(try json(try await run(["roadmap", "budget", "--json"])) as? [String: Any])
        let c2 = try #require((spent["items"] as? [[String: Any]])?.first { $0["item"] as? String == "Consulting" })
        #expect(c2["actual"] as? Double == 7_500)
        #expect(try await run(["roadmap", "spend", "Consulting", "€5K"]).status == 2)
        #expect(try await run(["roadmap", "spend", "Consulting", "lots"]).status == 2)
        #expect(try await run(["roadmap", "spend", "Consulting", "5", "--at", "yesterday"]).status == 2)
        let noItem = try await run(["roadmap", "spend", "Catering", "5"])
        #expect(noItem.status == 2 && noItem.stderr.contains("no budget item"))

        // Cadence: never sent, so the last due date of each update is overdue.
        let cadence = try #require(try json(try await run(["roadmap", "cadence", "--json"])) as? [[String: Any]])
        #expect(cadence.map { $0["audience"] as? String } == ["Executive steering", "Technical review"])
        #expect(cadence.map { $0["every"] as? String } == ["monthly", "bi-weekly"])
        #expect(cadence.allSatisfy { $0["overdue"] as? Bool == true && $0["next_due"] is String })

        #expect(try Data(contentsOf: roadmap) == before)
        let audited: Int = try await p.catalog().pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_event WHERE action IN ('roadmap_risk_status','roadmap_dep_status','roadmap_spend')") ?? 0
        }
        #expect(audited == 4)
    }
}

@Suite(.serialized) struct PlanHistoryCLITests {
    @Test func signOffHistoryAndTheForecastPushedByABlockedCriticalDependency() async throws {
        let p = planProject()
        let dir = p.dir.path
        let roadmap = p.dir.appendingPathComponent("roadmap.md")
        func run(_ args: [String]) async throws -> StewardBinary.Result {
            try await offPool { try StewardBinary.run(["roadmap"] + args + ["--project", dir]) }
        }
        // One tick gives a rate, so there is a forecast to push.
        let tasks = try #require(try json(try await run(["list", "--json"])) as? [[String: Any]])
        let open = try #require(tasks.first { $0["done"] as? Bool == false && $0["parent"] is NSNull }?["id"] as? String)
        #expect(try await run(["tick", open]).status == 0)
        let before = try Data(contentsOf: roadmap)

        // Sign-off history: who, when and the note of each sign-off and reopen, oldest first.
        let id = try #require((try json(try await run(["deliverables", "--json"])) as? [[String: Any]])?.first?["id"] as? String)
        #expect(try await run(["sign-off", id, "--note", "approved"]).status == 0)
        #expect(try await run(["reopen", id, "--note", "missing runbook"]).status == 0)
        #expect(try await run(["sign-off", id, "--note", "runbook added"]).status == 0)
        let list = try #require(try json(try await run(["deliverables", "--json"])) as? [[String: Any]])
        let history = try #require(list.first?["history"] as? [[String: Any]])
        #expect(history.map { $0["action"] as? String } == ["sign_off", "reopen", "sign_off"])
        #expect(history.map { $0["note"] as? String } == ["approved", "missing runbook", "runbook added"])
        #expect(history.allSatisfy { $0["by"] as? String == Catalog.osUser && ($0["at"] as? String)?.count ?? 0 >= 19 })
        #expect((list.dropFirst().first?["history"] as? [Any])?.isEmpty == true)
        let text = try await run(["deliverables"])
        #expect(text.stdout.contains("reopened by \(Catalog.osUser)") && text.stdout.contains(": missing runbook"), "\(text.stdout)")

        // No blocked dependency: nothing pushed.
        let calm = try #require(try json(try await run(["progress", "--json"])) as? [String: Any])
        let calmForecast = try #require(calm["forecast"] as? [String: Any])
        #expect(calmForecast["pushed_days"] as? Int == 0)
        #expect(calmForecast["completion"] as? String == calmForecast["base_completion"] as? String)
        #expect((calm["phases"] as? [[String: Any]])?.allSatisfy { ($0["at_risk"] as? [Any])?.isEmpty == true } == true)

        // A blocked critical dependency pushes the forecast a week (it was blocked today) and puts unfinished phases at risk.
        let deps = try #require(try json(try await run(["deps", "--json"])) as? [[String: Any]])
        let warehouse = try #require(deps.first { $0["kind"] as? String == "critical" }?["id"] as? String)
        #expect(try await run(["dep", warehouse, "blocked", "--note", "legal review"]).status == 0)
        let pushed = try #require(try json(try await run(["progress", "--json"])) as? [String: Any])
        let forecast = try #require(pushed["forecast"] as? [String: Any])
        #expect(forecast["pushed_days"] as? Int == 7)
        let base = try #require((forecast["base_completion"] as? String).flatMap(Day.parse))
        let completion = try #require((forecast["completion"] as? String).flatMap(Day.parse))
        #expect(completion.ordinal - base.ordinal == 7)
        #expect((forecast["pushed_by"] as? [String])?.first?.contains("“Warehouse contract finalized” blocked since") == true)
        let phases = try #require(pushed["phases"] as? [[String: Any]])
        for phase in phases {
            let done = phase["done"] as? Int == phase["total"] as? Int
            #expect(((phase["at_risk"] as? [String])?.isEmpty ?? true) == done, "\(phase["title"] ?? "")")
        }
        let progressText = try await run(["progress"])
        #expect(progressText.stdout.contains("Forecast pushed 7 days to \(completion)"), "\(progressText.stdout)")

        // The report says the same, with the sign-off history.
        let report = try await run(["report"])
        #expect(report.stdout.contains("Forecast: done by \(completion) (pushed 7 days: critical dependency “Warehouse contract finalized”"),
                "\(report.stdout)")
        #expect(report.stdout.contains("## Deliverables: 1 of 12 signed off"))
        #expect(report.stdout.contains("signed off by \(Catalog.osUser) \(Day.today()): approved; reopened by \(Catalog.osUser) \(Day.today()): missing runbook; signed off by"))
        #expect(try Data(contentsOf: roadmap) == before)
    }
}

extension PlanHistoryCLITests {
    @Test func markSentCountsForTheCadenceAndSendWithoutWebhooksIsRefused() async throws {
        let p = planProject()
        let dir = p.dir.path
        func run(_ args: [String]) async throws -> StewardBinary.Result {
            try await offPool { try StewardBinary.run(["roadmap"] + args + ["--project", dir]) }
        }
        let before = try #require(try json(try await run(["cadence", "--json"])) as? [[String: Any]])
        #expect(before.count == 2 && before.allSatisfy { $0["overdue"] as? Bool == true && $0["last_sent_at"] is NSNull })

        // No alerts: webhook in steward.yml: --send is refused naming the file, nothing recorded.
        let send = try await run(["report", "--send"])
        #expect(send.status == 2)
        #expect(send.stderr.contains("steward.yml: alerts: no webhook to send the report to"), "\(send.stderr)")
        let refused = try #require(try json(try await run(["cadence", "--json"])) as? [[String: Any]])
        #expect(refused.allSatisfy { $0["overdue"] as? Bool == true })

        // A report mailed by hand: --mark-sent records it, and the updates are no longer overdue.
        let out = p.dir.appendingPathComponent("weekly.md").path
        let marked = try await run(["report", "--mark-sent", "--out", out])
        #expect(marked.status == 0, "\(marked.stderr)")
        #expect(marked.stderr.contains("recorded as sent"))
        #expect(FileManager.default.fileExists(atPath: out))
        let after = try #require(try json(try await run(["cadence", "--json"])) as? [[String: Any]])
        #expect(after.allSatisfy { $0["overdue"] as? Bool == false && $0["last_sent_at"] is String })
        let channels: [String] = try await p.catalog().pool.read { db in
            try String.fetchAll(db, sql: "SELECT detail FROM audit_event WHERE action = 'roadmap_report_sent'")
        }
        #expect(channels.count == 1 && channels[0].contains("\"channel\":\"manual\""), "\(channels)")
        // The next report counts changes since this one.
        let next = try await run(["report"])
        #expect(next.stdout.contains("Changes since the last report (\(Day.today()))."), "\(next.stdout.prefix(300))")
    }
}
