import Crypto
import Foundation
import GRDB
import Testing
@testable import StewardCatalog
@testable import StewardConfig
@testable import StewardPipeline
@testable import StewardIdentity

/// The privacy vault (issue 16): sealing, keys, and a catalog that holds no PII without its key.
@Suite struct VaultCipherTests {
    let vault = Vault(masterKey: SymmetricKey(data: Data(repeating: 7, count: 32)))

    @Test func sealOpensBackAndIsDeterministic() {
        for value in ["ann@example.com", "+15125550123", "1984-02-29", "12 Main St, Apt 4", "émile", ""] {
            let sealed = vault.seal(value)
            #expect(Vault.isSealed(sealed))
            #expect(!sealed.contains(value) || value.isEmpty)
            #expect(vault.open(sealed) == value)
            #expect(vault.seal(value) == sealed, "one value seals to one text under one key: equality joins keep working")
        }
        #expect(vault.seal("a@x.com") != vault.seal("b@x.com"))
    }

    @Test func anotherKeyNeitherOpensNorMatches() {
        let other = Vault(masterKey: SymmetricKey(data: Data(repeating: 8, count: 32)))
        let sealed = vault.seal("ann@example.com")
        #expect(other.open(sealed) == nil)
        #expect(other.seal("ann@example.com") != sealed)
        #expect(other.token("email", "ann@example.com") != vault.token("email", "ann@example.com"))
        #expect(vault.keyId != other.keyId && vault.keyId.count == 16)
    }

    @Test func tamperedValuesDoNotOpen() {
        var sealed = Array(vault.seal("ann@example.com"))
        let i = sealed.count - 3
        sealed[i] = sealed[i] == "A" ? "B" : "A"
        #expect(vault.open(String(sealed)) == nil, "GCM's tag refuses a changed ciphertext")
        #expect(vault.open("vault1.\(vault.keyId).!!") == nil)
    }

    @Test func base64urlMatchesFoundationsAndRoundTrips() {
        var rng = SystemRandomNumberGenerator()
        for n in 0..<70 {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let expected = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(Vault.base64url(bytes) == expected)
            #expect(Vault.unbase64url(Substring(expected)) == bytes)
        }
        #expect(Vault.unbase64url("ab+c") == nil)
        #expect(Vault.unbase64url("abcde") == nil && Vault.unbase64url("abcdef=") == nil && Vault.unbase64url("ab$") == nil)
        // A body inside a longer string (a Substring that does not start at 0).
        let text = "vault1.0011223344556677." + Vault.base64url([1, 2, 3, 250])
        #expect(Vault.unbase64url(Vault.parts(text)!.body) == [1, 2, 3, 250])
    }

    @Test func sealedValuesArePartedOverTheirBytes() {
        #expect(Vault.parts("vault1.0011223344556677.QUJD").map { "\($0.keyId)|\($0.body)" } == "0011223344556677|QUJD")
        for plain in ["", "vault1.", "vault1.abc", "vault", "Vault1.ab.cd", "ann@example.com", "Zoë vault1.ab.cd", "🙂"] {
            #expect(Vault.parts(plain) == nil, "\(plain)")
        }
        #expect(Vault.parts("vault1..x").map { "\($0.keyId)|\($0.body)" } == "|x")
        // A bridged (non-native) string takes the generic path to the same answer.
        let bridged = NSString(string: "vault1.ab.cdé") as String
        #expect(Vault.parts(bridged).map { "\($0.keyId)|\($0.body)" } == "ab|cdé")
        #expect(Vault.isSealed("vault1.") && Vault.isSealed(bridged) && Vault.isSealed("x vault1.ab.c".dropFirst(2)))
        #expect(!Vault.isSealed("vault1") && !Vault.isSealed("") && !Vault.isSealed("Vault1.ab.c") && !Vault.isSealed(NSString(string: "vaulté") as String))
    }

    @Test func tokensAreStableAndTokenizerSafe() {
        let t = vault.token("phone", "2837412")
        #expect(t == vault.token("phone", "2837412"))
        #expect(t.allSatisfy { $0.isLetter || $0.isNumber })
        #expect(t != vault.token("email", "2837412"), "kinds are kept apart")
    }

