/// The `:` command line: parsing and tab completion.
public enum ConsoleCommandLine {
    /// Commands with their argument hints, for completion and help.
    public static let commands: [(name: String, usage: String, help: String)] = [
        ("run", ":run [SOURCE…]", "run the pipeline (all sources, or the named ones)"),
        ("theme", ":theme NAME", "switch the colour theme"),
        ("progress", ":progress", "roadmap progress per phase and month, with the forecast"),
        ("help", ":help", "show the keys and commands"),
        ("quit", ":quit", "quit the console (also :q)"),
    ]

    public enum Parsed: Equatable {
        case run([String])
        case theme(String?)
        case help
        case quit
        case progress
        case empty
        case unknown(String)
    }

    public static func parse(_ text: String) -> Parsed {
        let words = text.split(separator: " ").map(String.init)
        guard let first = words.first else { return .empty }
        switch first {
        case "run", "r": return .run(Array(words.dropFirst()))
        case "theme": return .theme(words.dropFirst().first)
        case "help", "h", "?": return .help
        case "quit", "q", "q!", "exit": return .quit
        case "progress", "p": return .progress
        default: return .unknown(first)
        }
    }

    /// Full replacement texts for the command line, given what is typed so far.
    ///
    /// `ru` → `run`; `run c` → `run crm_contacts`, `run customers_db`; `theme l` → `theme light`.
    public static func completions(for text: String, sources: [String], themes: [String]) -> [String] {
        let endsWithSpace = text.hasSuffix(" ")
        var words = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        if words.isEmpty { return commands.map(\.name) }
        if words.count == 1 && !endsWithSpace {
            return commands.map(\.name).filter { $0.hasPrefix(words[0]) }
        }
        let prefix = endsWithSpace ? "" : words.removeLast()
        let head = words.joined(separator: " ") + " "
        switch words[0] {
        case "run":
            let taken = Set(words.dropFirst())
            return sources.filter { !taken.contains($0) && $0.hasPrefix(prefix) }.map { head + $0 }
        case "theme":
            guard words.count == 1 else { return [] }
            return themes.filter { $0.hasPrefix(prefix) }.map { head + $0 }
        default:
            return []
        }
    }
}
