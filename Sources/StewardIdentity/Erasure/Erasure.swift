import Foundation
import GRDB
import StewardCatalog
import StewardPipeline
import StewardConfig

/// `steward forget`: erases one person's PII from every layer of the catalog (raw rows, staged
/// records and the activity that references them, quarantine, identity tables, golden record,
/// SCD2 history, search index, and any message or detail quoting one of their values), keeps a
/// tombstone per erased raw row and an audit event, then rewrites the file so the bytes are gone
/// (secure_delete, VACUUM, WAL checkpoint(TRUNCATE)).
///
/// Killed at any point, it leaves the catalog whole and the next `forget` of the id finishes: the
/// rows go in one transaction (killed inside it, SQLite rolls it back on the next open and the
/// person is still there to erase), which records the request `pending`; the file is rewritten
/// after it, and the request becomes `done` only once the WAL was emptied. A `forget` of an id
/// whose request is pending resumes there; "already erased" means done.
///
/// A later run skips a row whose source, record key and text hash match a tombstone: an
/// unchanged file is skipped anyway (same sha256), and a changed file that still holds the same
/// row does not bring the person back. A changed row of that record (the source sending the person
/// again, with new data) loads as a new record.
public enum Erasure {
    public struct Outcome: Sendable {
        /// The customer erased (a merged id given resolves to its survivor).
        public var customerId: String
        public var requestedId: String
        /// Every id that referred to this person (the customer and the ids merged into it).
        public var customerIds: [String]
        public var requestId: Int64
        public var personRecords: Int
        public var activityRecords: Int
        public var rawRows: Int
        public var quarantineRows: Int
        public var historyVersions: Int
        /// Cells of other customers' history that held this person's email, phone or national id.
        public var scrubbedCells: Int
        public var tombstones: Int
        /// Records that also hold one of the person's emails but belong to another customer: kept.
        public var keptOtherCustomers: [String]
        /// Text cells anywhere else (messages, audit details, alert payloads, samples) where one of the
        /// person's values was replaced by `[erased]`, and rows deleted because a value was their key.
        public var scrubbedTextCells: Int
        public var scrubbedRows: Int
        /// false when another process kept the WAL from being truncated: the request stays pending.
        public var walTruncated: Bool
        /// This call finished a request an earlier, interrupted `forget` had recorded (counts are its).
        public var resumed = false
    }

    public enum Failure: Error, CustomStringConvertible {
        case unknownCustomer(String)
        case alreadyErased(String, at: String)
        case noRecords(String, status: String)
        public var description: String {
            switch self {
            case .unknownCustomer(let id): return "no customer \(id)"
            case .alreadyErased(let id, let at): return "\(id) was already erased (\(at))"
            case .noRecords(let id, let status): return "\(id) is \(status) and holds no records"
            }
        }
    }

