import Foundation
import Testing
@testable import StewardCatalog
import StewardConfig
@testable import StewardConsole
@testable import StewardMetrics

/// Whole screens rendered into the in-memory backend, asserted on their text.
@MainActor
@Suite("Console views")
struct ConsoleViewTests {
    typealias F = ConsoleFixtures

    @Test func sourcesPaneAt100x30() {
        let lines = F.screen(F.state()).lines
        #expect(lines.count == 30)
        // The verdict follows the name (UNKNOWN: canned data has no steward.yml to check by); the
        // catalog's path moved to the tab bar's right end.
        #expect(lines[0].hasPrefix(" ◆ steward demo  ? UNKNOWN "))
        #expect(lines[0].hasSuffix("last run #3 ✓ succeeded 6h 59m ago  \(Format.clock(F.now))"))
        #expect(lines[1].hasPrefix("[1 Sources]  2 Quality   3 Runs"))
        #expect(lines[2].hasPrefix("╭ Sources (3) ─"))
        // Worst first; at 100 columns the Why column outranks the system and the raw count.
        #expect(lines[3] == "│Status▲   Source       Last load Fresh     Staged  Quar.      DQ Rows/run Why                     │")
        #expect(lines[6] == "│✓ ok      crm_contacts 5m        ✓ <6h       1180     20  ✓ 98.1 ▂▃▂█     healthy                 │")
        #expect(lines[4] == "│▲ warn    shop_orders  7h        ▲ >6h     249.0k      0  ▲ 93.0 ▂▃▂█     late: no new data for 7h│")
        // The CJK name takes 9 columns and everything after it stays aligned.
        #expect(lines[5] == "│○ never   東京_顧客    never     ○ —            0      0       · ▁▁▁▁     never loaded            │")
        #expect(lines[26].hasPrefix("│▲ warn shop_orders: late: no new data for 7h   "))
        #expect(lines[29].contains("? help") && lines[29].contains("q quit") && lines[29].contains("/ filter"))
    }

    @Test func fixedColumnsWidenToTheirContentWhenTheTableHasRoom() {
        let columns = [Column<(String, String)>("source", "Source", .fixed(8)) { [Span($0.0)] },
                       Column("check", "Check", .fill(1)) { [Span($0.1)] }]
        let rows = [("support_tickets", "accepted_values_category")]
        func body(width: Int, sort: SortState = SortState()) -> (header: String, row: String) {
            let table = Columns.table(columns, rows: rows, width: width, sort: sort, theme: .builtinDark)
            var buffer = ScreenBuffer(width: width, height: 2)
            table.render(Rect(x: 0, y: 0, width: width, height: 2), state: ListState(), into: &buffer)
            return (buffer.lines[0], buffer.lines[1])
        }
        #expect(body(width: 60).row.hasPrefix("support_tickets accepted_values_category"))
        // A sorted column's marker counts as content too.
        #expect(body(width: 60, sort: SortState(column: "source")).header.hasPrefix("Source▲         Check"))
        // No room for every value: the fixed column keeps its width and cuts its value.
        #expect(body(width: 30).row.hasPrefix("support… accepted_values_cate"))
    }

    @Test func sourcesPaneShowsAnAnomalyOfTheSelectedSourceWithItsExpectedRange() {
        var state = F.state()
        state.sources.sort = SortState()  // by name: crm_contacts is the selected row
        state.snapshot?.anomalies = [Anomaly(metric: .rowsLoaded, subject: "crm_contacts", runId: 3, value: 12, median: 1000,
                                             expectedLow: 900, expectedHigh: 1100, z: -40)]
        let line = F.screen(state).lines[26]
        #expect(line.contains("▲ anomaly: crm_contacts: rows loaded 12 in run 3, expected 900–1100"))
        state.snapshot?.anomalies = []
        #expect(!F.screen(state).lines[26].contains("anomaly"))
    }

    @Test func aNarrowFooterDropsOtherHintsBeforeQuit() {
        let hints = ["help", "search", "open 360", "back", "sub-tab", "reveal", "review", "cmd", "run", "quit", "copy id"]
            .map { KeyHint(key: "k", text: $0) }
        let shown = ConsoleApp.fittingHints(hints, width: 60).map(\.text)
        #expect(shown.contains("quit"))
        #expect(shown.first == "help" && !shown.contains("copy id"))
        #expect(shown.reduce(0) { $0 + 1 + $1.count + 3 } <= 60)
        #expect(ConsoleApp.fittingHints(hints, width: 200).map(\.text) == hints.map(\.text))
    }