    @Test func boxRevealsJSONRowsAndSaysSealedWithoutTheKey() throws {
        let box = VaultBox()
        box.configure(keyId: vault.keyId, keys: [vault])
        let row = #"["C1","\#(vault.seal("ann \"the\" x@y.com"))","US"]"#
        #expect(box.revealJSON(row) == #"["C1","ann \"the\" x@y.com","US"]"#)
        let line = #""\#(vault.seal("{not json"))""#
        #expect(box.revealJSON(line) == "{not json")
        let keyless = VaultBox()
        keyless.configure(keyId: vault.keyId, keys: [])
        #expect(keyless.revealJSON(row) == #"["C1","[sealed]","US"]"#)
        #expect(keyless.state == .locked(keyId: vault.keyId))
        #expect(throws: VaultError.self) { try keyless.seal("x@y.com") }
        #expect(try VaultBox().seal("x@y.com") == "x@y.com", "vault off: stored as written")
    }

    @Test func aRunOpensEachSealedValueOnceAndADamagedOneStillFails() throws {
        let box = VaultBox()
        box.configure(keyId: vault.keyId, keys: [vault])
        let sealed = vault.seal("ann@example.com"), other = vault.seal("bob@example.com")
        var damaged = Array(sealed)
        let middle = damaged.count / 2
        damaged[middle] = damaged[middle] == "A" ? "B" : "A"
        #expect(box.openedCache == nil, "outside a run nothing is remembered")
        box.rememberingOpened {
            let opener = VaultOpener(box)
            #expect(opener.open(sealed) == "ann@example.com")
            #expect(box.reveal(sealed) == "ann@example.com")
            #expect(opener.open(other) == "bob@example.com")
            #expect(box.openedCache?.count == 2, "each value opened once, whichever way it is read")
            // Same nonce and tag characters, changed in the middle: not the remembered value.
            #expect(opener.open(String(damaged)) == Vault.sealedText)
            #expect(box.reveal(String(damaged)) == Vault.sealedText)
            box.rememberingOpened { #expect(box.openedCache?.count == 2, "a nested call shares the run's cache") }
            #expect(box.openedCache?.count == 2)
        }
        #expect(box.openedCache == nil, "dropped when the run's passes end")
    }
}

/// End to end through the binary, each test with its own key folder.
@Suite(.serialized) struct VaultEndToEndTests {
    /// A demo project of `customers` people, generated and run with the vault on (the demo's default).
    static func demo(customers: Int, keys: URL) throws -> TempProject {
        let p = TempProject("vault")
        let env = ["XDG_CONFIG_HOME": keys.path]
        let made = try StewardBinary.run(["init", "--demo", "--customers", "\(customers)", p.dir.path], env: env)
        #expect(made.status == 0, "\(made.stderr)")
        let run = try StewardBinary.run(["run", "--project", p.dir.path], env: env)
        #expect(run.status == 0 || run.status == 1, "\(run.stderr)")
        return p
    }

    static func tempFolder(_ name: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("steward-\(name)-\(UUID().uuidString.prefix(8))")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Every PII value the catalog holds, opened with the key: the standardised values of staging and
    /// the cells of raw and quarantined rows the mapping makes personal, as the source files wrote them.
    /// The catalog, read-only, with the keys of a key folder (read here: tests run in parallel, so
    /// none of them may point this process's environment at its own keys).
    static func openWithKeys(_ p: TempProject, keys: URL) throws -> Catalog {
        let catalog = try Catalog.open(at: try p.config().catalogURL, readOnly: true)
        let dir = keys.appendingPathComponent("steward/keys")
        let vaults = try FileManager.default.contentsOfDirectory(atPath: dir.path).compactMap { name in
            VaultKeys.parse(try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)).map { Vault(masterKey: $0) }
        }
        guard case .locked(let keyId) = catalog.vault.state else { return catalog }
        catalog.vault.configure(keyId: keyId, keys: vaults)
        return catalog
    }