    public static func forget(catalog: Catalog, config: ProjectConfig, customerId requested: String,
                              actor: String = Catalog.osUser) throws -> Outcome {
        // Without the vault's key the person's values cannot be told apart from anyone else's (all
        // read `[sealed]`), and the matching pass after the erasure could not run.
        if case .locked(let keyId) = catalog.vault.state { throw VaultError.keyMissing(keyId) }
        var outcome: Outcome
        if let pending = try catalog.pool.read({ try pendingRequest($0, requested: requested) }) {
            outcome = pending
        } else {
            var erased: Outcome!
            try catalog.pool.writeWithoutTransaction { db in
                let previous = try Int.fetchOne(db, sql: "PRAGMA secure_delete") ?? 0
                // Freed pages are zeroed as they are freed, so deleted rows never linger in free pages or WAL frames.
                try db.execute(sql: "PRAGMA secure_delete = ON")
                defer { try? db.execute(sql: "PRAGMA secure_delete = \(previous)") }
                try db.inTransaction {
                    erased = try erase(db, requested: requested, actor: actor)
                    return .commit
                }
            }
            outcome = erased
            pause(at: "erased")
        }
        // Golden records, history and the search index without the person (a new matching pass).
        let runId: Int64 = try catalog.pool.read { try Int64.fetchOne($0, sql: "SELECT MAX(id) FROM run") } ?? 0
        try IdentityEngine(config: config, catalog: catalog).resolve(runId: runId, force: true)
        _ = try CustomerFacts(catalog: catalog).update(runId: runId)
        pause(at: "rewriting")
        try catalog.pool.writeWithoutTransaction { db in
            // Rewrites every page from live rows only, then empties the WAL that held older page images.
            try db.execute(sql: "VACUUM")
            let r = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            outcome.walTruncated = (r?[0] as Int?) == 0
            // Done only once no page image of the person is left; recording it adds a WAL frame of
            // this row alone, emptied again.
            guard outcome.walTruncated else { return }
            try db.execute(sql: "UPDATE erasure_request SET state = 'done' WHERE id = ?", arguments: [outcome.requestId])
            _ = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        return outcome
    }

    /// The id asked for, or the survivor it was merged into.
    private static func survivor(_ db: Database, of requested: String) throws -> String {
        var target = requested
        for _ in 0..<16 {
            guard let next = try String.fetchOne(db, sql: "SELECT merged_into FROM identity_customer WHERE customer_id = ? AND status = 'merged'",
                                                 arguments: [target]) else { break }
            target = next
        }
        return target
    }

    /// The outcome an interrupted `forget` of this person recorded, when its request is still pending.
    private static func pendingRequest(_ db: Database, requested: String) throws -> Outcome? {
        let target = try survivor(db, of: requested)
        guard let row = try Row.fetchOne(db, sql: "SELECT id, detail_json FROM erasure_request WHERE customer_id = ? AND state = 'pending' ORDER BY id DESC LIMIT 1",
                                         arguments: [target]) else { return nil }
        let detail = (try? JSONSerialization.jsonObject(with: Data((row[1] as String).utf8))) as? [String: Any] ?? [:]
        let count = { (key: String) in detail[key] as? Int ?? 0 }
        return Outcome(customerId: target, requestedId: requested, customerIds: detail["customer_ids"] as? [String] ?? [target], requestId: row[0],
                       personRecords: count("person_records"), activityRecords: count("activity_records"), rawRows: count("raw_rows"),
                       quarantineRows: count("quarantine_rows"), historyVersions: count("history_versions"),
                       scrubbedCells: count("scrubbed_history_cells"), tombstones: count("tombstones"), keptOtherCustomers: [],
                       scrubbedTextCells: count("scrubbed_text_cells"), scrubbedRows: count("scrubbed_rows"), walTruncated: false, resumed: true)
    }

    /// Test hook, compiled into debug builds only: with `STEWARD_TEST_FORGET_PAUSE=<point>:<file>`,
    /// `forget` creates the file on reaching that point and waits there to be killed, so a test can
    /// SIGKILL it at a known step. Unset (or in a release build) it does nothing.
    static func pause(at point: String) {
        #if DEBUG
        guard let spec = ProcessInfo.processInfo.environment["STEWARD_TEST_FORGET_PAUSE"],
              let colon = spec.firstIndex(of: ":"), spec[..<colon] == point else { return }
        FileManager.default.createFile(atPath: String(spec[spec.index(after: colon)...]), contents: nil)
        while true { sleep(60) }
        #endif
    }

    private static func erase(_ db: Database, requested: String, actor: String) throws -> Outcome {
        let target = try survivor(db, of: requested)
        guard let status = try String.fetchOne(db, sql: "SELECT status FROM identity_customer WHERE customer_id = ?", arguments: [target]) else {
            throw Failure.unknownCustomer(requested)
        }
        if let at = try String.fetchOne(db, sql: "SELECT at FROM erasure_request WHERE customer_id = ? ORDER BY id DESC LIMIT 1", arguments: [target]) {
            throw Failure.alreadyErased(target, at: at)
        }
        guard status == "active" else { throw Failure.noRecords(target, status: status) }
        // Every id that ever meant this person: the customer and those merged into it, transitively.
        var ids = [target]
        var frontier = [target]
        while !frontier.isEmpty {
            let next = try String.fetchAll(db, sql: "SELECT customer_id FROM identity_customer WHERE merged_into IN (\(marks(frontier.count)))",
                                           arguments: StatementArguments(frontier)).filter { !ids.contains($0) }
            ids += next
            frontier = next
        }
        let at = Timestamp.now()
        try db.execute(sql: "INSERT INTO erasure_request (customer_id, actor, at, detail_json) VALUES (?, ?, ?, '{}')", arguments: [target, actor, at])
        let requestId = db.lastInsertedRowID
        pause(at: "erasing")

        try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS erase_key (source TEXT NOT NULL, record_key TEXT NOT NULL, PRIMARY KEY (source, record_key))")
        try db.execute(sql: "DELETE FROM erase_key")
        defer { try? db.execute(sql: "DROP TABLE IF EXISTS temp.erase_key") }
        try db.execute(sql: "INSERT INTO erase_key SELECT source, record_key FROM identity_member WHERE customer_id = ?", arguments: [target])

        // The person's identifiers, for activity that references them and rows that mention them, in
        // plaintext: sealed values open (`vault_open`, `vault_reveal_json`) where they are compared,
        // since a raw cell is sealed as the source wrote it and staging as standardised.
        // Placeholder values shared by many people (identity_junk) identify no one.
        func values(_ column: String, junkField: String) throws -> [String] {
            try String.fetchAll(db, sql: """
                SELECT DISTINCT vault_open(p.\(column)) FROM staged_person p JOIN erase_key k ON k.source = p.source AND k.record_key = p.record_key
                WHERE p.\(column) IS NOT NULL AND p.\(column) != ''
                    AND p.\(column) NOT IN (SELECT value FROM identity_junk WHERE field = ?)
                """, arguments: [junkField])
        }
        let emails = try values("email", junkField: "email").map { $0.lowercased() }
        let phones = try values("phone", junkField: "phone")
        let nationalIds = try values("national_id", junkField: "national_id")

        // Their records a full snapshot marked deleted are in no customer any more, but still hold PII.
        for (column, list) in [("email", emails), ("phone", phones)] where !list.isEmpty {
            try db.execute(sql: """
                INSERT OR IGNORE INTO erase_key SELECT source, record_key FROM staged_person
                WHERE is_deleted = 1 AND lower(vault_open(\(column))) IN (\(marks(list.count)))
                """, arguments: StatementArguments(list.map { $0.lowercased() }))
        }
        let personRecords = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM erase_key") ?? 0
        let personValues = try identifyingValues(db, of: ids)

        // Transactions and events referencing the person by a record key, email or phone.
        try db.execute(sql: """
            INSERT OR IGNORE INTO erase_key SELECT a.source, a.record_key FROM staged_activity a
            JOIN erase_key k ON a.customer_ref_kind = 'source:' || k.source AND a.customer_ref = k.record_key
            """)
        for (kind, list) in [("email", emails), ("phone", phones)] where !list.isEmpty {
            try db.execute(sql: """
                INSERT OR IGNORE INTO erase_key SELECT source, record_key FROM staged_activity
                WHERE customer_ref_kind = ? AND lower(vault_open(customer_ref)) IN (\(marks(list.count)))
                """, arguments: StatementArguments([kind] + list))
        }
        let activityRecords = (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM erase_key") ?? 0) - personRecords

        // Raw rows that mention one of the emails: their records go too, unless they are another
        // customer's live person record (kept, and reported).
        var kept = Set<String>()
        var keylessRaw = Set<Int64>()
        for email in emails {
            for r in try Row.fetchAll(db, sql: "SELECT id, source, record_key FROM raw_record WHERE instr(lower(vault_reveal_json(data)), ?) > 0", arguments: [email]) {
                guard let key: String = r[2] else { keylessRaw.insert(r[0]); continue }
                let source: String = r[1]
                if let other = try String.fetchOne(db, sql: """
                    SELECT m.customer_id FROM identity_member m JOIN staged_person p ON p.source = m.source AND p.record_key = m.record_key
                    WHERE m.source = ? AND m.record_key = ? AND p.is_deleted = 0
                    """, arguments: [source, key]), !ids.contains(other) {
                    kept.insert("\(source):\(key) (\(other))")
                    continue
                }
                try db.execute(sql: "INSERT OR IGNORE INTO erase_key VALUES (?, ?)", arguments: [source, key])
            }
        }

        // Tombstones for every erased raw row, then the raw rows themselves.
        var rawBySource: [String: Int] = [:]
        var rawIds: [Int64] = Array(keylessRaw)
        let tomb = try db.makeStatement(sql: "INSERT OR IGNORE INTO erasure_tombstone (source, record_key, row_sha256, request_id) VALUES (?, ?, ?, ?)")
        let rawRows = try Row.fetchAll(db, sql: """
            SELECT r.id, r.source, r.record_key, r.data FROM raw_record r JOIN erase_key k ON k.source = r.source AND k.record_key = r.record_key
            """) + Row.fetchAll(db, sql: "SELECT id, source, record_key, data FROM raw_record WHERE id IN (\(marks(keylessRaw.count)))",
                                arguments: StatementArguments(Array(keylessRaw)))
        for r in rawRows {
            let source: String = r[1]
            try tomb.execute(arguments: [source, (r[2] as String?) ?? "", ErasureTombstones.hash(r[3]), requestId])
            rawBySource[source, default: 0] += 1
            rawIds.append(r[0])
        }
        let tombstones = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM erasure_tombstone WHERE request_id = ?", arguments: [requestId]) ?? 0
        let deleteRaw = try db.makeStatement(sql: "DELETE FROM raw_record WHERE id = ?")
        for id in Set(rawIds) { try deleteRaw.execute(arguments: [id]) }

        // Quarantined versions of those records, and keyless quarantined rows mentioning an email.
        try db.execute(sql: "DELETE FROM quarantine WHERE EXISTS (SELECT 1 FROM erase_key k WHERE k.source = quarantine.source AND k.record_key = quarantine.record_key)")
        var quarantineRows = db.changesCount
        for email in emails {
            try db.execute(sql: "DELETE FROM quarantine WHERE record_key IS NULL AND (instr(lower(vault_reveal_json(raw)), ?1) > 0 OR instr(lower(reasons_json), ?1) > 0)",
                           arguments: [email])
            quarantineRows += db.changesCount
        }

        // Staging, identity tables, golden record, history, search index.
        for table in ["staged_person", "staged_activity"] {
            try db.execute(sql: "DELETE FROM \(table) WHERE EXISTS (SELECT 1 FROM erase_key k WHERE k.source = \(table).source AND k.record_key = \(table).record_key)")
        }
        let inIds = "IN (\(marks(ids.count)))"
        let idArgs = StatementArguments(ids)
        try db.execute(sql: "DELETE FROM identity_member WHERE customer_id \(inIds)", arguments: idArgs)
        for side in ["a", "b"] {
            for table in ["identity_edge", "identity_decision"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE EXISTS (SELECT 1 FROM erase_key k WHERE k.source = \(table).\(side)_source AND k.record_key = \(table).\(side)_key)")
            }
        }
        try db.execute(sql: "DELETE FROM golden_customer WHERE customer_id \(inIds)", arguments: idArgs)
        try dropIndexEntries(db, customerIds: ids)
        try db.execute(sql: "DELETE FROM customer_dim WHERE customer_id \(inIds)", arguments: idArgs)
        let historyVersions = db.changesCount
        // Scores, activity links, and the addresses no other customer has had (a street is personal data).
        for id in ids { try CustomerFacts.forget(db, customerId: id) }
        // Traits, consent, audiences, and what destinations hold of them (a remove on their next sync).
        try ActivationErasure.forget(db, customerIds: ids, erasedKeys: "erase_key")
        var scrubbed = 0
        for (column, list) in [("email", emails), ("phone", phones), ("national_id", nationalIds)] where !list.isEmpty {
            try db.execute(sql: "UPDATE customer_dim SET \(column) = NULL WHERE lower(vault_open(\(column))) IN (\(marks(list.count)))",
                           arguments: StatementArguments(list.map { $0.lowercased() }))
            scrubbed += db.changesCount
        }
        // The ids stay (never reused, never silently meaning someone else), retired with an event.
        try db.execute(sql: "UPDATE identity_customer SET status = 'retired', merged_into = NULL, records = 0 WHERE customer_id = ?", arguments: [target])
        let runId = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM run") ?? 0
        try db.execute(sql: "INSERT INTO identity_event (run_id, at, kind, customer_id, detail) VALUES (?, ?, 'retire', ?, ?)",
                       arguments: [runId, at, target, "erased on request \(requestId) by \(actor)"])

        // The values no one left in the catalog holds are the person's alone: a first name or a birth
        // date other people share identifies no one and stays in their rows.
        let held = try TextScrub.occurring(db, values: personValues.flatMap(\.forms), in: recordTables)
        let ownGroups = personValues.filter { !$0.forms.contains(where: held.contains) }
        let ownValues = ownGroups.flatMap(\.forms)
        // A keyless quarantined row quoting their email, phone or national id is a row of theirs.
        var quarantineSources = Set<String>()
        let identifiers = ownGroups.filter { ["email", "phone", "national_id"].contains($0.field) }.flatMap(\.forms)
        for key in try TextScrub.matchingRows(db, table: "quarantine", values: identifiers) {
            guard let source = try String.fetchOne(db, sql: "SELECT source FROM quarantine WHERE rowid = ? AND record_key IS NULL", arguments: StatementArguments(key))
            else { continue }
            try db.execute(sql: "DELETE FROM quarantine WHERE rowid = ?", arguments: StatementArguments(key))
            quarantineSources.insert(source)
            quarantineRows += 1
        }

        // Source summaries follow the rows that are left.
        for source in Set(rawBySource.keys).union(quarantineSources).union(try String.fetchAll(db, sql: "SELECT DISTINCT source FROM erase_key")) {
            try db.execute(sql: """
                UPDATE source_stats SET rows_raw = MAX(0, rows_raw - ?1),
                    rows_staged = (SELECT COUNT(*) FROM staged_person WHERE source = ?2 AND is_deleted = 0)
                                + (SELECT COUNT(*) FROM staged_activity WHERE source = ?2 AND is_deleted = 0),
                    rows_flagged = (SELECT COUNT(*) FROM staged_person WHERE source = ?2 AND is_deleted = 0 AND flags IS NOT NULL)
                                 + (SELECT COUNT(*) FROM staged_activity WHERE source = ?2 AND is_deleted = 0 AND flags IS NOT NULL),
                    rows_quarantined = (SELECT COUNT(*) FROM quarantine WHERE source = ?2 AND released_run IS NULL)
                WHERE source = ?2
                """, arguments: [rawBySource[source] ?? 0, source])
        }
        // Whatever else quotes them: run and step messages, audit details, alert payloads, samples.
        // (Not in the record tables: the values were just found in none of them.)
        let text = try TextScrub.scrub(db, values: ownValues, except: erasureTables.union(recordTables))
        let outcome = Outcome(customerId: target, requestedId: requested, customerIds: ids, requestId: requestId, personRecords: personRecords,
                              activityRecords: activityRecords, rawRows: Set(rawIds).count, quarantineRows: quarantineRows,
                              historyVersions: historyVersions, scrubbedCells: scrubbed, tombstones: tombstones,
                              keptOtherCustomers: kept.sorted(), scrubbedTextCells: text.totalCells, scrubbedRows: text.totalDeleted,
                              walTruncated: true)
        let detail: [String: Any] = [
            "customer_ids": ids, "person_records": personRecords, "activity_records": activityRecords, "raw_rows": outcome.rawRows,
            "quarantine_rows": quarantineRows, "history_versions": historyVersions, "scrubbed_history_cells": scrubbed,
            "tombstones": tombstones, "kept_other_customers": kept.count,
            "scrubbed_text_cells": text.totalCells, "scrubbed_rows": text.totalDeleted,
        ]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: detail, options: [.sortedKeys]), as: UTF8.self)
        try db.execute(sql: "UPDATE erasure_request SET detail_json = ? WHERE id = ?", arguments: [json, requestId])
        try Catalog.audit(db, action: "forget", subject: "customer:\(target)", detail: json, actor: actor)
        return outcome
    }

