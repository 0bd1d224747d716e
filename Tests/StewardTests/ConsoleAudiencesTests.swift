import Foundation
import GRDB
import Testing
@testable import steward
@testable import StewardActivation
@testable import StewardCatalog
@testable import StewardConsole
@testable import StewardDemo
@testable import StewardPipeline

/// Console pane 7, Audiences (issue 20): sizes, Δ, consent exclusions, holdout, lift ± interval and
/// each destination's last sync; Enter: definition, members (PII masked, `v` audited), runs and syncs.
@MainActor
@Suite struct ConsoleAudiencesTests {
    typealias F = ConsoleFixtures

    static func summary(_ name: String, size: Int, holdout: Int, excluded: Int, channel: String?, run: Int64 = 2) -> AudienceSummary {
        AudienceSummary(name: name, description: "Good customers going quiet", rule: "segment in ['At risk'] and orders >= 2",
                        channel: channel, holdoutShare: 0.1, windowSeconds: 30 * 86_400, size: size, holdout: holdout,
                        excludedNoConsent: excluded, entered: 9, left: 14, runId: run, materialisedAt: "2026-05-01T10:00:00Z")
    }

    static func sync(_ id: Int64, _ destination: String, ok: Bool, adds: Int = 0, updates: Int = 0, removes: Int = 0) -> DestinationSyncRecord {
        DestinationSyncRecord(id: id, destination: destination, type: "file", runId: 2, startedAt: F.now, finishedAt: F.now,
                              status: ok ? "ok" : "failed", adds: adds, updates: updates, removes: removes, batches: 1,
                              pending: ok ? 0 : 7, error: ok ? nil : "connection refused")
    }

    /// A destination's sync as one audience saw it: the destination's totals (crm_file also carries another
    /// audience, so its totals are larger) and what it sent for this audience.
    static func audienceSync(_ id: Int64, _ destination: String, ok: Bool, adds: Int = 0, updates: Int = 0, removes: Int = 0,
                             sent: SyncSentCounts?) -> AudienceSyncRecord {
        AudienceSyncRecord(sync: sync(id, destination, ok: ok, adds: adds, updates: updates, removes: removes), sent: sent)
    }

    static var data: AudiencesData {
        let winBack = AudienceOverview(
            summary: summary("win_back", size: 371, holdout: 45, excluded: 257, channel: "email"), previousSize: 519,
            lift: StoredLift(treated: 466, treatedConverted: 196, holdout: 53, holdoutConverted: 15, lift: 0.4857, low: 0.0162, high: 1.1721,
                             incrementalRevenue: 5120.5, windowDays: 30, measuredAt: "2026-05-01T10:00:00Z"),
            destinations: [audienceSync(4, "crm_file", ok: true, adds: 40, updates: 6, removes: 3, sent: SyncSentCounts(adds: 12, removes: 3)),
                           audienceSync(5, "ads_hook", ok: false, sent: SyncSentCounts())])
        let firstOrder = AudienceOverview(summary: summary("first_order", size: 1006, holdout: 0, excluded: 1437, channel: "email"),
                                          previousSize: nil, lift: nil, destinations: [])
        return AudiencesData(audiences: [firstOrder, winBack], detail: nil)
    }

    static var detail: AudienceDetail {
        let overview = data.audiences[1]
        let members = [
            AudienceMemberRow(member: AudienceMember(customerId: "C00000007", holdout: false, enteredRun: 1, enteredAt: "2024-06-30T23:59:59Z"),
                              name: "Jane Doe", email: "jane.doe@example.com"),
            AudienceMemberRow(member: AudienceMember(customerId: "C00000012", holdout: true, enteredRun: 2, enteredAt: "2026-05-01T10:00:00Z"),
                              name: "John Smith", email: "john.smith@example.com"),
        ]
        return AudienceDetail(overview: overview,
                              runs: [AudienceRunCounts(runId: 2, at: "2026-05-01T10:00:00Z", size: 371, holdout: 45, excludedNoConsent: 257,
                                                       entered: 88, left: 236, seconds: 0.02),
                                     AudienceRunCounts(runId: 1, at: "2024-06-30T23:59:59Z", size: 519, holdout: 54, excludedNoConsent: 224,
                                                       entered: 519, left: 0, seconds: 0.02)],
                              memberCount: 371, members: members,
                              syncHistory: [audienceSync(5, "ads_hook", ok: false, sent: SyncSentCounts()),
                                            audienceSync(4, "crm_file", ok: true, adds: 40, updates: 6, removes: 3, sent: SyncSentCounts(adds: 12, removes: 3)),
                                            audienceSync(3, "crm_file", ok: true, adds: 500, updates: 0, removes: 0, sent: SyncSentCounts(adds: 371))])
    }

    static func state(detail: Bool = false) -> AppState {
        var s = F.state(width: 120, height: 32)
        var d = data
        if detail { d.detail = Self.detail }
        s.snapshot?.panes[.audiences] = PaneData(d)
        return s
    }

