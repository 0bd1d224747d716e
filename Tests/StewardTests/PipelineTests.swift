import Foundation
import GRDB
import Testing
@testable import StewardCatalog
@testable import StewardPipeline

/// A small project exercising every check type and both severities.
func checksProject() -> TempProject {
    let p = TempProject("checks")
    p.write("steward.yml", """
    name: checks
    default_region: US
    sources:
      - name: people
        system: crm
        entity: person
        format: csv
        path: people.csv
        key: id
        snapshot: full
        date_formats: ["%m/%d/%Y"]
        mapping: {first_name: first, last_name: last, email: email, phone: phone, dob: dob, country: country, postcode: zip}
        checks:
          - not_null: [id, last]
          - unique: id
          - pattern: {column: email, format: email, severity: warn}
          - pattern: {column: zip, regex: "^[0-9]{5}$", name: zip_shape}
          - accepted_values: {column: country, values: [US, GB]}
          - range: {column: age, min: 0, max: 120}
          - row_count: {min: 1}
          - freshness: {max_age: 30d}
      - name: orders
        system: ecommerce
        entity: transaction
        format: ndjson
        path: orders.ndjson
        key: order_id
        mapping: {customer_ref: {source: people, column: person_id}, occurred_at: at, amount: total, type: status}
        checks:
          - relationship: {column: person_id, to: people}
          - range: {column: total, min: 0}
    """)
    p.write("people.csv", """
    id,first,last,email,phone,dob,country,zip,age
    1,Ann,Lee,ann@example.com,(415) 555-0100,01/02/1980,US,94103,44
    2,Bob,Ray,not-an-email,415.555.0101,03/04/1975,US,94104,49
    2,Dup,Key,dup@example.com,,,US,94105,30
    3,Cy,,cy@example.com,,,US,94106,20
    4,Di,Fox,di@example.com,,,FR,94107,20
    5,Ed,Orr,ed@example.com,,,US,9410,20
    6,Fay,Li,fay@example.com,,,GB,94108,130
    ,No,Key,nokey@example.com,,,US,94109,20
    7,Gus,Ng,gus@example.com,,,US
    8,Hal,Poe,hal@example.com,,,US,94110,abc

    """)
    p.write("orders.ndjson", """
    {"order_id": "o1", "person_id": "1", "at": "2024-01-05T10:00:00Z", "total": 12.5, "status": "paid"}
    {"order_id": "o2", "person_id": "99", "at": "2024-01-06T10:00:00Z", "total": 3, "status": "paid"}
    {"order_id": "o3", "person_id": "2", "at": "2024-01-07", "total": -1, "status": "refund"}
    {this is not json
    {"order_id": "o4", "person_id": "2", "at": "2024-01-08", "total": 9.99, "status": "paid"}

    """)
    return p
}

@Suite struct PipelineTests {
    @Test func everyCheckTypeAndSeverity() throws {
        let p = checksProject()
        let summary = try p.run()
        #expect(summary.status == "success")
        let catalog = try p.catalog()
        let people = try catalog.checks(source: "people")
        func check(_ name: String) -> CheckStatus { people.first { $0.name == name }! }
        // not_null: id empty once, last empty once.
        #expect(check("not_null_id").failed == 1)
        #expect(check("not_null_last").failed == 1)
        #expect(check("unique_id").failed == 1)
        #expect(check("unique_id").samples == ["2"])
        #expect(check("pattern_email").failed == 1)      // warn
        #expect(check("pattern_email").severity == "warn")
        #expect(check("zip_shape").failed == 1)          // 9410
        #expect(check("accepted_values_country").failed == 1) // FR
        #expect(check("range_age").failed == 2)          // 130 and 'abc'
        #expect(check("row_count").failed == 0)
        #expect(check("freshness").failed == 0)
        #expect(check("not_null_id").dimension == "completeness")
        #expect(check("unique_id").dimension == "uniqueness")
        #expect(check("zip_shape").dimension == "validity")

        // Error rows are quarantined with every reason; warn rows are staged and flagged.
        let quarantined = try catalog.quarantine(source: "people")
        let keys = Set(quarantined.compactMap(\.recordKey))
        #expect(keys == ["2", "3", "4", "5", "6", "7", "8"]) // the duplicate "2" is the second one; 7 is ragged
        #expect(quarantined.contains { $0.recordKey == nil && $0.reasons.contains { $0.contains("id is empty") } })
        #expect(quarantined.contains { $0.line == 10 && $0.reasons.contains { $0.contains("expected 9 fields, found 7") } })
        let bob: String? = try catalog.pool.read { db in
            try String.fetchOne(db, sql: "SELECT flags FROM staged_person WHERE source='people' AND record_key='2'")
        }
        #expect(bob?.contains("pattern_email") == true)
        let staged: Int? = try p.scalar("SELECT COUNT(*) FROM staged_person")
        #expect(staged == 2) // 1 and 2 (Bob, flagged)

        let orders = try catalog.checks(source: "orders")
        #expect(orders.first { $0.type == "relationship" }?.failed == 1)
        #expect(orders.first { $0.type == "range" }?.failed == 1)
        #expect(orders.first { $0.type == "relationship" }?.dimension == "consistency")
        let oq = try catalog.quarantine(source: "orders")
        #expect(oq.count == 3)
        #expect(oq.contains { $0.line == 4 && $0.reasons == ["readable (error): line 4: invalid JSON object"] })
        let ref: String? = try p.scalar("SELECT customer_ref FROM staged_activity WHERE record_key='o4'")
        #expect(ref == "2")
        let at: String? = try p.scalar("SELECT occurred_at FROM staged_activity WHERE record_key='o1'")
        #expect(at == "2024-01-05T10:00:00Z")
    }

