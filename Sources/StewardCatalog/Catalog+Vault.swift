import Foundation
import GRDB
import GRDBSQLite

/// Whether a catalog's PII is sealed, and whether this process holds the key.
public enum VaultState: Sendable, Equatable {
    /// No vault: PII is stored as written.
    case off
    /// The catalog is sealed under `keyId` and this process does not hold that key: PII reads as
    /// `[sealed]` and nothing that would write PII may run.
    case locked(keyId: String)
    case open(keyId: String)

    public var isEnabled: Bool { self != .off }
}

/// A catalog's vault as its connections see it: the key ring (the current key, and during a rotation
/// the previous one) behind the SQL functions `vault_open(x)`, `vault_seal(x)` and
/// `vault_token(kind, x)`, registered on every connection, and the same operations for Swift code
/// that holds only a `Database` (`VaultBox.of(db)`).
public final class VaultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var keyId: String?
    private var ring: [String: Vault] = [:]

    /// The plaintexts a pipeline run's passes have opened (`rememberingOpened`); nil outside a run.
    private var opened: OpenedValues?

    public init() {}

    public var state: VaultState {
        lock.withLock {
            guard let keyId else { return .off }
            return ring[keyId] == nil ? .locked(keyId: keyId) : .open(keyId: keyId)
        }
    }

    /// The current key's vault, when the vault is on and the key is here.
    public var current: Vault? { lock.withLock { keyId.flatMap { ring[$0] } } }

    /// Points the box at the catalog's key (nil: vault off) and adds the keys this process has.
    public func configure(keyId: String?, keys: [Vault]) {
        lock.withLock {
            self.keyId = keyId
            for k in keys { ring[k.keyId] = k }
        }
    }

    /// The value to show: plaintext as stored, a sealed value opened, or `[sealed]` without its key.
    public func reveal(_ stored: String) -> String {
        let memo = lock.withLock { opened }
        if let known = memo?.plaintext(of: stored) { return known }
        guard let parts = Vault.parts(stored) else { return stored }
        // Parsed once: the key id picks the ring's key, the body is opened with it.
        let (vault, isCurrent) = lock.withLock { (ring[String(parts.keyId)], parts.keyId == keyId ?? "") }
        guard let vault, let plain = vault.open(body: parts.body) else { return Vault.sealedText }
        if isCurrent { memo?.remember(stored, plain) }
        return plain
    }

    /// Runs a pipeline run's passes with one cache of the plaintexts they open: the matching pass
    /// opens every staged value to compare records, and survivorship, the lookup index and the
    /// address dimension read the same values again; each is decrypted once per run. The cache
    /// (a few hundred MB at a million people) is dropped when the outermost call returns.
    public func rememberingOpened<T>(_ body: () throws -> T) rethrows -> T {
        let outermost = lock.withLock { () -> Bool in
            guard opened == nil else { return false }
            opened = OpenedValues()
            return true
        }
        defer { if outermost { lock.withLock { opened = nil } } }
        return try body()
    }

    var openedCache: OpenedValues? { lock.withLock { opened } }

    public func reveal(_ stored: String?) -> String? { stored.map { reveal($0) } }

    /// The value to store: sealed under the current key (a value sealed under an older key of the
    /// ring is re-sealed), plaintext when the vault is off. Throws when the vault is on but its key
    /// is not here: nothing is ever written unencrypted.
    public func seal(_ value: String) throws -> String {
        let (id, vault) = lock.withLock { (keyId, keyId.flatMap { ring[$0] }) }
        guard let id else { return value }
        guard let vault else { throw VaultError.keyMissing(id) }
        if Vault.isSealed(value) {
            if Vault.keyId(of: value) == id { return value }
            let plain = reveal(value)
            guard plain != Vault.sealedText || value == Vault.sealedText else { throw VaultError.keyMissing(Vault.keyId(of: value) ?? "?") }
            return vault.seal(plain)
        }
        return vault.seal(value)
    }

    public func seal(_ value: String?) throws -> String? { try value.map { try seal($0) } }

    /// A blind-index token (nil when the vault is off or locked: the index then holds what it always did).
    public func token(_ kind: String, _ normalised: String) -> String? { current?.token(kind, normalised) }

    // MARK: connections

    private static let registryLock = NSLock()
    nonisolated(unsafe) private static var registry: [UInt: VaultBox] = [:]

    /// The box of the catalog a connection belongs to (a box with the vault off for a connection
    /// that was not opened through `Catalog.open`, e.g. a test's in-memory database).
    public static func of(_ db: Database) -> VaultBox {
        let id = UInt(bitPattern: db.sqliteConnection)
        return registryLock.withLock { registry[id] } ?? VaultBox()
    }

    /// Registers the SQL functions on a new connection and remembers which box it uses.
    func register(_ db: Database) {
        let id = UInt(bitPattern: db.sqliteConnection)
        Self.registryLock.withLock { Self.registry[id] = self }
        db.add(function: DatabaseFunction("vault_open", argumentCount: 1) { [self] values in
            guard let s = String.fromDatabaseValue(values[0]) else { return values[0] }
            return reveal(s)
        })
        db.add(function: DatabaseFunction("vault_seal", argumentCount: 1) { [self] values in
            guard let s = String.fromDatabaseValue(values[0]) else { return values[0] }
            return try seal(s)
        })
        // A stored row's JSON with its sealed values opened: `forget` searches raw rows with it.
        db.add(function: DatabaseFunction("vault_reveal_json", argumentCount: 1) { [self] values in
            guard let s = String.fromDatabaseValue(values[0]) else { return values[0] }
            return revealJSON(s)
        })
        db.add(function: DatabaseFunction("vault_token", argumentCount: 2) { [self] values in
            guard let kind = String.fromDatabaseValue(values[0]), let s = String.fromDatabaseValue(values[1]) else { return nil }
            return token(kind, s)
        })
    }

    /// Forgets the keys configured so far and reads the catalog's state again (after a failed
    /// enable or rotation, which configured a key the catalog never committed).
    public func reload(_ db: Database) throws {
        lock.withLock { keyId = nil; ring = [:] }
        try load(db)
    }

    /// Reads the catalog's vault state and loads its key if this process has it.
    func load(_ db: Database) throws {
        guard try db.tableExists("vault_state") else { return }
        let row = try Row.fetchOne(db, sql: "SELECT key_id, previous_key_id FROM vault_state WHERE id = 1")
        let keyId: String? = row?[0]
        var keys: [Vault] = []
        for id in [keyId, row?[1] as String?].compactMap({ $0 }) {
            if let v = try VaultKeys.find(keyId: id) { keys.append(v) }
        }
        configure(keyId: keyId, keys: keys)
    }
}

