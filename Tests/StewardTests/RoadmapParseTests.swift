import Foundation
import Testing
@testable import StewardDemo
@testable import StewardPipeline
@testable import StewardRoadmap

/// Plans written in different styles: each must parse, and a tick then untick of every task must
/// restore the exact bytes.
enum RoadmapPlans {
    static let demo = DemoProjectFiles.roadmap

    /// Windows line endings, tabs, `* [X]`, emphasis, trailing spaces, tasks directly under a phase,
    /// several lists per section, a fenced block with task-like lines, numbered items.
    static let windows = [
        "# Data Plan",
        "",
        "## Phase A — Setup (Q3 2025)",
        "* [X] **Pick** the _warehouse_   ",
        "* [ ] Write the `ingest` job",
        "\t* [ ] Subtask with a tab",
        "\t* [x] Another subtask",
        "",
        "Some paragraph between lists.",
        "",
        "1. [ ] Numbered task",
        "2. plain numbered item",
        "",
        "```",
        "- [ ] not a task (in a fence)",
        "```",
        "### Month 1: Kick-off",
        "- [~] In progress one",
        "- [-] In progress two",
        "",
        "## Phase B (Q4 2025)",
        "- [ ] Last one",
        "",
    ].joined(separator: "\r\n")

    /// No quarters in headings: the timeline block gives them; plus deliverables with a label on one line.
    static let timelineOnly = """
    # Roadmap

    ## Timeline

    - Q1 2025: Discovery
    - Q2 2025: Delivery

    ## Discovery

    ### Month 1
    - [ ] Talk to users
    - [ ] Talk to users

    ### Month 2
    + [ ] Write the brief

    **Deliverables:** Research report

    ## Delivery

    - [ ] Ship it
      - [ ] Part one
      - [x] Part two

    **Deliverables:**

    - A shipped product
    - A retrospective
    """

    /// No headings at all, and a file without a final newline.
    static let bare = "- [ ] one\n- [x] two\n  - [ ] two.a"
}

