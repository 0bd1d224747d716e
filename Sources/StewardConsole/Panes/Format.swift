import Foundation
import StewardCatalog

/// Text forms shared by the panes. Meaning is never carried by colour alone: every status has a
/// mark and a word.
public enum Format {
    /// `✓ ok`, `▲ warn`, `✗ error`, `● running`, `◷ stale`, `○ never`, styled by the theme.
    public static func health(_ health: SourceHealth, theme: Theme) -> Span {
        Span("\(mark(health.rawValue)) \(health.rawValue)", theme.status(health.rawValue))
    }

    /// A status word with its mark (runs, steps, checks).
    public static func status(_ word: String, theme: Theme) -> Span {
        Span("\(mark(word)) \(word.replacingOccurrences(of: "_", with: " "))", theme.status(word))
    }

    /// The word's mark (one map with the CLI: `StatusLevel`).
    public static func mark(_ word: String) -> String { StatusLevel(word: word).mark }

    /// Compact counts: 987, 12.3k, 4.56M.
    public static func count(_ n: Int) -> String {
        let a = abs(n)
        if a < 10_000 { return "\(n)" }
        if a < 1_000_000 { return String(format: "%.1fk", Double(n) / 1000) }
        return String(format: "%.2fM", Double(n) / 1_000_000)
    }

    public static func percent(_ score: Double?, digits: Int = 1) -> String {
        guard let score, score.isFinite else { return "—" }
        return String(format: "%.\(digits)f%%", score * 100)
    }

    /// `45s ago`, `3h 5m ago`, `never`.
    public static func age(_ date: Date?, now: Date) -> String {
        guard let date else { return "never" }
        return StewardCatalog.Duration.describe(max(0, now.timeIntervalSince(date))) + " ago"
    }

    public static func duration(_ seconds: TimeInterval?) -> String {
        guard let seconds else { return "—" }
        if seconds < 1 { return String(format: "%.0fms", seconds * 1000) }
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        return StewardCatalog.Duration.describe(seconds)
    }

    /// Local `MM-dd HH:mm` for history rows.
    public static func dateTime(_ date: Date?) -> String {
        guard let date else { return "—" }
        let c = Calendar.current.dateComponents([.month, .day, .hour, .minute], from: date)
        return String(format: "%02d-%02d %02d:%02d", c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0)
    }

    /// Local `HH:mm:ss` for the clock and the audit log.
    public static func clock(_ date: Date) -> String {
        let c = Calendar.current.dateComponents([.hour, .minute, .second], from: date)
        return String(format: "%02d:%02d:%02d", c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    /// Case-insensitive match of a filter against any of the texts.
    public static func matches(_ filter: String, _ texts: [String?]) -> Bool {
        let f = filter.trimmingCharacters(in: .whitespaces)
        guard !f.isEmpty else { return true }
        return texts.contains { $0?.range(of: f, options: [.caseInsensitive, .diacriticInsensitive]) != nil }
    }

    /// Score cell against the quality thresholds: `✓ 99.1`, `▲ 93.0`, `✗ 80.2`, `·` when not measured.
    public static func score(_ value: Double?, theme: Theme, warnBelow: Double = QualityPane.okThreshold,
                             errorBelow: Double = QualityPane.errorThreshold) -> Span {
        guard let value else { return Span("·", theme.never) }
        let word = value >= warnBelow ? "ok" : (value >= errorBelow ? "warn" : "error")
        return Span("\(mark(word)) \(String(format: "%.1f", value * 100))", theme.status(word))
    }

    /// A check's score (share of rows passing) marked by the check's outcome, not by the score's band:
    /// a check that failed rows is never ✓ (✗ for an error-severity check, ▲ for a warning), whatever share passed.
    public static func checkScore(_ check: CheckStatus, theme: Theme) -> Span {
        guard let value = check.score else { return Span("·", theme.never) }
        let word = outcome(check)
        return Span("\(mark(word)) \(String(format: "%.1f", value * 100))", theme.status(word))
    }

    /// A check's status word (`pass`, `fail`, `not run`) with the mark of its outcome: a failing
    /// warning-severity check is `▲ fail`, an error-severity one `✗ fail`, as its score shows.
    public static func checkStatus(_ check: CheckStatus, theme: Theme) -> Span {
        let word = check.score == nil ? "not_run" : outcome(check)
        return Span("\(mark(word)) \(check.status.replacingOccurrences(of: "_", with: " "))", theme.status(word))
    }

    private static func outcome(_ check: CheckStatus) -> String {
        check.failed == 0 ? "ok" : (check.severity == "error" ? "error" : "warn")
    }
}

/// The help-and-footer line of a pane: `key description` pairs.
struct KeyHint {
    var key: String
    var text: String
}
