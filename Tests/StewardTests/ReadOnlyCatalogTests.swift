import Foundation
import GRDB
import Testing
@testable import StewardCatalog
@testable import StewardDemo
@testable import StewardPipeline

/// A small project, run once, for the read-only and no-write tests.
func loadedProject(_ name: String) throws -> TempProject {
    let p = TempProject(name)
    p.write("people.csv", "id,first,last,email\n1,Ann,Smith,ann@example.com\n2,Bob,Jones,bob@example.com\n3,Cy,Smith,cy@example\n")
    p.write("steward.yml", """
    name: \(name)
    sources:
      - name: people
        system: crm
        entity: person
        format: csv
        path: people.csv
        key: id
        freshness: {warn_after: 24h, error_after: 72h}
        mapping: {first_name: first, last_name: last, email: email}
        checks:
          - not_null: [id]
          - pattern: {column: email, format: email, severity: warn}
    roadmap: roadmap.md
    kpis:
      - {name: Marketing ROI, target: "4:1"}
    """)
    p.write("roadmap.md", "# Roadmap\n\n## Phase 1: Foundation\n\n### Month 1\n\n- [ ] Load the CRM\n")
    let run = try StewardBinary.run(["run", "--project", p.dir.path])
    precondition(run.status <= 1, "first run failed: \(run.stderr)")
    return p
}

/// Runs the binary as a user who cannot write the project: the `nobody` account when the tests run as
/// root (root ignores file modes), else the current user (the test then removes write permission).
func runWithoutWriteAccess(_ args: [String], cwd: URL? = nil, env: [String: String] = [:]) throws -> StewardBinary.Result {
    guard getuid() == 0 else { return try StewardBinary.run(args, cwd: cwd, env: env) }
    return try StewardBinary.run(args, cwd: cwd, env: ["HOME": "/nonexistent"].merging(env) { $1 },
                                 via: ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
}

/// The catalog's bytes and modification time.
func fingerprint(_ url: URL) throws -> (Data, Date) {
    let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
    return (try Data(contentsOf: url), attributes[.modificationDate] as! Date)
}

/// A catalog the user cannot write still serves every read command, and no message ever advises
/// moving or deleting it (issue 15, item 11).
@Suite(.serialized) struct ReadOnlyCatalogTests {
    static let readCommands: [[String]] = [["status"], ["status", "--json"], ["quality"], ["runs"], ["quarantine"],
                                           ["customer", "search", "smith"]]

    func expectReadsWork(_ p: TempProject) throws {
        for command in Self.readCommands {
            let r = try runWithoutWriteAccess(command + ["--project", p.dir.path])
            #expect(r.status == 0, "\(command): \(r.stderr)")
            #expect(!r.stderr.contains("aside") && !r.stderr.contains("rebuild"), "\(command): \(r.stderr)")
        }
        let status = try runWithoutWriteAccess(["status", "--project", p.dir.path])
        #expect(status.stdout.contains("people") && status.stdout.contains("last run 1: success"), "\(status.stdout)")
        let search = try runWithoutWriteAccess(["customer", "search", "smith", "--json", "--project", p.dir.path])
        let hits = try #require(try JSONSerialization.jsonObject(with: Data(search.stdout.utf8)) as? [[String: Any]])
        #expect(hits.count == 2)
    }

    @Test func readCommandsWorkOnACatalogFileOfMode0444() async throws {
        try await offPool {
            let p = try loadedProject("ro-file")
            let catalog = try p.config().catalogURL
            // The folder stays writable for everyone (SQLite may put its -wal/-shm there); the file is not.
            try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: catalog.deletingLastPathComponent().path)
            try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: catalog.path)
            defer { try? FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: catalog.path) }
            let before = try fingerprint(catalog)
            try expectReadsWork(p)
            // A writing command says what is wrong, in one sentence, and changes nothing.
            let run = try runWithoutWriteAccess(["run", "--project", p.dir.path])
            #expect(run.status == 2)
            #expect(run.stderr.contains("read-only") && !run.stderr.contains("aside"), "\(run.stderr)")
            #expect(try fingerprint(catalog) == before)
        }
    }

    @Test func readCommandsWorkInAFolderWhereNotEvenTheWALCanBeCreated() async throws {
        try await offPool {
            let p = try loadedProject("ro-dir")
            let catalog = try p.config().catalogURL
            let folder = catalog.deletingLastPathComponent().path
            try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: folder)
            try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: catalog.path)
            defer {
                try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder)
                try? FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: catalog.path)
            }
            #expect(!FileManager.default.fileExists(atPath: catalog.path + "-wal"))
            try expectReadsWork(p)
            #expect(!FileManager.default.fileExists(atPath: catalog.path + "-shm"))
        }
    }

    @Test func engineOpensAnImmutableCatalogForReading() throws {
        let p = TempProject("ro-engine")
        let url = p.dir.appendingPathComponent("c/catalog.sqlite")
        do {
            let catalog = try Catalog.open(at: url)
            try catalog.audit(action: "test", subject: "x")
        }
        #expect(Catalog.immutableURI(URL(fileURLWithPath: "/a b/c?d#e%f.sqlite")) == "file:/a%20b/c%3Fd%23e%25f.sqlite?immutable=1")
        let reader = try Catalog.open(at: url, readOnly: true)
        #expect(try reader.auditTail(limit: 5).map(\.action) == ["test"])
        #expect(throws: CatalogError.missing(p.dir.appendingPathComponent("none.sqlite").path)) {
            try Catalog.open(at: p.dir.appendingPathComponent("none.sqlite"), readOnly: true)
        }
        #expect(!FileManager.default.fileExists(atPath: p.dir.appendingPathComponent("none.sqlite").path))
    }

    @Test func noCatalogMessageAdvisesMovingOrDeletingIt() {
        let errors: [CatalogError] = [.missing("/c"), .empty("/c"), .corrupt("/c", "file is not a database"), .outdated("/c"),
                                      .readOnly("/c", "x"), .environment("/c", "x")]
        for e in errors {
            let text = e.description.lowercased()
            #expect(!text.contains("aside") && !text.contains("delete") && !text.contains("remove") && !text.contains("rebuild"), "\(text)")
        }
    }
}