    @Test func theListShowsSizeDeltaConsentHoldoutLiftAndSyncs() {
        var s = Self.state()
        // Not part of every refresh until it is first shown.
        #expect(s.snapshotRequest.panes.isEmpty)
        s = F.send(s, [.key(.char("7"))])
        #expect(s.pane == .audiences)
        let text = F.screen(s).text
        #expect(text.contains("7 Audiences"))
        #expect(text.contains("╭ Audiences (2)"))
        let row: String? = F.screen(s).lines.first { $0.contains("win_back") }
        // 371 members, 148 fewer than the run before, 257 without email consent, 45 held out.
        for cell in ["371", "-148", "257", "45", "+49% (2…117%)", "crm_file ✓ +12 ~0 −3",
                     "ads_hook ✗ failed (7 pending)"] {
            #expect(row?.contains(cell) == true, "win_back row lacks \(cell): \(row ?? "")")
        }
        // The audience's own share of crm_file's sync, not the destination's totals (+40 ~6 −3).
        #expect(row?.contains("+40") == false, "\(row ?? "")")
        let first = F.screen(s).lines.first { $0.contains("first_order") } ?? ""
        #expect(first.contains("new") && first.contains("not measured") && first.contains("not sent anywhere"), "\(first)")
        // The filter narrows the list.
        s = F.send(s, [.key(.char("/"))] + F.keys("win") + [.key(.enter)])
        #expect(F.screen(s).text.contains("Audiences (1)"))
    }

    @Test func enterShowsDefinitionMembersRunsAndSyncHistory() {
        var s = Self.state(detail: true)
        s = F.send(s, [.key(.char("7")), .key(.down)])
        #expect(s.snapshotRequest.panes[.audiences]?.key == "audiences|")
        s = F.send(s, [.key(.enter)])
        #expect(s.audiences.open == "win_back")
        // The open audience is a new query: the next snapshot reads its detail.
        #expect(s.snapshotRequest.panes[.audiences]?.key == "audiences|win_back")
        let text = F.screen(s).text
        for needle in ["where    segment in ['At risk'] and orders >= 2", "channel  email (members must consent; 257 matched without)",
                       "holdout 10%", "treated 196/466 vs holdout 15/53 converted", "incremental revenue 5120.50",
                       "Members (first 2 of 371)", "C00000007", "treated", "holdout", "#2    371   +88      −236",
                       "ads_hook ✗ failed", "connection refused", "crm_file ✓ +12 ~0 −3", "crm_file ✓ +371 ~0 −0"] {
            #expect(text.contains(needle), "detail lacks \(needle)")
        }
        #expect(!text.contains("+40") && !text.contains("+500"), "the history shows this audience's share of each sync")
        // Email masked; names are not personal data under the policy.
        #expect(!text.contains("jane.doe@example.com") && text.contains("Jane Doe"))
        #expect(text.contains("◌ PII masked — v reveals (audited)"))
        s = F.send(s, [.key(.escape)])
        #expect(s.audiences.open == nil && F.screen(s).text.contains("╭ Audiences (2)"))
    }

    @Test func vRevealsTheSelectedMemberOnlyAfterTheAuditAndMovingMasks() {
        var s = Self.state(detail: true)
        s = F.send(s, [.key(.char("7")), .key(.down), .key(.enter)])
        let (asked, commands) = ConsoleApp.update(s, .key(.char("v")))
        #expect(commands == [.customers(.reveal(["C00000007"], via: "console: audience win_back members"))])
        // Nothing shows before the audit is written.
        #expect(!F.screen(asked).text.contains("jane.doe@example.com"))
        s = F.send(asked, [.customers(.revealed(["C00000007"], actor: "alice"))])
        var text = F.screen(s).text
        #expect(text.contains("jane.doe@example.com") && text.contains("◉ PII revealed (audited)"))
        #expect(!text.contains("john.smith@example.com"))
        // Moving on masks it again; so does leaving the pane.
        s = F.send(s, [.key(.down)])
        text = F.screen(s).text
        #expect(!text.contains("jane.doe@example.com") && s.audiences.revealed.isEmpty)
        s = F.send(s, [.key(.up), .customers(.revealed(["C00000007"], actor: "alice")), .key(.char("1"))])
        #expect(s.audiences.revealed.isEmpty)
        // Read-only: refused, nothing asked.
        var ro = Self.state(detail: true)
        ro.readOnly = true
        ro = F.send(ro, [.key(.char("7")), .key(.down), .key(.enter)])
        let (refused, none) = ConsoleApp.update(ro, .key(.char("v")))
        #expect(none.isEmpty && refused.status?.text.contains("read-only") == true)
    }

    // MARK: on the demo