    /// Removes the customers' entries from the lookup indexes: the one place a per-person index
    /// entry is dropped on erasure (names only they held, their search rows; blind indexes belong here too).
    static func dropIndexEntries(_ db: Database, customerIds ids: [String]) throws {
        try CustomerSearch.forgetNames(db, customerIds: ids)
        try db.execute(sql: "DELETE FROM customer_search WHERE customer_id IN (\(marks(ids.count)))", arguments: StatementArguments(ids))
    }

    /// Where other people's values live: a value still found here after the person's rows went is
    /// not theirs alone, and is not scrubbed from text elsewhere.
    static let recordTables = ["raw_record", "staged_person", "staged_activity"]
    /// The erasure's own bookkeeping (record keys, hashes, counts): never rewritten by the scrub.
    static let erasureTables: Set<String> = ["erasure_request", "erasure_tombstone"]

    /// One value of the person (one field) in every form text may hold it: as stored (sealed, when
    /// the privacy vault is on; sealing is deterministic, so other rows holding it hold that text)
    /// and in plaintext as sources and messages write it.
    struct ValueGroup {
        var field: String
        var forms: [TextScrub.Value]
    }

    /// Every value that identifies the person, as their records, golden record and history hold it:
    /// emails, phones and national ids (as numbers in any format), birth dates in the common
    /// written forms, streets and names (and the full name as one phrase).
    static func identifyingValues(_ db: Database, of ids: [String]) throws -> [ValueGroup] {
        let vault = VaultBox.of(db)
        var groups: [String: ValueGroup] = [:]
        func add(_ field: String, _ stored: String?) {
            guard let stored = stored?.trimmingCharacters(in: .whitespaces), !stored.isEmpty else { return }
            var forms: [TextScrub.Value] = Vault.isSealed(stored) ? [.init(text: stored, kind: .text)] : []
            let value = vault.reveal(stored)
            if value != Vault.sealedText {
                switch field {
                case "phone", "national_id":
                    // A number in any format, with or without a country prefix.
                    forms.append(value.filter { $0.isASCII && $0.isNumber }.count >= 7 ? .init(text: value, kind: .digits) : .init(text: value, kind: .text))
                case "dob":
                    forms += dateForms(value).map { .init(text: $0, kind: .text) }
                default:
                    forms.append(.init(text: value, kind: .text))
                }
            }
            let key = "\(field)\u{1F}\(value == Vault.sealedText ? stored : value.lowercased())"
            groups[key, default: ValueGroup(field: field, forms: [])].forms += forms.filter { !(groups[key]?.forms.contains($0) ?? false) }
        }
        let fields = ["first_name", "last_name", "email", "phone", "dob", "street", "national_id"]
        let idList = "(\(marks(ids.count)))"
        let sources = [
            ("SELECT p.first_name, p.last_name, p.email, p.phone, p.dob, p.street, p.national_id, p.full_name, p.first_name_original, " +
             "p.last_name_original, p.full_name_original FROM staged_person p JOIN erase_key k ON k.source = p.source AND k.record_key = p.record_key", false),
            ("SELECT first_name, last_name, email, phone, dob, street, national_id FROM golden_customer WHERE customer_id IN \(idList)", true),
            ("SELECT first_name, last_name, email, phone, dob, street, national_id FROM customer_dim WHERE customer_id IN \(idList)", true),
        ]
        for (sql, byId) in sources {
            for row in try Row.fetchAll(db, sql: sql, arguments: byId ? StatementArguments(ids) : StatementArguments()) {
                for (i, field) in fields.enumerated() { add(field, row[i]) }
                for i in fields.count..<row.count { add("name", row[i]) }
                if let first: String = row[0], let last: String = row[1] { add("name", "\(vault.reveal(first)) \(vault.reveal(last))") }
            }
        }
        return groups.keys.sorted().compactMap { groups[$0] }.filter { !$0.forms.isEmpty }
    }

