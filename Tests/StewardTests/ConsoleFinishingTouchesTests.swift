import Foundation
import Testing
@testable import StewardCatalog
@testable import StewardConsole
@testable import StewardIdentity
@testable import StewardRoadmap

/// The rest of issue 18's item 7, each in the screen buffer: the `:progress` popup keeps its due
/// dates, an audit row opens whole, one highlighted row per pane, a revealed email whole, a double
/// click opens, read-only Space says why and is not offered.
@MainActor
@Suite("Console finishing touches (item 7)")
struct ConsoleFinishingTouchesTests {
    typealias F = ConsoleFixtures

    @Test(arguments: [(120, 40), (80, 24), (200, 60)])
    func progressPopupKeepsEveryDueDate(size: (Int, Int)) throws {
        var s = RoadmapConsoleTests.state(width: size.0, height: size.1)
        s = F.send(s, [.key(.char(":"))] + F.keys("progress") + [.key(.enter)])
        let progress = try #require(s.snapshot?.roadmap?.progress)
        let dues = progress.phases.compactMap { $0.due.map { "\($0)" } }
        #expect(!dues.isEmpty, "the demo plan's phases have due dates")
        let lines = F.screen(s).lines
        for (phase, due) in zip(progress.phases, dues) {
            let line = lines.first { $0.contains(String(phase.title.prefix(12))) && $0.contains("%") } ?? ""
            #expect(line.contains(due), "\(size): \(phase.title) — \(line)")
        }
    }

    @Test func enterOnAnAuditRowOpensTheWholeEvent() {
        var s = F.state(width: 80, height: 24)
        let long = "console: " + String(repeating: "a detail longer than any column ", count: 4) + "END"
        s.snapshot?.audit.insert(AuditEvent(id: 9, at: F.now, actor: "dana", action: "match.reject",
                                            subject: "crm:C0001|web:W0002", detail: long), at: 0)
        s = F.send(s, [.key(.char("3")), .key(.right), .key(.right)])
        #expect(s.runs.focus == .audit && !F.screen(s).text.contains("END"))
        s = F.send(s, [.key(.enter)])
        #expect(s.runs.openAudit == 9)
        let text = F.screen(s).text
        #expect(text.contains("Audit event 9") && text.contains("crm:C0001|web:W0002") && text.contains("END"))
        #expect(text.contains("dana") && text.contains("match.reject"))
        // Keys do not move underneath; Esc closes.
        s = F.send(s, [.key(.char("j"))])
        #expect(s.runs.auditList.selected == 0 && s.runs.openAudit == 9)
        s = F.send(s, [.key(.escape)])
        #expect(s.runs.openAudit == nil && !F.screen(s).text.contains("Audit event 9"))
    }

    /// Body lines holding a cell drawn in the theme's selected style (the highlighted rows).
    func highlighted(_ s: AppState) -> Int {
        let buffer = F.screen(s).screen
        let body = s.bodyArea
        return (body.y..<body.maxY).filter { y in (body.x..<body.maxX).contains { buffer[$0, y].style == s.theme.selected } }.count
    }

    @Test func aPaneHighlightsOneRowAtATime() {
        var s = F.state(width: 120, height: 40)
        // Quality: the sources' matrix, then the failing checks; Runs: runs, steps, audit log.
        for keys in [[Key.char("2")], [.right], [.char("3")], [.right], [.right]] {
            s = F.send(s, keys.map { .key($0) })
            #expect(highlighted(s) == 1, "\(s.pane.title), focus \(s.pane == .quality ? "\(s.quality.focus)" : "\(s.runs.focus)")")
        }
    }

    @Test func aRevealedEmailIsShownWhole() {
        let email = "christopher.montgomery-smith@example.com"
        var s = F.state(width: 80, height: 24)
        s = F.send(s, [.key(.char("6")), .customers(.summary(customers: 1, reviewPairs: 0)), .key(.char("/"))] + F.keys("ch")
                   + [.customers(.found(query: "ch", hits: [CustomerSearch.Hit(customerId: "C00000007", name: "Chris Montgomery",
                                                                                  email: email, phone: "+15551231234", city: "Boston",
                                                                                  rank: 1, score: 2)], milliseconds: 1)),
                      .key(.escape)])
        #expect(!F.screen(s).text.contains(email))
        s = F.send(s, [.customers(.revealed(["C00000007"], actor: "dana"))])
        #expect(s.customers.revealed == ["C00000007"])
        #expect(F.screen(s).text.contains(email))
    }

