import Crypto
import Foundation

/// The privacy vault's cipher: PII values are stored as `vault1.<key id>.<base64url(nonce‖ciphertext‖tag)>`
/// (AES-256-GCM), and looked up through keyed blind-index tokens.
///
/// Sealing is deterministic: the nonce is an HMAC of the plaintext (a synthetic IV), so one value
/// always seals to the same text under one key. Equality joins and `GROUP BY` over sealed columns
/// (activity links by email, erasure finding every record that holds a value, placeholder counts)
/// keep working on ciphertext, which reveals only which values are equal — what blind indexes
/// reveal anyway. Distinct values get distinct nonces, so GCM's nonce-reuse hazard does not arise.
public struct Vault: @unchecked Sendable {
    /// The key's public fingerprint: the first 8 bytes of SHA-256 of the master key, in hex.
    public let keyId: String
    private let sealing: SymmetricKey
    private let nonces: SymmetricKey
    private let index: SymmetricKey
    /// HMAC states with their keys already absorbed, copied per value: keying an HMAC costs two
    /// hash blocks, as much again as hashing a short value (a sealed load seals millions).
    /// (`@unchecked Sendable`: HMAC is a value type, each use works on its own copy.)
    private let nonceMAC: HMAC<SHA256>
    private let indexMAC: HMAC<SHA256>

    public static let prefix = "vault1."
    public static let sealedText = "[sealed]"

    /// Derives the three working keys from a 32-byte master key (HKDF-SHA256, one label each).
    public init(masterKey: SymmetricKey) {
        keyId = masterKey.withUnsafeBytes { Self.hex(Array(SHA256.hash(data: $0)).prefix(8)) }
        func derive(_ label: String) -> SymmetricKey {
            HKDF<SHA256>.deriveKey(inputKeyMaterial: masterKey, info: Data("steward-vault/\(label)".utf8), outputByteCount: 32)
        }
        sealing = derive("seal")
        nonces = derive("nonce")
        index = derive("index")
        nonceMAC = HMAC<SHA256>(key: nonces)
        indexMAC = HMAC<SHA256>(key: index)
    }

    public static func isSealed(_ stored: some StringProtocol) -> Bool {
        // Over contiguous bytes when it can: the generic `starts(with:)` cost thousands of
        // instructions a call on the path that opens every sealed value of a matching pass.
        stored.utf8.withContiguousStorageIfAvailable { b in
            b.count >= prefixBytes.count && memcmp(b.baseAddress!, prefixBytes, prefixBytes.count) == 0
        } ?? stored.utf8.starts(with: prefixBytes)
    }

    /// A sealed value's key id and encrypted body, found once over its bytes (nil: not sealed).
    /// Every read of a sealed column parses one, so it stays off Character-level string work.
    public static func parts(_ stored: String) -> (keyId: Substring, body: Substring)? {
        let u = stored.utf8
        // Over the contiguous bytes of a native string (the generic UTF8View walk was a tenth of
        // a sealed matching pass's reads); a bridged string takes the generic path.
        let dotOffset: Int? = u.withContiguousStorageIfAvailable { b -> Int? in
            let p = prefixBytes
            guard b.count > p.count else { return nil }
            for i in 0..<p.count where b[i] != p[i] { return nil }
            var i = p.count
            while i < b.count { if b[i] == UInt8(ascii: ".") { return i }; i += 1 }
            return nil
        } ?? {
            guard isSealed(stored) else { return nil }
            let start = u.index(u.startIndex, offsetBy: prefixBytes.count)
            return u[start...].firstIndex(of: UInt8(ascii: ".")).map { u.distance(from: u.startIndex, to: $0) }
        }()
        guard let dotOffset else { return nil }
        let idStart = u.index(u.startIndex, offsetBy: prefixBytes.count), dot = u.index(u.startIndex, offsetBy: dotOffset)
        return (stored[idStart..<dot], stored[u.index(after: dot)...])
    }

    private static let prefixBytes = Array(prefix.utf8)

    /// The key id a sealed value names, or nil for a plaintext value.
    public static func keyId(of stored: String) -> String? { parts(stored).map { String($0.keyId) } }

    /// Seals a value; an already sealed value (under this key) is returned as it is.
    public func seal(_ plaintext: String) -> String {
        if let parts = Self.parts(plaintext), parts.keyId == keyId { return plaintext }
        let bytes = Array(plaintext.utf8)
        var hmac = nonceMAC
        hmac.update(data: bytes)
        let mac = hmac.finalize()
        // 12 bytes of the MAC make the nonce; `try!` is safe: the size is GCM's.
        let nonce = try! AES.GCM.Nonce(data: Array(mac).prefix(12))
        let box = try! AES.GCM.seal(bytes, using: sealing, nonce: nonce)
        return Self.prefix + keyId + "." + Self.base64url(box.combined!)
    }