    @Test func sourcesPaneAt80x24DropsLowPriorityColumns() {
        let lines = F.screen(F.state(width: 80, height: 24)).lines
        #expect(lines.count == 24)
        #expect(lines[3] == "│Status▲   Source            Last load Fresh     Staged  Quar.      DQ Rows/run│")
        #expect(lines[5].hasPrefix("│○ never   東京_顧客         never     ○ —            0      0       · ▁▁▁▁    │"))
        #expect(lines.allSatisfy { $0.displayWidth <= 80 })
        #expect(lines[23].contains("? help"))
    }

    @Test func sourceDetailShowsBatchesAndMaskedQuarantine() throws {
        var state = F.state()
        state.sources.open("crm_contacts")
        state.snapshot?.sourceDetail = F.sourceDetail
        state.snapshot?.pii = try PIIPolicyTests.policy(mapping: "{email: Email, phone: Phone, first_name: Name}")
        var text = F.screen(state).text
        #expect(text.contains("╭ Source crm_contacts"))
        #expect(text.contains("✓ ok  healthy   system crm · entity person · format csv"))
        #expect(text.contains("[Batches 1]"))
        #expect(text.contains("sources/crm_contacts.csv"))
        state.sources.section = .quarantine
        text = F.screen(state).text
        #expect(text.contains("[Quarantine 20]"))  // every open row (the overview's count), not the detail's few
        #expect(text.contains("crm_contacts.csv:17"))
        #expect(text.contains("raw (masked): contact_id=C-1017, Name=Jane Doe, Email=j***@example.com, Phone=***-***-0958"))
        #expect(!text.contains("jane.doe@example.com"))
        #expect(!text.contains("7946"))
        #expect(text.contains("why: email: not an email address"))
    }

    @Test func qualityPaneShowsScoreMatrixAndFailingChecks() {
        var state = F.state(width: 80, height: 24)
        state.pane = .quality
        let lines = F.screen(state).lines
        #expect(lines[3].hasPrefix("│Overall ✓ 95.5%  trend ▁▅▇█ ▲ +0.5 since last run"))
        #expect(lines[4].hasPrefix("│Complete ✓ 99.0  Valid ✓ 95.0  Unique ✓ 100.0  Consist. ·  Timely ·"))
        #expect(lines[5] == "│Source                 Score  Complete     Valid    Unique  Consist.    Timely│")
        #expect(lines[6] == "│crm_contacts          ✓ 98.0         ·    ✓ 98.0   ✓ 100.0         ·         ·│")
        #expect(lines[8].hasPrefix("│Failing checks (2, most failed rows first)"))
        #expect(lines[10].hasPrefix("│✗ fail     shop_orders    amount_positive"))
        #expect(lines[11].hasPrefix("│✗ fail     crm_contacts   email_format"))
        // A failing check's score is marked by its outcome, never ✓ because 98 % of rows passed.
        #expect(lines[11].contains("✗ 98.0") && !lines[11].contains("✓"), "\(lines[11])")
    }

    @Test func aCheckScoreIsMarkedByTheChecksOutcome() {
        let theme = Theme.builtinMonochrome
        var check = F.check("crm_contacts", "email_format", failed: 38, evaluated: 1000)
        #expect(Format.checkScore(check, theme: theme).text == "✗ 96.2")
        check.severity = "warn"
        #expect(Format.checkScore(check, theme: theme).text == "▲ 96.2")
        #expect(Format.checkScore(F.check("crm_contacts", "id_unique"), theme: theme).text == "✓ 100.0")
        #expect(Format.checkScore(F.check("crm_contacts", "never", evaluated: 0), theme: theme).text == "·")
        // The status column agrees with the score's mark.
        #expect(Format.checkStatus(check, theme: theme).text == "▲ fail")
        check.severity = "error"
        #expect(Format.checkStatus(check, theme: theme).text == "✗ fail")
        #expect(Format.checkStatus(F.check("crm_contacts", "id_unique"), theme: theme).text == "✓ pass")
        #expect(Format.checkStatus(F.check("crm_contacts", "never", evaluated: 0), theme: theme).text == "○ not run")
    }