    @Test func aDoubleClickOpens() throws {
        // Quality: the first click selects a source, the second (same row) opens its checks.
        var s = F.state(width: 100, height: 30)
        s = F.send(s, [.key(.char("2"))])
        let lines = F.screen(s).lines
        let source = try #require(s.quality.matrixRows(s.context).dropFirst().first?.source)
        let y = try #require(lines.firstIndex { $0.contains(source) }, "\(lines.joined(separator: "\n"))")
        let click = Message.mouse(MouseEvent(kind: .click, x: 5, y: y))
        s = F.send(s, [click])
        #expect(s.quality.openSource == nil && s.quality.matrixRows(s.context)[s.quality.matrixList.selected].source == source)
        s = F.send(s, [click])
        #expect(s.quality.openSource == source)
        // Runs: the same for a run (open moves to its steps).
        var r = F.send(F.state(width: 100, height: 30), [.key(.char("3"))])
        let run = try #require(r.runs.runRows(r.context).dropFirst().first)
        let ry = try #require(F.screen(r).lines.firstIndex { $0.contains("#\(run.id) ") })
        let rclick = Message.mouse(MouseEvent(kind: .click, x: 5, y: ry))
        r = F.send(r, [rclick])
        #expect(r.runs.focus == .runs && r.runs.selectedRun(r.context)?.id == run.id)
        r = F.send(r, [rclick])
        #expect(r.runs.focus == .steps)
    }

    @Test func readOnlySpaceSaysWhyAndIsNotOffered() throws {
        var s = RoadmapConsoleTests.state(width: 100, height: 30, readOnly: true)
        let task = try #require(s.roadmap.rows(s.context).firstIndex { if case .task = $0 { return true }; return false })
        s = F.send(s, Array(repeating: .key(.down), count: task) + [.key(.char(" "))])
        #expect(s.status?.text.hasPrefix("read-only: ticking is disabled") == true && s.status?.isError == true)
        let screen = F.screen(s)
        #expect(screen.lines[screen.lines.count - 2].contains("read-only: ticking is disabled"))
        #expect(!screen.lines[screen.lines.count - 1].contains("tick") && !screen.lines[screen.lines.count - 1].contains("note"))
    }

    // MARK: tried as a new user (80x24, 120x40, 200x60)

    @Test func atEightyColumnsTheHeaderNamesTheProblemNotTheLastRun() {
        let lines = F.screen(ConsoleDailyUseTests.state(width: 80, height: 24)).lines
        // Before, the last run kept its place and the problem was cut to "Cu…".
        #expect(lines[0].contains("✗ CRITICAL 2  Customer match rate: KPI breached"), "\(lines[0])")
        #expect(!lines[0].contains("last run"))
        // With room for both, the last run stays.
        #expect(F.screen(ConsoleDailyUseTests.state(width: 200, height: 60)).lines[0].contains("last run #3"))
    }