    static func personalValues(_ p: TempProject, keys: URL) throws -> Set<String> {
        let config = try p.config()
        let catalog = try openWithKeys(p, keys: keys)
        #expect(catalog.vault.current != nil)
        let policy = PIIPolicy(config: config)
        return try catalog.pool.read { db in
            var values = Set<String>()
            for c in ["email", "phone", "dob", "street", "national_id"] {
                values.formUnion(try String.fetchAll(db, sql: "SELECT vault_open(\(c)) FROM staged_person WHERE \(c) IS NOT NULL"))
            }
            let rows = try Row.fetchAll(db, sql: """
                SELECT r.source, r.data, b.columns_json FROM raw_record r JOIN batch b ON b.id = r.batch_id
                """)
            for r in rows {
                let text = catalog.vault.revealJSON(r[1])
                guard let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) else { continue }
                let columns = ((r[2] as String?).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [String]) ?? []
                func visit(_ v: Any, _ column: String) {
                    if let s = v as? String, policy.kind(source: r[0], column: column) != nil { values.insert(s) }
                    if let o = v as? [String: Any] { for (k, x) in o { visit(x, column.isEmpty ? k : "\(column).\(k)") } }
                }
                if let a = json as? [Any] { for (i, v) in a.enumerated() where i < columns.count { visit(v, columns[i]) } } else { visit(json, "") }
            }
            // Values stored readable elsewhere by design (a city typed into the street column is also a
            // city) and short ones (a house number, "US"), which any file holds by chance, prove nothing.
            var readable = Set<String>()
            for c in ["first_name", "last_name", "full_name", "city", "postcode", "region", "country"] {
                readable.formUnion(try String.fetchAll(db, sql: "SELECT \(c) FROM staged_person WHERE \(c) IS NOT NULL"))
            }
            return values.filter { $0.utf8.count >= 8 && !$0.contains("[sealed]") && !readable.contains($0) }
        }
    }

    /// The values found in the bytes of the catalog's folder (catalog, WAL, SHM, log).
    /// One pass over the bytes: every 8-byte window is looked up among the values' first 8 bytes,
    /// and only a window that starts a value is compared whole (thousands of values over tens of MB).
    static func leaked(_ values: Set<String>, in p: TempProject) throws -> [String] {
        let folder = try p.config().catalogURL.deletingLastPathComponent()
        var found = Set<String>()
        var byPrefix: [UInt64: [[UInt8]]] = [:]
        func word(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt64 {
            var w: UInt64 = 0
            for k in 0..<8 { w = w << 8 | UInt64(b[i + k]) }
            return w
        }
        for v in values {
            let bytes = Array(v.utf8)
            guard bytes.count >= 8 else { continue }
            byPrefix[bytes.withUnsafeBufferPointer { word($0, 0) }, default: []].append(bytes)
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            let data = [UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))
            data.withUnsafeBufferPointer { b in
                guard b.count >= 8 else { return }
                var w = word(b, 0)
                for i in 0...(b.count - 8) {
                    if i > 0 { w = w << 8 | UInt64(b[i + 7]) }
                    guard let candidates = byPrefix[w] else { continue }
                    for c in candidates where i + c.count <= b.count && c.elementsEqual(b[i..<(i + c.count)]) {
                        found.insert(String(decoding: c, as: UTF8.self))
                    }
                }
            }
        }
        return found.sorted()
    }

