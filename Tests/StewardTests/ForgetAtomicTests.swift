import Foundation
import GRDB
import Testing
@testable import StewardCatalog
@testable import StewardIdentity

/// `steward forget` killed by SIGKILL at any step leaves nothing behind once it is run again, and it
/// scrubs the messages and details that quote the person (an older version's run, step, audit and
/// alert texts, quarantine rows, samples, junk values), checked in the catalog file's bytes.
@Suite(.serialized) struct ForgetAtomicTests {
    /// The person a test erases: every value of theirs is held by no one else in the catalog.
    struct Person {
        var id: String
        var email: String
        /// The values the catalog must not hold after `forget`: staged forms of every record of the
        /// person and the raw CRM cells (phone, birth date and SSN as the source wrote them).
        var values: [String]
        var rawCells: [String]
        /// The values as the privacy vault stores them (sealed), when it is on.
        var sealed: [String]
        var everyForm: [String] { values + rawCells + sealed }
    }

    // MARK: kill at each step, then forget again

    /// `erasing`: inside the transaction, after its first write; `erased`: just after it committed;
    /// `rewriting`: before VACUUM and the WAL checkpoint.
    @Test(arguments: ["erasing", "erased", "rewriting"])
    func forgetKilledMidWayLeavesNoTraceOnceRunAgain(point: String) async throws {
        try await offPool { try Self.killedBody(point: point) }
    }

