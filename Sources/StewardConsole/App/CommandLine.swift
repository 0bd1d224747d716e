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

    /// `:run`'s one option, spelled as `steward run` spells it.
    public static let allowDeleteOption = "--allow-delete"

    /// The `?` overlay's rows: each command, with `:run`'s option on a row of its own under it
    /// (the overlay is 78 columns wide).
    public static var helpRows: [(usage: String, help: String)] {
        commands.flatMap { command in
            [(command.usage, command.help)]
                + (command.name == "run" ? [("  " + allowDeleteOption, "SOURCE also applies the deletions held for it (audited)")] : [])
        }
    }

    public enum Parsed: Equatable {
        /// Sources to run (all when empty) and sources whose held deletions this run may apply.
        case run(sources: [String], allowDelete: [String])
        case theme(String?)
        case help
        case quit
        case progress
        case empty
        case unknown(String)
        /// The command is known but its words are not: what is wrong, for the status line.
        case invalid(String)
    }

    public static func parse(_ text: String) -> Parsed {
        let words = text.split(separator: " ").map(String.init)
        guard let first = words.first else { return .empty }
        switch first {
        case "run", "r": return parseRun(Array(words.dropFirst()))
        case "theme": return .theme(words.dropFirst().first)
        case "help", "h", "?": return .help
        case "quit", "q", "q!", "exit": return .quit
        case "progress", "p": return .progress
        default: return .unknown(first)
        }
    }

    /// `run [SOURCE…] [--allow-delete SOURCE]…`, also `--allow-delete=SOURCE`, as the CLI takes it.
    static func parseRun(_ words: [String]) -> Parsed {
        var sources: [String] = [], allowDelete: [String] = []
        var index = 0
        while index < words.count {
            let word = words[index]
            index += 1
            if word == allowDeleteOption {
                guard index < words.count, !words[index].hasPrefix("-") else {
                    return .invalid(":run \(allowDeleteOption) needs a source name, e.g. :run \(allowDeleteOption) people")
                }
                allowDelete.append(words[index])
                index += 1
            } else if word.hasPrefix(allowDeleteOption + "=") {
                let name = String(word.dropFirst(allowDeleteOption.count + 1))
                guard !name.isEmpty else {
                    return .invalid(":run \(allowDeleteOption) needs a source name, e.g. :run \(allowDeleteOption) people")
                }
                allowDelete.append(name)
            } else if word.hasPrefix("-") {
                return .invalid(":run has no option \(word) (it takes source names and \(allowDeleteOption) SOURCE)")
            } else {
                sources.append(word)
            }
        }
        return .run(sources: sources, allowDelete: allowDelete)
    }

    /// Full replacement texts for the command line, given what is typed so far.
    ///
    /// `ru` → `run`; `run c` → `run crm_contacts`, `run customers_db`; `run -` → `run --allow-delete`;
    /// `run --allow-delete p` → `run --allow-delete people`; `theme l` → `theme light`.
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
            // The option is offered once a dash is typed, so a bare Tab still lists the sources.
            if prefix.hasPrefix("-") {
                return allowDeleteOption.hasPrefix(prefix) ? [head + allowDeleteOption] : []
            }
            if words.last == allowDeleteOption {
                let allowed = Set(zip(words, words.dropFirst()).filter { $0.0 == allowDeleteOption }.map(\.1))
                return sources.filter { !allowed.contains($0) && $0.hasPrefix(prefix) }.map { head + $0 }
            }
            let taken = Set(words.dropFirst())
            return sources.filter { !taken.contains($0) && $0.hasPrefix(prefix) }.map { head + $0 }
        case "theme":
            guard words.count == 1 else { return [] }
            return themes.filter { $0.hasPrefix(prefix) }.map { head + $0 }
        default:
            return []
        }
    }

    /// Whether a completed command line still wants an argument (Tab then adds the space after it).
    static func takesArgument(_ text: String) -> Bool {
        ["run", "theme"].contains(text) || text.hasSuffix(" " + allowDeleteOption)
    }
}
