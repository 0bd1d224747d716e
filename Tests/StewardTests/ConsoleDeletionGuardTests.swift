import Foundation
import Testing
@testable import StewardCatalog
@testable import StewardConsole

/// The console's side of the deletion guard: a held source is an error with its reason and the
/// command that applies it, and `:run --allow-delete SOURCE` reaches the runner.
@MainActor
@Suite("Console deletion guard")
struct ConsoleDeletionGuardTests {
    typealias F = ConsoleFixtures

    static let heldReason = "deletion guard: this snapshot would delete 940 of 1000 live records (94 %, limit 10 %); "
        + "held until `steward run --allow-delete people`"
    static let warnReason = "p.csv: 3 of 1000 rows unreadable, quarantined (readable check)"

    /// The fixture's sources plus `people` (held, selected) and `events` (a warn step).
    static func state(width: Int = 100, height: Int = 30, theme: Theme = .builtinDark) -> AppState {
        var s = F.state(width: width, height: height)
        s.theme = theme
        var people = F.source("people", status: .error, reason: heldReason)
        people.lastStepStatus = "held"; people.lastStepMessage = heldReason
        var events = F.source("events", system: "web", entity: "event", status: .warn, reason: warnReason)
        events.lastStepStatus = "warn"; events.lastStepMessage = warnReason
        let others = s.snapshot?.sources ?? []
        s.snapshot?.sources = [people, events] + others
        return s
    }

    static func detail(_ overview: SourceOverview) -> SourceDetail {
        SourceDetail(overview: overview, batches: [],
                     steps: [StepInfo(runId: 4, source: "people", status: "held", startedAt: F.now, durationMs: 900, batches: 0,
                                      rowsRead: 60, rowsLoaded: 60, rowsQuarantined: 0, message: heldReason)],
                     quarantine: [], checks: [])
    }

    // MARK: the Sources pane

    @Test func aHeldSourceIsAnErrorWithItsReasonAndTheCommandThatAppliesIt() {
        let lines = F.screen(Self.state()).lines
        #expect(lines[4].hasPrefix("│✗ error   people "))
        #expect(lines[5].hasPrefix("│▲ warn    events "))
        // The reason wraps onto a second line (its figures matter), then the command to apply it.
        #expect(lines[24].hasPrefix("│✗ error people: deletion guard: this snapshot would delete 940 of 1000 live records (94 %, limit"))
        #expect(lines[25].hasPrefix("│10 %); held until `steward run --allow-delete people`"))
        #expect(lines[26].hasPrefix("│▸ apply the held deletions with :run --allow-delete people (audited), or restore the file"))
        #expect(lines[27].hasPrefix("╰"))
        #expect(lines.allSatisfy { $0.displayWidth <= 100 })
    }

    @Test func aWarnSourceShowsItsStepMessageAndNoHeldHint() {
        var state = Self.state()
        state = F.send(state, [.key(.down)])
        let lines = F.screen(state).lines
        #expect(lines[26].hasPrefix("│▲ warn events: p.csv: 3 of 1000 rows unreadable, quarantined (readable check)"))
        #expect(!F.screen(state).text.contains("apply the held deletions"))
        // A short reason keeps the one-line summary: the table keeps its rows.
        #expect(lines[25].hasPrefix("│ "))
    }

    @Test func withoutColourTheHeldSourceStillReadsAsAnError() {
        let backend = F.screen(Self.state(theme: .builtinMonochrome))
        let lines = backend.lines
        #expect(lines[4].hasPrefix("│✗ error   people "))
        #expect(lines[26].contains("▸ apply the held deletions with :run --allow-delete people"))
        // The mark is text; the only styling is an attribute, never a colour.
        let mark = backend.screen[1, 4]
        #expect(mark.style.fg == .default && mark.style.bg == .default)
        #expect(Theme.builtinMonochrome.status("held") == Theme.builtinMonochrome.error)
    }

    @Test func aReadOnlyConsoleNamesTheCLICommandInstead() {
        var state = Self.state()
        state.readOnly = true
        let text = F.screen(state).text
        #expect(text.contains("▸ apply the held deletions with steward run --allow-delete people (this console is read-only)"))
        #expect(!text.contains(":run --allow-delete"))
    }

    @Test func anOpenHeldSourceShowsTheReasonTheHintAndAHeldStep() {
        var state = Self.state()
        state = F.send(state, [.key(.enter)])
        #expect(state.sources.openSource == "people")
        let people = state.snapshot!.sources[0]
        state.snapshot?.sourceDetail = Self.detail(people)
        state.sources.section = .steps
        let lines = F.screen(state).lines
        #expect(lines[3].hasPrefix("│✗ error  deletion guard: this snapshot would delete 940 of 1000 live records (94 %, limit 10 %);"))
        #expect(lines[5].hasPrefix("│▸ apply the held deletions with :run --allow-delete people (audited)"))
        #expect(lines[6].hasPrefix("│Last load "))
        #expect(lines[8].contains("[Steps 1]"))
        // The step itself carries the error mark, not the neutral one.
        #expect(lines[10].hasPrefix("│   #4 ✗ held "))
    }

    // MARK: the command line

