import Foundation
import GRDB
import Testing
@testable import StewardCatalog
@testable import StewardIdentity
@testable import StewardPipeline

/// The built `steward` binary, run as a user would.
@Suite(.serialized) struct EndToEndTests: Sendable {
    /// A project of three CSV files matched by one glob: three batches, each big enough to kill between.
    func bigProject(rowsPerFile: Int) -> TempProject {
        let p = TempProject("kill")
        p.write("steward.yml", """
        name: kill
        sources:
          - name: people
            system: crm
            entity: person
            format: csv
            path: sources/part_*.csv
            key: id
            mapping: {first_name: first, last_name: last, email: email}
            checks:
              - not_null: [id]
              - unique: id
              - pattern: {column: email, format: email, severity: warn}
          - name: other
            system: web
            entity: event
            format: csv
            path: sources/other.csv
            key: id
        """)
        for part in 0..<3 {
            var text = "id,first,last,email\n"
            text.reserveCapacity(rowsPerFile * 40)
            for i in 0..<rowsPerFile {
                let n = part * rowsPerFile + i
                text += "\(n),First\(n % 97),Last\(n % 1013),user\(n)@example.com\n"
            }
            p.write("sources/part_\(part).csv", text)
        }
        p.write("sources/other.csv", "id,x\n1,a\n2,b\n")
        return p
    }

    @Test func sigkillMidRunLeavesAConsistentCatalogAndARerunFinishesWithoutDuplicates() async throws {
        try await offPool { try self.sigkillScenario(rollbackJournal: false) }
    }

    /// The same with every file loaded through the rollback journal: the kill leaves a hot journal,
    /// which the next open rolls back before it puts the catalog back in WAL mode.
    @Test func sigkillMidBatchUnderTheRollbackJournalRollsBackOnTheNextOpen() async throws {
        try await offPool { try self.sigkillScenario(rollbackJournal: true) }
    }