/// Opens stored values off the connection's thread (a pass's background stage), without a SQL
/// function call and its copies per value: the current key is taken once, other keys and locked
/// values go through the box as `vault_open` would.
public struct VaultOpener: Sendable {
    let box: VaultBox
    let current: Vault?
    /// Whether the catalog is sealed at all (off: every value is returned as it is).
    public let isOn: Bool

    let memo: OpenedValues?

    public init(_ box: VaultBox) {
        self.box = box
        current = box.current
        isOn = box.state.isEnabled
        memo = box.openedCache
    }

    /// The plaintext of a stored value, exactly as `vault_open` gives it.
    public func open(_ stored: String?) -> String? {
        guard isOn, let stored else { return stored }
        if let known = memo?.plaintext(of: stored) { return known }
        guard let parts = Vault.parts(stored) else { return stored }
        if let current, parts.keyId == current.keyId, let plain = current.open(body: parts.body) {
            memo?.remember(stored, plain)
            return plain
        }
        return box.reveal(stored)
    }
}

/// Plaintexts of sealed values already opened in a run, looked up before a stored text is even
/// parsed: keyed by its last 32 characters (the end of the ciphertext and the GCM tag) and a 64-bit
/// hash of all of it. Only a text that opened (authenticated) under the catalog's current key is
/// remembered, so a hit gives a plaintext that key authenticated, and a text changed by damage
/// misses and fails to open as before. A key is 40 bytes where the sealed text is 60 or more.
final class OpenedValues: @unchecked Sendable {
    struct Key: Hashable { var tail0: UInt64, tail1: UInt64, tail2: UInt64, tail3: UInt64, whole: UInt64 }

    private let lock = NSLock()
    private var plaintexts: [Key: String] = [:]

    func plaintext(of stored: String) -> String? {
        guard let key = Self.key(stored) else { return nil }
        return lock.withLock { plaintexts[key] }
    }

    func remember(_ stored: String, _ plain: String) {
        guard let key = Self.key(stored) else { return }
        lock.withLock { plaintexts[key] = plain }
    }

