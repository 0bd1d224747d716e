import Foundation
import Testing
@testable import StewardCatalog
@testable import StewardPipeline
@testable import StewardRoadmap
@testable import StewardConfig

/// A small project with one source and the demo roadmap.
private func roadmapProject(evidence: String = "") -> TempProject {
    let p = TempProject("rm")
    p.write("people.csv", "id,name\n1,Ann\n2,Bob\n")
    p.write("roadmap.md", RoadmapPlans.demo)
    p.write("steward.yml", """
    name: rm
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
          - not_null: [id]
    \(evidence)
    """)
    return p
}

@Suite struct RoadmapCatalogTests {
    @Test func evidenceRulesParseWithLinesAndErrors() throws {
        let p = roadmapProject(evidence: """
        evidence:
          "Implement data quality checks": checks_ran
          "Connect the CRM contact export": {source_loaded: people}
          "Create Customer 360 view": customers_exist
        """)
        let config = try p.config()
        #expect(config.evidence.map(\.condition) == [.checksRan, .sourceLoaded("people"), .customersExist])
        #expect(config.evidence[1].line == 15)

        let bad = roadmapProject(evidence: "evidence:\n  \"Implement SCD Type 2\": scd3_versions\n")
        #expect(throws: ConfigError.self) { try bad.config() }
        do { _ = try bad.config() } catch let e as ConfigError {
            #expect(e.line == 14)
            #expect(e.key == "evidence.Implement SCD Type 2")
            #expect(e.message.contains("expected one of: checks_ran"))
        }
        let unknownSource = roadmapProject(evidence: "evidence:\n  x: {source_loaded: nope}\n")
        do { _ = try unknownSource.config(); Issue.record("accepted an unknown source") } catch let e as ConfigError {
            #expect(e.message == "unknown source 'nope'")
        }
    }

    @Test func evidenceMarksFollowTheCatalog() throws {
        let p = roadmapProject(evidence: """
        evidence:
          "Implement data quality checks": checks_ran
          "Connect the CRM contact export": {source_loaded: people}
          "Implement SCD Type 2": scd2_versions
          "No such task": runs_succeeded
        """)
        let config = try p.config()
        let doc = try RoadmapDocument(contentsOf: config.roadmap!)
        let catalog = try p.catalog()
        func marks() -> [String: EvidenceMark] {
            let e = RoadmapEvidence(doc, rules: config.evidence, catalog: catalog)
            var out: [String: EvidenceMark] = [:]
            for t in doc.tasks { if let m = e.byTask[t.id]?.mark { out[t.plainText] = m } }
            return out
        }
        // Before any run: the CRM export is ticked in the demo plan but nothing backs it yet.
        #expect(marks() == ["Implement data quality checks": .pending, "Connect the CRM contact export": .tickedWithoutEvidence,
                            "Implement SCD Type 2": .pending])
        try p.run()
        #expect(marks() == ["Implement data quality checks": .evidenceNotTicked, "Connect the CRM contact export": .verified,
                            "Implement SCD Type 2": .pending])
        #expect(RoadmapEvidence(doc, rules: config.evidence, catalog: catalog).unmatched.map(\.task) == ["No such task"])
        // A first version in the customer dimension turns the rule into evidence.
        try catalog.pool.write { db in
            try db.execute(sql: """
                INSERT INTO customer_dim (customer_id, valid_from, is_current, change_hash, reason, run_id)
                VALUES ('c1', '2024-01-01', 1, 'h', 'new customer', 1)
                """)
        }
        #expect(marks()["Implement SCD Type 2"] == .evidenceNotTicked)
    }

    @Test func ticksAreAuditedAndNotesKept() throws {
        let p = roadmapProject()
        let config = try p.config()
        let catalog = try p.catalog()
        var file = try RoadmapFile(url: config.roadmap!)
        let task = try #require(file.document.tasks.first { $0.text == "Implement SCD Type 2" })
        _ = try file.set(task.id, to: .done, auditingIn: catalog)
        _ = try file.set(task.id, to: .done, auditingIn: catalog)    // no change: no event
        _ = try file.set(task.id, to: .open, auditingIn: catalog)
        let changes = try catalog.roadmapChanges()
        #expect(changes.map(\.done) == [true, false])
        #expect(changes.allSatisfy { $0.taskId == task.id && $0.text == "Implement SCD Type 2" && $0.actor == Catalog.osUser })
        let actions: [String] = try catalog.pool.read { db in
            try String.fetchAll(db, sql: "SELECT action FROM audit_event WHERE subject = ? ORDER BY id", arguments: [task.id])
        }
        #expect(actions == ["roadmap_tick", "roadmap_untick"])
        #expect(try catalog.roadmapTickEvents().count == 2)

        try catalog.addRoadmapNote(taskId: task.id, taskText: task.plainText, note: "waiting on the identity work")
        try catalog.addRoadmapNote(taskId: task.id, taskText: task.plainText, note: "unblocked")
        #expect(try catalog.roadmapNotes(taskId: task.id).map(\.note) == ["waiting on the identity work", "unblocked"])
        #expect(try catalog.roadmapLatestNotes()[task.id]?.note == "unblocked")
    }

    @Test func cliListTickProgressJSON() async throws {
        let p = roadmapProject()
        let dir = p.dir.path
        let list = try await offPool { try StewardBinary.run(["roadmap", "list", "--json", "--project", dir]) }
        #expect(list.status == 0, "\(list.stderr)")
        let tasks = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(tasks.count == RoadmapDocument(text: RoadmapPlans.demo).tasks.count)
        for key in ["id", "phase", "section", "text", "done", "line", "due"] { #expect(tasks[0][key] != nil, "missing \(key)") }
        #expect(tasks[0]["phase"] as? String == "Phase 1: Foundation (Q1 2024)")
        #expect(tasks[0]["section"] as? String == "Month 1: Assessment & Planning")
        #expect(tasks[0]["done"] as? Bool == true)
        #expect(tasks[0]["due"] as? String == "2024-01-31")
        #expect(tasks[0]["line"] as? Int == 25)
        let scd = try #require(tasks.first { $0["text"] as? String == "Implement SCD Type 2" })
        let id = try #require(scd["id"] as? String)

        let tick = try await offPool { try StewardBinary.run(["roadmap", "tick", id, "--project", dir]) }
        #expect(tick.status == 0, "\(tick.stderr)")
        let text = try String(contentsOf: p.dir.appendingPathComponent("roadmap.md"), encoding: .utf8)
        #expect(text == RoadmapPlans.demo.replacingOccurrences(of: "- [ ] Implement SCD Type 2", with: "- [x] Implement SCD Type 2"))
        let missing = try await offPool { try StewardBinary.run(["roadmap", "untick", "nosuchid", "--project", dir]) }
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no task with id 'nosuchid'"))

        let progress = try await offPool { try StewardBinary.run(["roadmap", "progress", "--json", "--project", dir]) }
        #expect(progress.status == 0, "\(progress.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(progress.stdout.utf8)) as? [String: Any])
        let total = try #require(obj["total"] as? [String: Any])
        #expect(total["total"] as? Int == 37)
        #expect(total["done"] as? Int == 8)
        #expect((obj["phases"] as? [Any])?.count == 4)
        let forecast = try #require(obj["forecast"] as? [String: Any])
        #expect(forecast["completion"] is String)
    }
}
