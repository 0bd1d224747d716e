import Foundation
import Testing
@testable import StewardCatalog

/// A project with two person sources and a roadmap; `leads` is the one whose export changes.
func driftProject(webhook: String? = nil, kpis: String = "") -> TempProject {
    let p = TempProject("drift")
    p.write("steward.yml", """
    name: drift
    roadmap: roadmap.md
    sources:
      - name: people
        system: crm
        entity: person
        format: csv
        path: people.csv
        key: id
        mapping: {first_name: first, last_name: last, email: email}
        checks:
          - not_null: [id]
      - name: leads
        system: marketing
        entity: person
        format: csv
        path: leads/*.csv
        key: lead_id
        mapping: {first_name: fname, email: mail}
        checks:
          - not_null: [mail]
    \(kpis)
    \(webhook.map { "alerts:\n  - webhook: \($0)\n" } ?? "")
    """)
    p.write("people.csv", "id,first,last,email\n1,Ann,Lee,ann@example.com\n2,Bob,Ray,bob@example.com\n")
    p.write("leads/2024-05.csv", "lead_id,fname,mail\nL1,Ann,ann@example.com\nL2,Cy,cy@example.com\n")
    p.write("roadmap.md", "# Roadmap\n\n## Phase 1: Foundation\n\n### Month 1\n\n- [ ] Load the CRM\n")
    return p
}

/// `steward check` speaks the monitoring-plugin convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
@Suite(.serialized) struct CheckExitCodeTests {
    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func anInvalidConfigIsUnknownNotCritical() async throws {
        try await offPool {
            let p = driftProject()
            let dir = p.dir.path
            #expect(try StewardBinary.run(["run", "--project", dir]).status == 0)
            #expect(try StewardBinary.run(["check", "--project", dir]).status == 0)
            try p.edit("steward.yml", replacing: "name: drift\n", with: "name: drift\nmatching: {thresold: 0.1}\n")
            let check = try StewardBinary.run(["check", "--json", "--project", dir])
            #expect(check.status == 3, "\(check.stdout)\(check.stderr)")
            let report = try self.json(check.stdout)
            #expect(report["status"] as? String == "unknown")
            let problems = try #require(report["problems"] as? [[String: Any]])
            #expect(problems.first?["kind"] as? String == "config")
            #expect(problems.first?["severity"] as? String == "unknown")
            #expect((problems.first?["message"] as? String)?.contains("steward.yml:2: matching.thresold: unknown key") == true)
            let text = try StewardBinary.run(["check", "--project", dir])
            #expect(text.status == 3 && text.stdout.contains("UNKNOWN: 1 problem"))
            // The other commands keep 0/1/2: a config error is 2.
            #expect(try StewardBinary.run(["status", "--project", dir]).status == 2)
        }
    }

