import Foundation
import Testing
@testable import StewardConsole

@Suite("Console key map and themes")
struct ConsoleKeyMapThemeTests {
    @Test func oneTableDrivesDispatch() {
        let map = KeyMap.standard
        #expect(map.action(for: .char("j"), in: .sources) == .down)
        #expect(map.action(for: .down, in: .runs) == .down)
        #expect(map.action(for: .char("2"), in: .sources) == .pane2)
        #expect(map.action(for: .tab, in: .quality) == .nextPane)
        #expect(map.action(for: .ctrl("c"), in: .quality) == .quit)
        #expect(map.action(for: .char("z"), in: .sources) == nil)
    }

    @Test func rebindingMovesTheKeyAndFreesIt() throws {
        let map = try KeyMap.standard.applying(["run": "ctrl-r", "refresh": "F5", "quit": "x F10"])
        #expect(map.action(for: .ctrl("r"), in: .sources) == .run)
        #expect(map.action(for: .char("r"), in: .sources) == nil) // the old key is gone
        #expect(map.action(for: .function(5), in: .sources) == .refresh)
        #expect(map.action(for: .char("x"), in: .runs) == .quit)
        #expect(map.action(for: .function(10), in: .runs) == .quit)
        #expect(map.action(for: .char("q"), in: .runs) == nil)
        // Help reads the same table.
        var state = ConsoleFixtures.state()
        state.keyMap = map
        let help = ConsoleApp.helpLines(state).map(\.plainText)
        #expect(help.contains { $0.hasPrefix("ctrl-r") && $0.contains("run the pipeline") })
        #expect(help.contains { $0.hasPrefix("x F10") && $0.contains("quit") })
    }

    @Test func badKeyConfigNamesTheProblem() {
        #expect(throws: KeyMapError.unknownAction("launch")) { try KeyMap.standard.applying(["launch": "l"]) }
        #expect(throws: KeyMapError.badKey(action: "run", spec: "hyper-r")) { try KeyMap.standard.applying(["run": "hyper-r"]) }
        #expect(KeyMapError.unknownAction("launch").description.contains("copy_id"))
    }

    @Test func helpOverlayListsThisPanesKeysFromTheMap() {
        var state = ConsoleFixtures.state()
        state.pane = .runs
        let help = ConsoleApp.helpLines(state).map(\.plainText)
        #expect(help.first == "Keys in Runs")
        for binding in KeyMap.standard.bindings(for: .runs) where binding.action.paneIndex.map({ $0 < 3 }) ?? true {
            #expect(help.contains { $0.hasPrefix(binding.keyLabel) }, "missing \(binding.action)")
        }
        #expect(!help.contains { $0.contains("go to pane 4") })
        #expect(help.contains { $0.contains(":run [SOURCE…]") })
    }

    @Test func repoThemesAllParse() throws {
        let library = ThemeLibrary.standard(environment: [:])
        let names = library.names()
        for name in ["dark", "light", "high-contrast", "monochrome"] {
            #expect(names.contains(name))
            let theme = try library.load(name)
            #expect(theme.name == name)
        }
        #expect(try library.load("light").selected.bg == Color(spec: "#d7e7ff"))
        #expect(try library.load("monochrome").selected.attributes.contains(.reverse))
    }

    @Test func themeLookupPrefersUserDirectory() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("steward-themes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "name: dark\nstyles:\n  ok: { fg: \"#00ff00\" }\n".write(to: dir.appendingPathComponent("dark.yml"), atomically: true, encoding: .utf8)
        let repo = ThemeLibrary.standard(environment: [:]).directories.last!
        let theme = try ThemeLibrary(directories: [dir, repo]).load("dark")
        #expect(theme.ok.fg == .rgb(0, 255, 0))
        #expect(theme.error == Theme.builtinDark.error) // unset styles fall back
    }

    @Test func invalidThemesExplainThemselves() {
        #expect(throws: ThemeError.self) { try ThemeLibrary.parse("styles:\n  okk: { fg: red }\n", file: "t.yml", defaultName: "t") }
        do {
            _ = try ThemeLibrary.parse("styles:\n  ok: { fg: purpleish }\n", file: "t.yml", defaultName: "t")
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("ok.fg: unknown colour 'purpleish'"))
        }
        #expect(throws: ThemeError.self) { try ThemeLibrary(directories: []).load("solarized") }
    }
}
