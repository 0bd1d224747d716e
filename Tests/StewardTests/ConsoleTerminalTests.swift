import Foundation
import Testing
import StewardConfig
@testable import StewardConsole

@Suite("Console terminal layer")
struct ConsoleTerminalTests {
    @Test func displayWidthOfCJKAccentsAndMarks() {
        #expect("名前".displayWidth == 4)
        #expect("東京_顧客".displayWidth == 9)
        #expect("Zoë".displayWidth == 3)
        #expect("e\u{301}".displayWidth == 1) // e + combining acute: one grapheme, one column
        #expect("José Müller".displayWidth == 11)
        #expect("✓ ✗ ● ▲ ○".displayWidth == 9)
        #expect("▁▂▃▄▅▆▇█".displayWidth == 8)
        #expect("😀".displayWidth == 2)
        #expect("ＡＢ".displayWidth == 4) // fullwidth Latin
    }

    @Test func truncationAndPaddingCountColumns() {
        #expect("東京顧客".truncated(to: 5) == "東京…")
        #expect("東京顧客".padded(to: 10) == "東京顧客  ")
        #expect("abc".padded(to: 5, alignment: .right) == "  abc")
        #expect("abcdef".truncated(to: 4) == "abc…")
    }

    @Test func wideCharactersTakeTwoCellsAndReadBackOnce() {
        var buffer = ScreenBuffer(width: 10, height: 1)
        let used = buffer.write("a名b", x: 0, y: 0, style: .plain)
        #expect(used == 4)
        #expect(buffer[1, 0].symbol == "名")
        #expect(buffer[2, 0].isContinuation)
        #expect(buffer[3, 0].symbol == "b")
        #expect(buffer.lines[0] == "a名b      ")
    }

    @Test func overwritingHalfAWideCharacterBlanksTheOtherHalf() {
        var buffer = ScreenBuffer(width: 6, height: 1)
        buffer.write("名前", x: 0, y: 0, style: .plain)
        buffer.write("x", x: 1, y: 0, style: .plain)
        #expect(buffer.lines[0] == " x前  ")
    }

    @Test func wideCharacterAtTheEdgeBecomesASpace() {
        var buffer = ScreenBuffer(width: 3, height: 1)
        buffer.write("ab名", x: 0, y: 0, style: .plain)
        #expect(buffer.lines[0] == "ab ")
    }

    @Test func combiningMarksStayWithTheirBase() {
        var buffer = ScreenBuffer(width: 4, height: 1)
        buffer.write("e\u{301}x", x: 0, y: 0, style: .plain)
        #expect(buffer[0, 0].symbol == "e\u{301}")
        #expect(buffer[1, 0].symbol == "x")
    }

    @MainActor @Test func diffWritesOnlyChangedCells() {
        let backend = TestBackend(width: 20, height: 5)
        var buffer = ScreenBuffer(width: 20, height: 5)
        buffer.write("hello", x: 0, y: 0, style: .plain)
        backend.draw(buffer)
        #expect(backend.lastWrites.count == 100) // first frame: everything
        buffer.write("J", x: 0, y: 0, style: .plain)
        buffer.write("!", x: 5, y: 4, style: .plain)
        backend.draw(buffer)
        #expect(backend.lastWrites.map { "\($0.x),\($0.y)" } == ["0,0", "5,4"])
        backend.draw(buffer)
        #expect(backend.lastWrites.isEmpty)
        buffer.write("J", x: 0, y: 0, style: Style(fg: .ansi(1)))
        backend.draw(buffer)
        #expect(backend.lastWrites.count == 1) // a colour change alone is a change
        #expect(backend.lines[0] == "Jello")
    }

    @Test func layoutSplitsByFixedPercentageAndFill() {
        let area = Rect(x: 0, y: 0, width: 100, height: 30)
        let rows = Layout.rows(area, [.fixed(1), .fill(), .fixed(1)])
        #expect(rows.map(\.height) == [1, 28, 1])
        #expect(rows.map(\.y) == [0, 1, 29])
        let cols = Layout.columns(area, [.percentage(25), .fill(1), .fill(3)])
        #expect(cols.map(\.width) == [25, 18, 57])
        #expect(cols.map(\.width).reduce(0, +) == 100)
        let spaced = Layout.columns(Rect(x: 2, y: 0, width: 20, height: 1), [.fixed(5), .fill()], spacing: 1)
        #expect(spaced.map(\.x) == [2, 8])
        #expect(spaced.map(\.width) == [5, 14])
        // Overflowing fixed parts shrink from the end and never go negative.
        let tight = Layout.rows(Rect(x: 0, y: 0, width: 1, height: 3), [.fixed(2), .fixed(2), .fill()])
        #expect(tight.map(\.height) == [2, 1, 0])
    }

