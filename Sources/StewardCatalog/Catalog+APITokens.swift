import Crypto
import Foundation
import GRDB

/// What a bearer token of `steward serve` may do. `pii` includes `read` (and may reveal, audited);
/// `write` only pushes events: a web shop's token cannot read customers back.
public enum APITokenScope: String, Sendable, CaseIterable {
    case read, pii, write

    /// Whether a token of this scope may do what `needed` allows.
    public func allows(_ needed: APITokenScope) -> Bool {
        switch (self, needed) {
        case (.pii, .read): return true
        default: return self == needed
        }
    }
}

/// A token as listed: never the token itself, which only its creator saw once.
public struct APIToken: Sendable, Equatable {
    public var name: String
    public var scope: APITokenScope
    public var createdAt: Date?
    public var createdBy: String
    public var expiresAt: Date?
    public var revokedAt: Date?
    public var lastUsedAt: Date?

    public func isActive(now: Date = Date()) -> Bool {
        revokedAt == nil && (expiresAt.map { $0 > now } ?? true)
    }

    /// `active`, `expired` or `revoked`, for listings.
    public func state(now: Date = Date()) -> String {
        revokedAt != nil ? "revoked" : isActive(now: now) ? "active" : "expired"
    }
}

public enum APITokenError: Error, CustomStringConvertible, Equatable {
    case invalidName(String)
    case exists(String)
    case unknown(String)
    case alreadyRevoked(String)

    public var description: String {
        switch self {
        case .invalidName(let name):
            return "token name '\(name)' is not valid: use 1 to 64 of a-z, 0-9, '_', '-' and '.'"
        case .exists(let name):
            return "a token named '\(name)' already exists (a revoked token keeps its name for the audit trail): choose another name"
        case .unknown(let name):
            return "no token named '\(name)' (`steward token list` shows them)"
        case .alreadyRevoked(let name):
            return "token '\(name)' is already revoked"
        }
    }
}

extension Catalog {
    /// The prefix every token starts with, so a leaked one is recognisable in a scanner's rules.
    public static let apiTokenPrefix = "stw_"

    /// Creates a token and returns it: the only time it exists in clear. The catalog keeps its
    /// SHA-256 (the token is 256 random bits, so a plain hash cannot be reversed by guessing);
    /// the creation is an audit event naming the token.
    public func createAPIToken(name: String, scope: APITokenScope, expiresAt: Date?, actor: String = Catalog.osUser) throws -> String {
        guard Self.isValidTokenName(name) else { throw APITokenError.invalidName(name) }
        var random = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
        let token = Self.apiTokenPrefix + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        try pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM api_token WHERE name = ?", arguments: [name]) == true {
                throw APITokenError.exists(name)
            }
            try db.execute(sql: """
                INSERT INTO api_token (name, scope, token_sha256, created_at, created_by, expires_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [name, scope.rawValue, Self.tokenDigest(token), Timestamp.now(), actor, expiresAt.map(Timestamp.string)])
            try Catalog.audit(db, action: "token_create", subject: "token:\(name)",
                              detail: "scope \(scope.rawValue)" + (expiresAt.map { ", expires \(Timestamp.string($0))" } ?? ", no expiry"),
                              actor: actor)
        }
        return token
    }

    /// Every token, newest first.
    public func apiTokens() throws -> [APIToken] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT name, scope, created_at, created_by, expires_at, revoked_at, last_used_at
                FROM api_token ORDER BY created_at DESC, name
                """).map(Self.token)
        }
    }

    /// Revokes a token at once (audited); its row stays for the audit trail.
    public func revokeAPIToken(name: String, actor: String = Catalog.osUser) throws {
        try pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT revoked_at FROM api_token WHERE name = ?", arguments: [name]) else {
                throw APITokenError.unknown(name)
            }
            if (row["revoked_at"] as String?) != nil { throw APITokenError.alreadyRevoked(name) }
            try db.execute(sql: "UPDATE api_token SET revoked_at = ? WHERE name = ?", arguments: [Timestamp.now(), name])
            try Catalog.audit(db, action: "token_revoke", subject: "token:\(name)", detail: "revoked", actor: actor)
        }
    }

    /// The active token a bearer presented, or nil (unknown, revoked or expired). Compared by digest,
    /// so the lookup neither stores nor compares the secret itself.
    public func authenticateAPIToken(_ token: String, now: Date = Date()) throws -> APIToken? {
        guard token.hasPrefix(Self.apiTokenPrefix) else { return nil }
        guard let found = try apiToken(digest: Self.tokenDigest(token)), found.isActive(now: now) else { return nil }
        return found
    }

    /// The token stored under this digest, active or not.
    func apiToken(digest: String) throws -> APIToken? {
        try pool.read { db in
            try Row.fetchOne(db, sql: """
                SELECT name, scope, created_at, created_by, expires_at, revoked_at, last_used_at
                FROM api_token WHERE token_sha256 = ?
                """, arguments: [digest]).map(Self.token)
        }
    }

    /// Records when a token was last used, at most once a minute per token, so a busy client does not
    /// turn every read into a write.
    public func noteAPITokenUse(_ token: APIToken, now: Date = Date()) throws {
        if let last = token.lastUsedAt, now.timeIntervalSince(last) < 60 { return }
        try pool.write { db in
            try db.execute(sql: "UPDATE api_token SET last_used_at = ? WHERE name = ?", arguments: [Timestamp.string(now), token.name])
        }
    }

    static func isValidTokenName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name.utf8.allSatisfy { c in
            (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 95 || c == 45 || c == 46
        }
    }

    static func tokenDigest(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    private static func token(_ row: Row) -> APIToken {
        APIToken(name: row["name"], scope: APITokenScope(rawValue: row["scope"]) ?? .read,
                 createdAt: (row["created_at"] as String?).flatMap(Timestamp.date), createdBy: row["created_by"],
                 expiresAt: (row["expires_at"] as String?).flatMap(Timestamp.date),
                 revokedAt: (row["revoked_at"] as String?).flatMap(Timestamp.date),
                 lastUsedAt: (row["last_used_at"] as String?).flatMap(Timestamp.date))
    }
}