/// Read commands and refused commands never write the catalog; a dead run shows as interrupted;
/// environment problems are one sentence with exit 2 (issue 15, items 11 and 12).
@Suite(.serialized) struct ReadsThatNeverWriteTests {
    @Test func readAndRefusedCommandsLeaveTheCatalogBytesAndTimeAlone() async throws {
        try await offPool {
            let p = try loadedProject("nowrite")
            let catalog = try p.config().catalogURL
            let before = try fingerprint(catalog)
            // `check` and `kpi` store one KPI measurement per run by design (the history the SLA pane
            // charts), and `customer search --reveal` audits: they are writing commands.
            let commands: [[String]] = [["status"], ["status", "--json"], ["quality"], ["runs"], ["quarantine"],
                                        ["customer", "search", "smith"], ["match", "report"], ["match", "review"],
                                        ["export", "clusters"], ["roadmap", "list"], ["roadmap", "progress", "--json"],
                                        ["run", "--source", "nosuch"],
                                        ["kpi", "record", "Marketing ROI", "3:1", "--at", "9999-99-99"]]
            for command in commands {
                Thread.sleep(forTimeInterval: 0.02)
                let r = try StewardBinary.run(command + ["--project", p.dir.path])
                #expect(r.status == (command[0] == "run" || command[0] == "kpi" ? 2 : 0), "\(command): \(r.stderr)")
                let after = try fingerprint(catalog)
                #expect(after.0 == before.0, "\(command) changed the catalog's bytes")
                #expect(after.1 == before.1, "\(command) changed the catalog's modification time")
            }
            // A reader may leave SQLite's coordination files (an empty -wal, the -shm index) but no content.
            let wal = (try? FileManager.default.attributesOfItem(atPath: catalog.path + "-wal"))?[.size] as? Int ?? 0
            #expect(wal == 0)
        }
    }

    @Test func readCommandsDoNotCreateACatalog() async throws {
        try await offPool {
            let p = TempProject("nocreate")
            p.write("people.csv", "id,name\n1,Ann\n")
            p.write("steward.yml", """
            name: nc
            sources:
              - name: people
                system: crm
                entity: person
                format: csv
                path: people.csv
                key: id
                mapping: {first_name: name}
            """)
            for command in [["status"], ["quality"], ["runs"], ["quarantine"], ["customer", "search", "ann"]] {
                let r = try StewardBinary.run(command + ["--project", p.dir.path])
                #expect(r.status == 0, "\(command): \(r.stderr)")
            }
            let status = try StewardBinary.run(["status", "--project", p.dir.path])
            #expect(status.stdout.contains("no runs yet") && status.stdout.contains("never loaded"), "\(status.stdout)")
            #expect(!FileManager.default.fileExists(atPath: p.dir.appendingPathComponent(".steward").path))
        }
    }