    @Test func keySpecsParse() {
        #expect(Key(spec: "x") == .char("x"))
        #expect(Key(spec: "G") == .char("G"))
        #expect(Key(spec: "ctrl-r") == .ctrl("r"))
        #expect(Key(spec: "F5") == .function(5))
        #expect(Key(spec: "shift-tab") == .backTab)
        #expect(Key(spec: "pgdn") == .pageDown)
        #expect(Key(spec: "space") == .char(" "))
        #expect(Key(spec: "esc") == .escape)
        #expect(Key(spec: "ctrl-") == nil)
        #expect(Key(spec: "hyper-x") == nil)
    }

    @Test func coloursMapToNearestPaletteEntries() {
        #expect(Color(spec: "#ff0000")?.palette256 == 196)
        #expect(Color(spec: "#ff0000")?.palette8 == 1)
        #expect(Color(spec: "#808080")?.palette256 == 244)
        #expect(Color(spec: "#5fafd7")?.palette256 == 74)
        #expect(Color(spec: "#1c1c1c")?.palette8 == 0)
        #expect(Color(spec: "bright-cyan") == .ansi(14))
        #expect(Color(spec: "236") == .indexed(236))
        #expect(Color(spec: "default") == .default)
        #expect(Color(spec: "#zzzzzz") == nil)
    }

    @Test func sparklineAndGauge() {
        #expect(Sparkline.text([0, 1, 2, 4, 8], width: 10) == "▁▂▃▅█")
        #expect(Sparkline.text([1, 2, 3], width: 2) == "▆█")
        #expect(Sparkline.text([0.90, 0.96, 1.0], width: 5, relative: true) == "▁▅█")
        var buffer = ScreenBuffer(width: 20, height: 1)
        Gauge(ratio: 0.5, label: "", filled: .plain, empty: .plain, text: .plain).render(buffer.area, into: &buffer)
        #expect(buffer.lines[0] == "████████░░░░░░░░ 50%")
    }

    @Test func textBlockWrapsAtSpacesAndBreaksLongWords() {
        let wrapped = TextBlock.wrap([[Span("the quick brown fox jumps")], [Span("abcdefghijkl")]], width: 10)
        #expect(wrapped.map(\.plainText) == ["the quick", "brown fox", "jumps", "abcdefghij", "kl"])
        let cjk = TextBlock.wrap([[Span("東京都 千代田区")]], width: 6)
        #expect(cjk.map(\.plainText) == ["東京都", "千代田", "区"])
    }

    @Test func blockDrawsUnicodeBoxNeverACS() {
        var buffer = ScreenBuffer(width: 12, height: 3)
        Block(title: "Hi", style: .plain, titleStyle: .plain).render(buffer.area, into: &buffer)
        #expect(buffer.lines == ["╭ Hi ──────╮", "│          │", "╰──────────╯"])
    }

    @Test func inputLineEdits() {
        var line = InputLine(text: "run crm")
        line.handle(.backspace)
        line.handle(.home)
        line.handle(.char(":"))
        #expect(line.text == ":run cr")
        line.handle(.end)
        line.handle(.ctrl("w"))
        #expect(line.text == ":run ")
        line.handle(.ctrl("u"))
        #expect(line.text == "")
    }

    /// Text whose columns are unknown is not guessed at: none of it is shown (PIIPolicyTests covers columns).
    @Test func piiIsMasked() {
        #expect(PIIPolicy.maskFreeText("jane.doe@example.com") == "*** (20 characters, not shown)")
        #expect(!PIIPolicy.maskFreeText("C-1017,Jane,jane@ex.org,0612345678").contains("Jane"))
        #expect(PIIPolicy.maskFreeText("") == "")
    }
}
