/// What a status word stored in the catalog (a run's, a step's, a check's, a source's health) means
/// to a reader, and its mark. One map for the CLI and the console, so that a step `held` by the
/// deletion guard or a run `interrupted` reads the same in `steward run` and in the Runs pane.
public enum StatusLevel: String, Sendable, CaseIterable {
    case ok, warn, error, running, stale, never, neutral

    /// The level of a status word. A load that changed nothing went well (`unchanged` is ✓); a run
    /// cut short (`interrupted`) or a load that kept some rows back (`partial`, `warn`) needs a look
    /// (▲, as `steward check` warns on them); a refused or failed one (`failed`, `held`) is an error
    /// (✗, a breach in `steward check`). A word not listed here is shown without a verdict (○).
    public init(word: String) {
        switch word {
        case "ok", "pass", "passed", "succeeded", "success", "unchanged": self = .ok
        case "warn", "warning", "partial", "interrupted": self = .warn
        case "error", "fail", "failed", "held": self = .error
        case "running": self = .running
        case "stale": self = .stale
        case "never", "not_run", "skipped": self = .never
        default: self = .neutral
        }
    }

    /// The mark beside the word; never colour alone.
    public var mark: String {
        switch self {
        case .ok: return "✓"
        case .warn: return "▲"
        case .error: return "✗"
        case .running: return "●"
        case .stale: return "◷"
        case .never, .neutral: return "○"
        }
    }
}
