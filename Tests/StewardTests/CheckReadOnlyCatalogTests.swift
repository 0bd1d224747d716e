import Foundation
import Testing
@testable import StewardCatalog

/// A catalog this user cannot write is still judged (0/1/2), never `unknown`.
@Suite(.serialized) struct CheckReadOnlyCatalogTests {
    @Test func aCatalogThatCannotBeWrittenIsStillJudged() async throws {
        try await offPool {
            let p = driftProject(kpis: "kpis:\n  - {name: Marketing ROI, target: \"4:1\"}\n")
            let dir = p.dir.path
            #expect(try StewardBinary.run(["run", "--project", dir]).status == 0)
            #expect(try StewardBinary.run(["kpi", "record", "Marketing ROI", "1:1", "--project", dir]).status == 0)
            let catalog = try p.config().catalogURL
            for path in [catalog.path, catalog.deletingLastPathComponent().path] {
                try FileManager.default.setAttributes([.posixPermissions: path == catalog.path ? 0o444 : 0o555], ofItemAtPath: path)
            }
            defer {
                try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: catalog.deletingLastPathComponent().path)
                try? FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: catalog.path)
            }
            // Other users may enter the project folder to read it (the temporary folder's own mode is private).
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir)
            let before = try Data(contentsOf: catalog)
            let check = try runWithoutWriteAccess(["check", "--json", "--project", dir])
            #expect(check.status == 2, "\(check.stdout)\(check.stderr)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any])
            #expect(report["status"] as? String == "breach")
            #expect(check.stderr.contains("cannot be written here"))
            #expect(try Data(contentsOf: catalog) == before)
        }
    }
}