    @Test func aDemoRunLeavesNoPIIInTheCatalogFiles() async throws {
        try await offPool {
            let keys = Self.tempFolder("keys")
            let p = try Self.demo(customers: 1_000, keys: keys)
            let values = try Self.personalValues(p, keys: keys)
            #expect(values.count > 2_000, "the check must look for real values (\(values.count))")
            let leaks = try Self.leaked(values, in: p)
            #expect(leaks.isEmpty, "\(leaks.count) values in the catalog's files: \(leaks.prefix(20))")
            let status = try StewardBinary.run(["vault", "status", "--json", "--project", p.dir.path], env: ["XDG_CONFIG_HOME": keys.path])
            let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as! [String: Any]
            #expect(json["state"] as? String == "sealed")
            #expect(json["plaintext"] as? Int == 0)
            #expect((json["sealed"] as? Int ?? 0) > 2_000)
            let keyFiles = try FileManager.default.contentsOfDirectory(atPath: keys.appendingPathComponent("steward/keys").path)
            #expect(keyFiles.count == 1)
            var st = stat()
            #expect(stat(keys.appendingPathComponent("steward/keys/\(keyFiles[0])").path, &st) == 0 && st.st_mode & 0o777 == 0o600)
        }
    }

    /// `steward` on first use: the 5,000-person demo generated and run, sealed.
    @Test func theFirstUseDemoLeavesNoPIIInTheCatalogFiles() async throws {
        try await offPool {
            let keys = Self.tempFolder("keys"), home = Self.tempFolder("home"), empty = Self.tempFolder("cwd")
            let status = try StewardBinary.run(["status"], cwd: empty, env: ["STEWARD_HOME": home.path, "XDG_CONFIG_HOME": keys.path])
            #expect(status.status == 0, "\(status.stderr)")
            let p = TempProject("unused")
            try FileManager.default.removeItem(at: p.dir)
            try FileManager.default.copyItem(at: home.appendingPathComponent("demo"), to: p.dir)
            let values = try Self.personalValues(p, keys: keys)
            #expect(values.count > 10_000, "\(values.count)")
            let leaks = try Self.leaked(values, in: p)
            #expect(leaks.isEmpty, "\(leaks.count) values in the catalog's files: \(leaks.prefix(20))")
        }
    }

    @Test func withoutTheKeyReadsSaySealedAndWritesRefuse() async throws {
        try await offPool {
            let keys = Self.tempFolder("keys")
            let p = try Self.demo(customers: 200, keys: keys)
            let env = ["XDG_CONFIG_HOME": keys.path]
            let hit = try StewardBinary.run(["customer", "search", "--json", "--project", p.dir.path, "Smith"], env: env)
            let hits = try JSONSerialization.jsonObject(with: Data(hit.stdout.utf8)) as? [[String: Any]] ?? []
            let id = try #require(hits.first?["customer_id"] as? String, "\(hit.stdout)\(hit.stderr)")
            let withKey = try StewardBinary.run(["customer", "show", id, "--reveal", "--project", p.dir.path], env: env)
            #expect(withKey.stdout.contains("@") && !withKey.stdout.contains("[sealed]"))
            let empty = Self.tempFolder("nokeys")
            let without = try StewardBinary.run(["customer", "show", id, "--reveal", "--project", p.dir.path], env: ["XDG_CONFIG_HOME": empty.path])
            #expect(without.status == 0)
            #expect(without.stdout.contains("[sealed]") && !without.stdout.contains("@"), "\(without.stdout)")
            #expect(without.stderr.contains("not here"), "a reveal without the key says why nothing was revealed")
            let reveals = try p.catalog().pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM audit_event WHERE action = 'reveal'") }
            #expect(reveals == 1, "only the reveal with the key is audited")
            let state = { try p.catalog().pool.read { db in
                try Row.fetchOne(db, sql: "SELECT (SELECT COUNT(*) FROM run), (SELECT COUNT(*) FROM raw_record), (SELECT COUNT(*) FROM audit_event)")!
            } }
            let before = try state()
            let run = try StewardBinary.run(["run", "--project", p.dir.path], env: ["XDG_CONFIG_HOME": empty.path])
            #expect(run.status == 2)
            #expect(run.stderr.contains("key") && run.stderr.contains("nothing is written unencrypted"), "\(run.stderr)")
            #expect(try state() == before, "a refused run wrote to the catalog")
        }
    }