    @Test func theWhyColumnLeadsWithWhatIsWrongAndKeepsTheSystemWhole() throws {
        let reason = "sources/crm/contacts_1.csv: 8 of 2210 rows unreadable, quarantined (readable check)"
        #expect(SourcesPane.brief(reason) == "8 of 2210 rows unreadable, quarantined (readable check)")
        #expect(SourcesPane.brief("late: no new data for 7h") == "late: no new data for 7h")
        for (w, h) in [(100, 30), (120, 40), (200, 60)] {
            var s = F.state(width: w, height: h)
            s.snapshot?.sources[0] = F.source("crm_contacts", system: "ecommerce", entity: "transaction", status: .warn, reason: reason)
            let lines = F.screen(s).lines
            #expect(lines[3].contains("Why"), "\(w)x\(h): \(lines[3])")
            let row = try #require(lines.first { $0.hasPrefix("│▲ warn    crm_contacts") }, "\(w)x\(h)")
            #expect(row.contains("8 of 2210 rows") && !row.contains("sources/crm/"), "\(w)x\(h): \(row)")
            // Wide, a long reason no longer cuts the fixed columns beside it.
            if w == 200 { #expect(row.contains("ecommerce/transaction "), "\(row)") }
        }
    }

    @Test func aSourceWithoutAFreshnessSLASaysSo() {
        var s = F.state(width: 100, height: 30)
        var spend = F.source("spend")
        spend.warnAfter = nil; spend.errorAfter = nil
        s.snapshot?.sources[0] = spend
        let row = F.screen(s).lines.first { $0.contains("│✓ ok      spend") } ?? ""
        #expect(row.contains("✓ no SLA") && !row.contains("<—"), "\(row)")
    }

    @Test func aRevealInTheResultsHoldsWhileItsThreeSixtyOpens() {
        var s = F.state(width: 80, height: 24)
        let hit = CustomerSearch.Hit(customerId: "C00000007", name: "Chris Montgomery", email: "chris@example.com", phone: "+15551231234",
                                     city: "Boston", rank: 1, score: 2)
        s = F.send(s, [.key(.char("6")), .customers(.summary(customers: 1, reviewPairs: 0)), .key(.char("/"))] + F.keys("ch")
                   + [.customers(.found(query: "ch", hits: [hit], milliseconds: 1)), .key(.escape),
                      .customers(.revealed(["C00000007"], actor: "dana")), .key(.enter)])
        #expect(s.customers.view == .customer)
        // Before, the reveal was dropped the moment Enter was pressed (the 360 not loaded yet), while the
        // status line still said "revealed".
        #expect(s.customers.revealed == ["C00000007"])
        // Moving on masks it again.
        s = F.send(s, [.key(.escape), .key(.escape), .key(.char("1"))])
        #expect(s.customers.revealed.isEmpty)
    }

    @Test func noteOnARowThatIsNotATaskIsARefusalNotADone() {
        // The first row is a phase: `n` refuses with ▲ in the status line, never ✓.
        var s = RoadmapConsoleTests.state(width: 100, height: 30)
        s = F.send(s, [.key(.char("n"))])
        #expect(s.mode == .normal && s.status?.isWarning == true)
        let line = F.screen(s).lines[28]
        #expect(line.contains("▲ select a task to add a note") && !line.contains("✓"), "\(line)")
    }

    @Test func sourceNamesAreNotCutForTheWhyColumn() {
        // The demo's names at 120 columns: before, "ecom_custome…" and "support_tick…" beside the reasons.
        var s = F.state(width: 120, height: 40)
        let reason = "sources/x.csv: 10 unreadable rows in quarantine (readable check) (+1 more: steward check)"
        s.snapshot?.sources = ["crm_contacts", "ecom_customers", "support_tickets"].map {
            F.source($0, system: "ecommerce", entity: "transaction", status: .warn, reason: reason)
        }
        let lines = F.screen(s).lines
        #expect(lines[3].contains("Why"))
        for name in ["ecom_customers ", "support_tickets "] {
            #expect(lines.contains { $0.hasPrefix("│▲ warn    \(name)") && $0.contains("10 unreadable rows") }, "\(name)\n\(lines.joined(separator: "\n"))")
        }
    }

    @Test func sevenTabsFitAtEightyColumns() {
        // A seventh pane made the tab bar 84 columns: "7 Audien" at 80.
        let titles = ["Sources", "Quality", "Runs", "SLA/KPI", "Roadmap", "Customers", "Audiences"]
        var buffer = ScreenBuffer(width: 80, height: 1)
        Tabs(titles: titles, selected: 1, theme: .builtinMonochrome).render(Rect(x: 0, y: 0, width: 80, height: 1), into: &buffer)
        #expect(buffer.lines[0].hasPrefix(" 1 Sources [2 Quality] 3 Runs ") && buffer.lines[0].contains(" 7 Audiences "), "\(buffer.lines[0])")
        let ranges = Tabs.hitRanges(titles, x: 0, width: 80)
        #expect(ranges.last!.upperBound <= 80 && ranges[6].lowerBound == buffer.lines[0].firstRange(of: " 7 Audiences")!.lowerBound.utf16Offset(in: buffer.lines[0]))
        // With room, the tabs keep a column between them.
        #expect(Tabs.hitRanges(titles, x: 0, width: 120)[1].lowerBound == 12)
    }
}

/// Issue 18's benchmark at 1 M customers: `steward check`'s report took 816 ms on every 2 s refresh.
/// The console reuses its verdict while the catalog is unchanged, for up to a minute.
@Suite("Console verdict reuse")
struct ConsoleVerdictReuseTests {
    @Test func theVerdictIsComputedAgainOnlyWhenTheCatalogChanged() async throws {
        let p = ConsoleDailyUseTmuxTests.project()
        #expect(try StewardBinary.run(["run", "--project", p.dir.path]).status == 1)
        let config = try p.config()
        let source = SnapshotSource(url: config.catalogURL, config: config)
        let first = try await source.load(SnapshotRequest())
        let memo = try #require(first.healthMemo)
        #expect(first.health != nil && first.health == memo.report)
        // Nothing changed: the same verdict, not computed again.
        let second = try await source.load(SnapshotRequest())
        #expect(second.healthMemo == memo && second.health == first.health)
        // A decision, a load or a run (here an audit event from another connection): computed again.
        try p.catalog().audit(action: "test.note", subject: "leads", detail: "changes the catalog")
        let third = try await source.load(SnapshotRequest())
        #expect(third.healthMemo?.stamp != memo.stamp && third.healthMemo?.at != memo.at)
        #expect(third.health?.status == first.health?.status)
        // Past a minute the clock alone (freshness) may change it: computed again.
        let snapshot = try SnapshotSource.load(from: p.catalog(), SnapshotRequest(), config: config,
                                               healthMemo: HealthMemo(stamp: third.healthMemo!.stamp, report: third.healthMemo!.report,
                                                                      at: Date().addingTimeInterval(-61)))
        #expect(snapshot.healthMemo!.at.timeIntervalSinceNow > -5)
    }