    /// The demo's first runs (the campaign planted), once for the suite.
    nonisolated static let demo: Result<TempProject, any Error> = Result {
        let p = TempProject("audiences-pane")
        let manifest = try DemoGenerator(customers: 600, seed: 42).write(to: p.dir)
        let config = try p.config()
        try DemoLift.firstRuns(config: config, catalog: try Catalog.open(at: config.catalogURL), seed: manifest.seed,
                               progress: SilentProgress(), trigger: "test")
        return p
    }

    @Test func theDemoCatalogThroughTheSession() async throws {
        let p = try Self.demo.get()
        let catalog = try p.catalog()
        let expected = try #require(try catalog.audienceOverviews().first { $0.summary.name == "win_back" })
        #expect(expected.previousSize != nil && expected.lift != nil)
        let (session, backend) = try await CustomersConsoleTests.session(p, width: 140, height: 40)
        /// Waits for the session's answers until the screen shows `text`, and returns the screen.
        func screen(showing text: String) async -> String {
            let deadline = Date().addingTimeInterval(60)
            while true {
                await session.waitForMessages(timeout: 1, backend: backend)
                var buffer = ScreenBuffer(width: backend.size.width, height: backend.size.height)
                ConsoleApp.render(session.state, into: &buffer)
                backend.draw(buffer)
                if backend.text.contains(text) || Date() > deadline { return backend.text }
            }
        }
        session.send(.key(.char("7")), backend: backend)
        _ = await screen(showing: "win_back")
        let row = backend.lines.first { $0.contains("win_back") } ?? ""
        #expect(row.contains(Format.count(expected.summary.size)) && row.contains(AudiencesPane.liftText(expected.lift)), "\(row)")
        // The demo's destination with what its last sync sent for win_back, not the destination's totals.
        let drop = try #require(expected.destinations.first { $0.destination == "email_platform" })
        let sent = try #require(drop.sent)
        let share: Int = try p.scalar("""
            SELECT adds FROM sync_run_audience WHERE audience = 'win_back'
              AND sync_run_id = (SELECT MAX(id) FROM sync_run WHERE destination = 'email_platform')
            """) ?? -1
        #expect(sent.adds == share)
        #expect(row.contains(AudiencesPane.syncText(drop)), "\(row)")
        // Open it; reveal the first member through the audited path.
        let names = try catalog.audienceOverviews().map(\.summary.name)
        for _ in 0..<(names.firstIndex(of: "win_back") ?? 0) { session.send(.key(.down), backend: backend) }
        session.send(.key(.enter), backend: backend)
        var text = await screen(showing: "Members (first")
        #expect(text.contains("where    segment in"))
        let first = try #require(try catalog.audienceMembers("win_back").first)
        #expect(text.contains(first.customerId))
        session.send(.key(.char("v")), backend: backend)
        text = await screen(showing: "◉ PII revealed")
        #expect(text.contains("◉ PII revealed (audited)"))
        let audited: Int = try p.scalar("""
            SELECT COUNT(*) FROM audit_event WHERE action = 'reveal' AND subject = 'customer:\(first.customerId)'
              AND detail = 'console: audience win_back members'
            """) ?? 0
        #expect(audited == 1)
    }
}

/// Pane 7 in the real binary under tmux: the demo's audiences, one opened, back, quit.
@Suite struct ConsoleAudiencesTmuxTests {
    @Test(.enabled(if: stewardHasTUI(), "`steward tui` is not wired yet"))
    func audiencesPaneInTheRealTerminal() async throws {
        try await offPool {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("steward-audiences-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: dir) }
            let steward = ConsoleTmuxTests.steward.path
            _ = try run(steward, ["init", dir.path, "--demo", "--customers", "300"])
            let ran = try StewardBinary.run(["run", "--project", dir.path])
            // 1: the run succeeded and the demo's health is in breach (as it is meant to be).
            #expect(ran.status == 0 || ran.status == 1, "\(ran.stderr)")
            let tmux = try Tmux(width: 120, height: 34, command: "\(steward) tui --project \(dir.path)")
            defer { tmux.kill() }
            _ = try tmux.waitFor("Sources (", timeout: 30)
            tmux.send("7")
            var screen = try tmux.waitFor("╭ Audiences (4)", timeout: 30)
            for name in ["affluent", "first_order", "high_value", "win_back"] { #expect(screen.contains(name), "\(screen)") }
            // The demo's file destination carries win_back and affluent: each row shows its own share of the sync.
            #expect(screen.contains("email_platform ✓ +"), "\(screen)")
            #expect(screen.contains("Lift (95 %)") && screen.contains("Last sync"))
            tmux.send("Enter")
            screen = try tmux.waitFor("Members", timeout: 30)
            #expect(screen.contains("where    income >= 100000"), "\(screen)")
            #expect(screen.contains("Sync history"))
            tmux.send("Escape"); _ = try tmux.waitFor("╭ Audiences (4)")
            tmux.send("q")
            screen = try tmux.waitFor("TTY sane: icanon echo")
            #expect(screen.contains("EXIT=0"))
        }
    }
}
