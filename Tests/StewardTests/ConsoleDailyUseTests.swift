import Foundation
import Testing
@testable import StewardCatalog
import StewardConfig
@testable import StewardConsole
@testable import StewardMetrics

/// Issue 18, screen by screen: the verdict on the first screen, every quarantined row reachable and
/// readable, keys held while the view waits for data, status marks that do not lie.
@MainActor
@Suite("Console for daily use")
struct ConsoleDailyUseTests {
    typealias F = ConsoleFixtures

    static let breach = HealthReport(status: .breach, problems: [
        HealthProblem(kind: "failing_checks", subject: "crm_contacts", message: "1 error check failing (email_format), 20 rows quarantined",
                      severity: .warn),
        HealthProblem(kind: "kpi_breached", subject: "Customer match rate", message: "KPI breached: 60.2% < 95.0%", severity: .breach),
    ], kpis: [], anomalies: [])

    static func state(width: Int = 100, height: Int = 30, health: HealthReport? = breach) -> AppState {
        var s = F.state(width: width, height: height)
        s.snapshot?.health = health
        if let health, let sources = s.snapshot?.sources { s.snapshot?.sources = Verdict.sources(sources, report: health) }
        return s
    }

    // MARK: 1. the verdict

    @Test func theHeaderShowsTheChecksVerdictAndTheStatusLineItsWorstProblemAtEverySize() {
        for (w, h) in [(80, 24), (120, 40), (200, 60)] {
            let lines = F.screen(Self.state(width: w, height: h)).lines
            #expect(lines[0].contains("✗ CRITICAL 2"), "\(w)x\(h): \(lines[0])")
            #expect(lines[h - 2].contains("✗ worst: Customer match rate: KPI breached: 60.2% < 95.0%"), "\(w)x\(h): \(lines[h - 2])")
        }
        #expect(F.screen(Self.state(width: 200, height: 60)).lines[0].contains("CRITICAL 2  Customer match rate: KPI breached"))
        let ok = HealthReport(status: .ok, problems: [], kpis: [], anomalies: [])
        #expect(F.screen(Self.state(health: ok)).lines[0].contains("✓ OK"))
        // No config behind the console (canned data): never OK, UNKNOWN.
        #expect(F.screen(Self.state(health: nil)).lines[0].contains("? UNKNOWN"))
    }

    @Test func aSourceTheCheckNamesIsNeverShownHealthier() {
        let shown = Verdict.sources(F.snapshot.sources, report: Self.breach)
        let crm = shown.first { $0.name == "crm_contacts" }!
        #expect(crm.status == .warn)
        #expect(crm.statusReason == "1 error check failing (email_format), 20 rows quarantined")
        // The other sources keep their own health and reason.
        #expect(shown.first { $0.name == "shop_orders" }!.statusReason == "late: no new data for 7h")
    }

    @Test func sourcesAreSortedWorstFirstAndSayWhyWhenTheWidthAllows() {
        var s = Self.state(width: 200, height: 60)
        #expect(s.sources.rows(s.context).map(\.name) == ["crm_contacts", "shop_orders", "東京_顧客"])
        var lines = F.screen(s).lines
        #expect(lines[3].contains("Status▲") && lines[3].contains("Why"))
        #expect(lines[4].contains("crm_contacts") && lines[4].contains("1 error check failing (email_format)"))
        #expect(lines[5].contains("shop_orders") && lines[5].contains("late: no new data for 7h"))
        // The Source column no longer takes the width the reasons need.
        #expect(!lines[4].contains("crm_contacts" + String(repeating: " ", count: 40)))
        // At 80 columns the reason column goes; the status line under the table explains the selected (worst) one.
        s = Self.state(width: 80, height: 24)
        lines = F.screen(s).lines
        #expect(!lines[3].contains("Why"))
        #expect(lines.contains { $0.contains("▲ warn crm_contacts: 1 error check failing") })
        // `s` still cycles: the next column is the name.
        s = F.send(s, [.key(.char("s"))])
        #expect(s.sources.sort.column == "name")
    }

    // MARK: 2 and 3. every quarantined row reachable