    /// `forget` in a sealed catalog: the person's rows go wherever their values are sealed as the
    /// sources wrote them (an event's `user.email` in another case than staging's), and their
    /// lookup entry with its tokens.
    @Test func forgetErasesAPersonFromASealedCatalog() async throws {
        try await offPool {
            let keys = Self.tempFolder("keys")
            let p = try Self.demo(customers: 300, keys: keys)
            let env = ["XDG_CONFIG_HOME": keys.path]
            var catalog = try Self.openWithKeys(p, keys: keys)
            // A customer whose email some raw row holds in another case than staging's, if any.
            let (id, email, phone) = try catalog.pool.read { db -> (String, String, String?) in
                let people = try Row.fetchAll(db, sql: "SELECT customer_id, vault_open(email), vault_open(phone) FROM golden_customer WHERE email IS NOT NULL ORDER BY customer_id")
                let raw = try String.fetchAll(db, sql: "SELECT vault_reveal_json(data) FROM raw_record")
                for r in people {
                    let e: String = r[1]
                    if raw.contains(where: { $0.lowercased().contains(e) && !$0.contains(e) }) { return (r[0], e, r[2]) }
                }
                return (people[0][0], people[0][1], people[0][2])
            }
            // A line no reader can parse, quoting the email in capitals: kept keyless in raw and quarantine.
            // (At the top of the file: an append of one unreadable line would not be loaded at all.)
            let events = p.dir.appendingPathComponent("sources/web/events.ndjson")
            let broken = "{\"event_id\":\"W-broken\",,\"user\":{\"email\":\"\(email.uppercased())\"}}\n"
            try (broken + String(contentsOf: events, encoding: .utf8)).write(to: events, atomically: true, encoding: .utf8)
            #expect([0, 1].contains(try StewardBinary.run(["run", "--project", p.dir.path], env: env).status))
            catalog = try Self.openWithKeys(p, keys: keys)
            #expect(try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM quarantine WHERE record_key IS NULL AND instr(vault_reveal_json(raw), ?) > 0", arguments: [email.uppercased()]) } == 1)
            let before = try catalog.pool.read { try String.fetchAll($0, sql: "SELECT vault_reveal_json(data) FROM raw_record") }
            #expect(before.contains { $0.lowercased().contains(email) })
            let hit = try StewardBinary.run(["customer", "search", "--json", "--project", p.dir.path, email], env: env)
            #expect(hit.stdout.contains(id))
            let forgot = try StewardBinary.run(["forget", id, "--yes", "--project", p.dir.path], env: env)
            #expect(forgot.status == 0, "\(forgot.stdout)\(forgot.stderr)")
            catalog = try Self.openWithKeys(p, keys: keys)
            let (raw, quarantined) = try catalog.pool.read { db in
                (try String.fetchAll(db, sql: "SELECT vault_reveal_json(data) FROM raw_record"),
                 try String.fetchAll(db, sql: "SELECT vault_reveal_json(raw) FROM quarantine"))
            }
            #expect(!(raw + quarantined).contains { $0.lowercased().contains(email) }, "\(email) still in a raw or quarantined row")
            if let phone {
                #expect(try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM golden_customer WHERE vault_open(phone) = ?", arguments: [phone]) } == 0)
            }
            let after = try StewardBinary.run(["customer", "search", "--json", "--project", p.dir.path, email], env: env)
            #expect(!after.stdout.contains(id), "the erased customer's email token still finds them")
            // Without the key forget refuses rather than erase by `[sealed]`.
            let locked = try StewardBinary.run(["forget", "C00000001", "--yes", "--project", p.dir.path], env: ["XDG_CONFIG_HOME": Self.tempFolder("none").path])
            #expect(locked.status == 2 && locked.stderr.contains("key"), "\(locked.stderr)")
        }
    }