    private static func key(_ stored: String) -> Key? {
        stored.utf8.withContiguousStorageIfAvailable { b -> Key? in
            guard b.count >= 40, let base = b.baseAddress else { return nil }
            let raw = UnsafeRawPointer(base), end = b.count
            // FNV-1a over 8-byte words (the last word overlapping): a byte at a time was a tenth
            // of the cache's cost.
            var whole: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(end)
            var i = 0
            while i < end {
                whole = (whole ^ raw.loadUnaligned(fromByteOffset: min(i, end - 8), as: UInt64.self)) &* 0x100_0000_01b3
                i += 8
            }
            return Key(tail0: raw.loadUnaligned(fromByteOffset: end - 32, as: UInt64.self),
                       tail1: raw.loadUnaligned(fromByteOffset: end - 24, as: UInt64.self),
                       tail2: raw.loadUnaligned(fromByteOffset: end - 16, as: UInt64.self),
                       tail3: raw.loadUnaligned(fromByteOffset: end - 8, as: UInt64.self), whole: whole)
        } ?? nil
    }

    var count: Int { lock.withLock { plaintexts.count } }
}

public enum VaultError: Error, CustomStringConvertible, Equatable {
    case keyMissing(String)
    case alreadyEnabled(String)
    case notEnabled
    case plaintextRemains(Int)
    case plaintextCatalog

    public var description: String {
        switch self {
        case .keyMissing(let id):
            return "the privacy vault's key \(id) is not available (set \(VaultKeys.environmentVariable) or restore "
                + "\(VaultKeys.folder.appendingPathComponent("\(id).key").path)); nothing is written unencrypted"
        case .alreadyEnabled(let id): return "the privacy vault is already enabled (key \(id))"
        case .notEnabled: return "the privacy vault is not enabled: run `steward vault enable`"
        case .plaintextRemains(let n): return "\(n) PII values are still in plaintext"
        case .plaintextCatalog:
            return "steward.yml asks for the privacy vault (privacy: {vault: true}) but this catalog holds PII in plaintext: "
                + "run `steward vault enable` to seal it"
        }
    }
}

/// The catalog columns that hold PII, one list for sealing, re-sealing, status and `forget`: the
/// person fields of staging, golden records, their SCD2 history and addresses; an activity's customer
/// reference when it is an identifier; placeholder values. Raw rows and quarantined rows hold whole
/// source rows: their PII cells are chosen per source by its mapping (`VaultMigration` in the
/// identity module), not here.
public enum PIIColumns {
    public struct Column: Sendable {
        public var table: String
        public var column: String
        /// An extra condition on the rows whose value is PII.
        public var condition: String?
    }

    public static let personFields = ["email", "phone", "dob", "street", "national_id"]

    public static let all: [Column] =
        ["staged_person", "golden_customer", "customer_dim"].flatMap { t in personFields.map { Column(table: t, column: $0) } }
        + [Column(table: "address_dim", column: "street"),
           Column(table: "staged_activity", column: "customer_ref",
                  condition: "customer_ref_kind IN ('email', 'phone', 'dob', 'street', 'national_id')"),
           Column(table: "identity_junk", column: "value")]

    /// Seals every plaintext value (and re-seals every value of an older key) of these columns.
    /// Returns how many values were written.
    public static func seal(_ db: Database, currentKey: String) throws -> Int {
        var changed = 0
        for c in all {
            try db.execute(sql: """
                UPDATE \(c.table) SET \(c.column) = vault_seal(\(c.column))
                WHERE \(c.column) IS NOT NULL AND \(c.column) <> '' AND substr(\(c.column), 1, ?) <> ?
                    \(c.condition.map { "AND \($0)" } ?? "")
                """, arguments: [Vault.prefix.count + currentKey.count + 1, Vault.prefix + currentKey + "."])
            changed += db.changesCount
        }
        return changed
    }

    /// Per column: values sealed under the current key, under another key, and in plaintext.
    public static func coverage(_ db: Database, currentKey: String?) throws -> [(column: String, sealed: Int, otherKey: Int, plaintext: Int)] {
        let mine = currentKey.map { Vault.prefix + $0 + "." } ?? "\u{0}"
        return try all.map { c in
            let row = try Row.fetchOne(db, sql: """
                SELECT
                    COALESCE(SUM(substr(\(c.column), 1, length(?1)) = ?1), 0),
                    COALESCE(SUM(substr(\(c.column), 1, length(?2)) = ?2 AND substr(\(c.column), 1, length(?1)) <> ?1), 0),
                    COALESCE(SUM(substr(\(c.column), 1, length(?2)) <> ?2), 0)
                FROM \(c.table) WHERE \(c.column) IS NOT NULL AND \(c.column) <> '' \(c.condition.map { "AND \($0)" } ?? "")
                """, arguments: [mine, Vault.prefix])!
            return ("\(c.table).\(c.column)", row[0], row[1], row[2])
        }
    }
}

