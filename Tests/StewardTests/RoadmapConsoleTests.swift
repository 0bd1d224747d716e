import Foundation
import Testing
@testable import StewardCatalog
@testable import StewardConsole
@testable import StewardRoadmap

/// The Roadmap pane: rendered in the test backend, driven through update, and a real session
/// whose Space writes the file.
@MainActor
@Suite("Roadmap pane")
struct RoadmapConsoleTests {
    typealias F = ConsoleFixtures

    static let today = Day(year: 2024, month: 5, day: 15)

    /// The demo plan with evidence on two tasks and a note on one.
    static func state(width: Int = 100, height: Int = 30, readOnly: Bool = false) -> AppState {
        var s = F.state(width: width, height: height)
        s.readOnly = readOnly
        let doc = RoadmapDocument(text: RoadmapPlans.demo)
        let crm = doc.tasks.first { $0.text == "Connect the CRM contact export" }!
        let dq = doc.tasks.first { $0.text == "Implement data quality checks" }!
        let now = Date(timeIntervalSince1970: 1_715_731_200) // 2024-05-15
        s.snapshot?.roadmap = RoadmapSnapshot(
            path: "roadmap.md", document: doc,
            progress: RoadmapProgress(doc, ticks: [TickEvent(at: now.addingTimeInterval(-86_400), taskId: crm.id, done: true)],
                                      today: today, now: now),
            evidence: [crm.id: TaskEvidence(condition: .sourceLoaded("crm_contacts"), result: .present("loaded"), mark: .verified),
                       dq.id: TaskEvidence(condition: .checksRan, result: .present("12 checks"), mark: .evidenceNotTicked)],
            notes: [dq.id: RoadmapNote(taskId: dq.id, taskText: dq.text, note: "owner: Dana", actor: "alice", at: now)],
            today: today)
        s.pane = .roadmap
        return s
    }

    func row(_ s: AppState, _ text: String) -> Int? {
        s.roadmap.rows(s.context).firstIndex { r in
            if case .task(let t) = r { return s.snapshot!.roadmap!.document.tasks[t].text == text }
            return false
        }
    }

    @Test func paneRendersTreeBarsMarksAndDeliverables() {
        let lines = F.screen(Self.state()).lines
        #expect(lines[1].hasPrefix(" 1 Sources   2 Quality   3 Runs   4 SLA/KPI  [5 Roadmap]"))
        #expect(lines[2].hasPrefix("╭ Roadmap roadmap.md"))
        #expect(lines[3].contains("19% 7/37 tasks done") || lines[3].contains("% 7/37 tasks done"))
        #expect(lines[3].contains("overdue"))
        #expect(lines[3].contains("forecast 20"))
        #expect(lines[4].hasPrefix("│▾ Phase 1: Foundation (Q1 2024)"))
        #expect(lines[4].contains("7/10 2024-03-31"))
        #expect(lines[5].hasPrefix("│  ▾ Month 1: Assessment & Planning"))
        #expect(lines[5].contains("██████████ 100%"))
        #expect(lines[6].hasPrefix("│     [x] Inventory customer data sources"))
        let text = lines.joined(separator: "\n")
        #expect(text.contains("[ ] Define data retention and PII masking policy"))
        #expect(text.contains("[x] Draft policy with legal"))
        #expect(text.contains("[~] Connect the e-commerce customer and order feeds"))
        // Overdue: Month 2 ended 2024-02-29.
        #expect(lines.first { $0.contains("Sign-off from the data protection officer") }?.contains("! 2024-02-29") == true)
        #expect(lines.first { $0.contains("Connect the CRM contact export") }?.contains("✓ verified") == true)
        #expect(text.contains("Deliverables"))
        #expect(text.contains("◆ Source inventory and data ownership matrix"))
        #expect(lines.allSatisfy { $0.displayWidth <= 100 })
        #expect(lines[29].contains("space tick") && lines[29].contains("n note"))
    }

    @Test func paneFitsAt80x24() {
        let lines = F.screen(Self.state(width: 80, height: 24)).lines
        #expect(lines.count == 24)
        #expect(lines.allSatisfy { $0.displayWidth <= 80 })
        #expect(lines[4].hasPrefix("│▾ Phase 1: Foundation (Q1 2024)"))
    }

