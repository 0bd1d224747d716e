import Foundation
import GRDB
import Testing
@testable import StewardCatalog
@testable import StewardConsole
@testable import StewardIdentity

/// Issue 16, item 7: a customer erased by another process (`steward forget`) while the Customers
/// pane shows it. The pane asks after every catalog refresh, drops what it holds of the customer,
/// shows it as erased, and `v` refuses without an audit event. Pure update/render checks first,
/// then a session on a real matched demo erased from outside the console.
@MainActor
@Suite("Customers pane: erasure by another process", .serialized)
struct CustomersErasureConsoleTests {
    typealias F = ConsoleFixtures

    static let john = CustomerSearch.Hit(customerId: "C00000001", name: "John Smith", email: "john.smith@example.com",
                                         phone: "+15551231234", city: "Boston", rank: 1, score: 2)
    static let joan = CustomerSearch.Hit(customerId: "C00000002", name: "Joan Smyth", email: "joan@example.org",
                                         phone: "+15559876543", city: "Denver", rank: 2, score: 1)

    /// The Customers pane with two results, John's PII revealed.
    func revealedList() -> AppState {
        var s = F.send(F.state(), [.key(.char("6")), .customers(.summary(customers: 2, reviewPairs: 0)), .key(.char("/"))] + F.keys("jo")
                       + [.customers(.found(query: "jo", hits: [Self.john, Self.joan], milliseconds: 1)), .key(.escape)])
        let (next, commands) = ConsoleApp.update(s, .key(.char("v")))
        #expect(commands == [.customers(.reveal(["C00000001"], via: "console: search results"))])
        s = F.send(next, [.customers(.revealed(["C00000001"], actor: "tester"))])
        #expect(F.screen(s).text.contains("john.smith@example.com"))
        return s
    }

    @Test func aRefreshAsksAboutTheCustomersShownAndAnErasedOneIsScrubbedFromTheList() {
        var s = revealedList()
        // Every catalog refresh asks which of the customers held were erased meanwhile.
        var (next, commands) = ConsoleApp.update(s, .snapshotLoaded(F.snapshot))
        #expect(commands == [.customers(.erasures(["C00000001", "C00000002"]))])
        s = next
        // Nobody yet: nothing changes; a later refresh asks again.
        (s, commands) = ConsoleApp.update(s, .customers(.erasures(latest: 0, erased: [:])))
        #expect(commands.isEmpty && s.customers.revealed == ["C00000001"])
        (s, commands) = ConsoleApp.update(s, .snapshotLoaded(F.snapshot))
        #expect(commands == [.customers(.erasures(["C00000001", "C00000002"]))])
        // John was erased by another process: the row says so and none of his values stay.
        (s, commands) = ConsoleApp.update(s, .customers(.erasures(latest: 7, erased: ["C00000001": "2026-12-07T03:00:00Z"])))
        #expect(commands == [.customers(.summary)], "the customer count changed")
        let screen = F.screen(s)
        let row = screen.lines.first { $0.contains("C00000001") } ?? ""
        #expect(row.contains("erased"), "\(screen.text)")
        for value in ["John Smith", "john.smith@example.com", "j***@example.com", "5551231234", "***-***-1234", "Boston"] {
            #expect(!screen.text.contains(value), "\(value) still on screen")
        }
        #expect(screen.text.contains("C00000001 erased on request 2026-12-07T03:00:00Z"))
        #expect(s.status?.text == "C00000001 was erased on request (steward forget): nothing of it is shown any more")
        let held = s.customers.results!.hits[0]
        #expect(held.name.isEmpty && held.email == nil && held.phone == nil && held.city == nil && s.customers.revealed.isEmpty)
        // Joan is untouched.
        #expect(screen.lines.contains { $0.contains("Joan Smyth") && $0.contains("j***@example.org") })
        // `v` on John: refused in one line, no reveal asked for (so no audit event).
        (s, commands) = ConsoleApp.update(s, .key(.char("v")))
        #expect(commands.isEmpty)
        #expect(s.status?.text == "not revealed: C00000001 was erased on request (steward forget); there is nothing to reveal")
        #expect(s.status?.isError == true && !F.screen(s).text.contains("john.smith"))
        // Results of the same query arriving later (read before the erasure) are scrubbed on arrival.
        s = F.send(s, [.customers(.found(query: "jo", hits: [Self.john, Self.joan], milliseconds: 1))])
        #expect(!F.screen(s).text.contains("John Smith") && s.customers.results!.hits[0].email == nil)
        // Erased customers are not asked about again.
        (_, commands) = ConsoleApp.update(s, .snapshotLoaded(F.snapshot))
        #expect(commands == [.customers(.erasures(["C00000002"]))])
    }

