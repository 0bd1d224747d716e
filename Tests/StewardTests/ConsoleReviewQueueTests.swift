import Foundation
import Testing
@testable import StewardCatalog
@testable import StewardConsole
@testable import StewardIdentity

/// The review queue tells the truth (issue 18, item 6): why each pair is there, in the Why column,
/// in one line for the selected pair and in `?`; a decision a run applied leaves the queue and the
/// count follows.
@MainActor
@Suite("Console review queue")
struct ConsoleReviewQueueTests {
    typealias F = ConsoleFixtures
    typealias Item = ReviewQueue.Item

    static let items = [
        Item(a: "crm:1", b: "web:2", probability: 0.961, status: "refused", customerA: "C01", customerB: "C02", decision: nil),
        Item(a: "crm:3", b: "web:4", probability: 0.958, status: "refused", customerA: "C03", customerB: "C04", decision: "accept",
             applied: true),
        Item(a: "crm:5", b: "web:6", probability: 0.742, status: "review", customerA: "C05", customerB: "C06", decision: "reject"),
    ]

    @Test func eachPairSaysWhyItIsThere() {
        var s = F.send(F.state(width: 120, height: 40), [.key(.char("6")), .customers(.summary(customers: 6, reviewPairs: 3)),
                                                         .key(.char("R")), .customers(.review(Self.items))])
        var lines = F.screen(s).lines
        #expect(lines[2].contains("Review queue (3 pairs)"))
        let row = { (record: String) in lines.first { $0.contains(record) } ?? "" }
        #expect(row("crm:1").contains("chaining guard") && row("crm:1").contains("? undecided"))
        #expect(row("crm:3").contains("chaining guard") && row("crm:3").contains("▲ accepted, apart"))
        #expect(row("crm:5").contains("review band") && row("crm:5").contains("✗ reject·next run"))
        // The selected pair's reason in words, under the table.
        #expect(lines.contains { $0.contains("Why: scored 0.961, above the match threshold, yet the chaining guard kept the two") })
        s = F.send(s, [.key(.char("j")), .key(.char("j"))])
        lines = F.screen(s).lines
        #expect(lines.contains {
            $0.contains("Why: scored 0.742, inside the review band (below the match threshold): the model was unsure; rejected")
        })
        // `?` explains both words and what a decision does; the help line for R no longer says only "unsure".
        let help = ConsoleApp.helpLines(s).map { $0.map(\.text).joined() }
        #expect(help.contains { $0.hasPrefix("R") && $0.contains("unsure pairs, pairs kept apart") })
        #expect(help.contains { $0.hasPrefix("review band") && $0.contains("between review_low and the match threshold") })
        #expect(help.contains { $0.hasPrefix("chaining guard") && $0.contains("above the threshold, yet kept apart") })
        #expect(help.contains { $0.contains("a reject it applied") } && help.contains { $0.contains("leaves the queue") })
    }

    /// Through the built binary: reject the first pair in the console, run from the console, and the
    /// pair is gone from the queue with the count one less (before, it stayed as `✗ reject·next run`).
    @Test func aRejectTheRunAppliedLeavesTheQueue() async throws {
        let p = TempProject("review-tmux")
        let dir = p.dir.appendingPathComponent("demo")
        let bin = StewardBinary.url.path
        try await offPool {
            let initialised = try StewardBinary.run(["init", dir.path, "--demo", "--customers", "300"])
            guard initialised.status == 0 else { throw TmuxError(message: initialised.stderr) }
            _ = try StewardBinary.run(["run", "--project", dir.path])
        }
        let catalog = try Catalog.open(at: dir.appendingPathComponent(".steward/catalog.sqlite"))
        let before = try await catalog.pool.read { try ReviewQueue.items($0) }
        let first = try #require(before.first, "the demo has pairs in the review queue")
        // The demo's first `steward run` runs twice (it plants the campaign): the console's run is the next one.
        let next = (try await catalog.pool.read { try Int64.fetchOne($0, sql: "SELECT MAX(id) FROM run") } ?? 0) + 1
        let shots = try await offPool { () -> [String] in
            let tmux = try Tmux(width: 120, height: 40,
                                command: "env NO_COLOR=1 XDG_STATE_HOME=\(p.dir.path)/state \(bin) tui --project \(dir.path)")
            defer { tmux.kill() }
            _ = try tmux.waitFor("Sources (", timeout: 30)
            tmux.send("6"); _ = try tmux.waitFor("Customers (", timeout: 10)
            tmux.send("R"); let queue = try tmux.waitFor("Review queue (\(before.count) pairs)", timeout: 20)
            tmux.send("x"); let rejected = try tmux.waitFor("✗ reject·next run", timeout: 10)
            tmux.send("r"); _ = try tmux.waitFor("run #\(next)", timeout: 240)
            let after = try tmux.waitFor("Review queue (\(before.count - 1) pairs)", timeout: 60)
            return [queue, rejected, after]
        }
        #expect(shots[0].contains(first.a))
        #expect(!shots[2].contains("✗ reject·next run"))
        #expect(!shots[2].split(separator: "\n").contains { $0.contains(first.a) && $0.contains(first.b) })
        let count = try await catalog.pool.read { try ReviewQueue.count($0) }
        #expect(count == before.count - 1)
    }
}