    /// A matching pass written as one large write (rollback journal) and killed mid-write leaves no
    /// trace: the next open rolls the pass back whole, and a rerun matches as if it had never run.
    @Test func sigkillDuringALargeMatchingWriteRollsThePassBack() async throws {
        try await offPool {
            let p = try IdentityPipelineTests.demo(3_000)
            // The demo quarantines some rows on purpose, so the load exits 1 (rows failed error checks).
            let load = try StewardBinary.run(["run", "--load-only", "--project", p.dir.path])
            #expect(load.status <= 1, "\(load.stderr)")
            let catalogURL = p.dir.appendingPathComponent(".steward/catalog.sqlite")
            #expect(try Catalog.open(at: catalogURL, readOnly: true).pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM staged_person") } ?? 0 > 4_000)
            let journalPath = catalogURL.path + "-journal"
            let process = Process()
            process.executableURL = StewardBinary.url
            process.arguments = ["match", "run", "--project", p.dir.path]
            process.environment = ProcessInfo.processInfo.environment.merging(["STEWARD_LARGE_WRITE_MIN_ROWS": "0"]) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Matching writes nothing; the journal appears with the pass's first write.
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline && process.isRunning {
                if FileManager.default.fileExists(atPath: journalPath) {
                    kill(process.processIdentifier, SIGKILL)
                    break
                }
                usleep(500)
            }
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal, "the pass finished before it could be killed")
            #expect(FileManager.default.fileExists(atPath: journalPath), "the kill left no hot journal to roll back")

            let catalog = try Catalog.open(at: catalogURL)
            #expect(try catalog.pool.write { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
            #expect(try catalog.pool.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok")
            for table in ["identity_run", "identity_member", "identity_customer", "golden_customer", "customer_dim", "customer_search"] {
                #expect(try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM \(table)") } == 0, "\(table)")
            }
            let rerun = try StewardBinary.run(["match", "run", "--project", p.dir.path])
            #expect(rerun.status == 0, "\(rerun.stderr)")
            #expect(try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM identity_run") } == 1)
            #expect(try catalog.pool.read { try CustomerDimension.check($0) }.isEmpty)
            #expect(try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM golden_customer") } ?? 0 > 2_500)
        }
    }

    func sigkillScenario(rollbackJournal: Bool) throws {
        // Watching for the journal catches a batch in progress however short: smaller files do.
        let rowsPerFile = rollbackJournal ? 20_000 : 60_000
        let p = bigProject(rowsPerFile: rowsPerFile)
        let process = Process()
        process.executableURL = StewardBinary.url
        process.arguments = ["run", "--project", p.dir.path]
        if rollbackJournal {
            process.environment = ProcessInfo.processInfo.environment.merging(["STEWARD_ROLLBACK_JOURNAL_MIN_BYTES": "0"]) { $1 }
        }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let catalogURL = p.dir.appendingPathComponent(".steward/catalog.sqlite")
        let journalPath = catalogURL.path + "-journal"
        var killedWithBatches = 0
        var runStarted = false
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline && process.isRunning {
            if rollbackJournal {
                // A batch in progress holds the catalog locked (readers wait), so watch for its journal, once
                // the run has begun (creating the catalog journals too). The catalog is closed again at
                // once: an open connection would keep the run in WAL mode.
                if !runStarted {
                    runStarted = FileManager.default.fileExists(atPath: catalogURL.path)
                        && ((try? Catalog.open(at: catalogURL, readOnly: true).pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM run") }) ?? 0) ?? 0 >= 1
                } else if FileManager.default.fileExists(atPath: journalPath) {
                    kill(process.processIdentifier, SIGKILL)
                    break
                }
                usleep(1_000)
                continue
            }
            if FileManager.default.fileExists(atPath: catalogURL.path),
               let catalog = try? Catalog.open(at: catalogURL, readOnly: true),
               let n = try? catalog.pool.read({ try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM batch") ?? 0 }), n >= 1 {
                kill(process.processIdentifier, SIGKILL)
                killedWithBatches = n
                break
            }
            usleep(10_000)
        }
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the run finished before it could be killed; enlarge the files")
        if rollbackJournal {
            #expect(FileManager.default.fileExists(atPath: journalPath), "the kill left no hot journal to roll back")
        } else {
            #expect(killedWithBatches >= 1 && killedWithBatches < 3)
        }

        // Consistent after the kill: only whole batches, every counter agreeing with the rows.
        let catalog = try Catalog.open(at: catalogURL)
        #expect(try catalog.pool.write { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
        #expect(try catalog.pool.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok")
        try catalog.pool.read { db in
            let batches = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM batch")!
            #expect(batches < 3)
            let raw = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM raw_record")!
            let staged = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM staged_person")!
            #expect(raw == batches * rowsPerFile)
            #expect(staged == batches * rowsPerFile)
            #expect(try String.fetchOne(db, sql: "SELECT status FROM run") == "running")
            #expect(try Int.fetchOne(db, sql: "SELECT rows_raw FROM source_stats WHERE source = 'people'") == raw)
        }

        let rerun = try StewardBinary.run(["run", "--project", p.dir.path])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        try catalog.pool.read { db in
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM batch WHERE source = 'people'") == 3)
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM raw_record WHERE source = 'people'") == 3 * rowsPerFile)
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM staged_person") == 3 * rowsPerFile)
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM (SELECT source, file FROM batch GROUP BY source, file HAVING COUNT(*) > 1)") == 0)
            let statuses = try String.fetchAll(db, sql: "SELECT status FROM run ORDER BY id")
            #expect(statuses == ["interrupted", "success"])
            #expect(try Int.fetchOne(db, sql: "SELECT rows_raw FROM source_stats WHERE source = 'people'") == 3 * rowsPerFile)
        }
        // And once more: nothing to do.
        let third = try StewardBinary.run(["run", "--project", p.dir.path])
        #expect(third.status == 0)
        #expect(third.stdout.contains("unchanged"))
    }

    @Test func configErrorsExitTwoNameFileLineKeyAndLeaveTheCatalogUntouched() async throws {
        try await offPool { try self.configErrorScenario() }
    }

    func configErrorScenario() throws {
        let p = checksProject()
        try p.run()
        let before = try Data(contentsOf: p.dir.appendingPathComponent(".steward/catalog.sqlite"))
        let yml = try String(contentsOf: p.ymlURL, encoding: .utf8)
        // (A column missing from the files is not a config error: CheckExitCodeTests.schemaDriftFailsOnlyThatSource.)
        p.write("steward.yml", yml.replacingOccurrences(of: "mapping: {first_name: first,", with: "mapping: {nickname: first,"))
        let result = try StewardBinary.run(["run", "--project", p.dir.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("steward.yml:12: sources.people.mapping.nickname: not a canonical person field"))
        let after = try Data(contentsOf: p.dir.appendingPathComponent(".steward/catalog.sqlite"))
        #expect(before == after)
        let usage = try StewardBinary.run(["runs", "--limit", "many", "--project", p.dir.path])
        #expect(usage.status == 2)
    }

    @Test func loadOnlySkipsMatchingAndTheNextRunCatchesUp() async throws {
        try await offPool {
            let p = checksProject()
            let load = try StewardBinary.run(["run", "--load-only", "--project", p.dir.path])
            #expect(load.status == 1)
            #expect(try p.scalar("SELECT COUNT(*) FROM staged_person") as Int? == 2)
            #expect(try p.scalar("SELECT COUNT(*) FROM identity_run") as Int? == 0)
            #expect(try p.scalar("SELECT COUNT(*) FROM identity_member") as Int? == 0)
            // Nothing new to load, but the skipped matching runs now.
            _ = try StewardBinary.run(["run", "--project", p.dir.path])
            #expect(try p.scalar("SELECT COUNT(*) FROM identity_run") as Int? == 1)
            #expect(try p.scalar("SELECT COUNT(*) FROM identity_member") as Int? == 2)
        }
    }

    @Test func cliCommandsPrintTablesAndJSON() async throws {
        try await offPool { try self.cliScenario() }
    }

    func cliScenario() throws {
        let p = checksProject()
        let run = try StewardBinary.run(["run", "--project", p.dir.path])
        #expect(run.status == 1) // error-severity failures are problems
        #expect(run.stdout.contains("people"))
        let status = try StewardBinary.run(["status", "--json", "--project", p.dir.path])
        #expect(status.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as! [String: Any]
        #expect(json["project"] as? String == "checks")
        let sources = json["sources"] as! [[String: Any]]
        #expect(sources.map { $0["name"] as! String }.sorted() == ["orders", "people"])
        let people = sources.first { $0["name"] as? String == "people" }!
        #expect(people["rows_staged"] as? Int == 2)
        #expect((people["freshness"] as? [String: Any])?["status"] as? String == "ok")
        let quarantine = try StewardBinary.run(["quarantine", "--json", "--source", "orders", "--project", p.dir.path])
        let rows = try JSONSerialization.jsonObject(with: Data(quarantine.stdout.utf8)) as! [[String: Any]]
        #expect(rows.count == 3)
        #expect(rows.allSatisfy { $0["file"] as? String == "orders.ndjson" && $0["line"] is Int && $0["reasons"] is [String] })
        // raw: the row as JSON text (the contract's string), fields: its object of columns; a line that is
        // not a JSON object is masked whole, as text, with no fields.
        #expect(rows.allSatisfy { $0["raw"] is String })
        #expect(rows.filter { $0["fields"] is [String: Any] }.count == 2)
        #expect(rows.contains { ($0["raw"] as? String)?.hasPrefix("*** (") == true && $0["checks"] as? [String] == ["readable"] })
        #expect(!quarantine.stdout.contains("this is not json"))
        let runs = try StewardBinary.run(["runs", "--json", "--project", p.dir.path])
        let runList = try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as! [[String: Any]]
        #expect(runList.first?["status"] as? String == "success")
        #expect((runList.first?["steps"] as? [[String: Any]])?.count == 2)
        let quality = try StewardBinary.run(["quality", "--json", "--project", p.dir.path])
        let q = try JSONSerialization.jsonObject(with: Data(quality.stdout.utf8)) as! [String: Any]
        #expect(q["score"] is Double)
        #expect((q["dimensions"] as? [String: Any])?.keys.sorted() == ["completeness", "consistency", "timeliness", "uniqueness", "validity"])
        let plain = try StewardBinary.run(["--project", p.dir.path])
        #expect(plain.status == 0)
        #expect(plain.stdout.contains("hint:"))
    }

    @Test func withoutAProjectCommandsUseTheBundledDemo() async throws {
        try await offPool {
            let home = TempProject("home")
            let empty = TempProject("cwd")
            let result = try StewardBinary.run(["status", "--json"], cwd: empty.dir, env: ["STEWARD_HOME": home.dir.path])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("using the demo project"))
            let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
            #expect(json["project"] as? String == "acme-demo")
            let sources = json["sources"] as! [[String: Any]]
            #expect(sources.count == 8, "the demo's five systems' six sources, its data vendor and its campaign spend")
            #expect(sources.allSatisfy { ($0["rows_staged"] as? Int ?? 0) > 0 })
            #expect(FileManager.default.fileExists(atPath: home.dir.appendingPathComponent("demo/truth.csv").path))
            // Second use: the demo exists, nothing is generated again.
            let again = try StewardBinary.run(["runs", "--json"], cwd: empty.dir, env: ["STEWARD_HOME": home.dir.path])
            #expect(!again.stderr.contains("generating"))
            // The first use runs twice: the audiences enter, then the demo campaign's orders load (DemoLift).
            #expect((try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as! [[String: Any]]).count == 2)
        }
    }
}