    nonisolated static func rows(_ source: String, count: Int, from: Int = 0) -> [QuarantinedRow] {
        (from..<(from + count)).map { i in
            QuarantinedRow(id: Int64(10_000 - i), runId: 3, source: source, file: "contacts.csv", line: 2 + i, recordKey: "C\(String(format: "%05d", i))",
                           checks: ["email_format"], reasons: ["Email: not an email address"],
                           raw: #"{"contact_id":"C\#(String(format: "%05d", i))","Name":"Jane Doe","Email":"jane.doe@example.com","Street":"1 Long Road, Flat \#(i), Springfield"}"#,
                           quarantinedAt: F.now)
        }
    }

    static func openQuarantine(total: Int, width: Int = 120, height: Int = 40) -> AppState {
        var s = F.send(F.state(width: width, height: height), [.key(.enter)])
        var detail = F.sourceDetail
        let open = s.sources.openSource
        detail.overview = s.snapshot!.sources.first { $0.name == open }!
        s.snapshot?.sourceDetail = detail
        s.snapshot?.pii = PIIPolicy(sources: [])
        s = F.send(s, [.key(.right), .key(.right)])
        #expect(s.sources.section == .quarantine)
        let query = s.sources.quarantineQuery!
        s.snapshot?.sourceQuarantine = QuarantinePage(query: query, total: total, rows: rows("crm_contacts", count: min(total, query.limit)))
        return s
    }

    @Test func quarantinePagesThroughEveryRowNotTheFirstFifty() {
        var s = Self.openQuarantine(total: 130)
        var lines = F.screen(s).lines
        #expect(lines.contains { $0.contains("[Quarantine 130]") })
        s = F.send(s, [.key(.end)])
        #expect(s.sources.sectionLists[SourcesPane.Section.quarantine.rawValue]?.selected == 129)
        lines = F.screen(s).lines
        #expect(lines.contains { $0.contains("contacts.csv:131") })
        // Far down a long list the view asks the catalog for the page that holds it, and waits for it.
        s = Self.openQuarantine(total: 5_000)
        s = F.send(s, [.key(.end)])
        let request = s.snapshotRequest.sourceQuarantine!
        #expect(request.offset == 4_900 && request.limit == 200)
        #expect(s.awaitingData)
        #expect(F.screen(s).lines.contains { $0.contains("Reading rows from 4") })
        s.snapshot?.sourceQuarantine = QuarantinePage(query: request, total: 5_000, rows: Self.rows("crm_contacts", count: 100, from: 4_900))
        #expect(!s.awaitingData)
        #expect(F.screen(s).lines.contains { $0.contains("contacts.csv:5001") })
    }

