import Foundation
import GRDB
import Testing
@testable import StewardCatalog
import StewardConfig
@testable import StewardConsole
@testable import StewardIdentity
@testable import StewardPipeline

/// The Customers pane (6): pure update/render checks, then real sessions on a matched demo catalog
/// drawn in the test backend: search as you type, the 360's sub-tabs, masking, the audited reveal
/// and review decisions.
@MainActor
@Suite("Customers pane", .serialized)
struct CustomersConsoleTests {
    typealias F = ConsoleFixtures

    // MARK: without a catalog

    static func hit(_ id: String, _ name: String, email: String, phone: String, rank: Int) -> CustomerSearch.Hit {
        CustomerSearch.Hit(customerId: id, name: name, email: email, phone: phone, city: "Boston", rank: rank, score: 2)
    }

    @Test func typingSearchesOnceAtATimeAndFollowsTheLatestQuery() {
        var s = F.state()
        var (next, commands) = ConsoleApp.update(s, .key(.char("6")))
        #expect(next.pane == .customers && commands == [.customers(.summary)])
        s = next
        (s, commands) = ConsoleApp.update(s, .key(.char("/")))
        #expect(s.mode == .search && commands.isEmpty)
        (s, commands) = ConsoleApp.update(s, .key(.char("j")))
        #expect(commands.isEmpty)  // one letter matches too much
        (s, commands) = ConsoleApp.update(s, .key(.char("o")))
        #expect(commands == [.customers(.search("jo"))])
        (s, commands) = ConsoleApp.update(s, .key(.char("n")))
        #expect(commands.isEmpty)  // "jo" is still in flight: no queue of stale lookups
        (s, commands) = ConsoleApp.update(s, .customers(.found(query: "jo", hits: [Self.hit("C00000001", "Jo Ann", email: "jo@x.org", phone: "+15550001111", rank: 1)], milliseconds: 1)))
        #expect(commands == [.customers(.search("jon"))])
        (s, commands) = ConsoleApp.update(s, .customers(.found(query: "jon", hits: [], milliseconds: 1)))
        #expect(commands.isEmpty)
        #expect(F.screen(s).text.contains("No customer matches “jon”"))
        // Back below two characters: the hint, not the results of a longer query.
        s = F.send(s, [.key(.backspace), .key(.backspace)])
        #expect(F.screen(s).text.contains("Type at least two characters"))
    }

    @Test func resultsAreMaskedAndKeysComeFromTheKeyMap() {
        var s = F.state(width: 80, height: 24)
        s = F.send(s, [.key(.char("6")), .customers(.summary(customers: 2, reviewPairs: 3)), .key(.char("/"))] + F.keys("jo")
                   + [.customers(.found(query: "jo", hits: [Self.hit("C00000001", "John Smith", email: "john.smith@example.com", phone: "+15551231234", rank: 1),
                                                              Self.hit("C00000002", "Joan Smyth", email: "joan@example.org", phone: "+15559876543", rank: 2)],
                                        milliseconds: 2.5))])
        let screen = F.screen(s)
        #expect(screen.lines[2].hasPrefix("╭ Customers (2)  review queue 3 — R"))
        #expect(screen.lines[3].contains("Search › jo") && screen.lines[3].contains("2 results · 2.5 ms"))
        let row = screen.lines.first { $0.contains("C00000001") } ?? ""
        #expect(row.contains("John Smith") && row.contains("j***@example.com") && row.contains("***-***-1234"))
        #expect(!screen.text.contains("john.smith@") && !screen.text.contains("5551231234"))
        #expect(screen.lines.allSatisfy { $0.displayWidth <= 80 })
        #expect(screen.lines[23].contains("Enter open 360"))  // the search box has the keys
        s = F.send(s, [.key(.escape)])
        #expect(s.mode == .normal && s.customers.trimmedQuery == "jo")
        let footer = F.screen(s).lines[23]
        #expect(footer.contains("/ search") && footer.contains("v reveal") && footer.contains("R review"))
        #expect(footer.contains("q quit"), "the way out fits at 80 columns, whatever else is dropped")
        #expect(!footer.contains("a accept"))  // only in the review queue
        s = F.send(s, [.key(.char("?"))])
        let help = ConsoleApp.helpLines(s).map { $0.map(\.text).joined() }
        #expect(help.contains { $0.hasPrefix("v") && $0.contains("reveal the selected customer's PII (audited") })
        #expect(help.contains { $0.hasPrefix("a") && $0.contains("accept the pair") })
        #expect(help.contains { $0.hasPrefix("x") && $0.contains("reject the pair") })
        #expect(help.contains { $0.hasPrefix("R") && $0.contains("review queue") })
        #expect(help.contains { $0.hasPrefix("/") && $0.contains("search by name") })
        #expect(!help.contains { $0.contains("filter the list as you type") })  // `/` searches here
        #expect(help.allSatisfy { $0.displayWidth <= 76 }, "the help modal is 78 columns wide")
    }