/// A counter that moves whenever anything is committed to the catalog, by this process or another
/// (`steward run` in a shell, a `forget`, a token's use): the server's ETags. It asks SQLite's
/// `data_version` on a connection of its own that never writes, so every commit of any other
/// connection is seen, and costs one pragma per request.
public final class CatalogChangeCounter: @unchecked Sendable {
    private let queue: DatabaseQueue
    private let lock = NSLock()
    private var lastVersion: Int64?
    private var counter: UInt64 = 0

    public init(catalog: Catalog) throws {
        var config = Configuration()
        config.readonly = true
        queue = try DatabaseQueue(path: catalog.url.path, configuration: config)
    }

    /// The current value: the same until something is committed, then larger.
    public func current() throws -> UInt64 {
        let version = try queue.read { db in try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? 0 }
        lock.lock(); defer { lock.unlock() }
        if lastVersion != version {
            if lastVersion != nil { counter += 1 }
            lastVersion = version
        }
        return counter
    }
}

/// Tokens as the catalog holds them, remembered while it stays the same (`CatalogChangeCounter`):
/// a server authenticates every request, and reading the token took one of the pool's few reader
/// connections, so a request answered from the response cache waited behind the slow searches
/// holding them all (issue 19, the first burst of a serve bench). Any commit — a revoke, a new
/// token, a last-use time — forgets them all; expiry is checked on every use.
public final class APITokenCache: @unchecked Sendable {
    private let lock = NSLock()
    private var counter: UInt64?
    /// By digest; nil for a digest no token has (unknown tokens are remembered too, up to `capacity`).
    private var tokens: [String: APIToken?] = [:]
    let capacity: Int

    public init(capacity: Int = 10_000) { self.capacity = capacity }

    /// `Catalog.authenticateAPIToken`, from memory when the catalog's change counter is still `counter`.
    public func authenticate(_ catalog: Catalog, token: String, counter: UInt64, now: Date = Date()) throws -> APIToken? {
        guard token.hasPrefix(Catalog.apiTokenPrefix) else { return nil }
        let digest = Catalog.tokenDigest(token)
        let known: APIToken?? = lock.withLock { self.counter == counter ? tokens[digest] : nil }
        let found: APIToken?
        if let known {
            found = known
        } else {
            found = try catalog.apiToken(digest: digest)
            lock.withLock {
                if self.counter != counter {
                    // Read for an older catalog than the one remembered: not kept.
                    if let remembered = self.counter, counter < remembered { return }
                    self.counter = counter
                    tokens.removeAll(keepingCapacity: true)
                }
                if tokens.count >= capacity { tokens.removeAll(keepingCapacity: true) }
                tokens[digest] = .some(found)
            }
        }
        guard let found, found.isActive(now: now) else { return nil }
        return found
    }
}