    /// The plaintext of a value sealed under this key; nil for another key's value or a damaged one.
    /// A plaintext value is returned as it is.
    public func open(_ stored: String) -> String? {
        guard let parts = Self.parts(stored) else { return stored }
        guard parts.keyId == keyId else { return nil }
        return open(body: parts.body)
    }

    /// The plaintext of a sealed value's body (after its key id), under this key.
    func open(body: Substring) -> String? {
        guard let data = Self.unbase64url(body), let box = try? AES.GCM.SealedBox(combined: data),
              let plain = try? AES.GCM.open(box, using: sealing) else { return nil }
        return String(decoding: plain, as: UTF8.self)
    }

    /// A blind-index token for a normalised value of a kind (`email`, `phone7`, `id`): letters and
    /// digits only, so the search index's tokenizer keeps it whole. 80 bits: collisions between two
    /// different values of one catalog are negligible.
    public func token(_ kind: String, _ normalised: String) -> String {
        // Bytes built and the MAC read in place: the interpolated string, the MAC copied to an
        // array and the hex digits appended one by one were most of a token's cost (a lookup
        // index entry takes one per email, phone and national id).
        var input: [UInt8] = []
        input.reserveCapacity(kind.utf8.count + 1 + normalised.utf8.count)
        input.append(contentsOf: kind.utf8)
        input.append(0)
        input.append(contentsOf: normalised.utf8)
        var hmac = indexMAC
        input.withUnsafeBytes { hmac.update(data: $0) }
        return hmac.finalize().withUnsafeBytes { "b" + Self.hex(UnsafeRawBufferPointer(rebasing: $0.prefix(10))) }
    }

    /// A keyed 64-bit hash of some values (HMAC): a key that, unlike a plain hash, cannot be
    /// recomputed from a guess without the vault's key (the address dimension's address key).
    public func hash64(_ parts: [String?]) -> UInt64 {
        var bytes: [UInt8] = Array("hash64".utf8)
        for p in parts { bytes.append(0); if let p { bytes.append(1); bytes.append(contentsOf: p.utf8) } }
        var hmac = indexMAC
        bytes.withUnsafeBytes { hmac.update(data: $0) }
        return hmac.finalize().withUnsafeBytes { mac in mac.prefix(8).reduce(0) { $0 << 8 | UInt64($1) } }
    }

