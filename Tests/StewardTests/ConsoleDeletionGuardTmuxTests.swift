import Foundation
import Testing

/// The deletion guard through the real binary in a real terminal: a truncated full snapshot is
/// held, the console shows it (without colour, so the mark must be text), and
/// `:run --allow-delete people` applies it, as `steward status` then agrees.
@Suite("Console deletion guard in tmux", .serialized)
struct ConsoleDeletionGuardTmuxTests {
    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    func people(_ dir: String) throws -> [String: Any] {
        let status = try StewardBinary.run(["status", "--json", "--project", dir])
        let sources = try #require(try json(status.stdout)["sources"] as? [[String: Any]])
        return try #require(sources.first { $0["name"] as? String == "people" })
    }

    @Test func aHeldSourceIsShownAndAppliedFromTheConsole() async throws {
        try await offPool {
            let project = trustProject()
            let dir = project.dir.path
            let first = try StewardBinary.run(["run", "--project", dir])
            #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
            project.write("p.csv", peopleCSV(60))
            let truncated = try StewardBinary.run(["run", "--project", dir])
            #expect(truncated.status == 1, "\(truncated.stdout)\(truncated.stderr)")
            #expect(try self.people(dir)["status"] as? String == "error")

            let tmux = try Tmux(width: 100, height: 30,
                                command: "env NO_COLOR=1 \(ConsoleTmuxTests.steward.path) tui --project \(dir)")
            defer { tmux.kill() }
            var screen = try tmux.waitFor("Sources (2)", timeout: 15)
            #expect(screen.contains("│✗ error   people "))
            // Worst first: people (error) is the first row, selected.
            screen = try tmux.waitFor("▸ apply the held deletions with :run --allow-delete people")
            #expect(screen.contains("✗ error people: deletion guard: this snapshot would delete 940 of 1000 live records"))
            // NO_COLOR: the error is told by its mark and word alone.
            let escaped = tmux.capture(escapes: true)
            #expect(!escaped.contains("[38;") && !escaped.contains("[48;"))

            tmux.send(":"); tmux.sendLiteral("run --allow-delete people"); tmux.send("Enter")
            screen = try tmux.waitFor("run #3 succeeded", timeout: 60)
            screen = try tmux.waitFor("│✓ ok      people ", timeout: 15)
            #expect(!screen.contains("apply the held deletions"))
            tmux.send("q")
            screen = try tmux.waitFor("TTY sane: icanon echo")
            #expect(screen.contains("EXIT=0"))

            let after = try self.people(dir)
            #expect(after["status"] as? String == "ok")
            #expect(after["rows_staged"] as? Int == 60)
        }
    }
}
