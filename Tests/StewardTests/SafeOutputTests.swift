import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import StewardCatalog

/// Issue 16, items 5 and 9: `export clusters --out PATH` writes only regular files. Whatever else is at
/// PATH (a FIFO, a symbolic link, a folder, a device) is refused with exit 2 and one sentence naming
/// the path and what it is, and left exactly as it was; `--out -` is stdout.
@Suite(.serialized) struct SafeOutputTests {
    static func export(_ p: TempProject, to out: String) throws -> StewardBinary.Result {
        try runUnderUmask022(["export", "clusters", "--out", out, "--project", p.dir.path])
    }

    static func expectRefused(_ r: StewardBinary.Result, _ path: String, saying kind: String) {
        #expect(r.status == 2, "\(r.stderr)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(r.stderr)")
        #expect(r.stderr.contains(path) && r.stderr.contains(kind) && r.stderr.contains("not a regular file"), "\(r.stderr)")
        #expect(!r.stderr.contains("Error Domain") && !r.stderr.contains("NSCocoa"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func outWritesOnlyRegularFiles() async throws {
        try await offPool {
            let p = try loadedProject("safe-out")
            let csv = try StewardBinary.run(["export", "clusters", "--out", "-", "--project", p.dir.path])
            #expect(csv.status == 0, "\(csv.stderr)")
            #expect(csv.stdout.hasPrefix("source,record_id,customer_id\npeople,"))
            #expect(csv.stdout.split(separator: "\n").count == 4)   // the header and three people

            // A FIFO: refused without opening it (opening would block until a reader came).
            let fifo = p.dir.appendingPathComponent("pipe").path
            #expect(mkfifo(fifo, 0o644) == 0)
            Self.expectRefused(try Self.export(p, to: fifo), fifo, saying: "FIFO")
            #expect(Self.kind(fifo) == S_IFIFO)

            // A symbolic link to a file: neither the link nor its target changes.
            let target = p.write("target.txt", "keep me\n")
            let link = p.dir.appendingPathComponent("link.csv").path
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target.path)
            Self.expectRefused(try Self.export(p, to: link), link, saying: "symbolic link")
            #expect(Self.kind(link) == S_IFLNK)
            #expect(try String(contentsOf: target, encoding: .utf8) == "keep me\n")

            // A folder (it used to fail with Foundation's error text, exit 1).
            let folder = p.dir.appendingPathComponent("out-dir")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            Self.expectRefused(try Self.export(p, to: folder.path), folder.path, saying: "folder")
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)

            // A device node (root only can make one): what replaced /dev/null in the report.
            let device = p.dir.appendingPathComponent("null").path
            if mknod(device, S_IFCHR | 0o666, dev_t(1 << 8 | 3)) == 0 {   // 1:3, /dev/null's numbers (glibc's encoding)
                Self.expectRefused(try Self.export(p, to: device), device, saying: "character device")
                #expect(Self.kind(device) == S_IFCHR)
            }

            // A regular file is replaced atomically, private, with exactly what stdout shows.
            let existing = p.write("clusters.csv", "old contents\n")
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: existing.path)
            let replaced = try Self.export(p, to: existing.path)
            #expect(replaced.status == 0, "\(replaced.stderr)")
            #expect(try String(contentsOf: existing, encoding: .utf8) == csv.stdout)
            #expect(fileMode(existing.path) == 0o600)
            // A new file, by a relative path.
            let fresh = try runUnderUmask022(["export", "clusters", "--out", "new.csv", "--project", p.dir.path], cwd: p.dir)
            #expect(fresh.status == 0, "\(fresh.stderr)")
            #expect(fileMode(p.dir.appendingPathComponent("new.csv").path) == 0o600)
            #expect(try String(contentsOf: p.dir.appendingPathComponent("new.csv"), encoding: .utf8) == csv.stdout)
            // No temporary file is left behind.
            #expect(try FileManager.default.contentsOfDirectory(atPath: p.dir.path).filter { $0.contains(".steward-") }.isEmpty)

            // A folder that does not exist: one sentence, exit 2.
            let missing = p.dir.appendingPathComponent("no/such/out.csv").path
            let r = try Self.export(p, to: missing)
            #expect(r.status == 2 && r.stderr.contains(missing) && r.stderr.contains("does not exist"), "\(r.stderr)")
        }
    }

    @Test func whatAppearsAtThePathWhileTheExportIsWrittenIsNeverReplaced() throws {
        let p = TempProject("safe-out-race")
        // A free path taken by a FIFO meanwhile: link(2) refuses to replace it.
        let free = p.dir.appendingPathComponent("free.csv")
        #expect(throws: PrivateFileError.self) {
            try PrivateFiles.writeRegularFile(Array("a\n".utf8), to: free) { _ = mkfifo(free.path, 0o600) }
        }
        #expect(Self.kind(free.path) == S_IFIFO)
        // A regular file swapped for a symbolic link meanwhile: the lstat just before the rename refuses it.
        let swapped = p.write("swapped.csv", "old\n")
        let target = p.write("target.txt", "keep\n")
        #expect(throws: PrivateFileError.self) {
            try PrivateFiles.writeRegularFile(Array("new\n".utf8), to: swapped) {
                try FileManager.default.removeItem(at: swapped)
                try FileManager.default.createSymbolicLink(atPath: swapped.path, withDestinationPath: target.path)
            }
        }
        #expect(Self.kind(swapped.path) == S_IFLNK)
        #expect(try String(contentsOf: target, encoding: .utf8) == "keep\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: p.dir.path).filter { $0.contains(".steward-") }.isEmpty)
    }

    static func kind(_ path: String) -> mode_t {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : 0
    }

    @Test func theWriterRefusesALinkWhereItWroteBeforeAndLeavesNoTemporaryFile() throws {
        // The library call the CLI uses: a path that has become a symbolic link since the last export.
        let p = TempProject("safe-out-lib")
        let out = p.dir.appendingPathComponent("x.csv")
        try PrivateFiles.writeRegularFile(Array("a\n".utf8), to: out)
        #expect(fileMode(out.path) == 0o600)
        try FileManager.default.removeItem(at: out)
        let target = p.write("t.txt", "t\n")
        try FileManager.default.createSymbolicLink(atPath: out.path, withDestinationPath: target.path)
        #expect(throws: PrivateFileError.self) { try PrivateFiles.writeRegularFile(Array("b\n".utf8), to: out) }
        #expect(try String(contentsOf: target, encoding: .utf8) == "t\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: p.dir.path).sorted() == ["t.txt", "x.csv"])
    }
}
