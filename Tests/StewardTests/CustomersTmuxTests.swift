import Foundation
import GRDB
import Testing
@testable import StewardCatalog

/// The built `steward tui` under tmux on a small matched demo: find a person of the demo's truth by
/// a misspelt name and by their phone written another way, open the 360, walk its sub-tabs, reveal
/// (audited), at 100x30, 120x40 and 80x24, without colour.
@Suite("Customers pane under tmux")
struct CustomersTmuxTests {
    struct Person { var record: String; var first: String; var last: String; var phone: String; var customer: String }

    /// A person of truth.csv with several records, whose e-commerce record has a plain two-word
    /// name and a US phone; their customer id from `steward export clusters`.
    static func person(in dir: URL) throws -> Person {
        let truth = try String(contentsOf: dir.appendingPathComponent("truth.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        var recordsOf: [String: Int] = [:]
        for t in truth { recordsOf[t[2], default: 0] += 1 }
        var people: [String: [String: Any]] = [:]
        var phones: [String: Int] = [:]
        for line in try String(contentsOf: dir.appendingPathComponent("sources/ecommerce/customers.ndjson"), encoding: .utf8).split(separator: "\n") {
            guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let id = o["customer_id"] as? String else { continue }
            people[id] = o
            if let p = o["phone"] as? String { phones[String(p.filter(\.isNumber).suffix(10)), default: 0] += 1 }
        }
        let clusters = try StewardBinary.run(["export", "clusters", "--project", dir.path]).stdout
            .split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        for t in truth where t[0] == "ecom_customers" && recordsOf[t[2], default: 0] >= 2 {
            guard let o = people[t[1]], let name = o["name"] as? String, let phone = o["phone"] as? String, phone.hasPrefix("+1 ") else { continue }
            let words = name.split(separator: " ").map(String.init)
            let digits = String(phone.filter(\.isNumber).suffix(10))
            guard words.count == 2, words.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isLetter } }), words[1].count >= 6,
                  digits.count == 10, phones[digits] == 1,
                  let customer = clusters.first(where: { $0.count == 3 && $0[0] == "ecom_customers" && $0[1] == t[1] })?[2] else { continue }
            return Person(record: t[1], first: words[0], last: words[1], phone: digits, customer: customer)
        }
        throw TmuxError(message: "no suitable person in the demo's truth")
    }

    /// Waits for the answer to the whole query (type-ahead shows results of its prefixes first).
    static func results(_ tmux: Tmux, query: String, showing text: String) throws -> String {
        let deadline = Date().addingTimeInterval(10)
        var screen = ""
        while Date() < deadline {
            screen = tmux.capture()
            if screen.contains("Search › \(query)"), !screen.contains("searching…"), screen.contains(" result"), screen.contains(text) { return screen }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw TmuxError(message: "no result “\(text)” for “\(query)”; last screen:\n\(screen)")
    }

    @Test func searchByMisspeltNameAndPhoneThenOpenThe360() async throws {
        let p = TempProject("customers-tmux")
        let dir = p.dir.appendingPathComponent("demo")
        let bin = StewardBinary.url.path
        let (person, runStatus) = try await offPool { () -> (Person, Int32) in
            let initialised = try StewardBinary.run(["init", dir.path, "--demo", "--customers", "300"])
            guard initialised.status == 0 else { throw TmuxError(message: initialised.stderr) }
            // The demo holds deliberately bad rows: the run exits 1 and still matches everyone.
            let status = try StewardBinary.run(["run", "--project", dir.path]).status
            return (try Self.person(in: dir), status)
        }
        #expect(runStatus == 1)
        var last = Array(person.last)
        last.swapAt(2, 3)
        let misspelt = "\(person.first) \(String(last))"
        let phone = "\(person.phone.prefix(3)).\(person.phone.dropFirst(3).prefix(3)).\(person.phone.suffix(4))"
        let shots = try await offPool { () -> [String: String] in
            let tmux = try Tmux(width: 100, height: 30,
                                command: "env NO_COLOR=1 XDG_STATE_HOME=\(p.dir.path)/state \(bin) tui --project \(dir.path)")
            defer { tmux.kill() }
            var shots: [String: String] = [:]
            _ = try tmux.waitFor("Sources (", timeout: 20)
            tmux.send("6"); _ = try tmux.waitFor("Customers (", timeout: 10)
            tmux.send("/"); tmux.sendLiteral(misspelt)
            shots["name"] = try Self.results(tmux, query: misspelt, showing: person.customer)
            tmux.send("C-u"); tmux.sendLiteral(phone)
            shots["phone"] = try Self.results(tmux, query: phone, showing: "***-***-\(person.phone.suffix(4))")
            // Move to the person's row (the ranks are in the first column) and open the 360.
            let row = shots["phone"]!.split(separator: "\n").first { $0.contains(person.customer) }
            let rank = row.flatMap { Int($0.dropFirst().prefix(3).trimmingCharacters(in: .whitespaces)) } ?? 1
            for _ in 1..<max(rank, 1) { tmux.send("Down") }
            tmux.send("Enter")
            shots["profile"] = try tmux.waitFor("[Profile]", timeout: 10)  // drawn once the 360 is loaded
            tmux.send("Right"); shots["sources"] = try tmux.waitFor("[Sources", timeout: 5)
            tmux.send("Right", "Right", "Right"); shots["explain"] = try tmux.waitFor("→ probability", timeout: 20)
            shots["escapes"] = tmux.capture(escapes: true)
            tmux.send("v"); shots["revealed"] = try tmux.waitFor("revealed — audited as", timeout: 10)
            tmux.resize(width: 120, height: 40); shots["wide"] = try tmux.waitFor(String(repeating: "─", count: 100), timeout: 5)
            tmux.resize(width: 80, height: 24); _ = try tmux.waitForAbsence(String(repeating: "─", count: 100), timeout: 5)
            shots["narrow"] = try tmux.waitFor("[Explain", timeout: 5)
            tmux.send("Escape"); shots["back"] = try tmux.waitFor("Search ›", timeout: 5)
            tmux.send("q"); shots["exit"] = try tmux.waitFor("EXIT=", timeout: 10)
            return shots
        }
        #expect(shots["name"]!.contains("Search › \(misspelt)"))
        #expect(shots["phone"]!.contains("Search › \(phone)"))
        let profile = shots["profile"]!
        #expect(profile.contains("Customer \(person.customer)") && profile.contains("◌ PII masked — v reveals (audited)"))
        #expect(profile.contains("***-***-\(person.phone.suffix(4))") && !profile.contains(person.phone))
        #expect(shots["sources"]!.contains(person.record))
        #expect(shots["explain"]!.contains("λ from EM") && shots["explain"]!.contains("match weight"))
        #expect(!shots["escapes"]!.contains("[38;") && !shots["escapes"]!.contains("[48;"))  // NO_COLOR
        #expect(shots["narrow"]!.split(separator: "\n").allSatisfy { $0.count <= 80 })
        #expect(shots["exit"]!.contains("EXIT=0"))
        // The reveal was audited in the catalog, naming the OS user and the customer.
        let catalog = try Catalog.open(at: dir.appendingPathComponent(".steward/catalog.sqlite"), readOnly: true)
        let actor = try await catalog.pool.read { db in
            try String.fetchOne(db, sql: "SELECT actor FROM audit_event WHERE action = 'reveal' AND subject = ?", arguments: ["customer:\(person.customer)"])
        }
        #expect(actor == Catalog.osUser)
    }
}