    @Test func aRevealTheSourceRefusesScrubsTheCustomer() {
        var s = F.send(F.state(), [.key(.char("6")), .customers(.summary(customers: 2, reviewPairs: 0)), .key(.char("/"))] + F.keys("jo")
                       + [.customers(.found(query: "jo", hits: [Self.john, Self.joan], milliseconds: 1)), .key(.escape), .key(.char("v"))])
        // Erased after the last check, before `v`: the source refuses in the audit's own transaction.
        s = F.send(s, [.customers(.revealRefused(erased: ["C00000001": "2026-12-07T03:00:00Z"]))])
        #expect(s.status?.text == "not revealed: C00000001 was erased on request (steward forget); there is nothing to reveal")
        #expect(s.customers.revealed.isEmpty && !F.screen(s).text.contains("John Smith"))
        #expect(s.customers.inFlight.isEmpty)
    }

    @Test func theReviewQueueDropsThePairsOfAnErasedCustomer() {
        let pair = { (a: String, b: String, ca: String, cb: String) in
            ReviewQueue.Item(a: a, b: b, probability: 0.7, status: "review", customerA: ca, customerB: cb, decision: nil)
        }
        var s = F.send(F.state(), [.key(.char("6")), .customers(.summary(customers: 3, reviewPairs: 2)), .key(.char("R")),
                                   .customers(.review([pair("crm:1", "shop:9", "C00000001", "C00000003"),
                                                       pair("crm:2", "shop:8", "C00000002", "C00000002")]))])
        // Only the selected pair's customers are held (the waterfall shows their values).
        var (next, commands) = ConsoleApp.update(s, .snapshotLoaded(F.snapshot))
        #expect(commands.contains(.customers(.erasures(["C00000001", "C00000003"]))), "\(commands)")
        s = F.send(next, [.customers(.erasures(latest: 3, erased: ["C00000001": "2026-12-07T03:00:00Z"]))])
        #expect(s.customers.review?.map(\.a) == ["crm:2"] && s.customers.explanation == nil)
        #expect(!F.screen(s).text.contains("crm:1"))
        (next, commands) = ConsoleApp.update(s, .snapshotLoaded(F.snapshot))
        #expect(commands.contains(.customers(.erasures(["C00000002"]))), "\(commands)")
    }

    @Test func noQuestionWhileThePaneHoldsNoCustomer() {
        // The pane never opened, or nothing shown: no question every two seconds.
        let s = F.send(F.state(), [.key(.char("6")), .customers(.summary(customers: 2, reviewPairs: 0))])
        #expect(ConsoleApp.update(s, .snapshotLoaded(F.snapshot)).1.isEmpty)
    }

    // MARK: on a matched demo, erased from outside the console

    struct Person: Sendable { var id: String; var email: String; var phone: String; var dob: String }