    @Test func parsesAllowDeleteAsTheCLIDoes() {
        typealias C = ConsoleCommandLine
        #expect(C.parse("run --allow-delete people") == .run(sources: [], allowDelete: ["people"]))
        #expect(C.parse("run crm --allow-delete=people --allow-delete events") == .run(sources: ["crm"], allowDelete: ["people", "events"]))
        #expect(C.parse("r a b") == .run(sources: ["a", "b"], allowDelete: []))
        guard case .invalid(let missing) = C.parse("run --allow-delete") else { Issue.record("no source accepted"); return }
        #expect(missing.contains("--allow-delete needs a source name"))
        guard case .invalid = C.parse("run --allow-delete --allow-delete people") else { Issue.record("an option taken as a source"); return }
        guard case .invalid = C.parse("run --allow-delete=") else { Issue.record("an empty name accepted"); return }
        guard case .invalid(let unknown) = C.parse("run --force") else { Issue.record("unknown option accepted"); return }
        #expect(unknown.contains("no option --force"))
    }

    @Test func completesTheOptionAndItsSource() throws {
        typealias C = ConsoleCommandLine
        let sources = ["events", "people"]
        #expect(C.completions(for: "run -", sources: sources, themes: []) == ["run --allow-delete"])
        #expect(C.completions(for: "run --x", sources: sources, themes: []) == [])
        #expect(C.completions(for: "run --allow-delete p", sources: sources, themes: []) == ["run --allow-delete people"])
        #expect(C.completions(for: "run --allow-delete people --allow-delete ", sources: sources, themes: [])
                == ["run --allow-delete people --allow-delete events"])
        // A bare Tab after `run ` still lists sources only.
        #expect(C.completions(for: "run ", sources: sources, themes: []) == ["run events", "run people"])
        // Through the console: Tab completes the option and leaves room for the source.
        let s = F.send(Self.state(), [.key(.char(":"))] + F.keys("run --a") + [.key(.tab)])
        #expect(s.input.text == "run --allow-delete ")
        // `?` lists the option under :run, within the overlay's width.
        let help = ConsoleApp.helpLines(F.send(Self.state(), [.key(.char("?"))])).map { $0.map(\.text).joined() }
        let run = try #require(help.firstIndex { $0.hasPrefix(":run [SOURCE…]") })
        #expect(help[run + 1] == "  --allow-delete  SOURCE also applies the deletions held for it (audited)")
        #expect(help.allSatisfy { $0.displayWidth <= 76 })
    }

    // MARK: update

    @Test func runAllowDeleteStartsARunThatMayApplyTheHeldDeletions() {
        let (s, c) = ConsoleApp.update(F.send(Self.state(), [.key(.char(":"))] + F.keys("run --allow-delete people")), .key(.enter))
        #expect(c.contains(.startRun(sources: [], allowDelete: ["people"])))
        #expect(s.run != nil)
        #expect(s.status?.text == "run started; applying the deletions held for people (audited)")
        // A plain run never allows deletions.
        let (_, plain) = ConsoleApp.update(Self.state(), .key(.char("r")))
        #expect(plain.contains(.startRun(sources: [], allowDelete: [])))
    }

    @Test func runAllowDeleteRefusesUnknownSourcesBadWordsAndReadOnly() {
        var (s, c) = ConsoleApp.update(F.send(Self.state(), [.key(.char(":"))] + F.keys("run --allow-delete nosuch")), .key(.enter))
        #expect(s.run == nil && c.isEmpty)
        #expect(s.status?.isError == true && s.status?.text.hasPrefix("unknown source nosuch; known: people, events") == true)
        (s, c) = ConsoleApp.update(F.send(Self.state(), [.key(.char(":"))] + F.keys("run --allow-delete")), .key(.enter))
        #expect(s.run == nil && c.isEmpty && s.status?.isError == true)
        #expect(s.status?.text.contains("needs a source name") == true)
        var readOnly = Self.state()
        readOnly.readOnly = true
        (s, c) = ConsoleApp.update(F.send(readOnly, [.key(.char(":"))] + F.keys("run --allow-delete people")), .key(.enter))
        #expect(s.run == nil && c.isEmpty)
        #expect(s.status?.text.contains("read-only") == true)
    }

    // MARK: session: the allow reaches the runner

    /// Records what the console asked of it.
    final class RecordingRunner: ConsoleRunner, @unchecked Sendable {
        private let lock = NSLock()
        private var calls: [(sources: [String], allowDelete: [String])] = []
        var recorded: [(sources: [String], allowDelete: [String])] { lock.lock(); defer { lock.unlock() }; return calls }

        private func record(_ sources: [String], _ allowDelete: [String]) {
            lock.lock(); calls.append((sources, allowDelete)); lock.unlock()
        }

        func startRun(sources: [String], allowDelete: [String],
                      progress: @escaping @Sendable (RunProgressEvent) -> Void) async throws -> RunOutcome {
            record(sources, allowDelete)
            return RunOutcome(runId: 9, status: "succeeded")
        }
    }

    @Test func theAllowReachesTheRunner() async throws {
        let runner = RecordingRunner()
        let backend = TestBackend(width: 100, height: 30)
        let snapshot = Self.state().snapshot!
        let session = try ConsoleSession(options: ConsoleOptions(projectName: "demo"), catalogPath: ".steward/catalog.sqlite",
                                         loader: { _ in snapshot }, runner: runner, environment: [:])
        session.send(.snapshotLoaded(snapshot), backend: backend)
        session.send(.key(.char(":")), backend: backend)
        for c in "run --allow-delete people" { session.send(.key(.char(c)), backend: backend) }
        session.send(.key(.enter), backend: backend)
        await session.waitForMessages(timeout: 300, backend: backend)
        #expect(session.state.run == nil)
        #expect(runner.recorded.count == 1)
        #expect(runner.recorded.first?.sources == [] && runner.recorded.first?.allowDelete == ["people"])
    }
}
