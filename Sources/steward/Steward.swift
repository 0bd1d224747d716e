import ArgumentParser
import Foundation
import StewardCatalog
import StewardDemo
import StewardPipeline
import StewardIdentity
import StewardConfig

@main
struct Entry {
    static func main() {
        // The catalog, its -wal/-shm, the log and exports hold customers' PII: nothing this process
        // creates may be readable by another local user, whatever umask the shell had (SQLite and
        // Foundation create files 0644 less the umask). Explicit modes in PrivateFiles cover the rest.
        umask(PrivateFiles.processUmask)
        do {
            var command = try Steward.parseAsRoot()
            try command.run()
        } catch let error as ConfigError {
            CLI.fail(error.description, code: 2)
        } catch let error as CatalogError {
            CLI.fail(error.description, code: 2)
        } catch let error as PipelineError {
            CLI.fail(error.description, code: 2)
        } catch let error as EnvironmentError {
            CLI.fail(error.description, code: 2)
        } catch let error as VaultError {
            CLI.fail(error.description, code: 2)
        } catch let error as VaultKeys.Failure {
            CLI.fail(error.description, code: 2)
        } catch let error as ExitCode {
            exit(error.rawValue)
        } catch let error as NSError where error.domain == NSCocoaErrorDomain || error.domain == NSPOSIXErrorDomain {
            // A file-system problem nothing more specific caught: one sentence, never Foundation's dump.
            let path = (error.userInfo[NSFilePathErrorKey] as? String) ?? (error.userInfo[NSURLErrorKey] as? URL)?.path
            CLI.fail(path.map { "cannot use \($0): \(FileProblem.describe(error, path: $0))" }
                     ?? "file system error: \(FileProblem.describe(error, path: "/"))", code: 2)
        } catch {
            let code = Steward.exitCode(for: error)
            if code == .success { Steward.exit(withError: error) }
            // `open` is the hidden default command: its usage is `steward`'s own, so it is named so.
            let message = Steward.fullMessage(for: error)
                .replacingOccurrences(of: "Usage: steward open ", with: "Usage: steward ")
                .replacingOccurrences(of: "'steward open --help'", with: "'steward --help'")
            // Contract: usage errors exit 2 (ArgumentParser's default would be 64); `check` exits 3
            // (unknown), since its 2 means a breach.
            let usage: Int32 = CommandLine.arguments.dropFirst().first == "check" ? 3 : 2
            CLI.fail(message, code: code == .validationFailure ? usage : code.rawValue)
        }
    }
}

struct Steward: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "steward",
        abstract: "Operations console and pipeline for a customer data platform.",
        discussion: "With no command: the console when stdout is a terminal, else the status table.",
        subcommands: [Open.self, Tui.self, Init.self, Run.self, Status.self, Quality.self, QuarantineCommand.self, Runs.self,
                      RoadmapCommand.self, KPI.self, Check.self,
                      CustomerCommand.self, ExportCommand.self, MatchCommand.self, Explain.self, Forget.self, VaultCommand.self,
                      Serve.self, TokenCommand.self, AudienceCommand.self, SyncCommand.self],
        defaultSubcommand: Open.self)
}

/// `--project DIR`, shared by every command.
struct ProjectOptions: ParsableArguments {
    @Option(name: .long, help: "Project folder (or its steward.yml). Default: nearest steward.yml, else the demo.")
    var project: String?

    /// The project's config; the demo is generated and run on first use. Each use is logged for the
    /// User adoption KPI (`UsageLog`: beside the catalog, never inside it, so reads stay read-only).
    func load(progress: ProgressReporter = CLI.progressReporter()) throws -> ProjectConfig {
        let config = try locateAndLoad(progress: progress)
        let command = CommandLine.arguments.dropFirst().first { !$0.hasPrefix("-") }
        let console = (command == nil || command == "tui") && isatty(STDOUT_FILENO) != 0
        UsageLog.record(catalogURL: config.catalogURL, surface: console ? "console" : "cli")
        return config
    }

