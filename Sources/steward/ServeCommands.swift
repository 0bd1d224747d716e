import ArgumentParser
import Foundation
import StewardCatalog
import StewardServer

/// `steward serve [--listen HOST:PORT] [--tls-cert FILE --tls-key FILE] [--insecure]`.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the catalog's data API over HTTP (bearer tokens: `steward token create`).",
        discussion: """
            Loopback only unless told otherwise: another address needs --tls-cert and --tls-key, or --insecure. \
            SIGTERM or Ctrl-C stops accepting, lets requests in flight finish, and exits 0. \
            Endpoints: docs/CONTRACTS.md.
            """)
    @OptionGroup var projectOptions: ProjectOptions
    @Option(help: "HOST:PORT to listen on (port 0: any free port).") var listen = ServerOptions.defaultListen
    @Option(name: .customLong("tls-cert"), help: "PEM certificate (chain) for HTTPS.") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key for HTTPS.") var tlsKey: String?
    @Flag(help: "Allow plain HTTP on a non-loopback address (the API serves personal data).") var insecure = false
    @Option(name: .customLong("rate-limit"), help: "Requests per second each token may send (beyond it: 429 with Retry-After).")
    var rateLimit: Double = 1_000

    func run() throws {
        // Judged before the project is loaded or the catalog opened: a refused address changes nothing.
        var options: ServerOptions
        do {
            options = try ServerOptions(listen: listen, tlsCertificatePath: tlsCert, tlsKeyPath: tlsKey, insecure: insecure)
            guard rateLimit >= 1, rateLimit.isFinite else { throw ServeError.usage("--rate-limit must be at least 1 request a second") }
            options.requestsPerSecond = rateLimit
        } catch let error as ServeError {
            CLI.fail(error.description, code: 2)
        }
        let config = try projectOptions.load()
        // Writable: reveals and token use are recorded in the catalog.
        let catalog = try Catalog.open(at: config.catalogURL)
        let server = try APIServer(config: config, catalog: catalog, options: options)
        let listening = options
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                try await server.run { port in
                    // Flushed at once: scripts and tests wait for this line to learn the port.
                    FileHandle.standardOutput.write(Data("steward serve: listening on \(listening.url(port: port)) (project \(config.name)); Ctrl-C stops\n".utf8))
                }
            } catch {
                outcome.set(error)
            }
            done.signal()
        }
        done.wait()
        if let error = outcome.error {
            if let error = error as? ServeError { CLI.fail(error.description, code: 2) }
            CLI.fail("cannot serve on \(listen): \(error)", code: 2)
        }
        CLI.note("steward serve: stopped (requests in flight were answered)")
    }

    /// The server task's error, handed to the main thread.
    final class Outcome: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: Error?
        var error: Error? { lock.lock(); defer { lock.unlock() }; return stored }
        func set(_ error: Error) { lock.lock(); stored = error; lock.unlock() }
    }
}

/// `steward token create|list|revoke`: the API's bearer tokens.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Bearer tokens for `steward serve` (only their hashes are stored).",
        subcommands: [TokenCreate.self, TokenList.self, TokenRevoke.self])
}

struct TokenCreate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a token and print it once.")
    @OptionGroup var projectOptions: ProjectOptions
    @Argument(help: "A name for the token (a-z, 0-9, _ - .): audit events and `token list` use it.") var name: String
    @Option(help: "read (masked PII), pii (read, and ?reveal=true, audited) or write (push events).") var scope: String
    @Option(help: "Lifetime such as 30d, 12h (default: until revoked).") var expires: String?
    @OptionGroup var output: JSONOption

    func validate() throws {
        if APITokenScope(rawValue: scope) == nil { throw ValidationError("--scope '\(scope)' is not one of read, pii, write") }
        if let expires, (Duration.parse(expires) ?? 0) <= 0 { throw ValidationError("--expires '\(expires)' is not a duration such as 30d or 12h") }
    }

    func run() throws {
        let config = try projectOptions.load()
        let expiresAt = expires.flatMap(Duration.parse).map { Date().addingTimeInterval($0) }
        let catalog = try Catalog.open(at: config.catalogURL)
        let token: String
        do {
            token = try catalog.createAPIToken(name: name, scope: APITokenScope(rawValue: scope)!, expiresAt: expiresAt)
        } catch let error as APITokenError {
            CLI.fail(error.description, code: 2)
        }
        if output.json {
            CLI.printJSON(["name": name, "scope": scope, "token": token, "expires_at": CLI.iso(expiresAt)] as [String: Any])
            return
        }
        CLI.note("token '\(name)' (scope \(scope)\(expiresAt.map { ", expires \(Timestamp.string($0))" } ?? ", until revoked")): "
                 + "shown once, only its hash is kept; use it as `Authorization: Bearer TOKEN`")
        print(token)
    }
}

struct TokenList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Tokens, newest first (never the tokens themselves).")
    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func run() throws {
        let config = try projectOptions.load()
        let tokens = try Catalog.open(at: config.catalogURL).apiTokens()
        let now = Date()
        if output.json {
            CLI.printJSON(tokens.map { t in [
                "name": t.name, "scope": t.scope.rawValue, "state": t.state(now: now), "created_at": CLI.iso(t.createdAt),
                "created_by": t.createdBy, "expires_at": CLI.iso(t.expiresAt), "revoked_at": CLI.iso(t.revokedAt),
                "last_used_at": CLI.iso(t.lastUsedAt),
            ] as [String: Any] })
            return
        }
        if tokens.isEmpty { print("no tokens: `steward token create NAME --scope read` makes one"); return }
        var table = TextTable(headers: ["name", "scope", "state", "created", "expires", "last used"])
        for t in tokens {
            table.rows.append([t.name, t.scope.rawValue, t.state(now: now), t.createdAt.map(Timestamp.string) ?? "",
                               t.expiresAt.map(Timestamp.string) ?? "never", CLI.age(t.lastUsedAt, now: now)])
        }
        print(table.render())
    }
}

struct TokenRevoke: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a token at once (audited).")
    @OptionGroup var projectOptions: ProjectOptions
    @Argument(help: "The token's name.") var name: String

    func run() throws {
        let config = try projectOptions.load()
        do {
            try Catalog.open(at: config.catalogURL).revokeAPIToken(name: name)
        } catch let error as APITokenError {
            CLI.fail(error.description, code: 2)
        }
        print("token '\(name)' revoked")
    }
}