    @Test func emptyCatalogSaysToRunTheMatching() {
        var s = F.state(width: 80, height: 24)
        s = F.send(s, [.key(.char("6")), .customers(.summary(customers: 0, reviewPairs: 0))])
        #expect(F.screen(s).text.contains("No customers yet: run `steward run` (or press r)"))
        s = F.send(s, [.key(.char("R")), .customers(.review([]))])
        #expect(F.screen(s).text.contains("No matching pass yet: run `steward run`"))
    }

    @Test func aFinishedRunRereadsWhatThePaneShowsAndAClickFocusesTheBox() {
        var s = F.send(F.state(), [.key(.char("6")), .customers(.summary(customers: 2, reviewPairs: 0))])
        var snap = F.snapshot
        // The same runs again: nothing to re-read.
        #expect(ConsoleApp.update(s, .snapshotLoaded(snap)).1.isEmpty)
        snap.runs.insert(F.run(4), at: 0)
        #expect(ConsoleApp.update(s, .snapshotLoaded(snap)).1 == [.customers(.summary)])
        // A click on the search box gives it the keys.
        let box = CustomersPane.layout(s.bodyArea, view: .search).searchBox
        s = F.send(s, [.mouse(MouseEvent(kind: .click, x: box.x + 3, y: box.y))])
        #expect(s.mode == .search)
    }

    // MARK: on a matched demo

    /// One matched demo for the suite (matching takes seconds in a debug build).
    nonisolated static let demo: Result<TempProject, any Error> = Result {
        let p = try IdentityPipelineTests.demo(300)
        _ = try IdentityPipelineTests.run(p)
        return p
    }

    struct Subject: Sendable { var id: String; var first: String; var last: String; var email: String; var phone: String }

