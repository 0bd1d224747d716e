import Foundation
import GRDB
import Testing
@testable import StewardCatalog
@testable import StewardDemo
@testable import StewardPipeline

@Suite struct DemoEndToEndTests {
    /// The demo through the whole pipeline: raw, staged and quarantined counts are exactly what the
    /// generator says it wrote, and a second run adds nothing.
    @Test func demoCountsMatchTheGeneratorAndARerunChangesNothing() throws {
        let p = TempProject("demo")
        let manifest = try DemoGenerator(customers: 400, seed: 7).write(to: p.dir)
        let first = try p.run()
        #expect(first.status == "success")
        // Malformed rows fail the built-in `readable` check, which is error-severity too.
        let expectedErrorFailures = manifest.sources.values.reduce(0) { $0 + $1.failingErrorChecks + $1.malformed }
        #expect(first.errorCheckFailures == expectedErrorFailures)
        let catalog = try p.catalog()
        let overviews = Dictionary(uniqueKeysWithValues: try catalog.sourceOverviews().map { ($0.name, $0) })
        #expect(Set(overviews.keys) == Set(manifest.sources.keys))
        for (name, counts) in manifest.sources {
            let o = try #require(overviews[name])
            #expect(o.rowsRaw == counts.rows, "\(name) raw")
            #expect(o.rowsStaged == counts.staged, "\(name) staged")
            #expect(o.rowsQuarantined == counts.quarantined, "\(name) quarantined")
        }
        // Quarantine rows carry file, line and reasons.
        let q = try catalog.quarantine(source: "crm_contacts")
        #expect(q.allSatisfy { $0.file.hasPrefix("sources/crm/contacts_") && $0.line > 1 && !$0.reasons.isEmpty })

        let before = try catalog.tableCounts()
        let second = try p.run()
        #expect(second.steps.allSatisfy { $0.status == "unchanged" })
        var after = try catalog.tableCounts()
        after["run"] = before["run"]; after["audit_event"] = before["audit_event"]
        #expect(after == before)
        let changed: Int? = try p.scalar("SELECT COUNT(*) FROM staged_person WHERE updated_run > 1")
        #expect(changed == 0)
    }
}
