import Foundation
import GRDB
import Testing
@testable import StewardCatalog
@testable import StewardIdentity
@testable import StewardPipeline

/// The catalog passes' bulk path: values bound through the C API, secondary indexes set aside
/// while a table is filled and built again after, and a first pass (empty tables, indexes
/// deferred) ending exactly where a forced rebuild over filled tables (indexes kept) does.
@Suite(.serialized) struct IdentityBulkWriteTests {
    @Test func bulkInsertBindsEveryKindOfValue() throws {
        let db = try DatabaseQueue()
        try db.write { db in
            try db.execute(sql: "CREATE TABLE t (s TEXT, i INTEGER, r REAL, b INTEGER, bytes TEXT)")
            var insert = try BulkStatement(db, sql: "INSERT INTO t (s, i, r, b, bytes) VALUES (?, ?, ?, ?, ?)")
            let rows: [(String?, Int64?, Double?, Bool, [UInt8])] = [
                ("Zoë O'Brien, Straße 5 — 東京", 42, 0.25, true, Array("abc".utf8)),
                ("", nil, nil, false, []),
                (nil, -7, 1e300, true, Array("ü".utf8)),
            ]
            for r in rows {
                insert.text(r.0); insert.int(r.1); insert.real(r.2); insert.int(r.3); insert.text(r.4)
                try insert.run(db)
            }
            let back = try Row.fetchAll(db, sql: "SELECT s, i, r, b, bytes, typeof(s) FROM t ORDER BY rowid")
            #expect(back.count == 3)
            for (r, b) in zip(rows, back) {
                #expect(b[0] as String? == r.0)
                #expect(b[1] as Int64? == r.1)
                #expect(b[2] as Double? == r.2)
                #expect(b[3] as Bool == r.3)
                #expect(b[4] as String == String(decoding: r.4, as: UTF8.self))
            }
            // An empty string stays text, not NULL.
            #expect(back[1][5] as String == "text")
            // A failing row reports SQLite's error and leaves the statement usable.
            try db.execute(sql: "CREATE TABLE u (k TEXT PRIMARY KEY)")
            var unique = try BulkStatement(db, sql: "INSERT INTO u (k) VALUES (?)")
            unique.text("a"); try unique.run(db)
            unique.text("a")
            #expect(throws: DatabaseError.self) { try unique.run(db) }
            unique.text("b"); try unique.run(db)
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM u") == 2)
        }
    }

    @Test func bulkRowsInsertWholeBatchesAndTheRowsLeftOverInOrder() throws {
        let db = try DatabaseQueue()
        try db.write { db in
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, s TEXT, i INTEGER, r REAL)")
            var rows = try BulkRows(db, insertInto: "t", columns: ["s", "i", "r"], rowsPerStatement: 8)
            for n in 0..<21 {
                rows.text(n % 5 == 0 ? nil : "row \(n)"); rows.int(n % 3 == 0 ? nil : n); rows.real(Double(n) / 4)
                try rows.endRow(db)
                // Two whole batches are written as they fill; the last five rows wait for `finish`.
                if n == 7 || n == 15 { #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t") == n + 1) }
            }
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t") == 16)
            try rows.finish(db)
            let back = try Row.fetchAll(db, sql: "SELECT id, s, i, r FROM t ORDER BY id")
            #expect(back.count == 21)
            for (n, r) in back.enumerated() {
                #expect(r[0] as Int == n + 1)
                #expect(r[1] as String? == (n % 5 == 0 ? nil : "row \(n)"))
                #expect(r[2] as Int? == (n % 3 == 0 ? nil : n))
                #expect(r[3] as Double == Double(n) / 4)
            }
            #expect(try Int.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 't'") == 21)
        }
    }