    /// A customer with a US phone, an email, a long last name and several source records.
    static func subject(_ p: TempProject) throws -> Subject {
        let row = try #require(try p.catalog().pool.read { db in
            try Row.fetchOne(db, sql: """
                SELECT g.customer_id, g.first_name, g.last_name, g.email, g.phone FROM golden_customer g
                WHERE g.phone LIKE '+1%' AND g.email IS NOT NULL AND length(g.last_name) >= 6 AND g.first_name IS NOT NULL
                  AND (SELECT COUNT(*) FROM identity_member m WHERE m.customer_id = g.customer_id) >= 2
                ORDER BY g.customer_id LIMIT 1
                """)
        })
        return Subject(id: row[0], first: row[1], last: row[2], email: row[3], phone: row[4])
    }

    static func session(_ p: TempProject, width: Int = 100, height: Int = 30, readOnly: Bool = false) async throws -> (ConsoleSession, TestBackend) {
        let config = try p.config()
        var options = ConsoleOptions(projectName: "demo", readOnly: readOnly)
        options.matchThreshold = config.matching.threshold
        let backend = TestBackend(width: width, height: height)
        let session = try ConsoleSession(options: options, catalogURL: config.catalogURL, runner: nil, environment: [:])
        session.send(.resize(width: width, height: height), backend: backend)
        session.send(.tick(Date()), backend: backend)
        await session.waitForMessages(timeout: 300, backend: backend)
        return (session, backend)
    }

    func keys(_ session: ConsoleSession, _ backend: TestBackend, _ keys: [Key]) async {
        for k in keys { session.send(.key(k), backend: backend) }
        // Until every answer is in (and at once when nothing was asked).
        let deadline = Date().addingTimeInterval(60)
        while (session.state.loading || !session.state.customers.inFlight.isEmpty) && Date() < deadline {
            await session.waitForMessages(timeout: 1, backend: backend)
        }
        var buffer = ScreenBuffer(width: backend.size.width, height: backend.size.height)
        ConsoleApp.render(session.state, into: &buffer)
        backend.draw(buffer)
    }

    func text(_ s: String) -> [Key] { s.map { .char($0) } }

    /// A synchronous read (inside async tests GRDB would pick its async overload).
    nonisolated static func read<T>(_ p: TempProject, _ body: (Database) throws -> T) throws -> T {
        try p.catalog().pool.read(body)
    }

    static func lookups(_ p: TempProject) throws -> Int {
        try p.scalar("SELECT COUNT(*) FROM customer_lookup_timing") ?? 0
    }

    @Test func searchByMisspeltNameAndPhoneThenOpenThe360() async throws {
        let p = try await offPool { try Self.demo.get() }
        let who = try Self.subject(p)
        let (session, backend) = try await Self.session(p)
        let before = try Self.lookups(p)
        var last = Array(who.last)
        last.swapAt(2, 3)
        let misspelt = "\(who.first) \(String(last))"
        await keys(session, backend, [.char("6"), .char("/")] + text(misspelt))
        #expect(session.state.customers.results?.query == misspelt)
        // Every lookup is timed for the query-performance KPI; typing never queued stale ones.
        let lookups = try Self.lookups(p) - before
        #expect(lookups >= 1 && lookups <= 3, "\(lookups) lookups for \(misspelt.count) keys")
        var row = backend.lines.first { $0.contains(who.id) }
        #expect(row != nil, "\(misspelt)\n\(backend.text)")
        #expect(row?.contains(Mask.email(who.email)!) == true && row?.contains("***-***-" + who.phone.suffix(4)) == true)
        #expect(!backend.text.contains(who.email) && !backend.text.contains(who.phone))

        // The same person by phone written another way: (555) 123-4567.
        let d = who.phone.dropFirst(2)
        let written = "(\(d.prefix(3))) \(d.dropFirst(3).prefix(3))-\(d.suffix(4))"
        await keys(session, backend, [.ctrl("u")] + text(written))
        row = backend.lines.first { $0.contains(who.id) }
        #expect(row != nil, "\(written)\n\(backend.text)")
        let index = try #require(session.state.customers.hits.firstIndex { $0.customerId == who.id })
        await keys(session, backend, Array(repeating: .down, count: index))
        await keys(session, backend, [.enter])
        #expect(session.state.mode == .normal && session.state.customers.view == .customer)
        #expect(backend.lines[2].hasPrefix("╭ Customer \(who.id) \(who.first) \(who.last)"))
        #expect(backend.text.contains("[Profile]") && backend.text.contains("◌ PII masked — v reveals (audited)"))
        #expect(backend.lines.contains { $0.contains("email") && $0.contains(Mask.email(who.email)!) })
        #expect(!backend.text.contains(who.email) && !backend.text.contains(who.phone))

        await keys(session, backend, [.right])
        #expect(backend.text.contains("[Sources "))
        let members = try Self.read(p) { try Customer360.load($0, id: who.id)! }.sources
        #expect(members.allSatisfy { m in backend.lines.contains { $0.contains(m.source) && $0.contains(m.recordId) } })
        await keys(session, backend, [.right])
        #expect(backend.text.contains("[History ") && backend.text.contains("current"))
        await keys(session, backend, [.right])
        #expect(backend.text.contains("[Activity]") && backend.text.contains("Orders"))
        // The facts pass scored every customer: a segment (and a churn risk for buyers), never "not scored".
        #expect(backend.lines.contains { $0.contains("Segment") && $0.contains("RFM") })
        #expect(!backend.text.contains("not scored yet"))
        await keys(session, backend, [.right])
        #expect(backend.text.contains("[Explain "))
        // The waterfall of the first pair: the prior, each comparison's level and weight, the probability.
        #expect(backend.text.contains("λ from EM"))
        #expect(backend.lines.contains { $0.contains("first_name") && $0.contains("exact") || $0.contains("first_name") && $0.contains("nickname") || $0.contains("first_name") && $0.contains("similar") })
        #expect(backend.text.contains("→ probability") && backend.text.contains("now: same customer \(who.id)"))
        #expect(!backend.text.contains(who.email))
        // Moving the selection explains the next pair.
        if members.count > 2 {
            let first = session.state.customers.explanation?.value.b
            await keys(session, backend, [.down])
            #expect(session.state.customers.explanation?.value.b != first)
        }
        await keys(session, backend, [.escape])
        #expect(session.state.customers.view == .search)
    }

    @Test func explainCommandDrawsTheWaterfallMaskedUnlessRevealed() async throws {
        let p = try await offPool { try Self.demo.get() }
        let who = try Self.subject(p)
        let refs = try Self.read(p) { try Customer360.load($0, id: who.id)! }.sources.prefix(2).map { "\($0.source):\($0.recordId)" }
        let dir = p.dir.path
        let (text, json, revealed) = try await offPool { () -> (StewardBinary.Result, StewardBinary.Result, StewardBinary.Result) in
            (try StewardBinary.run(["explain", refs[0], refs[1], "--project", dir]),
             try StewardBinary.run(["explain", refs[0], refs[1], "--json", "--project", dir]),
             try StewardBinary.run(["explain", refs[0], refs[1], "--reveal", "--project", dir]))
        }
        #expect(text.status == 0 && json.status == 0 && revealed.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines[0].contains("(PII masked; --reveal shows it, audited)"))
        #expect(lines.contains { $0.contains("prior") && $0.contains("λ from EM") })
        for field in ["first_name", "last_name", "email", "phone", "dob", "address", "national_id"] {
            #expect(lines.contains { $0.hasPrefix("  \(field)") }, "\(field)")
        }
        #expect(lines.contains { $0.contains("= match weight") && $0.contains("→ probability") && $0.contains("✓ match") })
        #expect(lines.contains { $0.contains("now: same customer \(who.id)") })
        let raw = try Self.read(p) { db in
            try String.fetchAll(db, sql: "SELECT email FROM staged_person WHERE source || ':' || record_key IN (?, ?) AND email IS NOT NULL",
                                arguments: [refs[0], refs[1]])
        }
        for email in raw { #expect(!text.stdout.contains(email.lowercased()) && revealed.stdout.contains(email.lowercased())) }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["masked"] as? Bool == true)
        let comparisons = try #require(object["comparisons"] as? [[String: Any]])
        let phone = try #require(comparisons.first { ($0["field"] as? String) == "phone" })
        #expect([phone["a"], phone["b"]].allSatisfy { v in (v as? String).map { $0.isEmpty || $0.hasPrefix("***-***-") } == true })
        let audited: Int = try p.scalar("SELECT COUNT(*) FROM audit_event WHERE action = 'reveal' AND subject = 'customer:\(who.id)' AND detail LIKE 'explain --reveal%'") ?? 0
        #expect(audited == 1)
    }

    @Test func revealIsAuditedNamingTheUserAndCustomerAndEndsWhenMovingOn() async throws {
        let p = try await offPool { try Self.demo.get() }
        let who = try Self.subject(p)
        let (session, backend) = try await Self.session(p, width: 120, height: 40)
        await keys(session, backend, [.char("6"), .char("/")] + text(who.id) + [.enter])
        #expect(backend.lines[2].contains("Customer \(who.id)"))
        #expect(!backend.text.contains(who.email))
        let audits = { () throws -> [Row] in
            try p.catalog().pool.read { try Row.fetchAll($0, sql: "SELECT actor, subject, detail FROM audit_event WHERE action = 'reveal' AND subject = ?", arguments: ["customer:\(who.id)"]) }
        }
        let before = try audits().count
        await keys(session, backend, [.char("v")])
        let rows = try audits()
        #expect(rows.count == before + 1)
        #expect(rows.last?["actor"] == Catalog.osUser && rows.last?["detail"] == "console: customer 360")
        #expect(backend.text.contains(who.email) && backend.text.contains(who.phone))
        #expect(backend.text.contains("revealed — audited as \(Catalog.osUser)"))
        // `v` again masks without another audit row; revealing again audits again.
        await keys(session, backend, [.char("v")])
        #expect(!backend.text.contains(who.email))
        #expect(try audits().count == before + 1)
        await keys(session, backend, [.char("v")])
        #expect(backend.text.contains(who.email))
        #expect(try audits().count == before + 2)
        // Leaving the pane masks again.
        await keys(session, backend, [.char("1"), .char("6")])
        #expect(session.state.customers.revealed.isEmpty && !backend.text.contains(who.email))
    }

    @Test func reviewQueueAcceptAndRejectWriteDecisions() async throws {
        let p = try await offPool { try Self.demo.get() }
        let items = try Self.read(p) { try ReviewQueue.items($0) }
        let first = try #require(items.first, "the demo has pairs in the review queue")
        let (session, backend) = try await Self.session(p, width: 80, height: 24)
        await keys(session, backend, [.char("6"), .char("R")])
        #expect(backend.lines[2].hasPrefix("╭ Review queue (\(items.count) pairs)"))
        #expect(backend.text.contains("─ Explain \(first.a) ↔ \(first.b)") && backend.text.contains("→ probability"))
        #expect(backend.lines[23].contains("a accept") && backend.lines[23].contains("x reject"))
        let decision = { () throws -> Row? in
            try p.catalog().pool.read { db in
                try Row.fetchOne(db, sql: """
                    SELECT decision, actor FROM identity_decision WHERE a_source || ':' || a_key IN (?, ?) AND b_source || ':' || b_key IN (?, ?)
                    """, arguments: [first.a, first.b, first.a, first.b])
            }
        }
        await keys(session, backend, [.char("a")])
        #expect(try decision()?["decision"] == "accept")
        #expect(try decision()?["actor"] == Catalog.osUser)
        #expect(session.state.status?.text.contains("applies on the next run") == true)
        #expect(backend.lines[4].contains("✓ accept"))
        await keys(session, backend, [.char("x")])
        #expect(try decision()?["decision"] == "reject")
        let audited: Int = try p.scalar("SELECT COUNT(*) FROM audit_event WHERE action IN ('match.accept', 'match.reject')") ?? 0
        #expect(audited >= 2)
        // Enter opens the 360 of the pair's first customer; Esc returns to the queue.
        await keys(session, backend, [.enter])
        #expect(session.state.customers.view == .customer && backend.lines[2].contains(first.customerA ?? "?"))
        await keys(session, backend, [.escape])
        #expect(session.state.customers.view == .review)

        // Read-only: no decision and no reveal (its audit event would be a write); lookups untimed.
        let (ro, roBackend) = try await Self.session(p, width: 80, height: 24, readOnly: true)
        await keys(ro, roBackend, [.char("6"), .char("R"), .char("a")])
        #expect(try decision()?["decision"] == "reject")
        #expect(ro.state.status?.text.contains("read-only") == true)
        let reveals: Int = try p.scalar("SELECT COUNT(*) FROM audit_event WHERE action = 'reveal'") ?? 0
        let lookups = try Self.lookups(p)
        await keys(ro, roBackend, [.char("R"), .char("/")] + text(first.customerA ?? "C0") + [.enter, .char("v")])
        #expect(ro.state.customers.view == .customer && ro.state.customers.revealed.isEmpty)
        #expect(ro.state.status?.text.contains("read-only: revealing is disabled") == true)
        #expect(try p.scalar("SELECT COUNT(*) FROM audit_event WHERE action = 'reveal'") ?? 0 == reveals)
        #expect(try Self.lookups(p) == lookups)
    }
}

/// Its only state is an immutable folder URL.
extension TempProject: @unchecked Sendable {}
