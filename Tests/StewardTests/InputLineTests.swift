import Foundation
import Testing
@testable import StewardConsole
import StewardDemo

/// Issue 16, item 10: a long paste froze the console, because drawing an input line trimmed the
/// text before the cursor one character at a time (quadratic per key). Drawing now looks only at
/// the characters that fit; a line holds at most `limit` characters and says how many it dropped.
@Suite("Input line: long pastes")
struct InputLineTests {
    /// The old drawing rule, kept as the reference: the least start whose text up to the cursor fits.
    static func reference(_ text: String, cursor: Int, room: Int) -> (visible: String, start: Int, cursorColumn: Int) {
        let before = String(text.prefix(cursor))
        var start = 0
        while before.dropFirst(start).displayWidth > room { start += 1 }
        let visible = String(text.dropFirst(start)).truncated(to: room, ellipsis: false)
        return (visible, start, String(before.dropFirst(start)).displayWidth)
    }

    @Test func theWindowMatchesTheOldRuleOnShortLines() {
        let texts = ["", "a", "hello world", "東京都千代田区丸の内", "ab東c京de", "e\u{301}te\u{301} café", "👩‍👩‍👧 family 👍🏽 ok",
                     String(repeating: "xy東", count: 20)]
        for text in texts {
            for room in [0, 1, 2, 3, 5, 8, 13, 40] {
                for cursor in 0...text.count {
                    let w = InputLine.window(text, cursor: cursor, room: room)
                    let r = Self.reference(text, cursor: cursor, room: room)
                    #expect(w.visible == r.visible && w.start == r.start && w.cursorColumn == r.cursorColumn,
                            "“\(text)” cursor \(cursor) room \(room): \(w) vs \(r)")
                }
            }
        }
    }

    @Test func drawingALongLineLooksOnlyAtWhatFits() {
        // 100,000 characters, the cursor at the end (as after a paste), in the middle and at the start.
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        var long = ""
        for i in 0..<100_000 { long.append(i % 7 == 6 ? " " : letters[i % 26]) }
        let short = String(long.prefix(10_000))
        let room = 80
        var examined: [Int] = []
        for text in [short, long] {
            let end = InputLine.window(text, cursor: text.count, room: room)
            #expect(end.visible == String(text.suffix(room)) && end.start == text.count - room && end.cursorColumn == room)
            let middle = InputLine.window(text, cursor: text.count / 2, room: room)
            #expect(middle.visible == String(text.dropFirst(text.count / 2 - room).prefix(room)) && middle.cursorColumn == room)
            let start = InputLine.window(text, cursor: 0, room: room)
            #expect(start.visible == String(text.prefix(room)) && start.start == 0 && start.cursorColumn == 0)
            examined.append(end.examined + middle.examined + start.examined)
        }
        // The old rule measured the width of every suffix: ~n²/2 character widths, 5·10⁹ at 100k.
        // The window looks at what fits, plus one character where each walk stops.
        #expect(examined[0] == examined[1], "\(examined)")
        #expect(examined[1] <= 3 * (2 * room + 2), "\(examined)")
    }

    @Test func aLineTakesAtMostItsLimitAndSaysHowManyItDropped() {
        var line = InputLine()
        #expect(line.limit == InputLine.defaultLimit && InputLine.defaultLimit == 1_000)
        for i in 0..<1_500 { line.handle(.char(Character(Unicode.Scalar(UInt8(97 + i % 26))))) }
        #expect(line.text.count == 1_000 && line.cursor == 1_000 && line.dropped == 500)
        var buffer = ScreenBuffer(width: 80, height: 1)
        line.render(prompt: "Search › ", buffer.area, style: .plain, into: &buffer)
        let drawn = buffer.lines[0]
        #expect(drawn.hasPrefix("Search › ") && drawn.contains("max 1000 characters: 500 dropped"), "\(drawn)")
        #expect(drawn.displayWidth <= 80)
        // The end of the text stays visible left of the hint, with the cursor in the cell after it.
        let tail = String(line.text.suffix(10))
        #expect(drawn.contains(tail + "  max 1000"), "\(drawn)")
        #expect(buffer.cursor?.x == drawn.range(of: "  max 1000").map { drawn.distance(from: drawn.startIndex, to: $0.lowerBound) })
        // Any other edit makes room and ends the hint; a multi-byte character counts as one.
        line.handle(.backspace)
        #expect(line.dropped == 0 && line.text.count == 999)
        line.handle(.char("東"))
        #expect(line.text.count == 1_000 && line.isFull)
        line.handle(.char("x"))
        #expect(line.text.count == 1_000 && line.dropped == 1 && line.text.last == "東")
        // A line set from longer text keeps its limit.
        #expect(InputLine(text: String(repeating: "a", count: 5_000)).text.count == 1_000)
        #expect(InputLine(text: "abc", limit: 2).text == "ab")
        #expect(!InputLine(text: String(repeating: "é", count: 600)).isFull)  // 1,200 bytes, 600 characters
    }

    @MainActor
    @Test func aPasteInTheSearchBoxStopsAtTheLimitAndEscStillLeaves() {
        typealias F = ConsoleFixtures
        var s = F.send(F.state(), [.key(.char("6")), .customers(.summary(customers: 2, reviewPairs: 0)), .key(.char("/"))])
        let paste = String(repeating: "lorem ipsum dolor sit amet ", count: 400)  // 10,800 characters: ten times the limit
        var searches = 0
        for c in paste {
            let (next, commands) = ConsoleApp.update(s, .key(.char(c)))
            s = next
            searches += commands.count
        }
        #expect(s.customers.query.text.count == 1_000 && s.customers.query.dropped == paste.count - 1_000)
        #expect(searches == 1, "one search in flight at a time")
        #expect(F.screen(s).text.contains("dropped"))
        s = F.send(s, [.key(.escape)])
        #expect(s.mode == .normal)
    }

    /// A paste arrives as thousands of keys at once: the loop takes those waiting before it draws,
    /// instead of drawing a frame per key.
    @MainActor
    @Test func theLoopTakesAWaitingPasteBeforeDrawingAgain() throws {
        let backend = TestBackend(width: 100, height: 30)
        let session = try ConsoleSession(options: ConsoleOptions(projectName: "demo"), catalogURL: nil, runner: nil, environment: [:])
        session.send(.snapshotLoaded(ConsoleFixtures.snapshot), backend: backend)
        backend.input = [.key(.char("6")), .key(.char("/"))] + Array(repeating: InputEvent.key(.char("x")), count: 3_000) + [.key(.escape)]
        session.run(backend: backend, maxIterations: 3)
        #expect(session.state.customers.query.text.count == 1_000 && session.state.customers.query.dropped == 2_000)
        #expect(session.state.mode == .normal && backend.input.isEmpty)
        #expect(backend.frames <= 3, "\(backend.frames) frames")
    }

    /// A roadmap note saved longer than the limit (before lines had one) is edited whole, never cut.
    @MainActor
    @Test func aLongerSavedNoteIsEditedWhole() {
        var s = RoadmapConsoleTests.state()
        let dq = s.snapshot!.roadmap!.document.tasks.first { $0.text == "Implement data quality checks" }!
        let long = String(repeating: "owner: Dana; ", count: 200)  // 2,600 characters
        s.snapshot?.roadmap?.notes[dq.id]?.note = long
        s.roadmap.list.selected = s.roadmap.rows(s.context).firstIndex { r in
            if case .task(let t) = r { return s.snapshot!.roadmap!.document.tasks[t].id == dq.id }
            return false
        }!
        s = ConsoleFixtures.send(s, [.key(.char("n"))])
        #expect(s.mode == .note && s.input.text == long)
        let (_, save) = ConsoleApp.update(s, .key(.enter))
        #expect(save == [.addRoadmapNote(id: dq.id, note: long.trimmingCharacters(in: .whitespaces))])
    }

    /// A burst of keys is applied as one `send(.key)` each would be, for any mix of keys: seeded
    /// random bursts over the keys that switch panes, open boxes, edit, move and leave.
    @MainActor
    @Test func aBurstOfKeysEndsInTheSameStateAsOneKeyAtATime() throws {
        let alphabet: [Key] = [.char("6"), .char("/"), .char("1"), .char("2"), .char("f"), .char("a"), .char("é"), .char("\u{301}"),
                               .char("j"), .char("k"), .escape, .enter, .backspace, .left, .right, .tab, .down, .up, .ctrl("w"), .ctrl("u")]
        var rng = SplitMix64(state: 16)
        for round in 0..<40 {
            let keys = (0..<Int(rng.next() % 60 + 2)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            let backend = TestBackend(width: 100, height: 30)
            let session = try ConsoleSession(options: ConsoleOptions(projectName: "demo"), catalogURL: nil, runner: nil, environment: [:])
            let at = Date()
            session.send(.snapshotLoaded(ConsoleFixtures.snapshot), backend: backend)
            session.send(.tick(at), backend: backend)
            session.sendKeys(keys, backend: backend)
            // Typed one at a time through the same loop (keys that wait for data wait there too).
            let slow = try ConsoleSession(options: ConsoleOptions(projectName: "demo"), catalogURL: nil, runner: nil, environment: [:])
            slow.send(.snapshotLoaded(ConsoleFixtures.snapshot), backend: backend)
            slow.send(.tick(at), backend: backend)
            for key in keys { slow.sendKeys([key], backend: backend) }
            #expect(session.state == slow.state, "round \(round): \(keys)")
            #expect(session.keyQueue.held == slow.keyQueue.held, "round \(round): \(keys)")
        }
    }

    /// A combining mark typed after a letter joins it: the line's count and cursor stay in step.
    @Test func aCombiningMarkJoinsTheCharacterBeforeIt() {
        var line = InputLine(limit: 3)
        for c in ["e", "\u{301}", "a", "b"] { line.handle(.char(Character(c))) }
        #expect(line.text == "\u{e9}ab" && line.characters == 3 && line.cursor == 3 && line.isFull)
        line.handle(.char("c"))
        #expect(line.dropped == 1 && line.text.count == 3)
        line.text = "x"
        #expect(line.characters == 1 && !line.isFull)
    }
}