    @Test func deferredIndexesComeBackAsTheyWere() throws {
        let db = try DatabaseQueue()
        try db.write { db in
            try db.execute(sql: """
                CREATE TABLE t (a TEXT PRIMARY KEY, b INTEGER, c INTEGER);
                CREATE INDEX t_by_b ON t(b);
                CREATE UNIQUE INDEX t_one_c ON t(c) WHERE c > 0;
                """)
            let schema = { try Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_master WHERE tbl_name = 't' ORDER BY name") }
            let before = try schema()
            var deferred = DeferredIndexes()
            try deferred.drop(db, table: "t", ifEmpty: true)
            #expect(try schema().count == 2) // the table and its primary key's index
            for i in 0..<100 { try db.execute(sql: "INSERT INTO t VALUES (?, ?, ?)", arguments: ["k\(i)", i % 7, i]) }
            try deferred.restore(db)
            #expect(try schema() == before)
            // A table with rows keeps its indexes when only an empty one's may go.
            try deferred.drop(db, table: "t", ifEmpty: true)
            #expect(try schema() == before)
            try deferred.restore(db)
            #expect(try schema() == before)
        }
    }

    @Test func aFirstPassEndsWhereAForcedRebuildOverFilledTablesDoes() async throws {
        try await offPool { try Self.firstPassBody() }
    }

    static func firstPassBody() throws {
        let p = try IdentityPipelineTests.demo(300)
        let summary = try IdentityPipelineTests.run(p)
        let config = try p.config()
        let catalog = try p.catalog()
        let snapshot = { () throws -> [String] in
            try catalog.pool.read { db in
                try String.fetchAll(db, sql: """
                    SELECT customer_id || '|' || COALESCE(first_name, '') || '|' || COALESCE(last_name, '') || '|' || COALESCE(email, '')
                        || '|' || COALESCE(phone, '') || '|' || COALESCE(street, '') || '|' || COALESCE(national_id, '') || '|' || provenance_json
                    FROM golden_customer ORDER BY customer_id
                    """)
                + String.fetchAll(db, sql: "SELECT rowid || '|' || customer_id || '|' || names || '|' || sounds || '|' || emails || '|' || phones || '|' || postcodes || '|' || ids FROM customer_search ORDER BY rowid")
                + String.fetchAll(db, sql: "SELECT customer_id || '|' || change_hash || '|' || reason FROM customer_dim WHERE is_current = 1 ORDER BY customer_id")
                + String.fetchAll(db, sql: "SELECT source || '|' || record_key || '|' || customer_id || '|' || COALESCE(match_probability, '') FROM identity_member ORDER BY source, record_key")
                + String.fetchAll(db, sql: "SELECT a_source || a_key || b_source || b_key || '|' || probability || status FROM identity_edge ORDER BY 1")
                + String.fetchAll(db, sql: "SELECT customer_id || '|' || address_key || '|' || sources || '|' || is_current FROM customer_address ORDER BY 1")
                + String.fetchAll(db, sql: "SELECT source || '|' || record_key || '|' || customer_id || '|' || method || '|' || candidates FROM customer_activity_link ORDER BY 1")
                + String.fetchAll(db, sql: "SELECT customer_id || '|' || segment || '|' || frequency || '|' || COALESCE(churn_score, '') FROM customer_score ORDER BY 1")
            }
        }
        let indexes = { (catalog: Catalog) throws -> [String] in
            try catalog.pool.read { try String.fetchAll($0, sql: "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name") }
        }
        let first = try snapshot()
        #expect(first.count > 1_000)
        // Every index the migrations create is there after the first pass dropped and rebuilt them.
        let fresh = TempProject("fresh")
        #expect(try indexes(catalog) == indexes(try Catalog.open(at: fresh.dir.appendingPathComponent("c.sqlite"))))
        #expect(try catalog.pool.read { try CustomerDimension.check($0) }.isEmpty)

        let identity = try IdentityEngine(config: config, catalog: catalog).resolve(runId: summary.runId, force: true)
        #expect(identity.scope == .all)
        _ = try CustomerFacts(catalog: catalog).update(runId: summary.runId, force: true)
        #expect(try snapshot() == first)
        #expect(try indexes(catalog) == indexes(try Catalog.open(at: fresh.dir.appendingPathComponent("c.sqlite"))))

        // The same passes as large writes (rollback journal, bigger cache) end at the same place, and
        // leave the catalog in WAL mode with the usual cache.
        var large = IdentityEngine(config: config, catalog: catalog)
        large.largeWriteMinimumRows = 0
        #expect(try large.resolve(runId: summary.runId, force: true).scope == .all)
        var facts = CustomerFacts(catalog: catalog)
        facts.largeWriteMinimumRows = 0
        _ = try facts.update(runId: summary.runId, force: true)
        #expect(try snapshot() == first)
        #expect(try catalog.pool.write { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
        #expect(try catalog.pool.write { try Int.fetchOne($0, sql: "PRAGMA cache_size") } == -65_536)
    }

    @Test func aLargeWriteUsesTheRollbackJournalAndABigCacheAndRollsBackOnError() throws {
        let p = TempProject("large-write")
        let catalog = try Catalog.open(at: p.dir.appendingPathComponent("c.sqlite"))
        let state = { (db: Database) throws -> [String] in
            [try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "", String(try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? 0)]
        }
        #expect(try catalog.write(large: true, state) == ["delete", "-262144"])
        #expect(try catalog.write(large: false, state) == ["wal", "-65536"])
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try catalog.write(large: true) { db in
                try Catalog.audit(db, action: "test", subject: "large")
                throw Stop()
            }
        }
        #expect(try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM audit_event WHERE action = 'test'") } == 0)
        #expect(try catalog.write(large: false, state) == ["wal", "-65536"])
        try catalog.write(large: true) { db in try Catalog.audit(db, action: "test", subject: "large") }
        #expect(try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM audit_event WHERE action = 'test'") } == 1)
    }
}

