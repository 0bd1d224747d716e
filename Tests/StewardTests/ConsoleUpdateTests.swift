import Foundation
import Testing
import StewardCatalog
@testable import StewardConsole

@MainActor
@Suite("Console update")
struct ConsoleUpdateTests {
    typealias F = ConsoleFixtures

    @Test func navigationMovesAndClampsSelection() {
        var s = F.send(F.state(), [.key(.char("j")), .key(.down)])
        #expect(s.sources.list.selected == 2)
        s = F.send(s, [.key(.down)])
        #expect(s.sources.list.selected == 2)
        s = F.send(s, [.key(.home)])
        #expect(s.sources.list.selected == 0)
        s = F.send(s, [.key(.char("G"))])
        #expect(s.sources.list.selected == 2)
        s = F.send(s, [.key(.char("k")), .key(.pageUp)])
        #expect(s.sources.list.selected == 0)
    }

    @Test func panesSwitchByNumberTabAndShiftTab() {
        var s = F.send(F.state(), [.key(.char("3"))])
        #expect(s.pane == .runs)
        s = F.send(s, [.key(.tab)])
        #expect(s.pane == .sla)
        s = F.send(s, [.key(.tab)])
        #expect(s.pane == .roadmap)
        s = F.send(s, [.key(.tab)])
        #expect(s.pane == .customers)
        s = F.send(s, [.key(.tab)])
        #expect(s.pane == .audiences)
        s = F.send(s, [.key(.tab)])
        #expect(s.pane == .sources)
        s = F.send(s, [.key(.backTab)])
        #expect(s.pane == .audiences)
        s = F.send(s, [.key(.backTab)])
        #expect(s.pane == .customers)
        s = F.send(s, [.key(.backTab), .key(.backTab), .key(.backTab)])
        #expect(s.pane == .runs)
        s = F.send(s, [.key(.char("2"))])
        #expect(s.pane == .quality)
        s = F.send(s, [.key(.char("9"))]) // no pane 9: nothing happens
        #expect(s.pane == .quality)
    }

    @Test func enterOpensASourceAndAsksForItsDetail() {
        let (s, commands) = ConsoleApp.update(F.state(), .key(.enter))
        #expect(s.sources.openSource == "shop_orders")  // worst first
        #expect(commands == [.loadSnapshot(SnapshotRequest(source: "shop_orders"))])
        let (back, _) = ConsoleApp.update(F.send(s, [.snapshotLoaded(F.snapshot)]), .key(.escape))
        #expect(back.sources.openSource == nil)
    }

    @Test func filterAsYouTypeThenEscClears() {
        var s = F.send(F.state(), [.key(.char("/"))] + F.keys("shop"))
        #expect(s.mode == .filter)
        #expect(s.sources.filter == "shop")
        #expect(s.sources.rows(s.context).map(\.name) == ["shop_orders"])
        #expect(F.screen(s).text.contains("Sources (1 of 3) filter: shop"))
        s = F.send(s, [.key(.enter)])
        #expect(s.mode == .normal && s.sources.filter == "shop")
        s = F.send(s, [.key(.escape)])
        #expect(s.sources.filter == "")
        s = F.send(s, [.key(.char("/"))] + F.keys("東京") + [.key(.escape)])
        #expect(s.sources.filter == "" && s.mode == .normal)
    }

    @Test func commandLineCompletesCommandsSourcesAndThemes() {
        var s = F.send(F.state(), [.key(.char(":"))] + F.keys("ru") + [.key(.tab)])
        #expect(s.input.text == "run ")
        s = F.send(s, [.key(.tab)])
        #expect(s.completion?.candidates == ["run crm_contacts", "run shop_orders", "run 東京_顧客"])
        #expect(s.input.text == "run crm_contacts")
        s = F.send(s, [.key(.tab)])
        #expect(s.input.text == "run shop_orders")
        s = F.send(s, [.key(.char(" ")), .key(.char("c")), .key(.tab)])
        #expect(s.input.text == "run shop_orders crm_contacts")
        #expect(ConsoleCommandLine.completions(for: "theme l", sources: [], themes: ["dark", "light"]) == ["theme light"])
        #expect(ConsoleCommandLine.completions(for: "", sources: [], themes: []) == ["run", "theme", "progress", "help", "quit"])
    }

