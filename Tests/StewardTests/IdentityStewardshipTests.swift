import Foundation
import GRDB
import Testing
@testable import StewardCatalog
@testable import StewardIdentity
@testable import StewardPipeline

/// A steward's merge and split of whole customers (kept by later runs, recorded and audited), and
/// `steward forget` (PII gone from the file's bytes, not reloaded, tombstoned and audited).
@Suite(.serialized) struct IdentityStewardshipTests {
    static func customer(_ catalog: Catalog, _ ref: String) throws -> String? {
        let parts = ref.split(separator: ":", maxSplits: 1).map(String.init)
        return try catalog.pool.read {
            try String.fetchOne($0, sql: "SELECT customer_id FROM identity_member WHERE source = ? AND record_key = ?", arguments: [parts[0], parts[1]])
        }
    }

    @Test func mergeAndSplitSurviveLaterRunsAndAreRecorded() async throws {
        try await offPool { try Self.mergeAndSplitBody() }
    }

    static func mergeAndSplitBody() throws {
        let p = try IdentityPipelineTests.demo(200)
        _ = try IdentityPipelineTests.run(p)
        let config = try p.config()
        let catalog = try p.catalog()
        let engine = IdentityEngine(config: config, catalog: catalog)
        // Two one-record customers the model keeps apart, and a customer of several records.
        let (x, y, multi) = try catalog.pool.read { db -> (String, String, String) in
            let singles = try String.fetchAll(db, sql: """
                SELECT customer_id FROM identity_member GROUP BY customer_id HAVING COUNT(*) = 1 ORDER BY customer_id LIMIT 2
                """)
            let multi = try String.fetchOne(db, sql: """
                SELECT customer_id FROM identity_member GROUP BY customer_id HAVING COUNT(*) >= 3 ORDER BY customer_id LIMIT 1
                """)!
            return (singles[0], singles[1], multi)
        }
        let yRecord = try catalog.pool.read { try String.fetchOne($0, sql: "SELECT source || ':' || record_key FROM identity_member WHERE customer_id = ?", arguments: [y]) }!

        // Merge: y's record joins x, which keeps its id; y points at x.
        let merge = try catalog.pool.write { try CustomerStewardship.merge($0, survivor: x, other: y, runId: 1, maxClusterSize: 40, actor: "ann") }
        #expect(merge.moved == [yRecord])
        try engine.resolve(runId: 1)
        #expect(try Self.customer(catalog, yRecord) == x)
        // Later passes (forced, and a whole pipeline run) keep it: the model cannot undo a merge.
        try engine.resolve(runId: 2, force: true)
        _ = try IdentityPipelineTests.run(p)
        #expect(try Self.customer(catalog, yRecord) == x)
        let yState = try catalog.pool.read { try CustomerStewardship.state($0, y) }
        #expect(yState?.status == "merged" && yState?.mergedInto == x)
        // Customer 360 of the merged id answers with the survivor.
        #expect(try catalog.pool.read { try Customer360.load($0, id: y) }?.customerId == x)

        // Split: one record of a multi-record customer leaves into a new id.
        let records = try catalog.pool.read { try String.fetchAll($0, sql: "SELECT source || ':' || record_key FROM identity_member WHERE customer_id = ? ORDER BY 1", arguments: [multi]) }
        let leaving = records[0]
        let split = try catalog.pool.write { try CustomerStewardship.split($0, customer: multi, records: [leaving], runId: 2, actor: "ann") }
        let newId = split.otherId
        #expect(newId != multi)
        try engine.resolve(runId: 2)
        #expect(try Self.customer(catalog, leaving) == newId)
        #expect(try Self.customer(catalog, records[1]) == multi)
        try engine.resolve(runId: 3, force: true)
        _ = try IdentityPipelineTests.run(p)
        // The model cannot re-merge a split: the record stays in its new customer, the rest in the old one.
        #expect(try Self.customer(catalog, leaving) == newId)
        #expect(try Set(records.dropFirst().map { try Self.customer(catalog, $0) }) == [multi])

        // Events, audit rows (with the OS user given) and stewardship actions exist.
        let counts = try catalog.pool.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM identity_event WHERE kind = 'merge' AND customer_id = ? AND other_customer_id = ? AND detail LIKE 'steward ann:%'", arguments: [x, y]),
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM identity_event WHERE kind = 'split' AND customer_id = ? AND other_customer_id = ?", arguments: [newId, multi]),
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_event WHERE action IN ('customer.merge', 'customer.split') AND actor = 'ann'"),
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM identity_steward_action WHERE actor = 'ann'"))
        }
        #expect(counts.0 == 1 && counts.1 == 1 && counts.2 == 2 && counts.3 == 2)
        // Mistakes change nothing and say why.
        #expect(throws: CustomerStewardship.Failure.notActive(y, status: "merged", mergedInto: x)) {
            try catalog.pool.write { try CustomerStewardship.merge($0, survivor: x, other: y, runId: 3, maxClusterSize: 40) }
        }
        #expect(throws: CustomerStewardship.Failure.everyRecord(newId)) {
            try catalog.pool.write { try CustomerStewardship.split($0, customer: newId, records: [leaving], runId: 3) }
        }
        // Nothing new: a re-run changes nothing.
        let before = try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM identity_event") }
        _ = try IdentityPipelineTests.run(p)
        #expect(try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM identity_event") } == before)
    }

    @Test func cliMergeSplitPrintWhatChangedAndForgetAsksOnATerminal() async throws {
        try await offPool { try Self.cliBody() }
    }

    static func cliBody() throws {
        let p = TempProject("steward-cli")
        let steward = { (args: [String]) throws -> StewardBinary.Result in try StewardBinary.run(args + ["--project", p.dir.path]) }
        #expect(try StewardBinary.run(["init", p.dir.path, "--demo", "--customers", "120", "--seed", "3"]).status == 0)
        _ = try steward(["run"])
        let catalog = try p.catalog()
        let (singles, multi, records) = try catalog.pool.read { db -> ([String], String, [String]) in
            let singles = try String.fetchAll(db, sql: "SELECT customer_id FROM identity_member GROUP BY customer_id HAVING COUNT(*) = 1 ORDER BY customer_id LIMIT 3")
            let multi = try String.fetchOne(db, sql: "SELECT customer_id FROM identity_member GROUP BY customer_id HAVING COUNT(*) >= 2 ORDER BY customer_id LIMIT 1")!
            let records = try String.fetchAll(db, sql: "SELECT source || ':' || record_key FROM identity_member WHERE customer_id = ? ORDER BY 1", arguments: [multi])
            return (singles, multi, records)
        }
        let merged = try steward(["customer", "merge", singles[0], singles[1]])
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(merged.stdout.contains("merged \(singles[1]) into \(singles[0]): 1 records moved"))
        #expect(merged.stdout.contains("\(singles[1])  merged into \(singles[0])"))
        let again = try steward(["customer", "merge", singles[0], singles[1]])
        #expect(again.status == 2 && again.stderr.contains("already merged into \(singles[0])"))
        let split = try steward(["customer", "split", multi, records[0], "--json"])
        #expect(split.status == 0, "\(split.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(split.stdout.utf8)) as? [String: Any])
        #expect(json["kind"] as? String == "split" && json["held"] as? Bool == true && json["moved"] as? [String] == [records[0]])
        let newId = try #require(json["other_customer_id"] as? String)
        let customers = json["customers"] as? [[String: Any]] ?? []
        #expect(customers.first { $0["customer_id"] as? String == newId }?["records"] as? [String] == [records[0]])
        let stranger = try steward(["customer", "split", multi, "crm_contacts:nobody"])
        #expect(stranger.status == 2 && stranger.stderr.contains("is not a record of \(multi)"))

        // forget on a terminal: a wrong id typed erases nothing; the right one erases.
        let target = singles[2]
        func onTerminal(_ typed: String) throws -> Int32 {
            let proc = Process()
            proc.executableURL = URL(fileURLWithPath: "/usr/bin/script")
            let command = [StewardBinary.url.path, "forget", target, "--project", p.dir.path].map { "'\($0)'" }.joined(separator: " ")
            proc.arguments = ["-qec", command, "/dev/null"]
            let input = Pipe()
            proc.standardInput = input
            proc.standardOutput = Pipe()
            try proc.run()
            input.fileHandleForWriting.write(Data((typed + "\n").utf8))
            proc.waitUntilExit()
            return proc.terminationStatus
        }
        let golden = { () throws -> Int? in
            try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM golden_customer WHERE customer_id = ?", arguments: [target]) }
        }
        #expect(try onTerminal("C99999999") == 2)
        #expect(try golden() == 1)
        #expect(try onTerminal(target) == 0)
        #expect(try golden() == 0)
    }

    // MARK: forget

    /// The catalog file and its WAL, lower-cased. Read by a child process: closing a descriptor of
    /// the file in this process would drop this process's SQLite (POSIX) locks on it.
    static func bytes(_ url: URL) throws -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "cat \"$1\" \"$1-wal\" 2>/dev/null; true", "sh", url.path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Data(data.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 })
    }

    static func found(_ needle: String, in haystack: Data) -> Bool { haystack.range(of: Data(needle.lowercased().utf8)) != nil }

    @Test func forgetErasesThePersonFromTheFileAndARerunDoesNotBringThemBack() async throws {
        try await offPool { try Self.forgetBody() }
    }

    static func forgetBody() throws {
        let p = TempProject("forget")
        let steward = { (args: [String]) throws -> StewardBinary.Result in try StewardBinary.run(args + ["--project", p.dir.path]) }
        #expect(try StewardBinary.run(["init", p.dir.path, "--demo", "--customers", "150", "--seed", "7"]).status == 0)
        // This test reads the catalog's bytes and index tokens as stored: the vault off (VaultTests cover
        // forget in a sealed catalog).
        try p.edit("steward.yml", replacing: "privacy: {vault: true}", with: "privacy: {vault: false}")
        let firstRun = try steward(["run"])
        #expect(firstRun.status <= 1, "\(firstRun.stderr)")
        let catalog = try p.catalog()
        let catalogURL = try p.config().catalogURL
        // A person with a CRM record whose email, phone and last name appear in no one else's raw rows.
        let person = try catalog.pool.read { db -> (id: String, email: String, phone: String, last: String, crmKey: String, crmRaw: String)? in
            for r in try Row.fetchAll(db, sql: """
                SELECT m.customer_id, p.email, p.phone, p.last_name, p.record_key FROM identity_member m
                JOIN staged_person p ON p.source = m.source AND p.record_key = m.record_key
                WHERE m.source = 'crm_contacts' AND p.email IS NOT NULL AND p.phone IS NOT NULL AND length(p.last_name) >= 5
                ORDER BY m.customer_id
                """) {
                let id: String = r[0], email: String = r[1], phone: String = r[2], last: String = r[3]
                let mine = try Set(Row.fetchAll(db, sql: "SELECT source, record_key FROM identity_member WHERE customer_id = ?", arguments: [id]).map { "\($0[0] as String):\($0[1] as String)" })
                // Rows holding the email are the person's or activity referencing them (erased too);
                // rows holding the last name are among those: no one else shares the values.
                let key = { (r: Row) in "\(r[0] as String):\((r[1] as String?) ?? "")" }
                let activitySources = Set(try String.fetchAll(db, sql: "SELECT DISTINCT source FROM staged_activity"))
                let emailRows = try Row.fetchAll(db, sql: "SELECT source, record_key FROM raw_record WHERE instr(lower(data), lower(?)) > 0", arguments: [email])
                guard emailRows.allSatisfy({ mine.contains(key($0)) || activitySources.contains($0[0] as String) }) else { continue }
                let emailKeys = Set(emailRows.map(key))
                let lastRows = try Row.fetchAll(db, sql: "SELECT source, record_key FROM raw_record WHERE instr(lower(data), lower(?)) > 0", arguments: [last])
                guard lastRows.allSatisfy({ mine.contains(key($0)) || emailKeys.contains(key($0)) }) else { continue }
                let sameValues = try Int.fetchOne(db, sql: """
                    SELECT COUNT(*) FROM staged_person WHERE (phone = ? OR lower(last_name) = lower(?)) AND (source || ':' || record_key) NOT IN (SELECT source || ':' || record_key FROM identity_member WHERE customer_id = ?)
                    """, arguments: [phone, last, id]) ?? 0
                guard sameValues == 0 else { continue }
                let raw = try String.fetchOne(db, sql: "SELECT data FROM raw_record WHERE source = 'crm_contacts' AND record_key = ? ORDER BY id DESC LIMIT 1", arguments: [r[4] as String])!
                guard raw.lowercased().contains(email.lowercased()) else { continue }
                return (id, email, phone, last, r[4], raw)
            }
            return nil
        }
        let who = try #require(person)
        let before = try Self.bytes(catalogURL)
        #expect(Self.found(who.email, in: before) && Self.found(who.last, in: before) && Self.found(who.phone, in: before))
        // The lookup index holds the phone as its digits backwards.
        let phoneToken = try #require(CustomerSearch.phoneToken(who.phone))
        #expect(Self.found(phoneToken, in: before))
        let facts = { (db: Database) throws -> Int in
            try Int.fetchOne(db, sql: """
                SELECT (SELECT COUNT(*) FROM customer_score WHERE customer_id = ?1) + (SELECT COUNT(*) FROM customer_address WHERE customer_id = ?1)
                    + (SELECT COUNT(*) FROM customer_activity_link WHERE customer_id = ?1)
                """, arguments: [who.id]) ?? 0
        }
        #expect(try catalog.pool.read(facts) >= 1)

        // Without --yes and without a terminal: refused, nothing erased.
        let refused = try steward(["forget", who.id])
        #expect(refused.status == 2 && refused.stderr.contains("--yes"))
        #expect(try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM golden_customer WHERE customer_id = ?", arguments: [who.id]) } == 1)

        let erased = try steward(["forget", who.id, "--yes"])
        #expect(erased.status == 0, "\(erased.stdout)\(erased.stderr)")
        #expect(erased.stdout.contains("erased \(who.id)"))
        let after = try Self.bytes(catalogURL)
        #expect(!Self.found(who.email, in: after), "email still in the catalog file")
        #expect(!Self.found(who.phone, in: after), "phone still in the catalog file")
        #expect(!Self.found(phoneToken, in: after), "phone's lookup token still in the catalog file")
        #expect(!Self.found(who.last, in: after), "last name still in the catalog file")
        #expect(try catalog.pool.read(facts) == 0, "the customer's score, addresses or activity links are left")
        #expect(try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM staged_activity WHERE lower(customer_ref) = lower(?)", arguments: [who.email]) } == 0)
        let show = try steward(["customer", "show", who.id])
        #expect(show.status == 2 && show.stderr.contains("erased on request"))

        // Audit event and tombstones exist; the id stays retired, never reused.
        let (audits, tombstones, status) = try catalog.pool.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_event WHERE action = 'forget' AND subject = ?", arguments: ["customer:\(who.id)"]),
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM erasure_tombstone WHERE source = 'crm_contacts' AND record_key = ?", arguments: [who.crmKey]),
             try String.fetchOne(db, sql: "SELECT status FROM identity_customer WHERE customer_id = ?", arguments: [who.id]))
        }
        #expect(audits == 1 && (tombstones ?? 0) >= 1 && status == "retired")

        let staged = { () throws -> Int in
            try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM staged_person WHERE source = 'crm_contacts' AND record_key = ?", arguments: [who.crmKey]) } ?? 0
        }
        // A re-run with unchanged files brings nothing back and changes nothing.
        let events = try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM identity_event") }
        _ = try steward(["run"])
        #expect(try staged() == 0)
        #expect(try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM identity_event") } == events)

        // A changed file that still holds the same row: the row is recognised and skipped.
        // Raw rows are stored as JSON objects; the file's line for the record starts with its key.
        let lineOf = { (text: String) in text.components(separatedBy: "\n").first { $0.hasPrefix(who.crmKey + ",") } }
        let crmFile = try #require(try FileManager.default.contentsOfDirectory(at: p.dir.appendingPathComponent("sources/crm"), includingPropertiesForKeys: nil)
            .first { (try? String(contentsOf: $0, encoding: .utf8)).flatMap(lineOf) != nil })
        var text = try String(contentsOf: crmFile, encoding: .utf8)
        let line = try #require(lineOf(text)) + "\n"
        let range = try #require(text.range(of: line))
        text.removeSubrange(range)
        text += line   // the same row, moved to the end: a new file digest, the same record
        try text.write(to: crmFile, atomically: true, encoding: .utf8)
        _ = try steward(["run"])
        #expect(try staged() == 0)
        #expect(!Self.found(who.email, in: try Self.bytes(catalogURL)))
        #expect(try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM raw_record WHERE source = 'crm_contacts' AND record_key = ?", arguments: [who.crmKey]) } == 0)

        // The source sends the person again, changed: a new version of the record loads.
        let at = try #require(line.lowercased().range(of: who.email.lowercased()))
        let offset = line.lowercased().distance(from: line.lowercased().startIndex, to: at.lowerBound)
        var changed = line
        changed.insert(contentsOf: "again.", at: changed.index(changed.startIndex, offsetBy: offset))
        text = text.replacingOccurrences(of: line, with: changed)
        try text.write(to: crmFile, atomically: true, encoding: .utf8)
        _ = try steward(["run"])
        #expect(try staged() == 1)
    }
}