/// Lookups map the catalog file on the connection they use; other connections are left as they were.
@Suite struct LookupMappingTests {
    @Test func aLookupMapsTheFileOnItsConnectionOnly() throws {
        let p = TempProject("lookup-mmap")
        let catalog = try Catalog.open(at: p.dir.appendingPathComponent("c.sqlite"))
        try catalog.pool.write { db in
            try db.execute(sql: "INSERT INTO customer_search (rowid, customer_id, names, sounds, emails, phones, postcodes, ids) VALUES (1, 'C00000001', 'ada lovelace', 'ad lavalac', '', '', '', 'C00000001')")
        }
        #expect(try catalog.pool.write { try Int.fetchOne($0, sql: "PRAGMA mmap_size") } == 0)
        let (hits, mapped) = try catalog.pool.read { db in
            (try CustomerSearch.search(db, query: "lovelace"), try Int.fetchOne(db, sql: "PRAGMA mmap_size") ?? 0)
        }
        #expect(hits.first?.customerId == "C00000001")
        #expect(mapped > 0)
        #expect(try catalog.pool.write { try Int.fetchOne($0, sql: "PRAGMA mmap_size") } == 0)
    }
}

/// Chunks transformed on a background queue come back whole, in order, one chunk behind, and a
/// stateful transform sees every input in submission order.
@Suite struct BackgroundStageTests {
    @Test func chunksComeBackInOrderThroughAStatefulTransform() throws {
        var seen = 0
        var pipe = BackgroundStage<Int, (Int, Int)>.Pipe(BackgroundStage("test") { x in
            seen += 1
            return (x, seen)
        })
        var out: [(Int, Int)] = [], consumedAfterPush: [Int] = []
        for start in stride(from: 0, to: 10_000, by: 1_000) {
            try pipe.push(Array(start..<(start + 1_000))) { out.append(contentsOf: $0) }
            consumedAfterPush.append(out.count)
        }
        try pipe.push([]) { out.append(contentsOf: $0) }
        try pipe.drain { out.append(contentsOf: $0) }
        #expect(out.map(\.0) == Array(0..<10_000))
        #expect(out.map(\.1) == Array(1...10_000))
        #expect(consumedAfterPush == stride(from: 0, to: 10_000, by: 1_000).map { $0 })
    }
}

@Suite struct AddressProvenanceMatchTests {
    /// `isRecord` says exactly what comparing with "source:key" would.
    @Test func aRecordIsMatchedAsItsSourceColonKey() {
        let cases: [(String, String, String)] = [
            ("crm:C1", "crm", "C1"), ("crm:C12", "crm", "C1"), ("crmx:C1", "crm", "C1"), ("crm:C1", "crm", "C12"),
            ("a:b:c", "a:b", "c"), ("a:b:c", "a", "b:c"), ("crm-C1", "crm", "C1"), ("", "", ""), (":", "", ""), ("shop:ü", "shop", "ü"),
        ]
        for (record, source, key) in cases {
            #expect(AddressDimension.isRecord(record, source: source, key: key) == (record == "\(source):\(key)"), "\(record) \(source) \(key)")
        }
    }
}