    @Test func theFilterOfAPagedListIsAskedOfTheCatalog() {
        var s = Self.openQuarantine(total: 130)
        let (next, commands) = ConsoleApp.update(F.send(s, [.key(.char("/"))]), .key(.char("C")))
        s = next
        #expect(s.snapshotRequest.sourceQuarantine?.filter == "C")
        #expect(commands.contains { if case .loadSnapshot(let r) = $0 { return r.sourceQuarantine?.filter == "C" }; return false }
                || s.reloadPending)
    }

    @Test func theWhyLineStaysInTheBoxWhateverTheRawRowsLength() {
        for (w, h) in [(80, 24), (120, 40), (200, 60)] {
            let lines = F.screen(Self.openQuarantine(total: 130, width: w, height: h)).lines
            let why = lines.firstIndex { $0.contains("why: Email: not an email address") }
            #expect(why != nil && why! < h - 3, "\(w)x\(h)")
        }
    }

    @Test func enterOpensARowWithEveryReasonItsFailingValueMaskedAndFieldLines() throws {
        var s = Self.openQuarantine(total: 130, width: 80, height: 24)
        s.snapshot?.pii = try PIIPolicyTests.policy(mapping: "{email: Email, street: Street, full_name: Name}")
        s = F.send(s, [.key(.enter)])
        #expect(s.mode == .row)
        var text = F.screen(s).lines.joined(separator: "\n")
        #expect(text.contains("Why (1)"))
        #expect(text.contains("✗ Email: not an email address"))
        #expect(text.contains("contacts.csv:2"))
        #expect(text.contains("▸ Email") && !text.contains("jane.doe@example.com"))
        #expect(text.contains("contact_id  C00000"))
        // The long street is a line of its own that wraps, never cut off at the box.
        #expect(!text.contains("Springfield") || text.contains("Street"))
        let (revealing, commands) = ConsoleApp.update(s, .key(.char("v")))
        #expect(commands == [.auditRowReveal(id: 10_000, source: "crm_contacts")])
        #expect(revealing.rowDetail?.revealed == false)  // nothing is shown before the audit is written
        s = F.send(revealing, [.rowRevealAudited(10_000)])
        text = F.screen(s).lines.joined(separator: "\n")
        #expect(text.contains("jane.doe@example.com"))
        s = F.send(s, [.key(.escape)])
        #expect(s.mode == .normal && s.rowDetail == nil)
        // Read-only: refused, nothing audited.
        var readOnly = Self.openQuarantine(total: 130)
        readOnly.readOnly = true
        readOnly = F.send(readOnly, [.key(.enter)])
        let (refused, none) = ConsoleApp.update(readOnly, .key(.char("v")))
        #expect(none.isEmpty && refused.status?.isError == true)
    }

    @Test func aChecksFailingRecordsCountEveryQuarantinedRowAndOpen() {
        var s = F.send(F.state(), [.key(.char("2")), .key(.right), .key(.enter)])
        #expect(s.quality.openCheck != nil)
        let ref = s.quality.openCheck!
        let check = F.snapshot.quality!.sources.flatMap(\.checks).first { $0.name == ref.name }!
        let query = s.quality.failingQuery!
        #expect(query.check == ref.name)
        let rows = Self.rows(ref.source, count: 110)
        s.snapshot?.checkDetail = CheckDetail(check: check, history: [], failing: Array(rows.prefix(50)),
                                              page: QuarantinePage(query: query, total: 110, rows: rows))
        var lines = F.screen(s).lines
        #expect(lines.contains { $0.contains("Failing records 110 in quarantine") })
        s = F.send(s, [.key(.end), .key(.enter)])
        #expect(s.mode == .row && s.rowDetail?.row.line == 111)
        lines = F.screen(s).lines
        #expect(lines.contains { $0.contains("Why (1)") })
    }

    // MARK: 4. no dropped keys

    static func slowLoader(total: Int) -> ConsoleSession.Loader {
        { request in
            try await Task.sleep(nanoseconds: 150_000_000)
            var snap = F.snapshot
            if let source = request.source {
                var detail = F.sourceDetail
                detail.overview = snap.sources.first { $0.name == source }!
                snap.sourceDetail = detail
            }
            if let q = request.sourceQuarantine ?? request.source.map({ QuarantineQuery(source: $0, limit: 1) }) {
                let rows = Self.rows(q.source, count: max(0, min(q.limit, total - q.offset)), from: q.offset)
                snap.sourceQuarantine = QuarantinePage(query: q, total: total, rows: rows)
            }
            return snap
        }
    }

    @Test func aBurstOfKeysLandsWhereSlowTypingWould() async throws {
        let session = try ConsoleSession(options: ConsoleOptions(projectName: "demo"), catalogPath: "c", loader: Self.slowLoader(total: 130),
                                         runner: nil)
        let backend = TestBackend(width: 100, height: 30)
        session.keyQueue.patience = 120  // a loaded CI machine may take seconds to answer; the keys must still wait
        session.send(.resize(width: 100, height: 30), backend: backend)
        session.send(.tick(Date()), backend: backend)
        // Typed before even the first snapshot arrived, in one burst.
        session.sendKeys([.enter, .right, .right, .char("j"), .char("j")], backend: backend)
        for _ in 0..<20 where session.state.sources.section != .quarantine || session.keyQueue.isEmpty == false {
            await session.waitForMessages(timeout: 2, backend: backend)
        }
        // Worst first: the first row is shop_orders (warn).
        #expect(session.state.sources.openSource == "shop_orders")
        #expect(session.state.sources.section == .quarantine)
        #expect(session.state.sources.sectionLists[SourcesPane.Section.quarantine.rawValue]?.selected == 2)
        #expect(session.keyQueue.isEmpty)
    }

    @Test func keysWaitWhileA360IsBeingOpenedNotWhileTyping() {
        var s = F.state()
        s.pane = .customers
        #expect(!s.awaitingData)
        // Enter in the search box before the results came: the 360 opens on arrival, so → waits for it.
        s.customers.openOnArrival = true
        #expect(s.awaitingData)
        s.mode = .search  // typing into the box never waits
        #expect(!s.awaitingData)
        s.mode = .normal
        s.customers.openOnArrival = false
        s.customers.inFlight.insert("load")
        #expect(s.awaitingData)
    }

    @Test func heldKeysAreAppliedAfterPatienceRunsOut() {
        var queue = KeyQueue(patience: 3)
        let start = Date()
        queue.hold(.char("j"), now: start)
        #expect(!queue.expired(now: start.addingTimeInterval(1)))
        #expect(queue.expired(now: start.addingTimeInterval(3)))
        #expect(queue.take() == [.char("j")] && queue.isEmpty)
        #expect(KeyQueue.bypasses(.ctrl("c")))
    }

    // MARK: 7. small things

    @Test func refusalsAreNeverMarkedDone() {
        var s = F.state()
        s.snapshot?.sources = []
        s = F.send(s, [.key(.char("y"))])
        let line = F.screen(s).lines[28]
        #expect(line.contains("▲ nothing selected to copy") && !line.contains("✓"))
        let partial = F.send(F.state(), [.runFinished(RunOutcome(runId: 5, status: "partial", rowsRead: 10, rowsLoaded: 8, rowsQuarantined: 2), at: F.now)])
        #expect(F.screen(partial).lines[28].contains("▲ run #5 partial"))
    }

    @Test func anUnknownThemeNamesTheThemesNotTheBuildsFolders() {
        let error = ThemeError.notFound("nosuch", known: ["dark", "light"])
        #expect(error.description == "theme 'nosuch' not found; themes: dark, light (add your own as ~/.config/steward/themes/NAME.yml)")
        let library = ThemeLibrary(directories: [URL(fileURLWithPath: "/nonexistent/build/tree/themes")])
        #expect(throws: ThemeError.self) { try library.load("nosuch") }
        do { _ = try library.load("nosuch") } catch { #expect(!"\(error)".contains("/nonexistent")) }
    }
}

