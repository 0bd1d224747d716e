import Foundation
import Testing
@testable import steward

/// `steward run`'s per-source lines on a terminal: ✓ only for a step that went well (loaded or
/// unchanged); a warning, a partial or held load is ▲ and a failure ✗, so no line reads "✓ …: warn".
@Suite struct RunProgressMarksTests {
    @Test func aWarningIsNotTickedAsASuccess() {
        #expect(["success", "unchanged"].map(TerminalProgress.mark) == ["✓", "✓"])
        #expect(["warn", "partial", "held", "interrupted"].map(TerminalProgress.mark) == ["▲", "▲", "▲", "▲"])
        #expect(TerminalProgress.mark("failed") == "✗")
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
