import Foundation
import StewardCatalog
import StewardMetrics

/// The answer to "is anything wrong, and what", from the same `HealthCheck.report` that `steward check`
/// prints (never a second copy of its rules): the header shows it, the Sources pane sorts and explains by it.
public enum Verdict {
    /// `OK`, `WARNING n`, `CRITICAL n`, `UNKNOWN`: the words of the monitoring-plugin convention.
    public static func word(_ report: HealthReport?) -> String {
        guard let report else { return "UNKNOWN" }
        switch report.status {
        case .ok: return "OK"
        case .warn: return "WARNING \(report.problems.count)"
        case .breach: return "CRITICAL \(report.problems.count)"
        case .unknown: return "UNKNOWN"
        }
    }

    public static func mark(_ state: HealthState?) -> String {
        switch state {
        case .ok: return "✓"
        case .warn: return "▲"
        case .breach: return "✗"
        case .unknown, nil: return "?"
        }
    }

    /// The problem to read first: the most severe, the first of those in the check's own order.
    public static func topProblem(_ report: HealthReport?) -> HealthProblem? {
        guard let report, let worst = report.problems.map(\.severity).max() else { return nil }
        return report.problems.first { $0.severity == worst }
    }

    /// `✗ CRITICAL 13 · Customer match rate: KPI breached: …` (the problem's subject, then its message).
    public static func line(_ report: HealthReport?, theme: Theme, notEvaluated: String? = nil) -> Line {
        let style = Self.style(report?.status, theme: theme)
        var line: Line = [Span(" \(mark(report?.status)) \(word(report)) ", style.with(.bold))]
        if let top = topProblem(report) {
            line += [Span(" \(top.subject): ", theme.header.with(.bold)), Span(top.message, theme.header)]
        } else if report == nil, let notEvaluated {
            line += [Span(" \(notEvaluated)", theme.header)]
        }
        return line
    }

    /// While the first verdict is computed: says so, and claims nothing about the catalog.
    public static func checkingLine(theme: Theme) -> Line {
        [Span(" … CHECKING ", style(nil, theme: theme).with(.bold)), Span(" running steward check on the catalog…", theme.header)]
    }

    /// Reverse video in the status's colour, so the word stands out with or without colour.
    static func style(_ state: HealthState?, theme: Theme) -> Style {
        let word: String
        switch state {
        case .ok: word = "ok"
        case .warn: word = "warn"
        case .breach: word = "error"
        case .unknown, nil: word = "never"
        }
        return theme.status(word).with(.reverse)
    }

    /// The sources as the check judges them: a source the check names a problem about is never shown
    /// healthier than that problem (failing checks, unreadable rows, a breached freshness), and its
    /// reason says why, with how many more problems it has.
    public static func sources(_ sources: [SourceOverview], report: HealthReport?) -> [SourceOverview] {
        guard let report else { return sources }
        return sources.map { s in
            let problems = report.problems.filter { $0.subject == s.name }
            guard let worst = problems.max(by: { $0.severity < $1.severity }),
                  let first = problems.first(where: { $0.severity == worst.severity }) else { return s }
            var out = s
            let judged: SourceHealth = worst.severity == .breach ? .error : .warn
            if rank(judged) < rank(s.status) {
                out.status = judged
                out.statusReason = first.message
            }
            if problems.count > 1 { out.statusReason += " (+\(problems.count - 1) more: steward check)" }
            return out
        }
    }

    /// Worst first: the order `s` starts from in the Sources pane.
    static func rank(_ h: SourceHealth) -> Int {
        switch h {
        case .error: return 0
        case .stale: return 1
        case .warn: return 2
        case .running: return 3
        case .never: return 4
        case .ok: return 5
        }
    }
}