    static func hex(_ bytes: some Collection<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            var o = 0
            for b in bytes {
                out[o] = hexDigits[Int(b >> 4)]
                out[o + 1] = hexDigits[Int(b & 15)]
                o += 2
            }
            return o
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// base64url without padding, over bytes: Foundation's base64 and string replacing (through
    /// NSString) were most of a sealed load's time (BENCHMARKS.md, "privacy vault").
    static func base64url(_ data: some Collection<UInt8>) -> String {
        let bytes = Array(data)
        let count = (bytes.count * 4 + 2) / 3
        return String(unsafeUninitializedCapacity: count) { out in
            var o = 0, i = 0
            while i + 3 <= bytes.count {
                let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
                out[o] = alphabet[Int(n >> 18)]; out[o + 1] = alphabet[Int(n >> 12 & 63)]
                out[o + 2] = alphabet[Int(n >> 6 & 63)]; out[o + 3] = alphabet[Int(n & 63)]
                o += 4; i += 3
            }
            let rest = bytes.count - i
            if rest > 0 {
                let n = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
                out[o] = alphabet[Int(n >> 18)]; out[o + 1] = alphabet[Int(n >> 12 & 63)]; o += 2
                if rest == 2 { out[o] = alphabet[Int(n >> 6 & 63)]; o += 1 }
            }
            return o
        }
    }

    static func unbase64url(_ s: Substring) -> [UInt8]? {
        if let decoded = s.utf8.withContiguousStorageIfAvailable({ unbase64url(bytes: $0) }) { return decoded }
        return Array(s.utf8).withUnsafeBufferPointer { unbase64url(bytes: $0) }
    }

    /// Four characters at a time into a buffer of the exact size (appending byte by byte through
    /// a Substring's UTF8View was 5,000 instructions a value).
    static func unbase64url(bytes s: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let n = s.count
        guard n % 4 != 1 else { return nil }
        let size = n / 4 * 3 + max(0, n % 4 - 1)
        var valid = true
        let out = [UInt8](unsafeUninitializedCapacity: size) { out, count in
            decoding.withUnsafeBufferPointer { table in
                var i = 0, o = 0
                while i + 4 <= n {
                    let a = table[Int(s[i])], b = table[Int(s[i + 1])], c = table[Int(s[i + 2])], d = table[Int(s[i + 3])]
                    if (a | b | c | d) >= 64 { valid = false; break }
                    let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    out[o] = UInt8(truncatingIfNeeded: v >> 16); out[o + 1] = UInt8(truncatingIfNeeded: v >> 8); out[o + 2] = UInt8(truncatingIfNeeded: v)
                    i += 4; o += 3
                }
                if valid && i < n {
                    var v: UInt32 = 0
                    for k in i..<n {
                        let x = table[Int(s[k])]
                        if x >= 64 { valid = false; break }
                        v = v << 6 | UInt32(x)
                    }
                    if valid {
                        let rest = n - i
                        v <<= UInt32(6 * (4 - rest))
                        out[o] = UInt8(truncatingIfNeeded: v >> 16); o += 1
                        if rest == 3 { out[o] = UInt8(truncatingIfNeeded: v >> 8); o += 1 }
                    }
                }
                count = valid ? o : 0
            }
        }
        return valid ? out : nil
    }

    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let decoding: [UInt8] = {
        var t = [UInt8](repeating: 255, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()
}

/// The keys a process can use, by key id: the vault's current key and (during a rotation) the
/// previous one. Loaded from `$STEWARD_VAULT_KEY` or the key files under
/// `${XDG_CONFIG_HOME:-~/.config}/steward/keys/` (one `<key id>.key` per key, base64, mode 0600).
public enum VaultKeys {
    public static let environmentVariable = "STEWARD_VAULT_KEY"

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case badEnvironmentKey
        case badKeyFile(String)
        case cannotWrite(String, String)
        public var description: String {
            switch self {
            case .badEnvironmentKey:
                return "\(VaultKeys.environmentVariable) is not a base64 32-byte key"
            case .badKeyFile(let path):
                return "\(path): not a base64 32-byte vault key"
            case .cannotWrite(let path, let why):
                return "cannot write the vault key \(path): \(why)"
            }
        }
    }

    /// The folder key files live in (outside the catalog, so a copied catalog holds no key).
    public static var folder: URL {
        let env = ProcessInfo.processInfo.environment
        let base: URL
        if let xdg = env["XDG_CONFIG_HOME"], xdg.hasPrefix("/") {
            base = URL(fileURLWithPath: xdg)
        } else {
            base = URL(fileURLWithPath: env["HOME"] ?? NSHomeDirectory()).appendingPathComponent(".config")
        }
        return base.appendingPathComponent("steward/keys")
    }

    static func parse(_ text: String) -> SymmetricKey? {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else { return nil }
        return SymmetricKey(data: data)
    }

    /// The vault for a key id, if this process holds that key: the environment's key when it is that
    /// key, else the key file of that id.
    public static func find(keyId: String) throws -> Vault? {
        if let text = ProcessInfo.processInfo.environment[environmentVariable], !text.isEmpty {
            guard let key = parse(text) else { throw Failure.badEnvironmentKey }
            let vault = Vault(masterKey: key)
            if vault.keyId == keyId { return vault }
        }
        let file = folder.appendingPathComponent("\(keyId).key")
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return nil }
        guard let key = parse(text) else { throw Failure.badKeyFile(file.path) }
        let vault = Vault(masterKey: key)
        return vault.keyId == keyId ? vault : nil
    }

    /// A key for a vault being enabled or rotated: the environment's key if one is set (the operator
    /// manages it), else a new random key written to its key file (0600, folder 0700).
    public static func newKey() throws -> Vault {
        if let text = ProcessInfo.processInfo.environment[environmentVariable], !text.isEmpty {
            guard let key = parse(text) else { throw Failure.badEnvironmentKey }
            return Vault(masterKey: key)
        }
        let key = SymmetricKey(size: .bits256)
        let vault = Vault(masterKey: key)
        try store(key, id: vault.keyId)
        return vault
    }

    static func store(_ key: SymmetricKey, id: String) throws {
        let dir = folder
        let path = dir.appendingPathComponent("\(id).key").path
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw Failure.cannotWrite(path, "\(error.localizedDescription)")
        }
        let text = key.withUnsafeBytes { Data($0).base64EncodedString() } + "\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure.cannotWrite(path, String(cString: strerror(errno))) }
        defer { close(fd) }
        fchmod(fd, 0o600)
        let bytes = Array(text.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count, fsync(fd) == 0 else {
            throw Failure.cannotWrite(path, String(cString: strerror(errno)))
        }
    }
}