extension Catalog {
    /// This catalog's vault state in this process.
    public var vaultState: VaultState { vault.state }
}

extension Catalog {
    /// Before a command writes PII: a sealed catalog needs its key here; a project asking for the
    /// vault (`privacy: {vault: true}`) on a catalog that holds no PII yet gets one now (a new key,
    /// audited). A catalog that already holds plaintext PII is never sealed behind the user's back:
    /// `steward vault enable` does that, in one transaction. A catalog the vault seals stays sealed
    /// whatever steward.yml says.
    public func prepareVault(wanted: Bool) throws {
        switch vault.state {
        case .locked(let keyId): throw VaultError.keyMissing(keyId)
        case .open: return
        case .off:
            guard wanted else { return }
            let holdsPII = try pool.read { db in
                try Bool.fetchOne(db, sql: """
                    SELECT EXISTS (SELECT 1 FROM raw_record) OR EXISTS (SELECT 1 FROM quarantine)
                        OR EXISTS (SELECT 1 FROM staged_person) OR EXISTS (SELECT 1 FROM golden_customer)
                    """) ?? false
            }
            guard !holdsPII else { throw VaultError.plaintextCatalog }
            let key = try VaultKeys.newKey()
            try pool.write { db in
                // Another process may have enabled it meanwhile: its key wins.
                guard try String.fetchOne(db, sql: "SELECT key_id FROM vault_state WHERE id = 1") == nil else { return }
                try Self.recordVaultKey(db, keyId: key.keyId)
                try Self.audit(db, action: "vault_enabled", subject: "catalog", detail: "key \(key.keyId)")
            }
            vault.configure(keyId: nil, keys: [key])
            try pool.read { try vault.load($0) }
        }
    }

    /// Makes `keyId` the key the catalog is sealed with (inside the caller's transaction).
    public static func recordVaultKey(_ db: Database, keyId: String) throws {
        try db.execute(sql: """
            INSERT INTO vault_state (id, key_id, enabled_at) VALUES (1, ?, ?)
            ON CONFLICT (id) DO UPDATE SET previous_key_id = key_id, key_id = excluded.key_id, pending_key_id = NULL,
                rotated_at = excluded.enabled_at
            """, arguments: [keyId, Timestamp.now()])
    }
}

extension VaultBox {
    /// A stored JSON text (a raw or quarantined row) with every sealed value in it opened (or
    /// `[sealed]` without its key), still valid JSON. A row stored as one sealed string (a line that
    /// was never JSON) comes back as the line itself.
    public func revealJSON(_ text: String) -> String {
        guard text.contains(Vault.prefix) else { return text }
        let bytes = Array(text.utf8)
        if bytes.count >= 2, bytes.first == UInt8(ascii: "\""), bytes.last == UInt8(ascii: "\""),
           let token = Self.token(in: bytes, at: 1), token.end == bytes.count - 1 {
            return reveal(String(decoding: bytes[1..<token.end], as: UTF8.self))
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "v"), let token = Self.token(in: bytes, at: i) {
                let plain = reveal(String(decoding: bytes[i..<token.end], as: UTF8.self))
                Self.appendEscaped(plain, to: &out)
                i = token.end
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A sealed value starting at `start`: `vault1.` + key id + `.` + base64url.
    static func token(in b: [UInt8], at start: Int) -> (end: Int, Void)? {
        let prefix = Array(Vault.prefix.utf8)
        guard start + prefix.count < b.count, Array(b[start..<(start + prefix.count)]) == prefix else { return nil }
        var i = start + prefix.count
        while i < b.count, (b[i] >= 0x30 && b[i] <= 0x39) || (b[i] >= 0x61 && b[i] <= 0x66) { i += 1 }
        guard i < b.count, b[i] == UInt8(ascii: "."), i > start + prefix.count else { return nil }
        i += 1
        let body = i
        func isBase64url(_ c: UInt8) -> Bool {
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F
        }
        while i < b.count, isBase64url(b[i]) { i += 1 }
        return i > body ? (i, ()) : nil
    }

    /// JSON string escaping (without the quotes) for a value put back inside a stored row's quotes.
    static func appendEscaped(_ s: String, to out: inout [UInt8]) {
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): out += Array("\\\"".utf8)
            case UInt8(ascii: "\\"): out += Array("\\\\".utf8)
            case 0x0A: out += Array("\\n".utf8)
            case 0x0D: out += Array("\\r".utf8)
            case 0x09: out += Array("\\t".utf8)
            case 0..<0x20: out += Array(String(format: "\\u%04x", c).utf8)
            default: out.append(c)
            }
        }
    }
}