    static func killedBody(point: String) throws {
        let (p, steward) = try Self.demo("forget-kill-\(point)")
        let catalogURL = try p.config().catalogURL
        let who = try #require(try Self.loneperson(try p.catalog()))
        try Self.plantMessages(try p.catalog(), who)

        // A forget that pauses at the step, killed there with SIGKILL.
        let marker = p.dir.appendingPathComponent("paused-\(point)")
        let (process, _, _) = try StewardBinary.start(["forget", who.id, "--yes", "--project", p.dir.path],
                                                      env: ["STEWARD_TEST_FORGET_PAUSE": "\(point):\(marker.path)"])
        let deadline = Date().addingTimeInterval(300)
        while !FileManager.default.fileExists(atPath: marker.path), process.isRunning, Date() < deadline { usleep(50_000) }
        #expect(FileManager.default.fileExists(atPath: marker.path), "forget never reached \(point)")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL)

        let catalog = try p.catalog()
        let (requests, pending, staged) = try catalog.pool.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM erasure_request WHERE customer_id = ?", arguments: [who.id]) ?? -1,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM erasure_request WHERE customer_id = ? AND state = 'pending'", arguments: [who.id]) ?? -1,
             try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM staged_person p JOIN identity_member m ON m.source = p.source AND m.record_key = p.record_key WHERE m.customer_id = ?
                """, arguments: [who.id]) ?? -1)
        }
        if point == "erasing" {
            // Killed inside the transaction: rolled back, the person is all there, nothing recorded.
            #expect(requests == 0 && staged >= 1)
            #expect(try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM golden_customer WHERE customer_id = ?", arguments: [who.id]) } == 1)
        } else {
            // Killed after it: the rows are gone and the request waits to be finished.
            #expect(requests == 1 && pending == 1 && staged == 0)
        }

        let again = try steward(["forget", who.id, "--yes"])
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("erased \(who.id)"))
        #expect(again.stdout.contains("finished erasure request") == (point != "erasing"), "\(again.stdout)")
        try Self.expectNoTrace(of: who, catalog: catalog, catalogURL: catalogURL)
        #expect(try catalog.pool.read { try String.fetchOne($0, sql: "SELECT state FROM erasure_request WHERE customer_id = ?", arguments: [who.id]) } == "done")
        // Finished: now it is "already erased".
        let third = try steward(["forget", who.id, "--yes"])
        #expect(third.status == 2 && third.stderr.contains("already erased"), "\(third.stderr)")
    }

    /// Another process reading the catalog keeps the WAL from being emptied: the request stays
    /// pending (exit 1, saying to run forget again), and the next forget finishes it.
    @Test func forgetThatCannotEmptyTheWALStaysPendingUntilRunAgain() async throws {
        try await offPool { try Self.blockedBody() }
    }

    static func blockedBody() throws {
        let (p, steward) = try Self.demo("forget-blocked")
        let catalog = try p.catalog()
        let id = try #require(try catalog.pool.read { try String.fetchOne($0, sql: "SELECT customer_id FROM golden_customer ORDER BY customer_id LIMIT 1") })
        let state = { try catalog.pool.read { try String.fetchOne($0, sql: "SELECT state FROM erasure_request WHERE customer_id = ?", arguments: [id]) } }
        try catalog.pool.read { db in
            // An open read transaction: its snapshot pins the WAL.
            _ = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM golden_customer")
            let blocked = try steward(["forget", id, "--yes"])
            #expect(blocked.status == 1 && blocked.stderr.contains("steward forget \(id)` again"), "\(blocked.stdout)\(blocked.stderr)")
        }
        #expect(try state() == "pending")
        let again = try steward(["forget", id, "--yes"])
        #expect(again.status == 0 && again.stdout.contains("finished erasure request"), "\(again.stdout)\(again.stderr)")
        #expect(try state() == "done")
    }

    // MARK: messages quoting the person

    /// With the privacy vault (the demo's default: stored values sealed) and without (stored as written).
    @Test(arguments: [true, false])
    func forgetScrubsMessagesAndDetailsThatQuoteThePerson(vault: Bool) async throws {
        try await offPool { try Self.messagesBody(vault: vault) }
    }

    static func messagesBody(vault: Bool) throws {
        let (p, steward) = try Self.demo("forget-messages", vault: vault)
        let catalog = try p.catalog()
        let catalogURL = try p.config().catalogURL
        let who = try #require(try Self.loneperson(catalog))
        try Self.plantMessages(catalog, who)
        #expect(who.sealed.isEmpty != vault, "\(who.sealed.count) sealed values with the vault \(vault ? "on" : "off")")
        let before = try IdentityStewardshipTests.bytes(catalogURL)
        for value in who.rawCells { #expect(IdentityStewardshipTests.found(value, in: before), "\(value) was not planted") }

        let erased = try steward(["forget", who.id, "--yes", "--json"])
        #expect(erased.status == 0, "\(erased.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(erased.stdout.utf8)) as? [String: Any])
        #expect((json["scrubbed_text_cells"] as? Int ?? 0) >= 5 && json["resumed"] as? Bool == false, "\(json)")
        try Self.expectNoTrace(of: who, catalog: catalog, catalogURL: catalogURL)

        // The messages keep what they said about files and columns; only the values went.
        try catalog.pool.read { db in
            let step = try String.fetchOne(db, sql: "SELECT message FROM run_step WHERE message LIKE 'malformed header:%' ORDER BY id DESC LIMIT 1")
            #expect(step?.contains("missing columns contact_id, Email") == true && step?.contains(TextScrub.replacement) == true, "\(step ?? "")")
            let audit = try String.fetchOne(db, sql: "SELECT detail FROM audit_event WHERE action = 'search' ORDER BY id DESC LIMIT 1")
            #expect(audit == "query '\(TextScrub.replacement)': 1 result", "\(audit ?? "")")
            // The person's keyless quarantined row is theirs alone: gone. The audit log is append-only again.
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM quarantine WHERE file = 'sources/crm/old.csv'") == 0)
        }
        #expect(throws: DatabaseError.self) {
            try catalog.pool.write { try $0.execute(sql: "UPDATE audit_event SET detail = 'rewritten' WHERE action = 'search'") }
        }
        // Values other people hold stay in their rows: another customer's golden record is intact.
        #expect(try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM golden_customer WHERE email LIKE '%[erased]%' OR first_name = '[erased]'") } == 0)
    }

    // MARK: the scrub itself

    @Test func scrubMatchesWholeValuesInAnyFormatAndKeepsTheGuards() throws {
        let dir = TempProject("scrub")
        let catalog = try Catalog.open(at: dir.dir.appendingPathComponent("catalog.sqlite"))
        try catalog.pool.write { db in
            try db.execute(sql: """
                INSERT INTO audit_event (at, actor, action, subject, detail) VALUES
                    ('t', 'ann', 'reveal', 'customer:C1', 'phone (212) 545-5924, ssn 245 54 9872, Lee Ashlee in Leeds'),
                    ('t', 'ann', 'reveal', 'customer:C2', 'call +1-212-545-5924 or 02125455924; not 3212545592411')
                """)
            try db.execute(sql: "INSERT INTO identity_junk VALUES ('national_id', '245-54-9872', 3), ('national_id', '[erased]', 1)")
            let report = try TextScrub.scrub(db, values: [
                .init(text: "+12125455924", kind: .digits), .init(text: "245549872", kind: .digits), .init(text: "lee", kind: .text),
            ])
            #expect(report.cells["audit_event"] == 2)
            // The junk row keyed by the value collides with an existing "[erased]" row: deleted.
            #expect(report.deletedRows["identity_junk"] == 1)
        }
        let details = try catalog.pool.read { try String.fetchAll($0, sql: "SELECT detail FROM audit_event ORDER BY id") }
        #expect(details == ["phone [erased], ssn [erased], [erased] Ashlee in Leeds",
                            "call [erased] or [erased]; not 3212545592411"])
        #expect(try catalog.pool.read { try String.fetchAll($0, sql: "SELECT value FROM identity_junk") } == ["[erased]"])
        // The append-only guards are back.
        #expect(throws: DatabaseError.self) { try catalog.pool.write { try $0.execute(sql: "DELETE FROM audit_event") } }
        // Found only where it occurs as a whole value.
        let found = try catalog.pool.read { db in
            try TextScrub.occurring(db, values: [.init(text: "ashlee", kind: .text), .init(text: "leed", kind: .text)], in: ["audit_event"])
        }
        #expect(found == [.init(text: "ashlee", kind: .text)])
    }

    // MARK: helpers

    /// A demo project of 150 customers after one run, and a way to run the binary on it.
    static func demo(_ name: String, vault: Bool = true) throws -> (TempProject, ([String]) throws -> StewardBinary.Result) {
        let p = TempProject(name)
        let steward = { (args: [String]) throws -> StewardBinary.Result in try StewardBinary.run(args + ["--project", p.dir.path]) }
        #expect(try StewardBinary.run(["init", p.dir.path, "--demo", "--customers", "150", "--seed", "7"]).status == 0)
        if !vault { try p.edit("steward.yml", replacing: "privacy: {vault: true}", with: "privacy: {vault: false}") }
        let run = try steward(["run"])
        #expect(run.status <= 1, "\(run.stderr)")
        return (p, steward)
    }

    /// A person with a CRM record whose every value (on every record of theirs) appears nowhere else:
    /// in no other person record and in no raw row but theirs and their own activity's.
    static func loneperson(_ catalog: Catalog) throws -> Person? {
        try catalog.pool.read { db in
            let columns = ["first_name", "last_name", "email", "phone", "dob", "street", "national_id"]
            for id in try String.fetchAll(db, sql: """
                SELECT g.customer_id FROM golden_customer g WHERE g.email IS NOT NULL AND g.phone IS NOT NULL AND g.dob IS NOT NULL
                    AND g.national_id IS NOT NULL AND g.street IS NOT NULL AND g.first_name IS NOT NULL AND g.last_name IS NOT NULL
                    AND EXISTS (SELECT 1 FROM identity_member m WHERE m.customer_id = g.customer_id AND m.source = 'crm_contacts')
                ORDER BY g.customer_id
                """) {
                let records = try Row.fetchAll(db, sql: """
                    SELECT p.source, p.record_key, \(columns.map { "p." + $0 }.joined(separator: ", ")) FROM staged_person p
                    JOIN identity_member m ON m.source = p.source AND m.record_key = p.record_key WHERE m.customer_id = ?
                    """, arguments: [id])
                let keys = Set(records.map { "\($0[0] as String):\($0[1] as String)" })
                let vault = VaultBox.of(db)
                var values = Set<String>(), sealed = Set<String>()
                for r in records {
                    for i in columns.indices {
                        guard let v: String = r[2 + i], !v.isEmpty else { continue }
                        if Vault.isSealed(v) { sealed.insert(v) }
                        values.insert(vault.reveal(v))
                    }
                }
                guard !values.contains(Vault.sealedText) else { Issue.record("the vault's key is not here"); return nil }
                let emails = Set(records.compactMap { ($0[4] as String?).map { vault.reveal($0).lowercased() } })
                let storedEmails = Set(records.compactMap { $0[4] as String? })
                guard let email = emails.sorted().first else { continue }
                // Raw CRM cells of the PII columns, as the file wrote them.
                guard let crm = records.first(where: { ($0[0] as String) == "crm_contacts" }),
                      let storedRaw = try String.fetchOne(db, sql: "SELECT data FROM raw_record WHERE source = 'crm_contacts' AND record_key = ? ORDER BY id DESC LIMIT 1",
                                                          arguments: [crm[1] as String]),
                      // A raw row holding PII is sealed whole (one JSON string) when the vault is on.
                      case let rawText = vault.revealJSON(storedRaw),
                      let header = try String.fetchOne(db, sql: "SELECT columns_json FROM batch WHERE source = 'crm_contacts' AND columns_json IS NOT NULL LIMIT 1"),
                      let cells = try JSONSerialization.jsonObject(with: Data(rawText.utf8)) as? [String],
                      let names = try JSONSerialization.jsonObject(with: Data(header.utf8)) as? [String] else { continue }
                let rawCells = zip(names, cells).filter { ["FirstName", "LastName", "Email", "Phone", "BirthDate", "SSN"].contains($0.0) && !$0.1.isEmpty }
                    .map { vault.reveal($0.1) }
                for cell in cells where Vault.isSealed(cell) { sealed.insert(cell) }
                if let whole = try? JSONSerialization.jsonObject(with: Data(storedRaw.utf8), options: [.fragmentsAllowed]) as? String,
                   Vault.isSealed(whole) { sealed.insert(whole) }
                // Whose rows may hold the values: the person's records and the activity referencing them.
                let activity = try Row.fetchAll(db, sql: "SELECT source, record_key, customer_ref_kind, customer_ref FROM staged_activity WHERE customer_ref IS NOT NULL")
                    .filter { r in
                        let kind: String = r[2], ref: String = r[3]
                        return kind.hasPrefix("source:") ? keys.contains("\(kind.dropFirst(7)):\(ref)") : storedEmails.contains(ref) || emails.contains(ref.lowercased())
                    }
                let allowed = keys.union(activity.map { "\($0[0] as String):\($0[1] as String)" })
                var lone = true
                for value in values.union(rawCells).union(sealed) where lone {
                    let holders = try Row.fetchAll(db, sql: "SELECT source, record_key FROM raw_record WHERE instr(lower(data), lower(?)) > 0", arguments: [value])
                    if holders.contains(where: { !allowed.contains("\($0[0] as String):\(($0[1] as String?) ?? "")") }) { lone = false }
                    let others = try Row.fetchAll(db, sql: """
                        SELECT source, record_key FROM staged_person WHERE instr(lower(COALESCE(first_name,'') || ' ' || COALESCE(last_name,'') || ' ' ||
                            COALESCE(full_name,'') || ' ' || COALESCE(email,'') || ' ' || COALESCE(phone,'') || ' ' || COALESCE(dob,'') || ' ' ||
                            COALESCE(street,'') || ' ' || COALESCE(national_id,'')), lower(?)) > 0
                        """, arguments: [value])
                    if others.contains(where: { !keys.contains("\($0[0] as String):\($0[1] as String)") }) { lone = false }
                }
                if lone { return Person(id: id, email: email, values: values.sorted(), rawCells: rawCells, sealed: sealed.sorted()) }
            }
            return nil
        }
    }

    /// What older versions wrote about a person: a header-less file's first row quoted in the step,
    /// run, alert and webhook error; a search audit quoting the email; a keyless quarantined row;
    /// a check sample and a junk value.
    static func plantMessages(_ catalog: Catalog, _ who: Person) throws {
        try catalog.pool.write { db in
            let runId = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM run")!
            let batchId = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM batch")!
            let message = "malformed header: missing columns contact_id, Email; found \(who.rawCells.count), " + who.rawCells.joined(separator: ", ")
            try db.execute(sql: "UPDATE run SET message = ? WHERE id = ?", arguments: ["crm_contacts: " + message, runId])
            try db.execute(sql: """
                INSERT INTO run_step (run_id, source, status, started_at, finished_at, message) VALUES (?, 'crm_contacts', 'failed', 't', 't', ?)
                """, arguments: [runId, message])
            try db.execute(sql: "INSERT INTO audit_event (at, actor, action, subject, detail) VALUES ('t', 'ann', 'search', 'customers', ?)",
                           arguments: ["query '\(who.email)': 1 result"])
            try db.execute(sql: """
                INSERT OR REPLACE INTO alert_state (webhook, status, problems_json, changed_at, last_error, last_error_at) VALUES ('https://hooks.example/a', 'breach', ?, 't', ?, 't')
                """, arguments: [String(decoding: try JSONSerialization.data(withJSONObject: [message]), as: UTF8.self), "HTTP 500 for " + message])
            try db.execute(sql: """
                INSERT INTO quarantine (run_id, source, batch_id, file, line, record_key, checks_json, reasons_json, raw, quarantined_at)
                VALUES (?, 'crm_contacts', ?, 'sources/crm/old.csv', 2, NULL, '["readable"]', ?, ?, 't')
                """, arguments: [runId, batchId, "[\"readable (error): line 2: \(who.rawCells.last ?? "")\"]",
                                 who.rawCells.filter { !$0.contains("@") }.joined(separator: ",")])
            try db.execute(sql: "UPDATE check_result SET samples_json = ? WHERE id = (SELECT MIN(id) FROM check_result)",
                           arguments: [String(decoding: try JSONSerialization.data(withJSONObject: who.rawCells), as: UTF8.self)])
            if let ssn = who.values.first(where: { $0.filter(\.isNumber).count == 9 && $0.contains("-") }) {
                try db.execute(sql: "INSERT OR IGNORE INTO identity_junk VALUES ('national_id', ?, 2)", arguments: [ssn])
            }
        }
    }

    /// None of the person's values in the catalog file or its WAL, nor (by SQL) in any column of any table.
    static func expectNoTrace(of who: Person, catalog: Catalog, catalogURL: URL) throws {
        let bytes = try IdentityStewardshipTests.bytes(catalogURL)
        for value in who.everyForm {
            #expect(!IdentityStewardshipTests.found(value, in: bytes), "'\(value)' is still in the catalog's bytes")
        }
        let tables = try catalog.pool.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") }
        for table in tables {
            try catalog.pool.read { db in
                let columns = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [table])
                for value in who.everyForm {
                    let condition = columns.map { "instr(lower(CAST(\"\($0)\" AS TEXT)), lower(?1)) > 0" }.joined(separator: " OR ")
                    let hits = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \"\(table)\" WHERE \(condition)", arguments: [value]) ?? 0
                    #expect(hits == 0, "'\(value)' is still in \(table)")
                }
            }
        }
    }
}