@Suite struct RoadmapParseTests {
    @Test func demoPlanPhasesMonthsTasksDeliverables() throws {
        let doc = RoadmapDocument(text: RoadmapPlans.demo)
        #expect(doc.title == "Customer Data Platform Implementation Roadmap")
        #expect(doc.phases.map(\.title) == ["Phase 1: Foundation (Q1 2024)", "Phase 2: Data Integration & Quality (Q2 2024)",
                                            "Phase 3: Identity Resolution & Customer 360 (Q3 2024)",
                                            "Phase 4: Activation & Optimization (Q4 2024)"])
        #expect(doc.phases[0].sections.map(\.title) == ["Month 1: Assessment & Planning", "Month 2: Architecture & Tooling",
                                                        "Month 3: First Ingestion"])
        #expect(doc.phases[0].deliverables.count == 3)
        #expect(doc.phases[0].deliverables[0] == "Source inventory and data ownership matrix")
        let policy = try #require(doc.tasks.first { $0.text == "Define data retention and PII masking policy" })
        #expect(policy.children.count == 2)
        #expect(doc.tasks[policy.children[0]].depth == 1)
        let ecommerce = try #require(doc.tasks.first { $0.text.hasPrefix("Connect the e-commerce") })
        #expect(ecommerce.state == .inProgress)
        // Risks, budget and summary hold no tasks; ids are unique.
        #expect(Set(doc.tasks.map(\.id)).count == doc.tasks.count)
        #expect(doc.tasks.allSatisfy { $0.phase.hasPrefix("Phase") })
        #expect(doc.timeline.count == 4)
    }

    @Test func metricTablesAreExposed() throws {
        let doc = RoadmapDocument(text: RoadmapPlans.demo)
        #expect(doc.metricTables.count == 7)
        let first = doc.metricTables[0]
        #expect(first.metric == "Data freshness")
        #expect(first.target == "< 1 hour")
        #expect(first.baseline == "24 hours")
        #expect(first.timeline == "Q2 2024")
        #expect(first.due == Day(year: 2024, month: 6, day: 30))
        #expect(first.section == "Success Metrics")
        #expect(doc.metricTables.map(\.metric).contains("Marketing ROI"))
    }

    @Test func windowsPlanParses() throws {
        let doc = RoadmapDocument(text: RoadmapPlans.windows)
        #expect(doc.phases.map(\.title) == ["Phase A — Setup (Q3 2025)", "Phase B (Q4 2025)"])
        let texts = doc.tasks.map(\.plainText)
        #expect(texts == ["Pick the warehouse", "Write the ingest job", "Subtask with a tab", "Another subtask",
                          "Numbered task", "In progress one", "In progress two", "Last one"])
        #expect(doc.tasks[0].state == .done)
        #expect(doc.tasks[0].text == "**Pick** the _warehouse_")
        #expect(doc.tasks[2].parent == 1 && doc.tasks[3].parent == 1)
        #expect(doc.tasks[4].parent == nil)
        #expect(doc.tasks[5].section == "Month 1: Kick-off")
        #expect(doc.tasks[4].line == 11)
        #expect(doc.phases[0].taskIndexes.count == 5)
    }

    @Test func timelineGivesQuartersAndDeliverablesOnOneLine() {
        let doc = RoadmapDocument(text: RoadmapPlans.timelineOnly)
        #expect(doc.phases.map(\.title) == ["Discovery", "Delivery"])
        #expect(doc.phases.map(\.quarter) == [Quarter(year: 2025, number: 1), Quarter(year: 2025, number: 2)])
        #expect(doc.phases[0].deliverables == ["Research report"])
        #expect(doc.phases[1].deliverables == ["A shipped product", "A retrospective"])
        // Duplicates get an occurrence suffix.
        #expect(doc.tasks[1].id == doc.tasks[0].id + "-2")
    }

    @Test func bareListWithoutHeadings() {
        let doc = RoadmapDocument(text: RoadmapPlans.bare)
        #expect(doc.tasks.count == 3)
        #expect(doc.phases.count == 1)
        #expect(doc.tasks[2].parent == 1)
    }

    @Test(arguments: ["demo", "windows", "timelineOnly", "bare"])
    func tickEveryTaskThenUntickRestoresBytes(_ name: String) throws {
        let text = ["demo": RoadmapPlans.demo, "windows": RoadmapPlans.windows,
                    "timelineOnly": RoadmapPlans.timelineOnly, "bare": RoadmapPlans.bare][name]!
        let p = TempProject("rt")
        let url = p.write("plan.md", text)
        let original = try Data(contentsOf: url)
        var file = try RoadmapFile(url: url)
        let open = file.document.tasks.filter { $0.state == .open }
        let done = file.document.tasks.filter { $0.state == .done }
        #expect(!open.isEmpty)
        for t in open { #expect(try file.set(t.id, to: .done).written) }
        #expect(file.document.tasks.filter { $0.state == .open }.isEmpty)
        #expect(try Data(contentsOf: url) != original)
        for t in open { _ = try file.set(t.id, to: .open) }
        #expect(try Data(contentsOf: url) == original)
        // And the other way round for the ticked ones, where the file writes its boxes one way.
        let bytes = Array(text.utf8)
        guard done.allSatisfy({ bytes[$0.checkOffset] == UInt8(ascii: "x") }) else { return }
        for t in done { _ = try file.set(t.id, to: .open) }
        for t in done { _ = try file.set(t.id, to: .done) }
        #expect(try Data(contentsOf: url) == original)
    }

    @Test func tickChangesOneByteAndKeepsPermissions() throws {
        let p = TempProject("perm")
        let url = p.write("plan.md", RoadmapPlans.windows)
        chmod(url.path, 0o640)
        var file = try RoadmapFile(url: url)
        let task = file.document.tasks[1]
        _ = try file.set(task.id, to: .done)
        let after = [UInt8](try Data(contentsOf: url))
        let before = Array(RoadmapPlans.windows.utf8)
        #expect(after.count == before.count)
        let diffs = zip(after, before).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
        #expect(diffs == [task.checkOffset])
        // The file's done boxes are `[X]`-styled as often as `[x]`: lower case wins ties.
        #expect(after[task.checkOffset] == UInt8(ascii: "x"))
        let attrs = try FileManager.default.attributesOfItem(atPath: url.path)
        #expect((attrs[.posixPermissions] as? Int) == 0o640)
        // No temporary files left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: p.dir.path).filter { $0.hasPrefix(".") }.isEmpty)
    }

    @Test func idsSurviveInsertingATaskAbove() {
        let before = RoadmapDocument(text: RoadmapPlans.demo)
        let edited = RoadmapPlans.demo.replacingOccurrences(
            of: "### Month 1: Assessment & Planning\n",
            with: "### Month 1: Assessment & Planning\n- [ ] A brand new first task\n")
        let after = RoadmapDocument(text: edited)
        #expect(after.tasks.count == before.tasks.count + 1)
        #expect(Array(after.tasks.dropFirst().map(\.id)) == before.tasks.map(\.id))
        // And editing a task's own state does not change any id.
        let ticked = RoadmapDocument(bytes: before.setting(before.tasks[5].id, to: .done))
        #expect(ticked.tasks.map(\.id) == before.tasks.map(\.id))
    }

    @Test func concurrentEditIsReappliedToTheSameTask() throws {
        let p = TempProject("conc")
        let url = p.write("plan.md", RoadmapPlans.demo)
        var file = try RoadmapFile(url: url)
        let target = try #require(file.document.tasks.first { $0.text == "Implement SCD Type 2" })
        // Someone else inserts a task above it and edits a heading line elsewhere.
        let edited = RoadmapPlans.demo
            .replacingOccurrences(of: "### Month 4: Remaining Sources\n", with: "### Month 4: Remaining Sources\n- [ ] Added by a colleague\n")
            .replacingOccurrences(of: "## Budget", with: "## Budget (revised)")
        try edited.write(to: url, atomically: true, encoding: .utf8)
        let change = try file.set(target.id, to: .done)
        #expect(change.reloaded)
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text == edited.replacingOccurrences(of: "- [ ] Implement SCD Type 2", with: "- [x] Implement SCD Type 2"))
    }

    @Test func concurrentEditRemovingTheTaskIsRefused() throws {
        let p = TempProject("gone")
        let url = p.write("plan.md", RoadmapPlans.demo)
        var file = try RoadmapFile(url: url)
        let target = try #require(file.document.tasks.first { $0.text == "Implement SCD Type 2" })
        let edited = RoadmapPlans.demo.replacingOccurrences(of: "- [ ] Implement SCD Type 2\n", with: "")
        try edited.write(to: url, atomically: true, encoding: .utf8)
        #expect(throws: RoadmapError.taskGone(id: target.id, text: "Implement SCD Type 2", path: url.path)) {
            try file.set(target.id, to: .done)
        }
        #expect(try String(contentsOf: url, encoding: .utf8) == edited)
    }

    @Test func dueDatesFromQuartersAndMonths() {
        let doc = RoadmapDocument(text: RoadmapPlans.demo)
        let p1 = doc.phases[0]
        #expect(p1.sections.map(\.due) == [Day(year: 2024, month: 1, day: 31), Day(year: 2024, month: 2, day: 29),
                                          Day(year: 2024, month: 3, day: 31)])
        #expect(doc.phases[1].sections[0].due == Day(year: 2024, month: 4, day: 30))
        #expect(doc.phases[3].sections[2].due == Day(year: 2024, month: 12, day: 31))
        // Tasks directly under a phase, and sections that are not months, are due at the quarter's end.
        let w = RoadmapDocument(text: RoadmapPlans.windows)
        #expect(w.tasks[0].due == Day(year: 2025, month: 9, day: 30))
        #expect(w.tasks[5].due == Day(year: 2025, month: 7, day: 31))
        let t = RoadmapDocument(text: RoadmapPlans.timelineOnly)
        #expect(t.tasks[2].due == Day(year: 2025, month: 2, day: 28))
        #expect(t.tasks.last?.due == Day(year: 2025, month: 6, day: 30))
        #expect(RoadmapDocument(text: RoadmapPlans.bare).tasks[0].due == nil)
        #expect(Quarter.find(in: "Launch (2025 Q3)") == Quarter(year: 2025, number: 3))
        #expect(Quarter.find(in: "FAQ1 2024") == nil)
    }

    @Test func progressRollsUpAndForecasts() throws {
        let doc = RoadmapDocument(text: RoadmapPlans.timelineOnly)
        let now = Date(timeIntervalSince1970: 1_750_000_000)
        let today = Day.today(now, timeZone: TimeZone(identifier: "UTC")!)
        // Two tasks completed in the last two weeks: 1 per week.
        let ticks = [TickEvent(at: now.addingTimeInterval(-10 * 86_400), taskId: "a", done: true),
                     TickEvent(at: now.addingTimeInterval(-3 * 86_400), taskId: "b", done: true),
                     TickEvent(at: now.addingTimeInterval(-2 * 86_400), taskId: "c", done: true),
                     TickEvent(at: now.addingTimeInterval(-1 * 86_400), taskId: "c", done: false)]
        let progress = RoadmapProgress(doc, ticks: ticks, today: today, now: now, windowDays: 28)
        // 4 top-level tasks: none ticked; "Ship it" is half done through its subtasks.
        #expect(progress.total.total == 4)
        #expect(progress.total.done == 0)
        #expect(abs(progress.total.fraction - 0.125) < 1e-9)
        #expect(progress.phases[1].figures.fraction == 0.5)
        #expect(progress.total.overdue == 3)   // 2025-06-15: Discovery (Q1) is late, Delivery (Q2) is not yet
        let forecast = try #require(progress.forecast)
        #expect(forecast.remaining == 3.5)
        #expect(forecast.windowDays == 10)
        #expect(abs(forecast.perWeek - 1.4) < 1e-9)
        #expect(forecast.completion == Day(ordinal: today.ordinal + 18))
        #expect(RoadmapProgress(doc, ticks: [], today: today, now: now).forecast?.completion == nil)
    }
}
