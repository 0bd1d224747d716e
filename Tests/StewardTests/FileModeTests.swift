import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import StewardCatalog
import StewardConsole

/// The permission bits of what is at `path` (not following a symbolic link); nil when nothing is.
func fileMode(_ path: String) -> mode_t? {
    var st = stat()
    return lstat(path, &st) == 0 ? st.st_mode & 0o7777 : nil
}

/// Runs the binary from a shell whose umask is 022, the common default that makes new files
/// world-readable: what Steward creates must be private anyway.
func runUnderUmask022(_ args: [String], cwd: URL? = nil, env: [String: String] = [:]) throws -> StewardBinary.Result {
    try StewardBinary.run(args, cwd: cwd, env: env, via: ["/bin/sh", "-c", "umask 022; exec \"$0\" \"$@\""])
}

/// Issue 16, item 4: the catalog, its -wal/-shm, the log and exports hold PII, so Steward's folders are
/// 0700 and its files 0600 whatever the umask; a catalog an older version left 0644 is tightened.
@Suite(.serialized) struct FileModeTests {
    @Test func initRunAndExportCreateOnlyPrivateFilesUnderUmask022() async throws {
        try await offPool {
            let p = TempProject("modes")
            let dir = p.dir.appendingPathComponent("acme")
            let initialized = try runUnderUmask022(["init", dir.path, "--demo", "--customers", "300", "--seed", "7"])
            #expect(initialized.status == 0, "\(initialized.stderr)")
            // The demo's sources are generated people: private too, folders and files.
            #expect(fileMode(dir.path) == 0o700)
            #expect(fileMode(dir.appendingPathComponent("steward.yml").path) == 0o600)

            // A long-running process keeps the catalog open, so its -wal and -shm exist to be looked at.
            let (runner, out, err) = try StewardBinary.start(["run", "--every", "1h", "--project", dir.path],
                                                            via: ["/bin/sh", "-c", "umask 022; exec \"$0\" \"$@\""])
            // Drained meanwhile: the run's progress would fill the pipe and stop it.
            DispatchQueue.global().async { _ = err.fileHandleForReading.readDataToEndOfFile() }
            let catalog = dir.appendingPathComponent(".steward/catalog.sqlite").path
            let deadline = Date().addingTimeInterval(120)
            var finished = false
            while !finished && Date() < deadline && runner.isRunning {
                usleep(200_000)
                let c = try? Catalog.open(at: URL(fileURLWithPath: catalog), readOnly: true)
                // A generated demo's first use runs more than once (DemoLift): any finished run will do.
                finished = ((try? c?.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM run WHERE status <> 'running'") }) ?? 0) >= 1
            }
            var sideFiles: [String: mode_t] = [:]
            for suffix in ["-wal", "-shm"] { sideFiles[suffix] = fileMode(catalog + suffix) }
            kill(runner.processIdentifier, SIGINT)
            _ = out.fileHandleForReading.readDataToEndOfFile()
            runner.waitUntilExit()
            #expect(finished, "the first run did not finish")
            #expect(fileMode(dir.appendingPathComponent(".steward").path) == 0o700)
            #expect(fileMode(catalog) == 0o600)
            #expect(!sideFiles.isEmpty, "no -wal or -shm while the catalog was open")
            for (suffix, mode) in sideFiles { #expect(mode == 0o600, "\(suffix): \(String(mode, radix: 8))") }

            let export = dir.appendingPathComponent("clusters.csv").path
            let exported = try runUnderUmask022(["export", "clusters", "--out", export, "--project", dir.path])
            #expect(exported.status == 0, "\(exported.stderr)")
            #expect(fileMode(export) == 0o600)

            // Another local account reads none of it (the tests run as root, which ignores modes).
            if getuid() == 0 {
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: p.dir.path)
                for path in [catalog, export] {
                    let cat = Process()
                    cat.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
                    cat.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "/bin/cat", path]
                    let read = Pipe()
                    cat.standardOutput = read
                    cat.standardError = FileHandle.nullDevice
                    try cat.run()
                    let bytes = read.fileHandleForReading.readDataToEndOfFile()
                    cat.waitUntilExit()
                    #expect(cat.terminationStatus != 0 && bytes.isEmpty, "\(path) was readable by another user")
                }
            }
        }
    }

    @Test func aCatalogLeftReadableByAnOlderVersionIsTightenedWhenOpenedForWriting() async throws {
        try await offPool {
            let p = try loadedProject("modes-old")
            let catalog = try p.config().catalogURL
            let folder = catalog.deletingLastPathComponent().path
            // As an older Steward under umask 022 left it.
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: catalog.path)
            // A read command changes nothing, modes included.
            #expect(try runUnderUmask022(["status", "--project", p.dir.path]).status == 0)
            #expect(fileMode(catalog.path) == 0o644 && fileMode(folder) == 0o755)
            let run = try runUnderUmask022(["run", "--project", p.dir.path])
            #expect(run.status <= 1, "\(run.stderr)")
            #expect(fileMode(catalog.path) == 0o600)
            #expect(fileMode(folder) == 0o700)
        }
    }

    @Test func aCatalogFolderTheUserNamedKeepsItsMode() throws {
        // `catalog: shared/c.sqlite`: the folder may hold the user's other files; the catalog is private.
        let p = TempProject("modes-own-folder")
        let shared = p.dir.appendingPathComponent("shared")
        try FileManager.default.createDirectory(at: shared, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let catalog = try Catalog.open(at: shared.appendingPathComponent("c.sqlite"))
        try catalog.audit(action: "test", subject: "modes")
        #expect(fileMode(shared.path) == 0o755)
        #expect(fileMode(catalog.url.path) == 0o600)
        // A folder Steward creates for it is private.
        let created = p.dir.appendingPathComponent("new/deeper/c.sqlite")
        _ = try Catalog.open(at: created)
        #expect(fileMode(p.dir.appendingPathComponent("new").path) == 0o700)
        #expect(fileMode(created.deletingLastPathComponent().path) == 0o700)
        #expect(fileMode(created.path) == 0o600)
    }

    @Test func theConsoleLogIsPrivateAndAnOldOneIsTightened() throws {
        let p = TempProject("modes-log")
        let log = p.dir.appendingPathComponent("state/steward/steward.log")
        ConsoleLog(url: log).write("opened")
        #expect(fileMode(log.path) == 0o600)
        #expect(fileMode(log.deletingLastPathComponent().path) == 0o700)
        #expect(try String(contentsOf: log, encoding: .utf8).contains("console: opened"))
        let old = p.write("old/steward.log", "earlier line\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: old.path)
        ConsoleLog(url: old).write("appended")
        #expect(fileMode(old.path) == 0o600)
        let text = try String(contentsOf: old, encoding: .utf8)
        #expect(text.hasPrefix("earlier line\n") && text.contains("console: appended"))
    }
}
