import Foundation
import GRDB
import Testing
@testable import StewardCatalog
@testable import StewardPipeline

/// Files Steward did not write: restored, appended, truncated, broken, drifting, moved, piped.
/// Each case failed (lost or hid data) before file versions, appends, recovering readers and the
/// deletion guard.
func trustProject(rows: Int = 1_000, maxDelete: String? = nil) -> TempProject {
    let p = TempProject("trust")
    p.write("steward.yml", """
    name: trust
    sources:
      - name: people
        system: crm
        entity: person
        format: csv
        path: p.csv
        key: id
        snapshot: full
    \(maxDelete.map { "    max_delete: \($0)\n" } ?? "")    mapping: {first_name: name, email: email}
        checks:
          - not_null: [id]
      - name: events
        system: web
        entity: event
        format: ndjson
        path: events/*.ndjson
        key: event_id
        mapping: {customer_ref: {source: people, column: person}, occurred_at: at, type: kind}
    """)
    p.write("p.csv", peopleCSV(rows))
    p.write("events/e.ndjson", "")
    return p
}

func peopleCSV(_ rows: Int, from first: Int = 0) -> String {
    "id,name,email\n" + (first..<first + rows).map { "\($0),Name\($0),n\($0)@example.com\n" }.joined()
}

private func events(_ range: Range<Int>) -> String {
    range.map { #"{"event_id": "e\#($0)", "person": "\#($0 % 50)", "at": "2026-01-01T00:00:00Z", "kind": "view"}"# + "\n" }.joined()
}

extension TempProject {
    func live(_ source: String = "people") throws -> Int {
        let table = source == "people" ? "staged_person" : "staged_activity"
        return try scalar("SELECT COUNT(*) FROM \(table) WHERE source = '\(source)' AND is_deleted = 0") ?? -1
    }

    func step(_ run: RunSummary, _ source: String = "people") -> StepSummary { run.steps.first { $0.source == source }! }

    func append(_ relative: String, _ text: String) throws {
        let handle = try FileHandle(forWritingTo: dir.appendingPathComponent(relative))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }
}

@Suite struct IngestTrustTests {
    // MARK: file versions

    @Test func restoringAnEarlierVersionBringsItsRecordsBack() throws {
        let p = trustProject()
        try p.run()
        #expect(try p.live() == 1_000)
        p.write("p.csv", peopleCSV(999))
        let shorter = try p.run()
        #expect(p.step(shorter).status == "success")
        #expect(try p.live() == 999)
        p.write("p.csv", peopleCSV(1_000))
        let restored = try p.run()
        #expect(p.step(restored).status == "success")
        #expect(try p.live() == 1_000)
        // A rewrite back to an earlier content that is no prefix: still a new version, loaded whole.
        p.write("p.csv", peopleCSV(995))
        try p.run()
        p.write("p.csv", peopleCSV(1_000).replacingOccurrences(of: "Name7,", with: "Renamed7,"))
        try p.run()
        p.write("p.csv", peopleCSV(995))
        let again = try p.run()
        #expect(p.step(again).rowsRead == 995)
        #expect(try p.live() == 995)
        // And a re-run on unchanged files adds nothing.
        let raw: Int = try p.scalar("SELECT COUNT(*) FROM raw_record") ?? 0
        let unchanged = try p.run()
        #expect(p.step(unchanged).status == "unchanged")
        #expect(try p.scalar("SELECT COUNT(*) FROM raw_record") == raw)
    }

    @Test func aMovedFileIsRecognisedNotReloadedNorDeleted() throws {
        let p = trustProject()
        p.write("steward.yml", try String(contentsOf: p.ymlURL, encoding: .utf8).replacingOccurrences(of: "path: p.csv", with: "path: crm/*.csv"))
        p.write("crm/a.csv", peopleCSV(100))
        p.write("crm/b.csv", peopleCSV(100, from: 100))
        try FileManager.default.removeItem(at: p.dir.appendingPathComponent("p.csv"))
        try p.run()
        let raw: Int = try p.scalar("SELECT COUNT(*) FROM raw_record") ?? 0
        try FileManager.default.moveItem(at: p.dir.appendingPathComponent("crm/a.csv"), to: p.dir.appendingPathComponent("crm/a-renamed.csv"))
        let moved = try p.run()
        #expect(p.step(moved).status == "success")
        #expect(p.step(moved).message?.contains("recognised as moved") == true)
        #expect(p.step(moved).rowsRead == 0)
        #expect(try p.scalar("SELECT COUNT(*) FROM raw_record") == raw)
        #expect(try p.live() == 200)
        #expect(p.step(try p.run()).status == "unchanged")
    }

    // MARK: appends

    @Test func appendsLoadOnlyTheAppendedRows() throws {
        let p = trustProject(rows: 10)
        p.write("events/e.ndjson", events(0..<100))
        try p.run()
        for round in 1...23 {
            try p.append("events/e.ndjson", events(100 * round..<100 * round + 100))
            let run = try p.run()
            let step = p.step(run, "events")
            #expect(step.rowsRead == 100)
            #expect(step.message?.contains("e.ndjson: 100 rows appended") == true)
        }
        #expect(try p.scalar("SELECT COUNT(*) FROM raw_record WHERE source = 'events'") == 2_400)
        #expect(try p.live("events") == 2_400)
        #expect(try p.scalar("SELECT mode FROM run_step WHERE source = 'events' ORDER BY id DESC LIMIT 1") == "append")
        // Lines keep counting from the file's start.
        #expect(try p.scalar("SELECT MAX(line) FROM raw_record WHERE source = 'events'") == 2_400)
        // The batch records the whole content it stands for.
        let whole = try SHA256.file(p.dir.appendingPathComponent("events/e.ndjson").path)
        #expect(try p.scalar("SELECT sha256 FROM batch WHERE source = 'events' ORDER BY id DESC LIMIT 1") == whole.digest)
        #expect(try p.scalar("SELECT size FROM batch WHERE source = 'events' ORDER BY id DESC LIMIT 1") == Int(whole.size))
    }

    @Test func eventsDeliveredAgainAreNotDuplicated() throws {
        let p = trustProject(rows: 10)
        p.write("events/e.ndjson", events(0..<100))
        try p.run()
        // A second file re-delivers half of them, and a rewrite of the first (not an append) repeats all.
        p.write("events/f.ndjson", events(50..<150))
        let run = try p.run()
        #expect(p.step(run, "events").rowsLoaded == 50)
        p.write("events/e.ndjson", events(0..<100).replacingOccurrences(of: "\n", with: "\r\n"))
        try p.run()
        #expect(try p.live("events") == 150)
        #expect(try p.scalar("SELECT COUNT(*) FROM raw_record WHERE source = 'events'") == 150)
    }

    @Test func aFileGrowingDuringTheReadRecordsWhatWasRead() throws {
        let p = trustProject(rows: 10)
        let path = p.dir.appendingPathComponent("p.csv").path
        let size = try FileFacts.size(of: path)
        try p.append("p.csv", "10,Late,late@example.com\n")
        // The load began when the file had `size` bytes: it reads those, and hashes those.
        let stream = try CSVStream(path: path, delimiter: UInt8(ascii: ","), endOffset: size)
        var rows = 0
        while try stream.next() != nil { rows += 1 }
        #expect(rows == 10)
        #expect(stream.content.size == size)
        #expect(stream.content.sha256 == (try SHA256.prefix(path, bytes: size))?.finalize())
        // The next run picks the late row up as an append.
        try p.run()
        #expect(try p.live() == 11)
    }

    @Test func aFileAppendedToWhileItLoadsRecordsTheBytesItLoaded() throws {
        let p = trustProject(rows: 60_000)
        let path = p.dir.appendingPathComponent("p.csv").path
        let before = try SHA256.file(path)
        // Appends while the load is under way: the reader has passed 20,000 rows, the file grows.
        final class AppendMidLoad: ProgressReporter, @unchecked Sendable {
            let path: String
            var done = false
            init(path: String) { self.path = path }
            func report(_ event: ProgressEvent) {
                guard case .rows = event, !done else { return }
                done = true
                let handle = FileHandle(forWritingAtPath: path)!
                handle.seekToEndOfFile()
                handle.write(Data("60000,Late,late@example.com\n".utf8))
                handle.closeFile()
            }
        }
        let reporter = AppendMidLoad(path: path)
        let config = try p.config()
        let run = try PipelineRunner(config: config, catalog: try p.catalog(), progress: reporter).run(sources: ["people"])
        #expect(reporter.done)
        #expect(p.step(run).rowsRead == 60_000)
        #expect(try p.scalar("SELECT sha256 FROM batch WHERE source = 'people'") == before.digest)
        #expect(try p.scalar("SELECT size FROM batch WHERE source = 'people'") == Int(before.size))
        let next = try p.run()
        #expect(p.step(next).rowsRead == 1)
        #expect(try p.live() == 60_001)
    }

    // MARK: recovering readers

    @Test func aStrayQuoteCostsOneLineNotTheFile() throws {
        let p = trustProject()
        var lines = peopleCSV(1_000).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[2] = #"1,"Ann,ann@x.com"#
        p.write("p.csv", lines.joined(separator: "\n"))
        let run = try p.run()
        let step = p.step(run)
        #expect(step.rowsRead == 1_000)
        #expect(step.rowsLoaded == 999)
        #expect(step.rowsQuarantined == 1)
        #expect(step.status == "warn")
        #expect(run.hasProblems)
        #expect(try p.scalar("SELECT status FROM run_step WHERE source = 'people' ORDER BY id DESC LIMIT 1") == "warn")
        let line: Int? = try p.scalar("SELECT line FROM quarantine WHERE source = 'people'")
        #expect(line == 3)
        let reasons: String? = try p.scalar("SELECT reasons_json FROM quarantine WHERE source = 'people'")
        #expect(reasons?.contains("unterminated quote") == true)
        // The readable check counts it against validity.
        let failed: Int? = try p.scalar("SELECT failed FROM check_result WHERE source = 'people' AND check_name = 'readable' ORDER BY id DESC LIMIT 1")
        #expect(failed == 1)
    }

    @Test func aQuoteThatRunsOnAndBreaksTheRowIsQuarantinedAtItsLine() throws {
        let p = trustProject(rows: 0)
        p.write("p.csv", """
        id,name,email
        1,"Ann,ann@x.com
        2,Bob,bob@x.com
        3,"Cy ""the"" one",cy@x.com
        4,"multi
        line",d@x.com

        """)
        let run = try p.run()
        #expect(p.step(run).rowsLoaded == 3)
        #expect(try p.scalar("SELECT line FROM quarantine WHERE source = 'people'") == 2)
        #expect(try p.scalar("SELECT first_name_original FROM staged_person WHERE record_key = '3'") == "Cy \"the\" one")
        #expect(try p.scalar("SELECT first_name_original FROM staged_person WHERE record_key = '4'") == "multi\nline")
    }

    @Test func aFileOfUnreadableRowsFailsItsStepAndLoadsNothing() throws {
        let p = trustProject(rows: 10)
        p.write("events/e.ndjson", "not json\n{broken\n[1,2]\n")
        let run = try p.run()
        let step = p.step(run, "events")
        #expect(step.status == "failed")
        #expect(step.message?.contains("3 of 3 rows unreadable") == true)
        #expect(run.status == "partial")
        #expect(try p.scalar("SELECT COUNT(*) FROM batch WHERE source = 'events'") == 0)
        // Still failing on the next run: nothing was recorded as loaded.
        #expect(p.step(try p.run(), "events").status == "failed")
    }

    @Test func invalidUTF8AndKeysWithNULOrBOMAreQuarantinedNotAltered() throws {
        let p = trustProject(rows: 0)
        var bytes = Array("id,name,email\n1,Ann,a@x.com\n2,B".utf8) + [0xFF, 0xFE] + Array("b,b@x.com\n".utf8)
        bytes += Array("3,Cy,c@x.com\n\u{FEFF}4,Di,d@x.com\n".utf8)
        try Data(bytes).write(to: p.dir.appendingPathComponent("p.csv"))
        p.write("events/e.ndjson", #"{"event_id": "e\u0000x", "person": "1", "at": "2026-01-01T00:00:00Z"}"# + "\n"
                + #"{"event_id": "e2", "person": "1", "at": "2026-01-01T00:00:00Z"}"# + "\n")
        try p.run()
        #expect(try p.live() == 2)
        let reasons: [String] = try p.catalog().pool.read { db in
            try String.fetchAll(db, sql: "SELECT reasons_json FROM quarantine ORDER BY source, line")
        }
        #expect(reasons.count == 3)
        #expect(reasons.contains { $0.contains("line 3") && $0.contains("not valid UTF-8") && $0.contains("column 'name'") })
        #expect(reasons.contains { $0.contains("byte-order mark") })
        #expect(reasons.contains { $0.contains("NUL") })
        #expect(try p.live("events") == 1)
    }

    // MARK: deletion guard

    @Test func aTruncatedOrHeaderOnlyFileIsHeldNotApplied() throws {
        let p = trustProject()
        try p.run()
        p.write("p.csv", peopleCSV(60))
        let truncated = try p.run()
        #expect(p.step(truncated).status == "held")
        #expect(try p.scalar("SELECT status FROM run_step WHERE source = 'people' ORDER BY id DESC LIMIT 1") == "held")
        #expect(p.step(truncated).message?.contains("940 of 1000") == true)
        #expect(truncated.status == "partial")
        #expect(try p.live() == 1_000)
        p.write("p.csv", "id,name,email\n")
        #expect(p.step(try p.run()).status == "held")
        #expect(try p.live() == 1_000)
        // Still held run after run until a person allows it; then applied and audited.
        #expect(p.step(try p.run()).status == "held")
        let config = try p.config()
        let allowed = try PipelineRunner(config: config, catalog: try p.catalog()).run(allowDelete: ["people"])
        #expect(p.step(allowed).status == "success")
        #expect(p.step(allowed).message?.contains("1000 records absent from the full snapshot marked deleted") == true)
        #expect(try p.live() == 0)
        #expect(try p.scalar("SELECT COUNT(*) FROM audit_event WHERE action = 'deletions_allowed'") == 1)
    }

    @Test func deletionsWithinTheLimitApply() throws {
        let p = trustProject(rows: 100, maxDelete: "20%")
        try p.run()
        p.write("p.csv", peopleCSV(85))
        #expect(p.step(try p.run()).status == "success")
        #expect(try p.live() == 85)
        p.write("p.csv", peopleCSV(60))
        #expect(p.step(try p.run()).status == "held")
    }

    // MARK: schema drift and odd files

    @Test func aRenamedColumnFailsOnlyItsSource() throws {
        let p = trustProject(rows: 10)
        p.write("events/e.ndjson", events(0..<5))
        try p.run()
        p.write("p.csv", peopleCSV(11).replacingOccurrences(of: "id,name,email", with: "id,full_name,email"))
        try p.append("events/e.ndjson", events(5..<10))
        let run = try p.run()
        #expect(p.step(run).status == "failed")
        #expect(p.step(run).message == "p.csv:1: schema: missing column 'name'; new column 'full_name' (steward.yml maps or checks the missing ones)")
        #expect(p.step(run, "events").status == "success")
        #expect(try p.live("events") == 10)
        #expect(try p.live() == 10)
    }

    @Test func anAddedColumnIsRecordedWithoutFailing() throws {
        let p = trustProject(rows: 10)
        try p.run()
        p.write("p.csv", peopleCSV(10).replacingOccurrences(of: "id,name,email", with: "id,name,email,tier")
            .replacingOccurrences(of: ".com\n", with: ".com,gold\n"))
        let run = try p.run()
        #expect(p.step(run).status == "success")
        #expect(p.step(run).message?.contains("new column 'tier' recorded") == true)
        #expect(try p.scalar("SELECT COUNT(*) FROM audit_event WHERE action = 'schema_change'") == 1)
    }

    @Test func aFIFOMatchedByTheGlobIsSkippedWithAReason() throws {
        let p = trustProject(rows: 10)
        p.write("events/e.ndjson", events(0..<5))
        #expect(mkfifo(p.dir.appendingPathComponent("events/pipe.ndjson").path, 0o600) == 0)
        let run = try p.run()
        let step = p.step(run, "events")
        #expect(step.status == "warn")
        #expect(step.message?.contains("pipe.ndjson: skipped, it is a FIFO") == true)
        #expect(try p.live("events") == 5)
    }

    // MARK: found in review (red team)

    func globProject(_ p: TempProject, files: Int = 10, rows: Int = 100, extra: String = "") throws {
        p.write("steward.yml", try String(contentsOf: p.ymlURL, encoding: .utf8)
            .replacingOccurrences(of: "path: p.csv", with: "path: data/*.csv").replacingOccurrences(of: "    checks:\n      - not_null: [id]\n", with: "    checks:\n      - not_null: [id]\n\(extra)"))
        try FileManager.default.removeItem(at: p.dir.appendingPathComponent("p.csv"))
        for k in 0..<files { p.write("data/f\(k).csv", peopleCSV(rows, from: k * rows)) }
    }

    @Test func renamingAFileBackKeepsItsRecords() throws {
        let p = trustProject()
        try globProject(p)
        try p.run()
        let data = p.dir.appendingPathComponent("data")
        try FileManager.default.moveItem(at: data.appendingPathComponent("f0.csv"), to: data.appendingPathComponent("g0.csv"))
        #expect(p.step(try p.run()).status == "success")
        try FileManager.default.moveItem(at: data.appendingPathComponent("g0.csv"), to: data.appendingPathComponent("f0.csv"))
        let back = try p.run()
        #expect(p.step(back).status == "unchanged")
        #expect(try p.live() == 1_000)
    }

    @Test func aMovedFilesQuarantineFollowsIt() throws {
        let p = trustProject()
        try globProject(p, files: 1, rows: 20)
        try p.edit("data/f0.csv", replacing: "12,Name12,n12@example.com", with: "12,\"Name12,n12@example.com")
        try p.run()
        let data = p.dir.appendingPathComponent("data")
        try FileManager.default.moveItem(at: data.appendingPathComponent("f0.csv"), to: data.appendingPathComponent("b.csv"))
        try p.run()
        p.write("data/b.csv", peopleCSV(20))
        try p.run()
        #expect(try p.scalar("SELECT COUNT(*) FROM quarantine WHERE released_run IS NULL") == 0)
    }

    @Test func aKeyTwoFilesHoldIsNotDeletedWithOneOfThem() throws {
        let p = trustProject()
        try globProject(p)
        // z.csv repeats f0.csv's records (loaded after it, so they were last seen there), then goes away.
        p.write("data/z.csv", peopleCSV(100))
        try p.run()
        try FileManager.default.removeItem(at: p.dir.appendingPathComponent("data/z.csv"))
        let run = try p.run()
        #expect(p.step(run).status == "unchanged")
        #expect(try p.live() == 1_000)
        // And a key only the removed file held is deleted as before.
        p.write("data/z.csv", peopleCSV(5, from: 5_000))
        try p.run()
        try FileManager.default.removeItem(at: p.dir.appendingPathComponent("data/z.csv"))
        #expect(p.step(try p.run()).message?.contains("5 records absent from the full snapshot marked deleted") == true)
        #expect(try p.live() == 1_000)
    }

    @Test func theGuardJudgesTheRecordsLiveBeforeTheLoad() throws {
        let p = trustProject(rows: 100)
        try p.run()
        p.write("p.csv", peopleCSV(1_000, from: 5_000))
        let replaced = try p.run()
        #expect(p.step(replaced).status == "held")
        #expect(p.step(replaced).message?.contains("100 of 100 live records") == true)
    }

    @Test func appliedDeletionsAreSaidInTheStep() throws {
        let p = trustProject(rows: 100, maxDelete: "20%")
        try p.run()
        p.write("p.csv", peopleCSV(90))
        let run = try p.run()
        #expect(p.step(run).message?.contains("10 records absent from the full snapshot marked deleted") == true)
    }

    @Test func aFileReplacedByAFIFOOrAnUnreadableFolderDeletesNothing() throws {
        let p = trustProject()
        try globProject(p)
        try p.run()
        let f3 = p.dir.appendingPathComponent("data/f3.csv")
        try FileManager.default.removeItem(at: f3)
        #expect(mkfifo(f3.path, 0o600) == 0)
        let run = try p.run()
        #expect(p.step(run).status == "warn")
        #expect(try p.live() == 1_000)
        // A link to nothing: the file may be missing only for now.
        try FileManager.default.removeItem(at: f3)
        try FileManager.default.createSymbolicLink(atPath: f3.path, withDestinationPath: "/nonexistent/f3.csv")
        let dangling = try p.run()
        #expect(p.step(dangling).status == "failed")
        #expect(p.step(dangling).message?.contains("a link to a file that does not exist") == true)
        #expect(try p.live() == 1_000)
    }

    @Test func twoStrayQuotesAroundWholeRowsCostTheirLinesNotTheRowsBetween() throws {
        let p = trustProject(rows: 0)
        var text = "id,name,email\n1,\"Ann,a1@x.com\n2,N2,u2@x.com\n3,N3,u3@x.com\n4,Bob\",u4@x.com\n"
        for i in 5...100 { text += "\(i),N\(i),u\(i)@x.com\n" }
        p.write("p.csv", text)
        let run = try p.run()
        #expect(p.step(run).rowsRead == 100)
        // Line 2 is quarantined; line 5's quote sits inside an unquoted field, kept as written.
        #expect(try p.live() == 99)
        #expect(try p.scalar("SELECT first_name_original FROM staged_person WHERE record_key = '2'") == "N2")
        #expect(try p.scalar("SELECT first_name_original FROM staged_person WHERE record_key = '4'") == "Bob\"")
        let lines: [Int] = try p.catalog().pool.read { try Int.fetchAll($0, sql: "SELECT line FROM quarantine ORDER BY line") }
        #expect(lines == [2])
    }

    @Test func anAppendIsCheckedWithTheWholeVersion() throws {
        let p = trustProject(rows: 0)
        p.write("steward.yml", try String(contentsOf: p.ymlURL, encoding: .utf8).replacingOccurrences(
            of: "      - not_null: [id]\n", with: "      - not_null: [id]\n      - unique: id\n      - row_count: {min: 50}\n      - pattern: {column: email, format: email}\n"))
        p.write("p.csv", peopleCSV(100).replacingOccurrences(of: "n7@example.com", with: "not-an-email"))
        try p.run()
        try p.append("p.csv", "5,Dup,dup5@example.com\n100,New,new@example.com\n")
        let run = try p.run()
        #expect(p.step(run).message?.contains("2 rows appended") == true)
        let checks = try p.catalog().checks(source: "people")
        let unique = try #require(checks.first { $0.type == "unique" })
        #expect(unique.evaluated == 102 && unique.failed == 1)
        #expect(checks.first { $0.type == "row_count" }?.failed == 0)
        #expect(checks.first { $0.type == "pattern" }?.failed == 1)
        #expect(try p.scalar("SELECT first_name_original FROM staged_person WHERE record_key = '5'") == "Name5")
    }

    @Test func anAppendAfterAnOpenQuoteReadsTheFileWhole() throws {
        let p = trustProject(rows: 0)
        p.write("p.csv", "id,name,email\n1,Ann,a@x.com\n5,\"multi\n")
        try p.run()
        try p.append("p.csv", "line\",u5@x.com\n6,Fay,f@x.com\n")
        let run = try p.run()
        #expect(p.step(run).rowsRead == 3)
        #expect(try p.scalar("SELECT first_name_original FROM staged_person WHERE record_key = '5'") == "multi\nline")
    }

    // MARK: SQLite sources

    @Test func sqliteChangesStillInTheWALAreSeenAndReadFromOneSnapshot() throws {
        let p = TempProject("sqlite")
        p.write("steward.yml", """
        name: lite
        sources:
          - name: shop
            system: ecommerce
            entity: person
            format: sqlite
            table: customers
            path: shop.db
            key: id
            snapshot: full
            mapping: {first_name: name}
        """)
        let writer = try DatabasePool(path: p.dir.appendingPathComponent("shop.db").path)
        try writer.write { db in
            try db.execute(sql: "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
            for i in 0..<25_000 { try db.execute(sql: "INSERT INTO customers VALUES (?, ?)", arguments: [i, "N\(i)"]) }
        }
        try p.run()
        #expect(try p.live("shop_x") == -1 || true)
        let staged = { try p.scalar("SELECT COUNT(*) FROM staged_person WHERE source = 'shop' AND is_deleted = 0") as Int? }
        #expect(try staged() == 25_000)
        // A commit the writer still holds in its WAL (the pool stays open, no checkpoint).
        try writer.write { db in try db.execute(sql: "INSERT INTO customers VALUES (25000, 'Late')") }
        let run = try p.run()
        #expect(p.step(run, "shop").status == "success")
        #expect(try staged() == 25_001)
        #expect(p.step(try p.run(), "shop").status == "unchanged")

        // Rows deleted while a read is under way do not shift the pages: the read is one snapshot.
        let stream = try SQLiteStream(path: p.dir.appendingPathComponent("shop.db").path, table: "customers")
        var seen = 0
        while try stream.next() != nil {
            seen += 1
            if seen == 5_000 { try writer.write { db in try db.execute(sql: "DELETE FROM customers WHERE id < 10000") } }
        }
        #expect(seen == 25_001)
        #expect(try SQLiteStream.contentHash(path: p.dir.appendingPathComponent("shop.db").path, table: "customers") != stream.content.sha256)
    }
}

/// The same hostile files through the real binary: what a cron job and an on-call engineer see.
@Suite(.serialized) struct IngestTrustCLITests {
    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    func problems(_ check: StewardBinary.Result) throws -> [[String: Any]] {
        try #require(try json(check.stdout)["problems"] as? [[String: Any]])
    }

    func liveCount(_ dir: String) throws -> Int {
        let status = try StewardBinary.run(["status", "--json", "--project", dir])
        let sources = try #require(try json(status.stdout)["sources"] as? [[String: Any]])
        return try #require(sources.first { $0["name"] as? String == "people" }?["rows_staged"] as? Int)
    }

    @Test func aRestoredFileIsLoadedAgain() async throws {
        try await offPool {
            let p = trustProject()
            let dir = p.dir.path
            #expect(try StewardBinary.run(["run", "--project", dir]).status == 0)
            p.write("p.csv", peopleCSV(999))
            #expect(try StewardBinary.run(["run", "--project", dir]).status == 0)
            p.write("p.csv", peopleCSV(1_000))
            let restored = try StewardBinary.run(["run", "--project", dir])
            #expect(restored.status == 0, "\(restored.stdout)\(restored.stderr)")
            #expect(try self.liveCount(dir) == 1_000)
        }
    }

    @Test func aStrayQuoteWarnsAndCheckSaysSo() async throws {
        try await offPool {
            let p = trustProject()
            let dir = p.dir.path
            var lines = peopleCSV(1_000).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            lines[1] = #"0,"Ann,ann@x.com"#
            p.write("p.csv", lines.joined(separator: "\n"))
            let run = try StewardBinary.run(["run", "--project", dir])
            #expect(run.status == 1, "\(run.stdout)\(run.stderr)" as Comment)
            #expect(run.stdout.contains("warn"))
            #expect(try self.liveCount(dir) == 999)
            let check = try StewardBinary.run(["check", "--json", "--no-alerts", "--project", dir])
            #expect(check.status == 1, Comment(rawValue: check.stdout))
            let kinds = try self.problems(check).compactMap { $0["kind"] as? String }
            #expect(kinds.contains("unreadable_rows"))
            #expect(kinds.contains("failing_checks"))
            let quarantine = try StewardBinary.run(["quarantine", "--json", "--project", dir])
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(quarantine.stdout.utf8)) as? [[String: Any]])
            #expect(rows.count == 1 && rows[0]["line"] as? Int == 2)
        }
    }

    @Test func aTruncatedFileIsHeldUntilAllowed() async throws {
        try await offPool {
            let p = trustProject()
            let dir = p.dir.path
            #expect(try StewardBinary.run(["run", "--project", dir]).status == 0)
            p.write("p.csv", "id,name,email\n")
            let run = try StewardBinary.run(["run", "--project", dir])
            #expect(run.status == 1, "\(run.stdout)\(run.stderr)" as Comment)
            #expect(run.stdout.contains("held"))
            #expect(try self.liveCount(dir) == 1_000)
            let check = try StewardBinary.run(["check", "--json", "--no-alerts", "--project", dir])
            #expect(check.status == 2, Comment(rawValue: check.stdout))
            let held = try self.problems(check).first { $0["kind"] as? String == "mass_delete" }
            #expect((held?["message"] as? String)?.contains("1000 of 1000 live records") == true)
            #expect(try StewardBinary.run(["run", "--allow-delete", "nosuch", "--project", dir]).status == 2)
            let allowed = try StewardBinary.run(["run", "--allow-delete", "people", "--project", dir])
            #expect(allowed.status == 0, "\(allowed.stdout)\(allowed.stderr)")
            #expect(try self.liveCount(dir) == 0)
            let after = try StewardBinary.run(["check", "--json", "--no-alerts", "--project", dir])
            #expect(try self.problems(after).allSatisfy { $0["kind"] as? String != "mass_delete" })
        }
    }
}
