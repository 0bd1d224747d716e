import Foundation
import GRDB
import Testing
@testable import StewardCatalog
@testable import StewardIdentity
@testable import StewardDemo
@testable import StewardPipeline

/// Matching as part of `steward run`, on a generated demo. Off the cooperative pool: these take
/// seconds of CPU and must not starve the console's async tests.
@Suite(.serialized) struct IdentityPipelineTests {
    /// - parameter vault: the demo's privacy vault; off by default here, since these tests read the
    ///   catalog's values and index tokens directly (VaultTests cover the sealed catalog).
    static func demo(_ people: Int, vault: Bool = false) throws -> TempProject {
        let p = TempProject("identity")
        _ = try DemoGenerator(customers: people, seed: 42).write(to: p.dir)
        // Fewer random pairs for u keeps the debug-build test quick; the estimate is still stable.
        var yml = try String(contentsOf: p.ymlURL, encoding: .utf8)
        yml = yml.replacingOccurrences(of: "  primary_system: crm\n", with: "  primary_system: crm\n  u_samples: 60000\n")
        if !vault { yml = yml.replacingOccurrences(of: "privacy: {vault: true}", with: "privacy: {vault: false}") }
        try yml.write(to: p.ymlURL, atomically: true, encoding: .utf8)
        return p
    }

    static func run(_ p: TempProject) throws -> RunSummary {
        let config = try p.config()
        return try PipelineRunner(config: config, catalog: try Catalog.open(at: config.catalogURL),
                                  extensions: [IdentityResolution(), CustomerFactsStep()]).run()
    }

    @Test func demoMatchReportF1AndARerunChangesNothing() async throws {
        try await offPool { try Self.demoMatchReportF1AndARerunChangesNothingBody() }
    }