    /// A customer of several records with an email, a phone and a birth date, read as the 360 reads
    /// them (not from the columns, which the privacy vault may hold sealed).
    static func person(_ p: TempProject) throws -> Person {
        try p.catalog().pool.read { db in
            let ids = try String.fetchAll(db, sql: """
                SELECT customer_id FROM identity_member GROUP BY customer_id HAVING COUNT(*) >= 2 ORDER BY customer_id
                """)
            for id in ids {
                guard let c = try Customer360.load(db, id: id), let email = c.golden["email"], let phone = c.golden["phone"],
                      let dob = c.golden["dob"] else { continue }
                return Person(id: id, email: email, phone: phone, dob: dob)
            }
            throw TmuxError(message: "no customer with an email, a phone and a birth date")
        }
    }

    static func reveals(_ p: TempProject, _ id: String) throws -> Int {
        try p.catalog().pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_event WHERE action = 'reveal' AND subject = ?", arguments: ["customer:\(id)"]) ?? 0
        }
    }

    func settle(_ session: ConsoleSession, _ backend: TestBackend) async {
        let deadline = Date().addingTimeInterval(60)
        repeat {
            await session.waitForMessages(timeout: 1, backend: backend)
        } while (session.state.loading || !session.state.customers.inFlight.isEmpty) && Date() < deadline
        var buffer = ScreenBuffer(width: backend.size.width, height: backend.size.height)
        ConsoleApp.render(session.state, into: &buffer)
        backend.draw(buffer)
    }

    @Test func an360OpenWhileAnotherProcessErasesTheCustomerShowsErasedAndRefusesReveal() async throws {
        let p = try await offPool { () -> TempProject in
            let p = try IdentityPipelineTests.demo(120)
            _ = try IdentityPipelineTests.run(p)
            return p
        }
        let who = try Self.person(p)
        let (session, backend) = try await CustomersConsoleTests.session(p, width: 120, height: 40)
        for k in [Key.char("6"), .char("/")] + who.id.map({ Key.char($0) }) + [.enter] { session.send(.key(k), backend: backend) }
        await settle(session, backend)
        #expect(backend.lines[2].contains("Customer \(who.id)"), "\(backend.text)")
        session.send(.key(.char("v")), backend: backend)
        await settle(session, backend)
        #expect(backend.text.contains(who.email) && backend.text.contains(who.phone) && backend.text.contains(who.dob))
        let audited = try Self.reveals(p, who.id)
        #expect(audited >= 1)

        // Another writer erases the customer (a separate catalog connection, as `steward forget` is).
        let config = try p.config()
        let id = who.id
        _ = try await offPool { try Erasure.forget(catalog: try Catalog.open(at: config.catalogURL), config: config, customerId: id) }

        // The next refresh notices: the 360 says erased and holds nothing of the person.
        session.send(.tick(Date().addingTimeInterval(10)), backend: backend)
        await settle(session, backend)
        #expect(session.state.customers.erased[who.id] != nil, "\(backend.text)")
        #expect(backend.lines[2].contains("Customer \(who.id) erased"))
        #expect(backend.text.contains("Erased on request"))
        for value in [who.email, who.phone, who.dob] { #expect(!backend.text.contains(value), "\(value) still on screen") }
        #expect(session.state.customers.customer == nil && session.state.customers.revealed.isEmpty)

        // `v`: one line, no new audit event.
        session.send(.key(.char("v")), backend: backend)
        await settle(session, backend)
        #expect(session.state.status?.text == "not revealed: \(who.id) was erased on request (steward forget); there is nothing to reveal")
        #expect(try Self.reveals(p, who.id) == audited)

        // The source itself refuses, in the audit's transaction, when the pane has not heard yet.
        let source = CustomerSource(url: config.catalogURL, threshold: config.matching.threshold)
        guard case .revealRefused(let erased) = await source.perform(.reveal([who.id], via: "test")) else {
            Issue.record("the source revealed an erased customer"); return
        }
        #expect(erased.keys.sorted() == [who.id])
        guard case .erasedOnLoad(let loadedId, _) = await source.perform(.load(who.id)) else {
            Issue.record("the source loaded an erased customer"); return
        }
        #expect(loadedId == who.id)
        #expect(try Self.reveals(p, who.id) == audited)
    }
}