    @Test func commandsRunThemeHelpQuitAndUnknown() {
        var (s, c) = ConsoleApp.update(F.send(F.state(), [.key(.char(":"))] + F.keys("run shop_orders")), .key(.enter))
        #expect(c.contains(.startRun(sources: ["shop_orders"])))
        #expect(s.run != nil)
        (s, c) = ConsoleApp.update(F.send(F.state(), [.key(.char(":"))] + F.keys("theme light")), .key(.enter))
        #expect(c == [.loadTheme("light")])
        (s, c) = ConsoleApp.update(F.send(F.state(), [.key(.char(":"))] + F.keys("help")), .key(.enter))
        #expect(s.mode == .help)
        (s, c) = ConsoleApp.update(F.send(F.state(), [.key(.char(":"))] + F.keys("q")), .key(.enter))
        #expect(s.shouldQuit && c == [.quit])
        (s, c) = ConsoleApp.update(F.send(F.state(), [.key(.char(":"))] + F.keys("launch")), .key(.enter))
        #expect(s.status?.isError == true && s.status?.text.contains("unknown command :launch") == true)
        (s, c) = ConsoleApp.update(F.send(F.state(), [.key(.char(":"))] + F.keys("run nope")), .key(.enter))
        #expect(s.run == nil && s.status?.text.contains("unknown source nope") == true)
    }

    @Test func helpOpensAndCloses() {
        var s = F.send(F.state(), [.key(.char("?"))])
        #expect(s.mode == .help)
        s = F.send(s, [.key(.char("j")), .key(.char("j"))])
        #expect(s.helpScroll == 2 && s.sources.list.selected == 0) // keys go to the overlay
        s = F.send(s, [.key(.escape)])
        #expect(s.mode == .normal)
    }

    @Test func quitAsksFirstWhileARunIsInProgress() {
        var (s, c) = ConsoleApp.update(F.state(), .key(.char("r")))
        #expect(c.contains(.startRun(sources: [])))
        (s, c) = ConsoleApp.update(s, .key(.char("q")))
        #expect(s.mode == .confirmQuit && !s.shouldQuit && c.isEmpty)
        (s, c) = ConsoleApp.update(s, .key(.char("n")))
        #expect(s.mode == .normal && !s.shouldQuit)
        s = F.send(s, [.key(.char("q"))])
        (s, c) = ConsoleApp.update(s, .key(.char("y")))
        #expect(s.shouldQuit && c.contains(.quit))
        (s, c) = ConsoleApp.update(F.state(), .key(.ctrl("c")))
        #expect(s.shouldQuit) // no run: Ctrl-C quits at once
    }

    @Test func readOnlyRefusesRuns() {
        var state = F.state()
        state.readOnly = true
        let (s, c) = ConsoleApp.update(state, .key(.char("r")))
        #expect(s.run == nil && !c.contains(.startRun(sources: [])))
        #expect(s.status?.text.contains("read-only") == true)
        #expect(!F.screen(state).lines[29].contains("r run"))
    }

    @Test func runProgressAndFailureKeepTheConsoleUp() {
        var (s, _) = ConsoleApp.update(F.state(), .key(.char("r")))
        let (s2, c2) = ConsoleApp.update(s, .runProgress(RunProgressEvent(phase: .batchCommitted, rowsDone: 10), at: F.now))
        #expect(s2.run?.last?.rowsDone == 10)
        #expect(c2 == [.loadSnapshot(SnapshotRequest())]) // panes refresh as batches commit
        s = F.send(s2, [.runFailed("crm_contacts.csv: no such file", at: F.now)])
        #expect(s.run == nil && !s.shouldQuit)
        #expect(s.status == StatusMessage(text: "run failed: crm_contacts.csv: no such file", isError: true, at: F.now))
        #expect(F.screen(s).text.contains("✗ run failed: crm_contacts.csv: no such file"))
    }

