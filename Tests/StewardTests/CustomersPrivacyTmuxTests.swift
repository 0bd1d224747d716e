import Foundation
import GRDB
import Testing
@testable import StewardCatalog

/// Issue 16 through the built binary in tmux: a 360 revealed in the console, then `steward forget`
/// from another process (item 7); a 100 kB paste into the search box (item 10).
@Suite("Customers pane under tmux: erasure and long pastes", .serialized)
struct CustomersPrivacyTmuxTests {
    /// One small matched demo for both tests; keys (if the privacy vault wants one) stay inside it.
    nonisolated static let demo: Result<TempProject, any Error> = Result {
        let p = TempProject("customers-privacy-tmux")
        let dir = p.dir.appendingPathComponent("demo").path
        let initialised = try StewardBinary.run(["init", dir, "--demo", "--customers", "150"], env: env(p))
        guard initialised.status == 0 else { throw TmuxError(message: initialised.stderr) }
        // The demo holds deliberately bad rows: the run exits 1 and still matches everyone.
        let ran = try StewardBinary.run(["run", "--project", dir], env: env(p))
        guard ran.status <= 1 else { throw TmuxError(message: ran.stderr) }
        return p
    }

    static func env(_ p: TempProject) -> [String: String] {
        ["XDG_CONFIG_HOME": p.dir.appendingPathComponent("config").path, "XDG_STATE_HOME": p.dir.appendingPathComponent("state").path]
    }

    static func console(_ p: TempProject) throws -> Tmux {
        let vars = env(p).map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
        let dir = p.dir.appendingPathComponent("demo").path
        return try Tmux(width: 100, height: 30, command: "env NO_COLOR=1 \(vars) \(StewardBinary.url.path) tui --project \(dir)")
    }

    struct Person: Sendable { var id: String; var email: String; var phone: String; var dob: String }

    /// A customer of several records whose email, phone and birth date fit the Profile's column,
    /// read with `customer show --reveal` (audited; the test counts reveals from here on).
    static func person(_ p: TempProject) throws -> Person {
        let dir = p.dir.appendingPathComponent("demo").path
        let clusters = try StewardBinary.run(["export", "clusters", "--project", dir], env: env(p)).stdout
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        var records: [String: Int] = [:]
        for c in clusters where c.count == 3 { records[c[2], default: 0] += 1 }
        for id in records.filter({ $0.value >= 2 }).keys.sorted() {
            let shown = try StewardBinary.run(["customer", "show", id, "--reveal", "--json", "--project", dir], env: env(p))
            guard shown.status == 0, let object = try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any],
                  let golden = object["golden"] as? [String: Any], let email = golden["email"] as? String, email.count <= 28,
                  let phone = golden["phone"] as? String, let dob = golden["dob"] as? String, dob.count >= 8 else { continue }
            return Person(id: id, email: email, phone: phone, dob: dob)
        }
        throw TmuxError(message: "no customer with an email, a phone and a birth date in the demo")
    }

    static func reveals(_ p: TempProject, of id: String) throws -> Int {
        let catalog = try Catalog.open(at: p.dir.appendingPathComponent("demo/.steward/catalog.sqlite"), readOnly: true)
        return try catalog.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_event WHERE action = 'reveal' AND subject = ?", arguments: ["customer:\(id)"]) ?? 0
        }
    }

    @Test func a360RevealedBeforeForgetInAnotherShellShowsErasedAndRefusesReveal() async throws {
        let p = try await offPool { try Self.demo.get() }
        let (who, shots, counts) = try await offPool { () -> (Person, [String: String], [String: Int]) in
            let who = try Self.person(p)
            let tmux = try Self.console(p)
            defer { tmux.kill() }
            var shots: [String: String] = [:], counts: [String: Int] = [:]
            _ = try tmux.waitFor("Sources (", timeout: 30)
            tmux.send("6"); _ = try tmux.waitFor("Customers (", timeout: 10)
            tmux.send("/"); tmux.sendLiteral(who.id)
            _ = try tmux.waitFor("1 result", timeout: 10)
            tmux.send("Enter"); _ = try tmux.waitFor("[Profile]", timeout: 10)
            tmux.send("v"); shots["revealed"] = try tmux.waitFor("revealed — audited as", timeout: 10)
            counts["before"] = try Self.reveals(p, of: who.id)
            // Another process erases the person while the console shows their PII.
            let forget = try StewardBinary.run(["forget", who.id, "--yes", "--project", p.dir.appendingPathComponent("demo").path], env: Self.env(p))
            // 1: erased, but the console's reads kept the WAL from being truncated (forget says so).
            guard forget.status <= 1 else { throw TmuxError(message: "forget exited \(forget.status): \(forget.stderr)") }
            shots["erased"] = try tmux.waitFor("Erased on request", timeout: 30)
            tmux.send("v"); shots["refused"] = try tmux.waitFor("not revealed:", timeout: 10)
            // The refusal is written before any audit would be; give a stray write time to land.
            Thread.sleep(forTimeInterval: 1)
            counts["after"] = try Self.reveals(p, of: who.id)
            tmux.send("q"); shots["exit"] = try tmux.waitFor("EXIT=", timeout: 10)
            return (who, shots, counts)
        }
        let revealed = shots["revealed"]!
        #expect(revealed.contains(who.email) && revealed.contains(who.phone) && revealed.contains(who.dob), "\(revealed)")
        let erased = shots["erased"]!
        #expect(erased.contains("Customer \(who.id) erased"), "\(erased)")
        for value in [who.email, who.phone, who.dob, String(who.phone.suffix(4))] {
            #expect(!erased.contains(value), "\(value) still on screen:\n\(erased)")
        }
        let refused = shots["refused"]!
        #expect(refused.contains("not revealed: \(who.id) was erased on request"), "\(refused)")
        #expect(!refused.contains(who.email) && !refused.contains(who.phone))
        #expect(counts["before"]! >= 2 && counts["after"] == counts["before"], "\(counts)")
        #expect(shots["exit"]!.contains("EXIT=0"))
    }

    @Test func aPasteOf100kBIntoTheSearchBoxLeavesTheConsoleResponsive() async throws {
        let p = try await offPool { try Self.demo.get() }
        let shots = try await offPool { () -> [String: String] in
            // 100 kB of words, no line breaks (a newline is Enter).
            let paste = p.dir.appendingPathComponent("paste.txt")
            try Data(String(repeating: "lorem ipsum dolor sit amet ", count: 3_704).utf8).write(to: paste)
            let tmux = try Self.console(p)
            defer { tmux.kill() }
            var shots: [String: String] = [:]
            _ = try tmux.waitFor("Sources (", timeout: 30)
            tmux.send("6"); _ = try tmux.waitFor("Customers (", timeout: 10)
            tmux.send("/"); _ = try tmux.waitFor("Search › ", timeout: 10)
            try tmux.tmux(["load-buffer", paste.path])
            try tmux.tmux(["paste-buffer", "-t", "s"])
            // A liveness bound, not a performance one: before the fix this took hours.
            shots["pasted"] = try tmux.waitFor("dropped", timeout: 60)
            tmux.send("Escape"); tmux.send("1")
            shots["sources"] = try tmux.waitFor("╭ Sources (", timeout: 30)
            tmux.send("q"); shots["exit"] = try tmux.waitFor("EXIT=", timeout: 20)
            return shots
        }
        let pasted = shots["pasted"]!
        #expect(pasted.contains("max 1000 characters:"), "\(pasted)")
        #expect(pasted.split(separator: "\n").allSatisfy { $0.count <= 100 })
        #expect(shots["exit"]!.contains("EXIT=0"))
    }
}
