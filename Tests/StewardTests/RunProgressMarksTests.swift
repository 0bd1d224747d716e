import Foundation
import Testing
@testable import steward
import StewardConsole

/// `steward run`'s per-source lines on a terminal: ✓ only for a step that went well (loaded or
/// unchanged); a warning, a partial or interrupted load is ▲, and a failed load or one held by the
/// deletion guard (a breach in `steward check`) ✗, so no line reads "✓ …: warn".
@Suite struct RunProgressMarksTests {
    @Test func aWarningIsNotTickedAsASuccess() {
        #expect(["success", "unchanged"].map(TerminalProgress.mark) == ["✓", "✓"])
        #expect(["warn", "partial", "interrupted"].map(TerminalProgress.mark) == ["▲", "▲", "▲"])
        #expect(["failed", "held"].map(TerminalProgress.mark) == ["✗", "✗"])
    }

    /// The CLI and the console mark every status word the pipeline writes the same way (one map).
    @Test func theCLIAndTheConsoleAgreeOnEveryStatusWord() {
        let words = ["success", "unchanged", "warn", "partial", "interrupted", "failed", "held", "running", "pass", "fail", "not_run", "stale", "never"]
        #expect(words.map(TerminalProgress.mark) == words.map(Format.mark))
        #expect(words.map(Format.mark) == ["✓", "✓", "▲", "▲", "▲", "✗", "✗", "●", "✓", "✗", "○", "◷", "○"])
    }
}

/// An unknown option to `steward` itself shows `steward`'s usage, never the hidden `open` command's.
@Suite struct RootUsageTests {
    @Test func anUnknownOptionNamesStewardNotItsHiddenDefault() async throws {
        let result = try await offPool { try StewardBinary.run(["--bogus"]) }
        #expect(result.status == 2)
        #expect(result.stderr.contains("Unknown option '--bogus'") && result.stderr.contains("Usage: steward ["), "\(result.stderr)")
        #expect(!result.stderr.contains("steward open"), "\(result.stderr)")
    }
}