    @Test func statusShowsARunWhoseProcessIsGoneAsInterruptedWithoutWriting() async throws {
        try await offPool {
            let p = try loadedProject("dead")
            // A process that has exited: its pid is not alive (the pid of a killed `steward run`).
            let gone = Process()
            gone.executableURL = URL(fileURLWithPath: "/bin/true")
            try gone.run()
            gone.waitUntilExit()
            let catalog = try p.catalog()
            try catalog.pool.write { db in
                try db.execute(sql: "INSERT INTO run (trigger, status, started_at, pid, actor) VALUES ('manual', 'running', ?, ?, 't')",
                               arguments: [Timestamp.now(), Int(gone.processIdentifier)])
                try db.execute(sql: "INSERT INTO run_step (run_id, source, status, started_at) VALUES (?, 'people', 'running', ?)",
                               arguments: [db.lastInsertedRowID, Timestamp.now()])
            }
            let r = try StewardBinary.run(["status", "--json", "--project", p.dir.path])
            let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            #expect((json["last_run"] as? [String: Any])?["status"] as? String == "interrupted")
            let source = try #require((json["sources"] as? [[String: Any]])?.first)
            #expect(source["status"] as? String != "running")
            let runs = try StewardBinary.run(["runs", "--json", "--project", p.dir.path])
            let list = try #require(try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [[String: Any]])
            #expect(list.first?["status"] as? String == "interrupted")
            #expect(((list.first?["steps"] as? [[String: Any]])?.first)?["status"] as? String == "interrupted")
            // Only shown so: the catalog still says `running` until the next run records it.
            #expect(try p.scalar("SELECT status FROM run ORDER BY id DESC LIMIT 1") == "running")
            // This process is alive and is the test runner (a steward process): its runs stay running.
            #expect(RunLiveness.status("running", pid: getpid()) == "running")
            #expect(RunLiveness.status("running", pid: gone.processIdentifier) == "interrupted")
            #expect(RunLiveness.status("success", pid: gone.processIdentifier) == "success")
        }
    }

    @Test func environmentProblemsExit2WithOneSentence() async throws {
        try await offPool {
            let p = TempProject("env")
            let file = p.write("home-is-a-file", "x")
            let empty = TempProject("env-cwd")
            // STEWARD_HOME is a file: the demo folder cannot be made.
            let asFile = try StewardBinary.run(["status"], cwd: empty.dir, env: ["STEWARD_HOME": file.path])
            #expect(asFile.status == 2, "\(asFile.stderr)")
            #expect(asFile.stderr.contains("is a file, not a folder"), "\(asFile.stderr)")
            #expect(asFile.stderr.split(separator: "\n").count <= 2, "\(asFile.stderr)")
            #expect(!asFile.stderr.contains("Error Domain"))
            // STEWARD_HOME not writable.
            let locked = p.dir.appendingPathComponent("locked")
            try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o555])
            let unwritable = try runWithoutWriteAccess(["status"], cwd: URL(fileURLWithPath: "/"), env: ["STEWARD_HOME": locked.path])
            #expect(unwritable.status == 2, "\(unwritable.stderr)")
            #expect(unwritable.stderr.contains("not writable"), "\(unwritable.stderr)")
            #expect(!unwritable.stderr.contains("Error Domain"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: locked.path).isEmpty)
        }
    }

    @Test func absurdDemoSizesAreRefusedBeforeWritingAnything() async throws {
        try await offPool {
            let p = TempProject("huge")
            let target = p.dir.appendingPathComponent("demo")
            let r = try StewardBinary.run(["init", "--demo", target.path, "--customers", "99999999999999"])
            #expect(r.status == 2, "\(r.stderr)")
            #expect(r.stderr.contains("--customers"), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: target.path))
            #expect(throws: DemoError.self) { try DemoGenerator(customers: DemoGenerator.maximumCustomers + 1).write(to: target) }
            #expect(!FileManager.default.fileExists(atPath: target.path))
        }
    }

    @Test func invalidDatesAreNotTimes() {
        #expect(Timestamp.date("9999-99-99T00:00:00Z") == nil)
        #expect(Timestamp.date("2023-02-29T00:00:00Z") == nil)
        #expect(Timestamp.date("2024-02-29T00:00:00Z") != nil)
        #expect(Timestamp.date("2024-04-31T00:00:00Z") == nil)
        #expect(Timestamp.date("2024-05-01T24:00:00Z") == nil)
        #expect(Timestamp.date("2024/05/01T09:30:00Z") == nil)
        #expect(Timestamp.date("2024-05-01 09:30:00") != nil)
        let t = Date(timeIntervalSince1970: 1_800_000_000.123)
        #expect(Timestamp.date(Timestamp.string(t)).map { abs($0.timeIntervalSince(t)) < 0.001 } == true)
    }

    @Test func kpiRecordRejectsAnInvalidDateNamingTheOption() async throws {
        try await offPool {
            let p = TempProject("kpi-at")
            p.write("steward.yml", """
            name: k
            sources:
              - name: people
                system: crm
                entity: person
                format: csv
                path: people.csv
                key: id
                mapping: {first_name: id}
            kpis:
              - {name: Marketing ROI, target: "4:1"}
            """)
            p.write("people.csv", "id\n1\n")
            let bad = try StewardBinary.run(["kpi", "record", "Marketing ROI", "3:1", "--at", "9999-99-99", "--project", p.dir.path])
            #expect(bad.status == 2)
            #expect(bad.stderr.contains("--at"), "\(bad.stderr)")
            let good = try StewardBinary.run(["kpi", "record", "Marketing ROI", "3:1", "--at", "2024-05-01", "--project", p.dir.path])
            #expect(good.status == 0, "\(good.stderr)")
        }
    }
}
