import Foundation
import Testing
@testable import StewardCatalog
@testable import StewardPipeline

/// Two real processes on one catalog: read commands started while a project's first run creates and
/// loads its catalog never break that run, and two writers creating a catalog at once both succeed
/// (issue 15, item 12).
@Suite(.serialized) struct ConcurrentReadTests {
    /// A fresh project whose first run takes long enough for many reads to land inside it.
    func freshProject(_ name: String) -> TempProject {
        let p = TempProject(name)
        var text = "id,first,last,email\n"
        for i in 0..<8_000 { text += "\(i),First\(i % 97),Last\(i % 1013),user\(i)@example.com\n" }
        p.write("people.csv", text)
        p.write("steward.yml", """
        name: \(name)
        sources:
          - name: people
            system: crm
            entity: person
            format: csv
            path: people.csv
            key: id
            mapping: {first_name: first, last_name: last, email: email}
            checks:
              - not_null: [id]
              - unique: id
        """)
        return p
    }

    func start(_ args: [String], env: [String: String] = [:]) throws -> (Process, Pipe, Pipe) {
        try StewardBinary.start(args, env: env)
    }

    @Test func statusDuringAFirstRunNeverBreaksIt() async throws {
        try await offPool {
            for attempt in 0..<3 {
                let p = freshProject("race\(attempt)")
                // Small files through the rollback journal too, as a large first load would.
                let (run, _, runErr) = try start(["run", "--project", p.dir.path], env: ["STEWARD_ROLLBACK_JOURNAL_MIN_BYTES": "1"])
                var reads = 0
                var readFailures: [String] = []
                while run.isRunning {
                    let r = try StewardBinary.run(["status", "--project", p.dir.path])
                    reads += 1
                    if r.status != 0 { readFailures.append(r.stderr) }
                }
                let stderr = String(decoding: runErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                run.waitUntilExit()
                #expect(run.terminationStatus == 0, "attempt \(attempt): run exited \(run.terminationStatus): \(stderr)")
                #expect(!stderr.contains("locked") && !stderr.contains("already exists"), "\(stderr)")
                #expect(reads > 0)
                #expect(readFailures.isEmpty, "attempt \(attempt): \(readFailures)")
                let after = try StewardBinary.run(["status", "--json", "--project", p.dir.path])
                let json = try #require(try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [String: Any])
                #expect((json["last_run"] as? [String: Any])?["status"] as? String == "success")
                #expect(((json["sources"] as? [[String: Any]])?.first)?["rows_staged"] as? Int == 8_000)
            }
        }
    }

    @Test func twoProcessesCreatingOneCatalogBothMigrateCleanly() async throws {
        try await offPool {
            for attempt in 0..<3 {
                let p = freshProject("migrate\(attempt)")
                // Two writers at once on a new catalog: `kpi record` is quick, so it races the run's migration.
                p.write("steward.yml", (try String(contentsOf: p.ymlURL, encoding: .utf8)) + "\nkpis:\n  - {name: Marketing ROI, target: \"4:1\"}\n")
                let (a, _, aErr) = try start(["run", "--project", p.dir.path])
                let (b, _, bErr) = try start(["kpi", "record", "Marketing ROI", "3:1", "--project", p.dir.path])
                let aText = String(decoding: aErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                let bText = String(decoding: bErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                a.waitUntilExit()
                b.waitUntilExit()
                #expect(a.terminationStatus == 0, "attempt \(attempt): \(aText)")
                #expect(b.terminationStatus == 0, "attempt \(attempt): \(bText)")
                #expect(!(aText + bText).contains("already exists"))
                #expect(try p.scalar("SELECT COUNT(*) FROM kpi_manual_value") == 1)
            }
        }
    }
}