    @Test func aMissingProjectOrAGarbageCatalogIsUnknown() async throws {
        try await offPool {
            let missing = try StewardBinary.run(["check", "--json", "--project", "/nonexistent/steward-\(UUID().uuidString)"])
            #expect(missing.status == 3)
            #expect(((try self.json(missing.stdout))["problems"] as? [[String: Any]])?.first?["kind"] as? String == "project")

            let p = driftProject()
            let dir = p.dir.path
            #expect(try StewardBinary.run(["run", "--project", dir]).status == 0)
            let catalog = p.dir.appendingPathComponent(".steward/catalog.sqlite")
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: catalog.path + suffix) }
            try Data(repeating: 0x5A, count: 64 * 1024).write(to: catalog)
            let check = try StewardBinary.run(["check", "--json", "--project", dir])
            #expect(check.status == 3, "\(check.stdout)\(check.stderr)")
            let report = try self.json(check.stdout)
            #expect(report["status"] as? String == "unknown")
            #expect((report["problems"] as? [[String: Any]])?.first?["kind"] as? String == "catalog")
            // A usage error of check is unknown too (its 2 means a breach).
            #expect(try StewardBinary.run(["check", "--anomaly-window", "1", "--project", dir]).status == 3)
        }
    }

    @Test func aBreachIsCritical() async throws {
        try await offPool {
            let p = driftProject(kpis: "kpis:\n  - {name: Marketing ROI, target: \"4:1\"}\n")
            let dir = p.dir.path
            #expect(try StewardBinary.run(["run", "--project", dir]).status == 0)
            #expect(try StewardBinary.run(["kpi", "record", "Marketing ROI", "1:1", "--project", dir]).status == 0)
            let check = try StewardBinary.run(["check", "--json", "--project", dir])
            #expect(check.status == 2)
            #expect(try self.json(check.stdout)["status"] as? String == "breach")
        }
    }

    /// A renamed column in one source's file fails that source's step; every command keeps working.
    @Test func schemaDriftFailsOnlyThatSource() async throws {
        try await offPool {
            let p = driftProject()
            let dir = p.dir.path
            #expect(try StewardBinary.run(["run", "--project", dir]).status == 0)
            p.write("leads/2024-06.csv", "lead_id,fname,e_mail\nL3,Di,di@example.com\n")
            let run = try StewardBinary.run(["run", "--project", dir])
            #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
            let runs = try JSONSerialization.jsonObject(with: Data(try StewardBinary.run(["runs", "--json", "--limit", "1", "--project", dir]).stdout.utf8)) as? [[String: Any]]
            let steps = try #require(runs?.first?["steps"] as? [[String: Any]])
            let leads = try #require(steps.first { $0["source"] as? String == "leads" })
            #expect(leads["status"] as? String == "failed")
            #expect((leads["message"] as? String)?.contains("mail") == true)
            #expect(steps.first { $0["source"] as? String == "people" }?["status"] as? String != "failed")

            for args in [["status"], ["kpi"], ["roadmap", "list"], ["customer", "search", "Ann"], ["quality"], ["runs"]] {
                let r = try StewardBinary.run(args + ["--project", dir])
                #expect(r.status == 0, "\(args): \(r.stderr)")
            }
            let check = try StewardBinary.run(["check", "--json", "--project", dir])
            #expect(check.status == 2)
            let problems = try #require(try self.json(check.stdout)["problems"] as? [[String: Any]])
            #expect(problems.contains { $0["kind"] as? String == "failed_source" && $0["subject"] as? String == "leads" })
        }
    }

    /// A failed source alerts: from ok, and also when the state was already a breach (a new breach).
    @Test func aFailedSourceSendsAnAlert() async throws {
        let listener = try WebhookListener()
        defer { listener.stop() }
        try await offPool {
            let p = driftProject(webhook: listener.url, kpis: "kpis:\n  - {name: Marketing ROI, target: \"4:1\"}\n")
            let dir = p.dir.path
            #expect(try StewardBinary.run(["run", "--project", dir]).status == 0)
            #expect(listener.received.isEmpty)
            p.write("leads/2024-06.csv", "lead_id,fname,e_mail\nL3,Di,di@example.com\n")
            #expect(try StewardBinary.run(["run", "--project", dir]).status == 1)
            #expect(listener.received.count == 1)
            let first = try self.json(try #require(listener.received.first))
            #expect(first["status"] as? String == "breach")
            #expect((first["problems"] as? [[String: Any]])?.contains { $0["kind"] as? String == "failed_source" && $0["subject"] as? String == "leads" } == true)
            // The breach holds: no repeat.
            #expect(try StewardBinary.run(["check", "--project", dir]).status == 2)
            #expect(listener.received.count == 1)
            // Another breach while already breached: a message naming it.
            #expect(try StewardBinary.run(["kpi", "record", "Marketing ROI", "1:1", "--project", dir]).status == 0)
            #expect(try StewardBinary.run(["check", "--project", dir]).status == 2)
            #expect(listener.received.count == 2)
            let second = try self.json(listener.received[1])
            #expect(second["previous"] as? String == "breach")
            #expect((second["new"] as? [[String: Any]])?.map { $0["kind"] as? String } == ["kpi_breached"])
            #expect((second["text"] as? String)?.contains("new: kpi_breached Marketing ROI") == true)
        }
    }
}