    @Test func checkDetailShowsDefinitionHistoryAndMaskedSamples() throws {
        var state = F.state(width: 140)  // a failing record's columns fit
        state.snapshot?.pii = try PIIPolicyTests.policy(mapping: "{email: Email, phone: Phone, first_name: Name}")
        state.pane = .quality
        state.quality.openCheck = CheckRef(source: "crm_contacts", name: "email_format")
        let check = F.snapshot.quality!.sources[0].checks[0]
        state.snapshot?.checkDetail = CheckDetail(
            check: check,
            history: [CheckHistoryPoint(runId: 2, evaluated: 1000, passed: 900, failed: 100, evaluatedAt: F.now),
                      CheckHistoryPoint(runId: 3, evaluated: 1000, passed: 980, failed: 20, evaluatedAt: F.now)],
            failing: F.sourceDetail.quarantine)
        let text = F.screen(state).text
        #expect(text.contains("╭ Check crm_contacts.email_format"))
        #expect(text.contains("✗ fail  regex on column email   dimension validity   severity error"))
        #expect(text.contains(#"params {"pattern":".+@.+"}"#))
        #expect(text.contains("run #3: 980 passed · 20 failed of 1000 · score ✗ 98.0"))
        #expect(text.contains("History failed █▂"))
        #expect(text.contains("#3 "))
        #expect(text.contains("Failing records 1 in quarantine · Enter opens one"))
        #expect(text.contains("crm_contacts.csv:17 key C-1017  email: not an email address"))
        #expect(!text.contains("jane.doe@"))
        // The values are in the row's detail, masked by the mapping.
        let detail = F.screen(F.send(state, [.key(.enter)])).text
        #expect(detail.contains("Email       j***@example.com") && detail.contains("Name        Jane Doe"))
        #expect(!detail.contains("jane.doe@"))
    }

    @Test func runsPaneShowsHistoryStepsAndAudit() {
        var state = F.state()
        state.pane = .runs
        let text = F.screen(state).text
        #expect(text.contains("╭ Runs (3)"))
        #expect(text.contains("#3 manual"))
        #expect(text.contains("✗ failed"))
        #expect(text.contains("Steps of run #3"))
        #expect(text.contains("crm_contacts     ✓ succeeded    5.2s"))
        #expect(text.contains("Audit log (latest first)"))
        #expect(text.contains("run.finished     run 3"))
    }

    @Test func tooSmallScreenSaysWhatItNeeds() {
        let state = F.state(width: 60, height: 20)
        let backend = F.screen(state)
        #expect(backend.lines.contains { $0.contains("Terminal too small") })
        #expect(backend.lines.contains { $0.contains("need 80x24, have 60x20") })
        #expect(!backend.text.contains("Sources"))
    }

    @Test func catalogErrorScreenSaysWhatToDo() {
        var state = F.state()
        state.snapshot = nil
        state.catalogError = CatalogError.missing("/p/.steward/catalog.sqlite").description
        let text = F.screen(state).text
        #expect(text.contains("✗ Catalog unavailable"))
        #expect(text.contains("catalog not found at /p/.steward/catalog.sqlite"))
        #expect(text.contains("press r to run the pipeline now"))
        #expect(text.contains("press q to quit"))
        #expect(F.screen(state).lines[29] == " ? help  : cmd  r run  q quit")
    }

    @Test func runningShowsGaugeWithRate() {
        var state = F.state()
        state.run = ActiveRun(sources: [], startedAt: F.now.addingTimeInterval(-2),
                              last: RunProgressEvent(phase: .batchCommitted, source: "crm_contacts", rowsDone: 5000, rowsTotal: 10_000),
                              lastAt: F.now)
        let header = F.screen(state).lines[0]
        #expect(header.contains("● running crm_contacts"))
        #expect(header.contains("50% 2500 rows/s"))
        #expect(header.contains("█"))
    }

    @Test func helpOverlayAndConfirmQuitDrawOverThePane() {
        var state = F.state()
        state.mode = .help
        #expect(F.screen(state).text.contains("Help — Sources  (Esc closes)"))
        state.mode = .confirmQuit
        state.run = ActiveRun(sources: [], startedAt: F.now, last: nil, lastAt: F.now)
        let text = F.screen(state).text
        #expect(text.contains("▲ A pipeline run is in progress."))
        #expect(text.contains("y quit   n keep working"))
    }

    @Test func screensFitEveryWidthWithoutGarbage() {
        for (w, h) in [(80, 24), (100, 30), (120, 40), (200, 60)] {
            for pane in PaneID.allCases {
                var state = F.state(width: w, height: h)
                state.pane = pane
                let lines = F.screen(state).screen.lines
                #expect(lines.count == h)
                #expect(lines.allSatisfy { $0.displayWidth == w }, "\(pane) at \(w)x\(h)")
            }
        }
    }

    @Test func monochromeKeepsMeaningInMarksAndWords() {
        var state = F.state()
        state.theme = .builtinMonochrome
        let text = F.screen(state).text
        #expect(text.contains("✓ ok") && text.contains("▲ warn") && text.contains("○ never"))
    }
}
