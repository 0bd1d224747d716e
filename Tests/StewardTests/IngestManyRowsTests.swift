import Foundation
import GRDB
import Testing
@testable import StewardCatalog
@testable import StewardPipeline

/// Raw and staged rows are written many a statement (`RowsInsert`), at the end of each chunk of
/// 512 rows, while quarantine rows are written as they come. Whatever the mix, the catalog must hold
/// exactly what one statement a row wrote: raw ids in line order, the last version of a repeated key
/// staged, every bad row quarantined once, and a key's quarantine released by its later good row.
@Suite struct IngestManyRowsTests {
    /// A project of one full-snapshot CSV source `people` (id, name, email) with the given checks.
    static func peopleProject(_ name: String, checks: String) -> TempProject {
        let p = TempProject(name)
        p.write("steward.yml", """
        name: \(name)
        sources:
          - name: people
            system: crm
            entity: person
            format: csv
            path: p.csv
            key: id
            snapshot: full
            mapping: {first_name: name, email: email}
            checks:
        \(checks)
        """)
        return p
    }

    /// Rows over several chunks, with statements of every length: a warning-severity unique check lets
    /// repeated keys through (the later row must win, even inside one statement), an error check
    /// quarantines a seeded share of rows between them.
    static func project(rows: Int, seed: UInt64) -> (TempProject, expectedStaged: [String: String], quarantined: Int) {
        let p = Self.peopleProject("many-rows", checks: """
              - not_null: [id]
              - unique: {column: id, severity: warn}
              - pattern: {column: email, format: email}
        """)
        var state = seed
        func next(_ n: UInt64) -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return (z ^ (z >> 31)) % n
        }
        var text = "id,name,email\n", staged: [String: String] = [:], quarantined = 0
        for line in 0..<rows {
            // One key in eight repeats an earlier one; one row in 23 has a broken email (quarantined).
            let key = line > 0 && next(8) == 0 ? "k\(next(UInt64(line)))" : "k\(line)"
            let name = "Name\(line)"
            if next(23) == 0 {
                text += "\(key),\(name),broken-at-\(line)\n"
                quarantined += 1
            } else {
                text += "\(key),\(name),n\(line)@example.com\n"
                staged[key] = name
            }
        }
        p.write("p.csv", text)
        return (p, staged, quarantined)
    }

    @Test(arguments: [(1, UInt64(7)), (63, 8), (64, 9), (65, 10), (511, 11), (512, 12), (513, 13), (2_777, 14)])
    func theCatalogHoldsWhatOneStatementARowWrote(rows: Int, seed: UInt64) throws {
        let (p, expected, quarantined) = Self.project(rows: rows, seed: seed)
        let run = try p.run()
        #expect(p.step(run).rowsRead == rows)
        #expect(p.step(run).rowsQuarantined == quarantined)
        try p.catalog().pool.read { db in
            let staged = try Row.fetchAll(db, sql: "SELECT record_key, first_name, line, batch_id FROM staged_person WHERE is_deleted = 0")
            #expect(Dictionary(uniqueKeysWithValues: staged.map { ($0["record_key"] as String, $0["first_name"] as String) }) == expected)
            // Raw rows: one per line read, numbered in line order, each holding its own line's values.
            let raw = try Row.fetchAll(db, sql: "SELECT id, line, record_key, data FROM raw_record ORDER BY id")
            #expect(raw.count == rows)
            #expect(raw.map { $0["line"] as Int } == Array(2..<(rows + 2)))
            let ids = raw.map { $0["id"] as Int64 }
            #expect(zip(ids, ids.dropFirst()).allSatisfy { $1 == $0 + 1 })
            #expect(raw.allSatisfy { ($0["data"] as String).contains("Name\(($0["line"] as Int) - 2)") })
            let batch = try Row.fetchOne(db, sql: "SELECT first_raw_id, last_raw_id FROM batch")!
            #expect(batch["first_raw_id"] as Int64? == ids.first && batch["last_raw_id"] as Int64? == ids.last)
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM quarantine WHERE released_run IS NULL") == quarantined)
        }
    }

    /// A key quarantined in one file and good in the next is released, in whichever statement of the
    /// chunk its good row is written.
    @Test func aLaterGoodRowReleasesItsKeysQuarantine() throws {
        let (p, _, _) = Self.project(rows: 600, seed: 3)
        try p.run()
        let open: Int = try p.scalar("SELECT COUNT(*) FROM quarantine WHERE released_run IS NULL") ?? -1
        #expect(open > 0)
        p.write("p.csv", "id,name,email\n" + (0..<600).map { "k\($0),Fixed\($0),f\($0)@example.com\n" }.joined())
        try p.run()
        #expect(try p.scalar("SELECT COUNT(*) FROM quarantine WHERE released_run IS NULL") == 0)
        #expect(try p.live() == 600)
        #expect(try p.scalar("SELECT COUNT(*) FROM staged_person WHERE first_name LIKE 'Fixed%'") == 600)
    }

    /// A source's first load stores the batch's own counts instead of reading every staged row back;
    /// whatever the file (flagged rows, a key written twice, a second load), they equal what a count of
    /// the staged rows says.
    @Test func theStoredCountsEqualTheStagedRowsOnAFirstLoadAndAfter() throws {
        func stored(_ p: TempProject) throws -> [Int] {
            try p.catalog().pool.read { db in
                let row = try Row.fetchOne(db, sql: "SELECT rows_staged, rows_flagged FROM source_stats WHERE source = 'people'")!
                let counted = try Row.fetchOne(db, sql: """
                    SELECT COUNT(*), COUNT(flags) FROM staged_person WHERE source = 'people' AND is_deleted = 0
                    """)!
                #expect(row[0] as Int == counted[0] as Int && row[1] as Int == counted[1] as Int)
                return [row[0], row[1]]
            }
        }
        // Unique keys, one email in five broken under a warning check: staged with a flag.
        let p = Self.peopleProject("first-load-counts", checks: """
              - pattern: {column: email, format: email, severity: warn}
        """)
        p.write("p.csv", "id,name,email\n" + (0..<1_300).map { "k\($0),N\($0),\($0 % 5 == 0 ? "broken" : "n\($0)@example.com")\n" }.joined())
        try p.run()
        #expect(try stored(p) == [1_300, 260])
        // The next version drops 100 rows and fixes 40 emails: counted again (no longer a first load).
        p.write("p.csv", "id,name,email\n" + (0..<1_200).map { "k\($0),N\($0),\($0 % 5 == 0 && $0 >= 200 ? "broken" : "n\($0)@example.com")\n" }.joined())
        try p.run()
        #expect(try stored(p) == [1_200, 200])
        // A first load with keys written twice (the later row wins): the stored counts still agree.
        let (repeated, expected, _) = Self.project(rows: 1_500, seed: 5)
        try repeated.run()
        #expect(try stored(repeated)[0] == expected.count)
    }

    @Test func theStatementsSQLNumbersSharedAndRowParameters() throws {
        let queue = try DatabaseQueue()
        try queue.read { db in
            let insert = RowsInsert(db, head: "INSERT INTO t (a, b, c, d) VALUES", tuple: [.shared(1), .row, .literal("0"), .row])
            #expect(insert.shared == 1 && insert.perRow == 2)
            #expect(insert.sql(rows: 2) == "INSERT INTO t (a, b, c, d) VALUES (?1, ?2, 0, ?3), (?1, ?4, 0, ?5)")
            #expect(insert.firstParameter(ofRow: 0) == 2 && insert.firstParameter(ofRow: 1) == 4)
            #expect([1, 2, 3, 46, 63, 64, 65, 500].map { RowsInsert.rowsForNextStatement(of: $0) } == [1, 2, 2, 32, 32, 64, 64, 64])
            #expect(insert.mostRows == 64)
            // Where SQLite allows fewer parameters, a statement holds fewer rows: 99 → (99 - 1) / 2 = 49 → 32.
            #expect(RowsInsert(db, head: "INSERT INTO t (a, b, c, d) VALUES", tuple: [.shared(1), .row, .literal("0"), .row],
                               parameterLimit: 99).mostRows == 32)
            #expect(RowsInsert.rowsForNextStatement(of: 500, most: 32) == 32)
        }
    }
}
