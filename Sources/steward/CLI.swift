import Foundation
import StewardActivation
import StewardCatalog
import StewardIdentity
import StewardMetrics
import StewardPipeline

enum CLI {
    static func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("steward: \(message)\n".utf8))
        exit(code)
    }

    static func note(_ message: String) {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
    }

    /// A progress bar on stderr when it is a terminal; silent otherwise.
    static func progressReporter() -> ProgressReporter {
        isatty(STDERR_FILENO) != 0 ? TerminalProgress() : SilentProgress()
    }

    static func printJSON(_ value: Any) {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
        print(String(decoding: data, as: UTF8.self))
    }

    static func iso(_ date: Date?) -> Any { date.map(Timestamp.string) ?? NSNull() }
    static func orNull(_ value: Any?) -> Any { value ?? NSNull() }

    static func age(_ date: Date?, now: Date = Date()) -> String {
        guard let date else { return "never" }
        return Duration.describe(now.timeIntervalSince(date)) + " ago"
    }

    static func percent(_ score: Double?) -> String { score.map { String(format: "%.1f%%", $0 * 100) } ?? "–" }

    static func count(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, ch) in s.reversed().enumerated() { if i > 0 && i % 3 == 0 { out.append(",") }; out.append(ch) }
        return String(out.reversed())
    }
}

/// Plain text tables for the CLI: columns padded by display width, numbers right-aligned.
struct TextTable {
    var headers: [String]
    var rows: [[String]] = []
    var rightAligned: Set<Int> = []

    func render() -> String {
        var widths = headers.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: max(widths[i] - cell.count, 0))
                return rightAligned.contains(i) ? pad + cell : cell + pad
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        return ([line(headers), line(widths.map { String(repeating: "─", count: $0) })] + rows.map(line)).joined(separator: "\n")
    }
}

final class TerminalProgress: ProgressReporter, @unchecked Sendable {
    private let lock = NSLock()
    private var lastDraw = Date.distantPast

    func report(_ event: ProgressEvent) {
        lock.lock(); defer { lock.unlock() }
        switch event {
        case .rows(let source, let rows, let rate):
            guard Date().timeIntervalSince(lastDraw) > 0.1 else { return }
            lastDraw = Date()
            draw("\(source): \(CLI.count(rows)) rows  \(CLI.count(Int(rate))) rows/s")
        case .stepStarted(let source):
            draw("\(source): reading…")
        case .stepFinished(let source, let status, let message):
            draw("")
            FileHandle.standardError.write(Data("\(Self.mark(status)) \(source): \(status)\(message.map { " — \($0)" } ?? "")\n".utf8))
        default: break
        }
    }

    /// ✓ only for a step that went well (loaded, or nothing new); a warning, partial or interrupted load
    /// is ▲, a failed or held one ✗: the console's marks (`StatusLevel`).
    static func mark(_ status: String) -> String { StatusLevel(word: status).mark }

    private func draw(_ text: String) {
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
    }
}

/// The work every run does after loading, wherever it is started (CLI, console, first demo use).
enum StandardRun {
    /// - parameter activationNow: when the audiences are materialised (the demo's first run: its calendar's end).
    static func extensions(kpis: KPIEvaluation = KPIEvaluation(), activationNow: Date? = nil) -> [RunExtension] {
        [IdentityResolution(), CustomerFactsStep(), ActivationStep(now: { activationNow ?? Date() }), DestinationSyncStep(), kpis]
    }
}