    static func demoMatchReportF1AndARerunChangesNothingBody() throws {
        let p = try Self.demo(400)
        let started = Date()
        let first = try Self.run(p)
        let runSeconds = Date().timeIntervalSince(started)
        #expect(first.status == "success")
        let config = try p.config()
        let catalog = try p.catalog()
        let report = try catalog.pool.read { try MatchReport.load($0, truth: config.truth) }
        let truth = try #require(report.truth)
        // Measured 0.98 on this seed; the goal at 5,000 people is 0.97.
        #expect(truth.f1 >= 0.95, "F1 \(truth.f1) precision \(truth.precision) recall \(truth.recall)")
        #expect(report.records > 600 && report.clusters < report.records)
        #expect(report.junk.contains { $0.value == "noemail@example.com" } || report.records < 1000)
        // The pass's own timings and memory, which the benchmark reports against the issue's goal.
        let matching = try #require(report.pass["matching_seconds"]), whole = try #require(report.pass["whole_seconds"])
        #expect(matching > 0 && matching <= whole && whole < runSeconds)
        #expect((report.pass["peak_rss_mb"] ?? 0) > 1)

        // Every staged person record has exactly one customer; the export covers them all.
        let staged = try p.scalar("SELECT COUNT(*) FROM staged_person WHERE is_deleted = 0") as Int?
        let exported = try catalog.pool.read { try ClusterExport.rows($0) }
        #expect(exported.count == staged)

        // SCD2 invariants hold; one current version per customer.
        #expect(try catalog.pool.read { try CustomerDimension.check($0) }.isEmpty)

        let snapshot = { () throws -> [String] in
            try catalog.pool.read { db in
                try String.fetchAll(db, sql: "SELECT source || ':' || record_key || '=' || customer_id FROM identity_member ORDER BY 1")
                + String.fetchAll(db, sql: "SELECT customer_id || ':' || sk FROM customer_dim ORDER BY sk")
                + [String(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM identity_event") ?? 0)]
            }
        }
        let before = try snapshot()
        let second = try Self.run(p)
        #expect(second.status == "success")
        #expect(try snapshot() == before)
    }

    @Test func reviewDecisionsOverrideTheModelAndAreAudited() async throws {
        try await offPool { try Self.reviewDecisionsOverrideTheModelAndAreAuditedBody() }
    }

    static func reviewDecisionsOverrideTheModelAndAreAuditedBody() throws {
        let p = try Self.demo(200)
        _ = try Self.run(p)
        let config = try p.config()
        let catalog = try p.catalog()
        // Two records the model put in one customer, and two it kept apart.
        let (a, b, c, d) = try catalog.pool.read { db -> (String, String, String, String) in
            let same = try Row.fetchOne(db, sql: """
                SELECT x.source || ':' || x.record_key, y.source || ':' || y.record_key FROM identity_member x
                JOIN identity_member y ON y.customer_id = x.customer_id AND (y.source, y.record_key) > (x.source, x.record_key) LIMIT 1
                """)!
            let apart = try String.fetchAll(db, sql: """
                SELECT source || ':' || record_key FROM identity_member WHERE customer_id IN
                    (SELECT customer_id FROM identity_member GROUP BY customer_id HAVING COUNT(*) = 1) ORDER BY customer_id LIMIT 2
                """)
            return (same[0], same[1], apart[0], apart[1])
        }
        try catalog.pool.write { db in
            try ReviewQueue.decide(db, a, b, accept: false)
            try ReviewQueue.decide(db, c, d, accept: true)
        }
        try IdentityEngine(config: config, catalog: catalog).resolve(runId: 99)
        let customer = { (r: String) throws -> String? in
            let parts = r.split(separator: ":", maxSplits: 1).map(String.init)
            return try catalog.pool.read { try String.fetchOne($0, sql: "SELECT customer_id FROM identity_member WHERE source = ? AND record_key = ?", arguments: [parts[0], parts[1]]) }
        }
        #expect(try customer(a) != customer(b))
        #expect(try customer(c) == customer(d))
        let audits = try p.scalar("SELECT COUNT(*) FROM audit_event WHERE action IN ('match.accept', 'match.reject')") as Int?
        #expect(audits == 2)
        // Decisions persist: a later pass (new records or not) keeps them.
        try IdentityEngine(config: config, catalog: catalog).resolve(runId: 100, force: true)
        #expect(try customer(a) != customer(b))
        #expect(try customer(c) == customer(d))
    }

    @Test func searchFindsAPersonByMisspeltNameAndPhoneWrittenAnotherWay() async throws {
        try await offPool { try Self.searchFindsAPersonByMisspeltNameAndPhoneWrittenAnotherWayBody() }
    }

    static func searchFindsAPersonByMisspeltNameAndPhoneWrittenAnotherWayBody() throws {
        let p = try Self.demo(300)
        _ = try Self.run(p)
        let catalog = try p.catalog()
        let row = try #require(try catalog.pool.read { db in
            try Row.fetchOne(db, sql: """
                SELECT customer_id, first_name, last_name, phone FROM golden_customer
                WHERE phone LIKE '+1%' AND length(last_name) >= 6 AND first_name IS NOT NULL ORDER BY customer_id LIMIT 1
                """)
        })
        let id: String = row[0], first: String = row[1], last: String = row[2], phone: String = row[3]
        // "Johnson" typed "Jonhson": swap two letters.
        var chars = Array(last)
        chars.swapAt(2, 3)
        let misspelt = String(chars)
        let byName = try CustomerSearch.timedSearch(catalog, query: "\(first) \(misspelt)", limit: 10)
        // Every lookup is timed and stored for the query-performance KPI.
        #expect(try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM customer_lookup_timing WHERE results > 0") } == 1)
        #expect(byName.prefix(5).contains { $0.customerId == id }, "\(first) \(misspelt)")
        // Both words misspelt: the loose fallback and the similarity ranking still find the person.
        var firstChars = Array(first)
        if firstChars.count >= 4 { firstChars.swapAt(1, 2) }
        let bothWrong = try catalog.pool.read { try CustomerSearch.search($0, query: "\(String(firstChars)) \(misspelt)", limit: 10) }
        #expect(bothWrong.prefix(5).contains { $0.customerId == id }, "\(String(firstChars)) \(misspelt)")
        let digits = phone.dropFirst(2)
        let written = "(\(digits.prefix(3))) \(digits.dropFirst(3).prefix(3))-\(digits.suffix(4))"
        let byPhone = try catalog.pool.read { try CustomerSearch.search($0, query: written, limit: 10) }
        #expect(byPhone.contains { $0.customerId == id }, "\(written)")

        // The 360 masks PII; the golden record names its sources.
        let c = try #require(try catalog.pool.read { try Customer360.load($0, id: id) })
        #expect(c.maskedGolden["phone"] == "***-***-" + String(phone.suffix(4)))
        #expect(!c.sources.isEmpty)
        #expect(c.provenance["last_name"] != nil)
        #expect(c.history.count == 1)

        // A two-part postcode typed as two words, after the surname.
        let uk = try #require(try catalog.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT customer_id, last_name, postcode FROM golden_customer WHERE postcode LIKE '% %' AND last_name IS NOT NULL ORDER BY customer_id LIMIT 1")
        })
        let typed = "\(uk[1] as String) \(uk[2] as String)"
        let byPostcode = try catalog.pool.read { try CustomerSearch.search($0, query: typed, limit: 10) }
        #expect(byPostcode.prefix(3).contains { $0.customerId == (uk[0] as String) }, "\(typed)")
        // Found by the exact query (every word matched), not by the loose fallback's ranking.
        let exact = try #require(CustomerSearch.ftsQuery(typed))
        let exactIds = try catalog.pool.read {
            try String.fetchAll($0, sql: "SELECT customer_id FROM customer_search WHERE customer_search MATCH ?", arguments: [exact])
        }
        #expect(exactIds.contains(uk[0] as String), "\(exact)")
    }
}

/// Item 9: a pass after new or changed records rewrites only the customers they touch, and ends
/// exactly where a full rebuild would.
@Suite(.serialized) struct IdentityIncrementalTests {
    @Test func aPassAfterNewRecordsUpdatesOnlyTheirCustomersAndMatchesAFullRebuild() async throws {
        try await offPool { try Self.body() }
    }

