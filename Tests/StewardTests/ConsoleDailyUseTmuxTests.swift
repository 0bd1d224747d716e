import Foundation
import Testing
@testable import StewardCatalog

/// Issue 18 through the built binary in tmux (NO_COLOR, fixed sizes): the first screen's verdict is
/// `steward check`'s, every one of 130 quarantined rows is reachable and filterable, and a burst of
/// keys lands where slow typing would.
@Suite("Console for daily use in tmux", .serialized)
struct ConsoleDailyUseTmuxTests {
    /// One source, 130 of whose 140 rows have no email (an error check: all 130 are quarantined).
    static func project() -> TempProject {
        let p = TempProject("daily-use")
        p.write("steward.yml", """
        name: daily
        sources:
          - name: leads
            system: marketing
            entity: person
            format: csv
            path: leads.csv
            key: lead_id
            mapping: {first_name: fname, email: mail}
            checks:
              - not_null: [mail]
        """)
        var csv = "lead_id,fname,mail\n"
        for i in 1...140 { csv += "K\(String(format: "%04d", i)),Ann,\(i <= 130 ? "" : "ann\(i)@example.com")\n" }
        p.write("leads.csv", csv)
        return p
    }

    static func env(_ p: TempProject) -> String {
        "env NO_COLOR=1 XDG_CONFIG_HOME=\(p.dir.path)/config XDG_STATE_HOME=\(p.dir.path)/state"
    }

    @Test func theFirstScreenSaysWhatStewardCheckSaysAtEverySize() async throws {
        try await offPool {
            let p = Self.project()
            let ran = try StewardBinary.run(["run", "--project", p.dir.path])
            #expect(ran.status == 1)
            let check = try StewardBinary.run(["check", "--json", "--project", p.dir.path])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any])
            let problems = try #require(object["problems"] as? [[String: Any]])
            let word = ["ok": "OK", "warn": "WARNING \(problems.count)", "breach": "CRITICAL \(problems.count)"][object["status"] as? String ?? ""]
            let expected = try #require(word)
            #expect(expected != "OK")  // 130 rows held back: never OK
            let tmux = try Tmux(width: 80, height: 24, command: "\(Self.env(p)) \(StewardBinary.url.path) tui --project \(p.dir.path)")
            defer { tmux.kill() }
            var screen = try tmux.waitFor(expected, timeout: 15)
            var lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(lines[0].contains(expected))
            // The source the check names is not "ok", and the status line explains the worst problem.
            #expect(!screen.contains("✓ ok    leads"))
            #expect(lines[22].contains("worst: "))
            for (w, h) in [(120, 40), (200, 60)] {
                tmux.resize(width: w, height: h)
                screen = try tmux.waitFor(String(repeating: "─", count: w - 20))
                lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                #expect(lines[0].contains(expected), "\(w)x\(h)")
            }
            // Wide enough, the table says why the source is not ok.
            #expect(screen.contains(" Why ") && screen.contains("quality 53.6% below 95%"))
            tmux.send("q")
            _ = try tmux.waitFor("EXIT=0")
        }
    }

    @Test func everyQuarantinedRowIsReachableAndABurstOfKeysIsNotDropped() async throws {
        try await offPool {
            let p = Self.project()
            #expect(try StewardBinary.run(["run", "--project", p.dir.path]).status == 1)
            let tmux = try Tmux(width: 120, height: 40, command: "\(Self.env(p)) \(StewardBinary.url.path) tui --project \(p.dir.path)")
            defer { tmux.kill() }
            _ = try tmux.waitFor("Sources (1)", timeout: 15)
            // One burst: open the source, two sections right, two rows down, open the row. Newest
            // first, the third row is line 129 of the file.
            tmux.send("Enter", "Right", "Right", "j", "j", "Enter")
            var screen = try tmux.waitFor("Quarantined row", timeout: 10)
            #expect(screen.contains("leads.csv:129"))
            #expect(screen.contains("Why (1)"))
            #expect(screen.contains("▸ mail     (empty)"))
            tmux.send("Escape")
            screen = try tmux.waitFor("[Quarantine 130]")
            // Past the 50 newest: the last row is the file's line 2.
            tmux.send("End", "Enter")
            screen = try tmux.waitFor("Quarantined row")
            #expect(screen.contains("leads.csv:2 "))
            tmux.send("Escape", "/")
            tmux.sendLiteral("K0007")
            tmux.send("Enter")
            screen = try tmux.waitFor("filter: K0007")
            screen = try tmux.waitFor("leads.csv:8 ")
            #expect(!screen.contains("Nothing matches"))
            tmux.send("q")
            _ = try tmux.waitFor("EXIT=0")
        }
    }
}

/// Issue 18, item 7: `steward --theme NAME` opens the console like `steward tui --theme NAME`.
@Suite("steward --theme in tmux", .serialized)
struct ConsoleThemeOptionTmuxTests {
    @Test func stewardAloneTakesTheThemeAndReadOnlyOptions() async throws {
        try await offPool {
            let p = ConsoleDailyUseTmuxTests.project()
            #expect(try StewardBinary.run(["run", "--project", p.dir.path]).status == 1)
            let tmux = try Tmux(width: 100, height: 30, command: "env XDG_CONFIG_HOME=\(p.dir.path)/config XDG_STATE_HOME=\(p.dir.path)/state "
                                + "\(StewardBinary.url.path) --theme light --read-only --project \(p.dir.path)")
            defer { tmux.kill() }
            let screen = try tmux.waitFor("Sources (1)", timeout: 15)
            #expect(screen.contains("[read-only]"))
            #expect(!screen.contains("Unknown option"))
            tmux.send("q")
            _ = try tmux.waitFor("EXIT=0")
        }
    }

    /// `steward tui --theme light` (the README's other spelling) too; `:theme nosuch` names the themes
    /// to choose from and never the folder the binary was compiled in.
    @Test func tuiTakesTheThemeAndAnUnknownThemeNamesTheChoices() async throws {
        try await offPool {
            let p = ConsoleDailyUseTmuxTests.project()
            // In colour whatever the test runner's environment says (NO_COLOR would make every theme monochrome).
            let tmux = try Tmux(width: 160, height: 30, command: "env -u NO_COLOR XDG_CONFIG_HOME=\(p.dir.path)/config XDG_STATE_HOME=\(p.dir.path)/state "
                                + "\(StewardBinary.url.path) tui --theme light --project \(p.dir.path)")
            defer { tmux.kill() }
            _ = try tmux.waitFor("Sources (1)", timeout: 15)
            // The light theme's header background (#d7d7ff, colour 189 of 256), not the dark one's.
            let header = tmux.capture(escapes: true).split(separator: "\n").first.map(String.init) ?? ""
            #expect(header.contains("48;5;189"), "\(header)")
            tmux.send(":"); tmux.sendLiteral("theme nosuch"); tmux.send("Enter")
            let screen = try tmux.waitFor("theme 'nosuch' not found; themes: ")
            let line = screen.split(separator: "\n").first { $0.contains("theme 'nosuch'") }.map(String.init) ?? ""
            #expect(line.contains("dark") && line.contains("light") && line.contains("monochrome"), "\(line)")
            #expect(!line.contains(ConsoleTmuxTests.root.path) && !line.contains("Sources/"), "\(line)")
            tmux.send(":"); tmux.sendLiteral("theme dark"); tmux.send("Enter")
            _ = try tmux.waitFor("theme dark")
            tmux.send("q")
            _ = try tmux.waitFor("EXIT=0")
        }
    }
}