    /// An ISO date (yyyy-mm-dd) as sources and messages commonly write it.
    static func dateForms(_ iso: String) -> [String] {
        let parts = iso.prefix(10).split(separator: "-").map(String.init)
        guard parts.count == 3, let m = Int(parts[1]), let d = Int(parts[2]) else { return [iso] }
        let (y, mm, dd) = (parts[0], parts[1], parts[2])
        return [iso, "\(y)/\(mm)/\(dd)", "\(y)\(mm)\(dd)", "\(mm)/\(dd)/\(y)", "\(dd)/\(mm)/\(y)", "\(dd).\(mm).\(y)",
                "\(mm)-\(dd)-\(y)", "\(dd)-\(mm)-\(y)", "\(m)/\(d)/\(y)", "\(d)/\(m)/\(y)", "\(d).\(m).\(y)"]
    }

    static func marks(_ n: Int) -> String { n == 0 ? "NULL" : Array(repeating: "?", count: n).joined(separator: ",") }

    /// The erasure of a customer id, if it was erased: when, by whom.
    public static func request(_ db: Database, customerId: String) throws -> (at: String, actor: String)? {
        try Row.fetchOne(db, sql: "SELECT at, actor FROM erasure_request WHERE customer_id = ? ORDER BY id DESC LIMIT 1", arguments: [customerId])
            .map { (at: $0[0], actor: $0[1]) }
    }
}