    @Test func stagingStandardisesAndKeepsLineage() throws {
        let p = checksProject()
        try p.run()
        let row = try p.catalog().pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM staged_person WHERE source='people' AND record_key='1'")!
        }
        #expect(row["phone"] as String? == "+14155550100")
        #expect(row["dob"] as String? == "1980-01-02")
        #expect(row["email"] as String? == "ann@example.com")
        #expect(row["line"] as Int == 2)
        // Stored as an array of the file's values; `raw_row` shows it as the object it stands for.
        let raw: String? = try p.scalar("SELECT data FROM raw_record WHERE record_key='1'")
        #expect(raw?.hasPrefix("[\"1\",\"Ann\"") == true)
        let object: String? = try p.scalar("SELECT data FROM raw_row WHERE record_key='1'")
        let header: String? = try p.scalar("SELECT columns_json FROM batch WHERE source='people'")
        let names = try JSONSerialization.jsonObject(with: Data(header!.utf8)) as! [String]
        let values = try JSONSerialization.jsonObject(with: Data(raw!.utf8)) as! [String]
        #expect(try JSONSerialization.jsonObject(with: Data(object!.utf8)) as! [String: String]
                == Dictionary(uniqueKeysWithValues: zip(names, values)))
        #expect(object?.contains("\"first\":\"Ann\"") == true)
    }

    @Test func bigFilesLoadWithTheRollbackJournalAndEndUpAsWithWAL() throws {
        let now = Date()
        let wal = checksProject(), bulk = checksProject()
        try wal.run(now: now)
        try bulk.run(now: now, rollbackJournalMinimumBytes: 0)
        let content = { (p: TempProject) throws -> [String] in
            try p.catalog().pool.read { db in
                try String.fetchAll(db, sql: "SELECT quote(data) FROM raw_record ORDER BY id")
                    + String.fetchAll(db, sql: "SELECT quote(record_key) || quote(email) || row_hash || quote(flags) FROM staged_person ORDER BY record_key")
                    + String.fetchAll(db, sql: "SELECT quote(record_key) || line || reasons_json || raw FROM quarantine ORDER BY id")
            }
        }
        #expect(try content(bulk) == content(wal))
        #expect(try content(bulk).count > 10)

        let catalog = try bulk.catalog()
        let journal = { try catalog.pool.write { try String.fetchOne($0, sql: "PRAGMA journal_mode") } }
        #expect(try journal() == "wal")
        let inside = try catalog.withRollbackJournal { db, active in (active, try String.fetchOne(db, sql: "PRAGMA journal_mode")) }
        #expect(inside.0 && inside.1 == "delete")
        #expect(try journal() == "wal")
        // Another connection (a console reading the catalog) keeps it in WAL mode: SQLite refuses to leave it.
        let reader = try bulk.catalog()
        #expect(try reader.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM batch") } == 2)
        let refused = try catalog.withRollbackJournal { db, active in (active, try String.fetchOne(db, sql: "PRAGMA journal_mode")) }
        #expect(!refused.0 && refused.1 == "wal")
        #expect(try reader.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM batch") } == 2)
    }

    @Test func aTombstoneOfARowHashedAsAnObjectStillSkipsIt() throws {
        let p = checksProject()
        try p.run()
        // What `forget` stored before raw rows became arrays: the SHA-256 of the row's object text.
        let object = JSONText.object(keys: ["id", "first", "last", "email", "phone", "dob", "country", "zip", "age"],
                                     values: ["1", "Ann", "Lee", "ann@example.com", "(415) 555-0100", "01/02/1980", "US", "94103", "44"])
        try p.catalog().pool.write { db in
            try db.execute(sql: "INSERT INTO erasure_request (customer_id, actor, at, detail_json) VALUES ('c1', 'test', '2024-01-01', '{}')")
            try db.execute(sql: "INSERT INTO erasure_tombstone VALUES ('people', '1', ?, ?)", arguments: [ErasureTombstones.hash(object), db.lastInsertedRowID])
            try db.execute(sql: "DELETE FROM staged_person WHERE source = 'people' AND record_key = '1'")
        }
        try p.edit("people.csv", replacing: "8,Hal,Poe", with: "9,Ida,Roe,ida@example.com,,,US,94111,20\n8,Hal,Poe")
        try p.run()
        #expect(try p.scalar("SELECT COUNT(*) FROM staged_person WHERE source = 'people' AND record_key = '1'") as Int? == 0)
        #expect(try p.scalar("SELECT COUNT(*) FROM staged_person WHERE source = 'people' AND record_key = '9'") as Int? == 1)
    }

    @Test func rerunWithUnchangedFilesChangesNothing() throws {
        let p = checksProject()
        try p.run()
        let before = try p.catalog().tableCounts()
        let second = try p.run()
        #expect(second.steps.allSatisfy { $0.status == "unchanged" })
        #expect(second.errorCheckFailures == 0)
        var after = try p.catalog().tableCounts()
        #expect(after["run"] == before["run"]! + 1)
        after["run"] = before["run"]; after["audit_event"] = before["audit_event"]
        #expect(after == before)
        let q1 = try p.catalog().qualityOverview()
        #expect(q1.trend.count == 2 && q1.trend[0] == q1.trend[1])
    }

    @Test func aBatchKeepsTheDigestOfItsFileAndASameSizeEditStillLoads() throws {
        let p = checksProject()
        try p.run()
        let file = p.dir.appendingPathComponent("people.csv").path
        // New files are hashed on a thread of their own during the load: the digest must still be the file's.
        let stored: String? = try p.scalar("SELECT sha256 FROM batch WHERE source='people'")
        #expect(stored == (try SHA256.file(file).digest))
        // Same size, other bytes: hashed before loading, found changed, loaded as a second batch.
        try p.edit("people.csv", replacing: "1,Ann,Lee,", with: "1,Ann,Lea,")
        let second = try p.run()
        #expect(second.steps.first { $0.source == "people" }?.status == "warn")
        let lee: String? = try p.scalar("SELECT last_name FROM staged_person WHERE record_key='1'")
        #expect(lee == "Lea")
        let batches: Int? = try p.scalar("SELECT COUNT(*) FROM batch WHERE source='people' AND sha256 = '\(try SHA256.file(file).digest)'")
        #expect(batches == 1)
    }

    @Test func aNewCatalogUsesLargePages() throws {
        let p = checksProject()
        try p.run()
        let size: Int? = try p.scalar("PRAGMA page_size")
        #expect(size == 16384)
    }

    @Test func batchesLoadedWithoutPerRowKeyChecksLeaveNoDanglingReference() throws {
        let p = checksProject()
        try p.run()
        try p.edit("people.csv", replacing: "1,Ann,Lee,", with: "1,Ann,Lea,")
        try p.run()
        let dangling = try p.catalog().pool.writeWithoutTransaction { db in
            try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").count
        }
        #expect(dangling == 0)
    }

    @Test func correctedRecordLeavesQuarantineAndHistoryIsKept() throws {
        let p = checksProject()
        try p.run()
        try p.edit("people.csv", replacing: "4,Di,Fox,di@example.com,,,FR", with: "4,Di,Fox,di@example.com,,,GB")
        try p.run()
        let open = try p.catalog().quarantine(source: "people")
        #expect(!open.contains { $0.recordKey == "4" })
        let all = try p.catalog().quarantine(source: "people", includeReleased: true)
        #expect(all.filter { $0.recordKey == "4" }.count == 1) // kept, released
        #expect(open.contains { $0.recordKey == "5" })          // still bad, re-quarantined by the new batch
        #expect(all.filter { $0.recordKey == "5" }.count == 2)  // one per run that saw it
        let di: String? = try p.scalar("SELECT country FROM staged_person WHERE record_key='4'")
        #expect(di == "GB")
    }

    @Test func rawRowIdsOnlyGrowEvenAfterTheNewestRowsAreDeleted() throws {
        let p = checksProject()
        try p.run()
        let catalog = try p.catalog()
        let first = try #require(try catalog.pool.read { try Row.fetchOne($0, sql: "SELECT first_raw_id, last_raw_id, rows FROM batch ORDER BY id LIMIT 1") })
        #expect((first[1] as Int64) - (first[0] as Int64) + 1 == (first[2] as Int64))
        // What `forget` does to the newest raw rows: gone, but their ids must not be handed out again.
        try catalog.pool.write { try $0.execute(sql: "DELETE FROM raw_record WHERE id >= ?", arguments: [(first[1] as Int64) - 1]) }
        let handedOut: Int64? = try catalog.pool.read { try Int64.fetchOne($0, sql: "SELECT MAX(last_raw_id) FROM batch") }
        #expect(try catalog.pool.read { try Int64.fetchOne($0, sql: "SELECT MAX(id) FROM raw_record") }! < handedOut!)
        try p.edit("people.csv", replacing: "4,Di,Fox,di@example.com,,,FR", with: "4,Di,Fox,di@example.com,,,GB")
        try p.run()
        let second = try #require(try catalog.pool.read { try Row.fetchOne($0, sql: "SELECT id, first_raw_id, last_raw_id FROM batch ORDER BY id DESC LIMIT 1") })
        #expect((second[1] as Int64) == handedOut! + 1)
        // The new batch's range holds its own rows only.
        let foreign: Int? = try catalog.pool.read {
            try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM raw_record WHERE id BETWEEN ? AND ? AND batch_id != ?",
                             arguments: [second[1] as Int64, second[2] as Int64, second[0] as Int64])
        }
        #expect(foreign == 0)
    }

    @Test func fullSnapshotMarksMissingRecordsDeleted() throws {
        let p = checksProject()
        try p.edit("steward.yml", replacing: "snapshot: full", with: "snapshot: full\n    max_delete: 100%")
        try p.run()
        p.write("people.csv", "id,first,last,email,phone,dob,country,zip,age\n1,Ann,Lee,ann@example.com,,,US,94103,44\n")
        try p.run()
        let deleted: Int? = try p.scalar("SELECT is_deleted FROM staged_person WHERE record_key='2'")
        #expect(deleted == 1)
        let kept: Int? = try p.scalar("SELECT is_deleted FROM staged_person WHERE record_key='1'")
        #expect(kept == 0)
        #expect(try p.catalog().sourceOverviews().first { $0.name == "people" }?.rowsStaged == 1)
    }

    @Test func aFailingSourceDoesNotStopTheOthers() throws {
        let p = checksProject()
        let yml = try String(contentsOf: p.ymlURL, encoding: .utf8)
        p.write("steward.yml", yml + """

          - name: tickets
            system: support
            entity: event
            format: csv
            path: missing/*.csv
            key: id
          - name: broken
            system: web
            entity: event
            format: csv
            path: broken.csv
            key: id
        """)
        p.write("broken.csv", "id,,x\n1,2,3\n")
        let summary = try p.run()
        #expect(summary.status == "partial")
        let byName = Dictionary(uniqueKeysWithValues: summary.steps.map { ($0.source, $0) })
        #expect(byName["tickets"]?.status == "failed")
        #expect(byName["tickets"]?.message?.contains("no file matches 'missing/*.csv'") == true)
        #expect(byName["broken"]?.status == "failed")
        #expect(byName["broken"]?.message?.contains("broken.csv:1: malformed header: column 2 has no name") == true)
        // Their files hold deliberately unreadable rows (a ragged row, a line of invalid JSON): loaded, with a warning.
        #expect(byName["people"]?.status == "warn")
        #expect(byName["orders"]?.status == "warn")
        let health = try p.catalog().sourceOverviews()
        #expect(health.first { $0.name == "tickets" }?.status == .error)
    }

    @Test func interruptedRunIsMarkedAtNextStart() throws {
        let p = checksProject()
        let catalog = try p.catalog()
        try catalog.pool.write { db in
            try db.execute(sql: "INSERT INTO run (trigger, status, started_at, pid, actor) VALUES ('manual', 'running', '2024-01-01T00:00:00.000Z', 999999, 'x')")
        }
        try p.run()
        let runs = try catalog.runs()
        #expect(runs.last?.status == "interrupted")
        #expect(runs.first?.status == "success")
    }

    @Test func qualityScoreFormula() {
        func check(_ type: String, _ evaluated: Int, _ passed: Int, _ dim: String) -> CheckStatus {
            CheckStatus(source: "s", name: type, type: type, column: nil, dimension: dim, severity: "error", params: "{}",
                        runId: 1, evaluated: evaluated, passed: passed, failed: evaluated - passed,
                        score: evaluated == 0 ? 1 : Double(passed) / Double(evaluated), samples: [])
        }
        // Row-weighted: (100*0.9 + 50*1.0 + 100*[row_count passes]) / 250
        let a = QualityScoring.sourceQuality(source: "a", checks: [
            check("not_null", 100, 90, "completeness"), check("unique", 50, 50, "uniqueness"), check("row_count", 1, 1, "completeness"),
        ], weight: 100)
        #expect(abs(a.score! - (90.0 + 50 + 100) / 250) < 1e-12)
        #expect(abs(a.dimensions[.completeness]! - 190.0 / 200) < 1e-12)
        let b = QualityScoring.sourceQuality(source: "b", checks: [check("pattern", 300, 150, "validity")], weight: 300)
        #expect(b.score == 0.5)
        let overall = QualityScoring.overall([a, b])
        #expect(abs(overall.score! - (a.score! * 100 + 0.5 * 300) / 400) < 1e-12)
        #expect(QualityScoring.overall([]).score == nil)
    }
}