    @Test func collapseExpandFilterAndDetail() {
        var s = Self.state()
        let rows = s.roadmap.rows(s.context).count
        // Enter on the phase row folds the whole phase.
        s = F.send(s, [.key(.enter)])
        #expect(s.roadmap.rows(s.context).count < rows)
        #expect(F.screen(s).lines[4].hasPrefix("│▸ Phase 1"))
        s = F.send(s, [.key(.right)])
        #expect(s.roadmap.rows(s.context).count == rows)
        // ← on a task folds its month and moves the selection to the month row.
        s = F.send(s, [.key(.down), .key(.down), .key(.left)])
        #expect(s.roadmap.collapsed == ["s0.0"])
        #expect(s.roadmap.list.selected == 1)
        // `/` filters tasks by text, keeping their phase and month rows.
        s = F.send(s, [.key(.char("/"))] + F.keys("scd") + [.key(.enter)])
        let filtered = F.screen(s).text
        #expect(filtered.contains("filter: scd"))
        #expect(filtered.contains("Implement SCD Type 2"))
        #expect(!filtered.contains("Inventory customer data sources"))
        #expect(s.roadmap.rows(s.context).count == 3)
        // The detail lines show the selected task's evidence and note.
        s = F.send(s, [.key(.escape)])
        let dq = row(s, "Implement data quality checks")!
        s.roadmap.list.selected = dq
        let text = F.screen(s).text
        #expect(text.contains("evidence checks_ran — 12 checks"))
        #expect(text.contains("✎ owner: Dana (alice)"))
    }

    @Test func spaceAsksToWriteAndReadOnlyRefuses() {
        var s = Self.state()
        let i = row(s, "Implement SCD Type 2")!
        s.roadmap.list.selected = i
        let id = s.roadmap.selectedID(s.context)!
        let (_, commands) = ConsoleApp.update(s, .key(.char(" ")))
        #expect(commands == [.setRoadmapTask(id: id, state: .done)])
        var ro = Self.state(readOnly: true)
        ro.roadmap.list.selected = i
        let (after, none) = ConsoleApp.update(ro, .key(.char(" ")))
        #expect(none.isEmpty)
        #expect(after.status?.text.contains("read-only") == true)
        // `n` opens the note editor; Enter asks to save it.
        var n = F.send(s, [.key(.char("n"))])
        #expect(n.mode == .note)
        n = F.send(n, F.keys("blocked"))
        #expect(F.screen(n).lines[28].contains("note: blocked"))
        let (_, save) = ConsoleApp.update(n, .key(.enter))
        #expect(save == [.addRoadmapNote(id: id, note: "blocked")])
    }

    @Test func progressCommandShowsTheSummary() {
        var s = Self.state()
        s.pane = .sources
        s = F.send(s, [.key(.char(":"))] + F.keys("progress") + [.key(.enter)])
        #expect(s.pane == .roadmap && s.roadmap.showProgress)
        let text = F.screen(s).text
        #expect(text.contains("Roadmap progress"))
        #expect(text.contains("Month 12: Optimization"))
        #expect(text.contains("Forecast: done by"))
        s = F.send(s, [.key(.escape)])
        #expect(!s.roadmap.showProgress)
    }

    @Test func sessionSpaceWritesTheFileAndAudits() async throws {
        let p = TempProject("pane")
        let roadmap = p.write("roadmap.md", RoadmapPlans.demo)
        let catalogURL = p.dir.appendingPathComponent("catalog.sqlite")
        _ = try Catalog.open(at: catalogURL)
        var options = ConsoleOptions(projectName: "demo")
        options.roadmap = roadmap
        options.logFile = p.dir.appendingPathComponent("console.log")
        let backend = TestBackend(width: 100, height: 30)
        let session = try ConsoleSession(options: options, catalogURL: catalogURL, runner: nil, environment: [:])
        session.send(.tick(Date()), backend: backend)
        await session.waitForMessages(timeout: 300, backend: backend)
        session.send(.key(.char("5")), backend: backend)
        session.run(backend: backend, maxIterations: 1)
        #expect(backend.text.contains("Phase 1: Foundation"))
        let target = try #require(session.state.roadmap.rows(session.state.context).firstIndex { r in
            if case .task(let t) = r { return session.state.snapshot!.roadmap!.document.tasks[t].text == "Implement SCD Type 2" }
            return false
        })
        for _ in 0..<target { session.send(.key(.down), backend: backend) }
        session.send(.key(.char(" ")), backend: backend)
        // The write runs off the main actor; the next key waits for it.
        #expect(session.state.roadmap.writing && session.state.awaitingData)
        await session.waitForMessages(timeout: 300, backend: backend)
        let text = try String(contentsOf: roadmap, encoding: .utf8)
        #expect(text == RoadmapPlans.demo.replacingOccurrences(of: "- [ ] Implement SCD Type 2", with: "- [x] Implement SCD Type 2"))
        #expect(session.state.status?.text.hasPrefix("ticked “Implement SCD Type 2”") == true)
        session.run(backend: backend, maxIterations: 1)
        #expect(backend.lines.first { $0.contains("Implement SCD Type 2") }?.contains("[x]") == true)
        #expect(try Catalog.open(at: catalogURL).roadmapChanges().map(\.done) == [true])
        // Space again unticks: the file is back to its original bytes.
        session.send(.key(.char(" ")), backend: backend)
        await session.waitForMessages(timeout: 300, backend: backend)
        #expect(try Data(contentsOf: roadmap) == Data(RoadmapPlans.demo.utf8))
    }
}