    private func locateAndLoad(progress: ProgressReporter) throws -> ProjectConfig {
        switch try ProjectLocator.locate(explicit: project) {
        case .project(let url):
            return try ConfigLoader.load(url)
        case .demo(let url):
            if !FileManager.default.fileExists(atPath: url.path) {
                let dir = url.deletingLastPathComponent()
                CLI.note("No steward.yml here: using the demo project in \(dir.path) (first use: generating it).")
                let manifest = try CLI.writingFiles(at: dir, hint: "set STEWARD_HOME to a writable folder") { try DemoGenerator().write(to: dir) }
                let config = try ConfigLoader.load(url)
                let catalog = try Catalog.open(at: config.catalogURL)
                try DemoLift.firstRuns(config: config, catalog: catalog, seed: manifest.seed, progress: progress, trigger: "demo")
                return config
            }
            return try ConfigLoader.load(url)
        }
    }
}

struct JSONOption: ParsableArguments {
    @Flag(name: .long, help: "Print JSON (formats in docs/CONTRACTS.md).")
    var json = false
}

/// `steward` alone.
struct Open: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "open", abstract: "The console on a terminal, else status.", shouldDisplay: false)
    @OptionGroup var projectOptions: ProjectOptions
    // `steward --theme light` and `steward --read-only` mean what they mean for `steward tui`.
    @Option(help: "Theme name (themes/*.yml or ~/.config/steward/themes).") var theme: String?
    @Flag(name: .customLong("read-only"), help: "Disable every action that writes.") var readOnly = false

    func run() throws {
        let config = try projectOptions.load()
        if isatty(STDOUT_FILENO) != 0, let code = try ConsoleLauncher.launch(config: config, theme: theme, readOnly: readOnly) {
            throw ExitCode(code)
        }
        try Status.printStatus(config: config, json: false)
        if isatty(STDOUT_FILENO) == 0 {
            print("\nhint: run `steward` in a terminal for the console; `steward --help` lists the commands.")
        }
    }
}

struct Tui: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Open the console.")
    @OptionGroup var projectOptions: ProjectOptions
    @Option(help: "Theme name (themes/*.yml or ~/.config/steward/themes).") var theme: String?
    @Flag(name: .customLong("read-only"), help: "Disable every action that writes.") var readOnly = false

    func run() throws {
        let config = try projectOptions.load()
        guard let code = try ConsoleLauncher.launch(config: config, theme: theme, readOnly: readOnly) else {
            CLI.fail("the console needs a terminal (stdout is not a tty)", code: 2)
        }
        throw ExitCode(code)
    }
}

/// A problem with the machine rather than the input (an unwritable folder, a file where a folder should
/// be): exit 2 with one sentence.
struct EnvironmentError: Error, CustomStringConvertible {
    var description: String
}

extension CLI {
    /// The catalog for a read command: opened read-only, so reading never creates, migrates or writes it
    /// (and works on a catalog the user cannot write); nil when there is no catalog yet or a first run
    /// is creating it (the command then shows an empty result and says so).
    static func readCatalog(_ config: ProjectConfig) throws -> Catalog? {
        do {
            return try Catalog.open(at: config.catalogURL, readOnly: true)
        } catch CatalogError.missing, CatalogError.empty {
            return nil
        }
    }

    /// `readCatalog`, for read commands that have nothing to show without a catalog: says so (exit 2).
    static func requireReadCatalog(_ config: ProjectConfig) throws -> Catalog {
        guard let catalog = try readCatalog(config) else { throw CatalogError.missing(config.catalogURL.path) }
        return catalog
    }

    /// Runs `body`, which writes files under `dir`; a file-system failure becomes one sentence naming
    /// the folder and the reason (exit 2), not Foundation's error text.
    static func writingFiles<T>(at dir: URL, hint: String? = nil, _ body: () throws -> T) throws -> T {
        // Checked first so nothing is half-written: a file in the way, or a folder that cannot be written.
        if let problem = FileProblem.cannotCreateFolder(dir) {
            throw EnvironmentError(description: "cannot write to \(dir.path): \(problem)\(hint.map { "; \($0)" } ?? "")")
        }
        do {
            return try body()
        } catch let error as NSError where error.domain == NSCocoaErrorDomain || error.domain == NSPOSIXErrorDomain {
            let path = (error.userInfo[NSFilePathErrorKey] as? String) ?? dir.path
            throw EnvironmentError(description: "cannot write to \(path): \(FileProblem.describe(error, path: path))\(hint.map { "; \($0)" } ?? "")")
        }
    }
}