/// Issue 18, item 5: charts that state their scale.
@MainActor
@Suite("Console charts")
struct ConsoleChartTests {
    typealias F = ConsoleFixtures

    @Test func aTinyDipInTheQualityTrendIsASmallStepWithItsScaleStated() {
        // 0.08 points down: before, the bars fell from full to the floor.
        #expect(Sparkline.text([0.9950, 0.9950, 0.9942], width: 20, relative: true, minimumSpan: 0.01) == "██▇")
        #expect(Sparkline.text([0.90, 0.95], width: 20, relative: true, minimumSpan: 0.01) == "▁█")
        var s = F.state(width: 120, height: 40)
        s.pane = .quality
        s.snapshot?.quality?.trend = [0.9950, 0.9950, 0.9942]
        let line = F.screen(s).lines[3]
        #expect(line.contains("trend ██▇") && line.contains("(scale 98.5–99.5%)"), "\(line)")
    }

    @Test func theSourceDetailLabelsItsSparklineAsRowsPerRun() {
        var s = F.state(width: 120, height: 40)
        s.sources.open("crm_contacts")
        s.snapshot?.sourceDetail = F.sourceDetail
        let text = F.screen(s).text
        #expect(text.contains("rows/run ▂▃▂█ 0–1200"))
    }
}

/// Issue 18, items 5 and 7: the score per run, one highlighted list, help and footer.
@MainActor
@Suite("Console small things")
struct ConsoleSmallThingsTests {
    typealias F = ConsoleFixtures