    /// The first screen does not wait for the verdict (seconds at a million customers): the panes'
    /// data comes first, the header says the check is running and claims nothing, no source is called
    /// ok; the console asks for the verdict at once and shows it when it comes.
    @MainActor
    @Test func theFirstSnapshotComesBeforeTheVerdictAndTheVerdictFollows() async throws {
        let p = ConsoleDailyUseTmuxTests.project()
        #expect(try StewardBinary.run(["run", "--project", p.dir.path]).status == 1)
        let config = try p.config()
        let source = SnapshotSource(url: config.catalogURL, config: config)
        var request = SnapshotRequest()
        request.deferVerdict = true
        let fast = try await source.load(request)
        #expect(fast.verdictPending && fast.health == nil && fast.kpis.isEmpty && fast.roadmap == nil && !fast.sources.isEmpty)

        var state = ConsoleFixtures.state(width: 120, height: 30)
        state.snapshot = nil
        #expect(state.snapshotRequest.deferVerdict, "the first load of a console defers the verdict")
        let commands = ConsoleApp.update(&state, .snapshotLoaded(fast))
        #expect(commands.contains { if case .loadSnapshot(let r) = $0 { return !r.deferVerdict } else { return false } },
                "a snapshot without its verdict is followed by a load with it: \(commands)")
        var text = ConsoleFixtures.screen(state).text
        #expect(text.contains("CHECKING") && !text.contains(" OK ") && !text.contains("✓ ok"), "\(text)")

        let full = try await source.load(state.snapshotRequest)
        #expect(!full.verdictPending && full.health != nil)
        _ = ConsoleApp.update(&state, .snapshotLoaded(full))
        text = ConsoleFixtures.screen(state).text
        #expect(!text.contains("CHECKING") && text.contains(Verdict.word(full.health)), "\(text)")
        // Once a verdict is known, a later first-load request no longer defers it.
        #expect(!state.snapshotRequest.deferVerdict)
    }

    /// Before the verdict the Sources pane's status line under the table (the selected source's) does
    /// not call a source ok or healthy either: a fresh demo's first screen said "✓ ok campaign_spend:
    /// healthy" under rows marked "… check".
    @MainActor
    @Test func theSelectedSourcesLineClaimsNothingBeforeTheVerdict() async throws {
        let p = try IdentityPipelineTests.demo(120)
        #expect(try IdentityPipelineTests.run(p).status == "success")
        let config = try p.config()
        var request = SnapshotRequest()
        request.deferVerdict = true
        let fast = try await SnapshotSource(url: config.catalogURL, config: config).load(request)
        #expect(fast.verdictPending && fast.sources.contains { $0.status == SourceHealth.ok }, "a source its counts call ok")
        var state = ConsoleFixtures.state(width: 120, height: 30)
        state.snapshot = nil
        _ = ConsoleApp.update(&state, .snapshotLoaded(fast))
        for _ in fast.sources {
            let text = ConsoleFixtures.screen(state).text
            #expect(!text.contains("✓ ok") && !text.contains("healthy"), "\(text)")
            state = ConsoleFixtures.send(state, [.key(.down)])
        }
    }
}

/// `?` at 80 columns: a long key description wraps under itself instead of being cut.
@MainActor
@Suite struct ConsoleHelpWrapTests {
    @Test func longDescriptionsWrapAtEightyColumns() {
        var s = RoadmapConsoleTests.state(width: 80, height: 40)
        s = ConsoleFixtures.send(s, [.key(.char("?"))])
        let lines = ConsoleFixtures.screen(s).lines
        let first = lines.firstIndex { $0.contains("next status of the risk") }
        #expect(first != nil, "\(lines.joined(separator: "\n"))")
        // The rest of the sentence is on the lines below, after the key column, never under the key.
        let text = lines.dropFirst(first ?? 0).prefix(3).joined(separator: " ")
        #expect(text.contains("(pending, met, blocked); audited"), "\(lines.joined(separator: "\n"))")
        if let first { #expect(!lines[first + 1].contains("│ s ")) }
    }
}