    @Test func phonesInAnyFormatAndEmailsFindTheSamePerson() async throws {
        try await offPool {
            let keys = Self.tempFolder("keys")
            let p = try Self.demo(customers: 300, keys: keys)
            let catalog = try Self.openWithKeys(p, keys: keys)
            let (phone, email) = try catalog.pool.read { db in
                (try String.fetchOne(db, sql: "SELECT vault_open(phone) FROM golden_customer WHERE phone IS NOT NULL AND phone NOT LIKE '%sealed%' ORDER BY customer_id LIMIT 1")!,
                 try String.fetchOne(db, sql: "SELECT vault_open(email) FROM golden_customer WHERE email IS NOT NULL ORDER BY customer_id LIMIT 1")!)
            }
            let digits = String(phone.filter(\.isNumber).suffix(10))
            #expect(digits.count == 10, "\(phone)")
            let a = digits.prefix(3), b = digits.dropFirst(3).prefix(3), c = digits.suffix(4)
            var found: Set<String> = []
            for query in ["(\(a)) \(b)-\(c)", "\(a).\(b).\(c)", "+1 \(a) \(b) \(c)"] {
                let r = try StewardBinary.run(["customer", "search", "--json", "--project", p.dir.path, query], env: ["XDG_CONFIG_HOME": keys.path])
                let hits = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] ?? []
                #expect(hits.count >= 1, "\(query): \(r.stdout)\(r.stderr)")
                if let first = hits.first?["customer_id"] as? String { found.insert(first) }
            }
            #expect(found.count == 1)
            let r = try StewardBinary.run(["customer", "search", "--json", "--project", p.dir.path, email.uppercased()], env: ["XDG_CONFIG_HOME": keys.path])
            #expect(r.stdout.contains("customer_id"), "\(r.stdout)")
        }
    }

    @Test func enableSealsAPlaintextCatalogAndRotateReseals() async throws {
        try await offPool {
            let keys = Self.tempFolder("keys")
            let env = ["XDG_CONFIG_HOME": keys.path]
            let p = TempProject("vault-enable")
            #expect(try StewardBinary.run(["init", "--demo", "--customers", "300", p.dir.path], env: env).status == 0)
            // An existing project from before the vault: no privacy key, a plaintext catalog.
            try p.edit("steward.yml", replacing: "privacy: {vault: true}", with: "")
            #expect([0, 1].contains(try StewardBinary.run(["run", "--project", p.dir.path], env: env).status))
            let plain = try StewardBinary.run(["vault", "status", "--json", "--project", p.dir.path], env: env)
            #expect(plain.stdout.contains("\"state\" : \"off\"") || plain.stdout.contains("\"state\":\"off\""), "\(plain.stdout)")
            // Asking for the vault on a plaintext catalog: refused, not silently mixed.
            try p.edit("steward.yml", replacing: "default_region: US", with: "default_region: US\nprivacy: {vault: true}")
            let refused = try StewardBinary.run(["run", "--project", p.dir.path], env: env)
            #expect(refused.status == 2 && refused.stderr.contains("steward vault enable"), "\(refused.stderr)")

            let enabled = try StewardBinary.run(["vault", "enable", "--project", p.dir.path], env: env)
            #expect(enabled.status == 0, "\(enabled.stderr)")
            let values = try Self.personalValues(p, keys: keys)
            #expect(values.count > 500)
            #expect(try Self.leaked(values, in: p) == [])
            #expect(try StewardBinary.run(["vault", "enable", "--project", p.dir.path], env: env).status == 2, "enabling twice is refused")
            #expect([0, 1].contains(try StewardBinary.run(["run", "--project", p.dir.path], env: env).status))

            let keyDir = keys.appendingPathComponent("steward/keys")
            let oldKeys = Set(try FileManager.default.contentsOfDirectory(atPath: keyDir.path))
            let rotated = try StewardBinary.run(["vault", "rotate", "--project", p.dir.path], env: env)
            #expect(rotated.status == 0, "\(rotated.stderr)")
            // The old key is no longer needed: without it everything still opens.
            for old in oldKeys { try FileManager.default.removeItem(at: keyDir.appendingPathComponent(old)) }
            let status = try StewardBinary.run(["vault", "status", "--json", "--project", p.dir.path], env: env)
            let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as! [String: Any]
            #expect(json["state"] as? String == "sealed")
            #expect(json["plaintext"] as? Int == 0 && json["other_key"] as? Int == 0, "\(status.stdout)")
            #expect(try Self.personalValues(p, keys: keys) == values, "every value opens under the new key alone")
            #expect(try Self.leaked(values, in: p) == [])
        }
    }

    /// Matching a sealed catalog opens stored values off the writer's thread and keeps the winners'
    /// sealed texts instead of sealing golden values again: the same demo run sealed and in
    /// plaintext must give the same customers, golden values, history, addresses and lookups, and
    /// every stored golden value must be exactly what sealing its plaintext gives.
    @Test func aSealedRunResolvesExactlyAsAPlaintextRun() async throws {
        try await offPool {
            let keys = Self.tempFolder("keys")
            let env = ["XDG_CONFIG_HOME": keys.path]
            let sealed = TempProject("vault-same"), plain = TempProject("plain-same")
            for p in [sealed, plain] {
                #expect(try StewardBinary.run(["init", "--demo", "--customers", "400", p.dir.path], env: env).status == 0)
            }
            try plain.edit("steward.yml", replacing: "privacy: {vault: true}", with: "")
            for p in [sealed, plain] { #expect([0, 1].contains(try StewardBinary.run(["run", "--project", p.dir.path], env: env).status)) }

            let golden = "SELECT customer_id, first_name, last_name, vault_open(email), vault_open(phone), vault_open(dob), vault_open(street), "
                + "city, postcode, region, country, vault_open(national_id), provenance_json FROM golden_customer ORDER BY customer_id"
            let history = "SELECT customer_id, vault_open(email), vault_open(street), CAST(is_current AS TEXT), change_hash FROM customer_dim ORDER BY customer_id, sk"
            let addresses = "SELECT vault_open(street), city, postcode, country FROM address_dim ORDER BY 1, 2, 3"
            func read(_ p: TempProject) throws -> (rows: [[String?]], hits: [[CustomerSearch.Hit]]) {
                let catalog = try Self.openWithKeys(p, keys: keys)
                return try catalog.pool.read { db in
                    var rows: [[String?]] = []
                    for sql in [golden, history, addresses] {
                        rows += try Row.fetchAll(db, sql: sql).map { r in (0..<r.count).map { r[$0] as String? } }
                        rows.append(["—"])
                    }
                    let names = try Row.fetchAll(db, sql: "SELECT first_name, last_name, postcode FROM golden_customer WHERE first_name IS NOT NULL ORDER BY customer_id LIMIT 25")
                    let hits = try names.flatMap { r -> [[CustomerSearch.Hit]] in
                        let first: String = r[0], last: String = r[1] ?? "", postcode: String = r[2] ?? ""
                        return [try CustomerSearch.search(db, query: "\(first) \(last)", limit: 10),
                                try CustomerSearch.search(db, query: "\(last) \(postcode)", limit: 10)]
                    }
                    return (rows, hits)
                }
            }
            let a = try read(sealed), b = try read(plain)
            #expect(a.rows.count > 1_000)
            #expect(a.rows == b.rows, "golden, history or addresses differ between the sealed and the plaintext run")
            // Lookups show each hit's golden email and phone, opened (a sealed index finds by names,
            // not by words inside emails, so the hit lists themselves may differ).
            let shown = Dictionary(a.rows.prefix { $0 != ["—"] }.map { ($0[0]!, [$0[3], $0[4]]) }, uniquingKeysWith: { x, _ in x })
            let hits = a.hits.joined()
            #expect(hits.count > 25 && hits.contains { $0.email != nil } && hits.contains { $0.phone != nil })
            for h in hits { #expect([h.email, h.phone] == shown[h.customerId], "\(h.customerId)") }

            let catalog = try Self.openWithKeys(sealed, keys: keys)
            let vault = try #require(catalog.vault.current)
            let stored = try catalog.pool.read { db in
                try Row.fetchAll(db, sql: "SELECT email, vault_open(email), street, vault_open(street) FROM golden_customer WHERE email IS NOT NULL AND street IS NOT NULL")
            }
            #expect(stored.count > 300)
            for r in stored {
                #expect(r[0] as String == vault.seal(r[1] as String) && r[2] as String == vault.seal(r[3] as String))
            }
        }
    }
}