    @Test func qualityShowsTheScorePerRunBesideTheFailingChecksWhenWide() {
        var s = F.state(width: 120, height: 40)
        s.pane = .quality
        s.snapshot?.qualityRuns = [QualityRunPoint(runId: 3, at: F.now, score: 0.955, failingChecks: 2),
                                   QualityRunPoint(runId: 2, at: F.now, score: 0.95, failingChecks: 3),
                                   QualityRunPoint(runId: 1, at: F.now, score: 0.95, failingChecks: 3)]
        let text = F.screen(s).text
        #expect(text.contains("Score per run"))
        #expect(text.contains("#3 ") && text.contains("✓ 95.5  +0.5    2"))
        #expect(text.contains("✓ 95.0     =    3"))
        // At 80 columns the failing checks keep the width.
        s.width = 80; s.height = 24
        #expect(!F.screen(s).text.contains("Score per run"))
    }

    @Test func runsHighlightOnlyTheFocusedList() {
        var s = F.send(F.state(), [.key(.char("3"))])
        var runs = Columns.table(RunsPane.runColumns(s.context), rows: s.snapshot!.runs, width: 90, sort: SortState(), theme: s.theme)
        runs.showSelection = s.runs.focus == .runs
        #expect(runs.showSelection)
        s = F.send(s, [.key(.right)])
        #expect(s.runs.focus != .runs)
        // The selected run's row is drawn like any other once the steps have focus.
        let backend = F.screen(s)
        let runRow = backend.screen.lines.firstIndex { $0.contains("#3 ") }!
        #expect(backend.screen[5, runRow].style.bg != s.theme.selected.bg)
    }

    @Test func helpListsThePanesOwnKeysFirst() {
        var s = F.state()
        s.pane = .roadmap
        let help = ConsoleApp.helpLines(s).map(\.plainText)
        let own = help.firstIndex { $0.contains("tick or untick") }!
        let global = help.firstIndex { $0.contains("quit (asks first") }!
        #expect(own < global)
        #expect(help[1] == "Roadmap pane")
    }

    @Test func readOnlyDoesNotOfferTicksOrNotes() {
        var s = F.state()
        s.pane = .roadmap
        #expect(ConsoleApp.footerHints(s).contains { $0.text == "tick" })
        s.readOnly = true
        #expect(!ConsoleApp.footerHints(s).contains { $0.text == "tick" || $0.text == "note" })
    }
}

/// Issue 18, item 5: the KPI line chart.
@MainActor
@Suite("Console KPI chart")
struct ConsoleKPIChartTests {
    @Test func pointsFarAboveTheTargetUseTheirOwnScaleAndSpreadAcrossTheWidth() {
        // 11 data quality scores between 99.0 % and 99.5 %; the target, 95 %, is far below.
        let values = (0..<11).map { 0.990 + Double($0 % 6) * 0.001 }
        var buffer = ScreenBuffer(width: 80, height: 12)
        LineChart(values: values, target: 0.95, format: { String(format: "%.1f%%", $0 * 100) }, from: nil, to: nil, theme: .builtinMonochrome)
            .render(Rect(x: 0, y: 0, width: 80, height: 12), into: &buffer)
        let lines = buffer.lines
        let rowsWithPoints = lines.filter { $0.contains("●") }
        #expect(rowsWithPoints.count >= 4, "\(lines.joined(separator: "\n"))")
        #expect(lines.joined().contains("target 95.0% (below this scale)"))
        // The first point at the left of the plot, the last at its right edge.
        let columns = lines.compactMap { line -> [Int]? in
            let cs = Array(line).enumerated().filter { $0.element == "●" }.map(\.offset)
            return cs.isEmpty ? nil : cs
        }.flatMap { $0 }
        #expect((columns.max() ?? 0) >= 78 && (columns.min() ?? 99) <= 8)
    }

    @Test func aTargetNearTheDataStaysOnTheScale() {
        var buffer = ScreenBuffer(width: 60, height: 10)
        LineChart(values: [0.90, 0.93, 0.96], target: 0.95, format: { String(format: "%.0f%%", $0 * 100) }, from: nil, to: nil,
                  theme: .builtinMonochrome).render(Rect(x: 0, y: 0, width: 60, height: 10), into: &buffer)
        #expect(buffer.lines.joined().contains("┄") && !buffer.lines.joined().contains("below this scale"))
    }
}