    @Test func refreshTimerHasAFloorAndLoadsOneAtATime() {
        var state = F.state()
        state.refreshInterval = 2
        var (s, c) = ConsoleApp.update(state, .tick(F.now))
        #expect(c == [.loadSnapshot(SnapshotRequest())])
        (s, c) = ConsoleApp.update(s, .tick(F.now.addingTimeInterval(5)))
        #expect(c.isEmpty) // still loading
        (s, c) = ConsoleApp.update(s, .snapshotLoaded(F.snapshot))
        (s, c) = ConsoleApp.update(s, .tick(F.now.addingTimeInterval(5)))
        #expect(c.count == 1)
        #expect(AppState(projectName: "p", catalogPath: "c", width: 80, height: 24, refreshInterval: 0.01).refreshInterval == 0.25)
    }

    @Test func copyIDUsesTheSelection() {
        var (s, c) = ConsoleApp.update(F.send(F.state(), [.key(.char("j"))]), .key(.char("y")))
        #expect(c == [.copyToClipboard("東京_顧客")])  // worst first: shop_orders, 東京_顧客, crm_contacts
        s = F.send(F.state(), [.key(.char("3"))])
        (s, c) = ConsoleApp.update(s, .key(.char("y")))
        #expect(c == [.copyToClipboard("3")])
    }

    @Test func sortCyclesColumnsAndReverses() {
        // Worst first until `s` moves on to the next column.
        var s = F.state()
        #expect(s.sources.sort.column == "status")
        #expect(s.sources.rows(s.context).map(\.name) == ["shop_orders", "東京_顧客", "crm_contacts"])
        s = F.send(s, [.key(.char("S"))])
        #expect(s.sources.rows(s.context).map(\.name) == ["crm_contacts", "東京_顧客", "shop_orders"])
        #expect(F.screen(s).lines[3].contains("Status▼"))
        s = F.send(s, [.key(.char("s"))])
        #expect(s.sources.sort.column == "name")
    }

    @Test func mouseClicksTabsAndRowsAndWheelScrolls() {
        var s = F.send(F.state(), [.mouse(MouseEvent(kind: .click, x: 25, y: 1))])
        #expect(s.pane == .runs)
        s = F.send(F.state(), [.mouse(MouseEvent(kind: .click, x: 10, y: 5))])
        #expect(s.sources.list.selected == 1)
        s = F.send(s, [.mouse(MouseEvent(kind: .wheelDown, x: 10, y: 5))])
        #expect(s.sources.list.selected == 2)
    }

    @Test func resizeBelowMinimumShowsTheMessageAndIgnoresOtherKeys() {
        var s = F.send(F.state(), [.resize(width: 70, height: 20), .key(.char("3"))])
        #expect(s.isTooSmall && s.pane == .sources)
        s = F.send(s, [.resize(width: 120, height: 40), .key(.char("3"))])
        #expect(!s.isTooSmall && s.pane == .runs)
    }

    @Test func qualityDrillsIntoSourceChecksAndCheck() {
        var s = F.send(F.state(), [.key(.char("2"))])
        var (next, c) = ConsoleApp.update(s, .key(.enter))
        #expect(next.quality.openSource == "crm_contacts" && c.isEmpty)
        (next, c) = ConsoleApp.update(next, .key(.enter))
        #expect(next.quality.openCheck == CheckRef(source: "crm_contacts", name: "email_format"))
        #expect(c == [.loadSnapshot(SnapshotRequest(check: CheckRef(source: "crm_contacts", name: "email_format"),
                                                    checkFailing: QuarantineQuery(source: "crm_contacts", check: "email_format")))])
        s = F.send(next, [.snapshotLoaded(F.snapshot), .key(.escape), .key(.escape)])
        #expect(s.quality.openCheck == nil && s.quality.openSource == nil)
        s = F.send(s, [.key(.char("l")), .key(.enter)])
        #expect(s.quality.openCheck == CheckRef(source: "shop_orders", name: "amount_positive"))
    }
}