    static func body() throws {
        let p = try IdentityPipelineTests.demo(300)
        _ = try IdentityPipelineTests.run(p)
        let config = try p.config()
        let catalog = try p.catalog()
        let total = try p.scalar("SELECT COUNT(*) FROM golden_customer") as Int? ?? 0

        // A new export of the first CRM file: one new person, and one person's email changed in place.
        let file = p.dir.appendingPathComponent("sources/crm/contacts_1.csv")
        var lines = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n")
        let header = lines[0].split(separator: ",").map { String($0).replacingOccurrences(of: "\u{FEFF}", with: "") }
        // A plain row (no quoted fields), so splitting on commas is exact.
        let changedRow = try #require(lines.indices.dropFirst().first {
            !lines[$0].contains("\"") && lines[$0].split(separator: ",", omittingEmptySubsequences: false).count == header.count
                && lines[$0].contains("@")
        })
        var fields = lines[changedRow].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let emailColumn = try #require(header.firstIndex(of: "Email"))
        fields[emailColumn] = "judy.changed@example.org"
        lines[changedRow] = fields.joined(separator: ",")
        var newPerson = [String](repeating: "", count: header.count)
        for (column, value) in [("contact_id", "C9999999"), ("FirstName", "Zebedee"), ("LastName", "Quixotiqua"),
                                ("Email", "zebedee.quixotiqua@example.org"), ("Country", "US"), ("UpdatedAt", "2024-01-02 10:00:00")] {
            newPerson[try #require(header.firstIndex(of: column))] = value
        }
        if lines.last == "" { lines.removeLast() }
        lines.append(newPerson.joined(separator: ","))
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)

        // Load only, then one identity pass we can inspect.
        let load = try PipelineRunner(config: config, catalog: catalog, extensions: []).run()
        let outcome = try IdentityEngine(config: config, catalog: catalog).resolve(runId: load.runId)
        #expect(outcome.changed)
        guard case .only(let updated) = outcome.scope else {
            Issue.record("expected an incremental pass, got \(outcome.scope)"); return
        }
        #expect(updated >= 2 && updated < total / 10, "\(updated) of \(total) customers rewritten")
        let found = try catalog.pool.read { try CustomerSearch.search($0, query: "Zebedee Quixotiqua", limit: 3) }
        #expect(found.first?.name.contains("Quixotiqua") == true)
        let changed = try catalog.pool.read { try CustomerSearch.search($0, query: "judy.changed@example.org", limit: 3) }
        #expect(changed.count == 1)
        // The incremental pass added the new person's names to the list a misspelt word is looked up in.
        let names = try catalog.pool.read { try String.fetchAll($0, sql: "SELECT term FROM customer_search_name WHERE term IN ('zebedee', 'quixotiqua') ORDER BY term") }
        #expect(names == ["quixotiqua", "zebedee"])
        // The list holds every name word of the index (written by the full first pass and this one).
        let (listed, indexed) = try catalog.pool.read { db in
            (Set(try String.fetchAll(db, sql: "SELECT term FROM customer_search_name")),
             Set(try String.fetchAll(db, sql: "SELECT names FROM customer_search").flatMap { $0.split(separator: " ").map(String.init) }))
        }
        #expect(!indexed.isEmpty && listed == indexed)
        let misspelt = try catalog.pool.read { try CustomerSearch.search($0, query: "Zebedee Quixotqiua", limit: 3) }
        #expect(misspelt.first?.name.contains("Quixotiqua") == true)

        let snapshot = { () throws -> [String] in
            try catalog.pool.read { db in
                try String.fetchAll(db, sql: """
                    SELECT customer_id || '|' || COALESCE(first_name, '') || '|' || COALESCE(last_name, '') || '|' || COALESCE(email, '')
                        || '|' || COALESCE(phone, '') || '|' || COALESCE(city, '') || '|' || provenance_json FROM golden_customer ORDER BY customer_id
                    """)
                + String.fetchAll(db, sql: "SELECT rowid || '|' || customer_id || '|' || names || '|' || emails || '|' || phones || '|' || ids FROM customer_search ORDER BY rowid")
                + String.fetchAll(db, sql: "SELECT customer_id || '|' || change_hash FROM customer_dim WHERE is_current = 1 ORDER BY customer_id")
                + String.fetchAll(db, sql: "SELECT term FROM customer_search_name ORDER BY term")
            }
        }
        let incremental = try snapshot()
        let full = try IdentityEngine(config: config, catalog: catalog).resolve(runId: load.runId, force: true)
        #expect(full.scope == .all)
        #expect(try snapshot() == incremental)
        // A whole rebuild merges its index once, then hands incremental passes back their automerge.
        let automerge = try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT v FROM customer_search_config WHERE k = 'automerge'") }
        #expect(automerge == CustomerSearch.automerge)
        let afterRebuild = try catalog.pool.read { try CustomerSearch.search($0, query: "Zebedee Quixotiqua", limit: 3) }
        #expect(afterRebuild.first?.name.contains("Quixotiqua") == true)
        #expect(try catalog.pool.read { try CustomerDimension.check($0) }.isEmpty)
    }
}