@Suite struct SQLiteSourceTests {
    @Test func aTableOfAnSQLiteFileIsASource() throws {
        let p = TempProject("sqlite")
        let db = try DatabaseQueue(path: p.dir.appendingPathComponent("crm.db").path)
        try db.write { db in
            try db.execute(sql: "CREATE TABLE contacts (id INTEGER PRIMARY KEY, first TEXT, last TEXT, email TEXT)")
            try db.execute(sql: "INSERT INTO contacts VALUES (1, 'Ann', 'Lee', 'ANN@EXAMPLE.COM'), (2, 'Bob', NULL, 'bob@example.com')")
        }
        p.write("steward.yml", """
        name: s
        sources:
          - name: crm
            system: crm
            entity: person
            format: sqlite
            path: crm.db
            table: contacts
            key: id
            mapping: {first_name: first, last_name: last, email: email}
            checks:
              - not_null: [last]
        """)
        let summary = try p.run()
        #expect(summary.steps.first?.rowsRead == 2)
        #expect(summary.steps.first?.rowsLoaded == 1)
        let email: String? = try p.scalar("SELECT email FROM staged_person WHERE record_key = '1'")
        #expect(email == "ann@example.com")
        let q = try p.catalog().quarantine(source: "crm")
        #expect(q.count == 1 && q[0].recordKey == "2" && q[0].line == 2)
        // A mapping to a column the table lacks fails that source's step with a schema reason.
        let yml = try String(contentsOf: p.ymlURL, encoding: .utf8)
        p.write("steward.yml", yml.replacingOccurrences(of: "email: email}", with: "email: mail}"))
        let drifted = try p.run()
        #expect(drifted.steps.first?.status == "failed")
        #expect(drifted.steps.first?.message?.contains("schema: missing column 'mail'") == true)
    }
}

/// Stops the run as soon as the first batch commits (a user pressing Ctrl-C mid-run).
final class StopAfterFirstBatch: ProgressReporter, @unchecked Sendable {
    let stop = StopFlag()
    func report(_ event: ProgressEvent) { if case .batchCommitted = event { stop.stop() } }
}

@Suite struct StopTests {
    @Test func ctrlCFinishesTheCurrentFileThenStopsAndTheNextRunCompletes() throws {
        let p = checksProject()
        let config = try p.config()
        let catalog = try Catalog.open(at: config.catalogURL)
        let reporter = StopAfterFirstBatch()
        let stopped = try PipelineRunner(config: config, catalog: catalog, progress: reporter, stop: reporter.stop).run()
        #expect(stopped.status == "interrupted")
        #expect(stopped.steps.map(\.source) == ["people"])           // orders never started
        #expect(stopped.steps.first?.status == "warn")               // the file in progress committed whole (a ragged row warns)
        let resumed = try p.run()
        #expect(resumed.status == "success")
        #expect(resumed.steps.first { $0.source == "people" }?.status == "unchanged")
        #expect(resumed.steps.first { $0.source == "orders" }?.status == "warn")
    }
}
