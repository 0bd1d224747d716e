import Foundation
import GRDB
import Testing
@testable import StewardCatalog
@testable import StewardConfig
@testable import StewardIdentity
@testable import StewardMetrics
@testable import StewardPipeline

/// One customer match rate (`MatchRate`): `steward match report` and the `Customer match rate` KPI
/// show the same figure, and the KPI says when the truth file puts its target out of reach.
@Suite struct MatchRateTests {
    /// Eleven resolved records: customers {crm 1, shop a}, {crm 2, shop b, web x}, {crm 3, web y},
    /// {crm 4}, {shop c}, {web z}, {shop d}; shop e is staged but deleted (no customer).
    /// Linked: 7 of 11. The truth: crm 4 and shop c are one person (missed), web z has a true
    /// partner nowhere, shop d none either (its partner shop e is deleted): 9 of 11 have a partner.
    static func handBuilt() throws -> (MetricsCatalog, URL) {
        let c = try MetricsCatalog()
        for (name, system) in [("crm", "crm"), ("shop", "ecommerce"), ("web", "web")] { try c.source(name, system: system) }
        let members: [(String, String, String, Bool)] = [
            ("crm", "1", "C1", false), ("shop", "a", "C1", false),
            ("crm", "2", "C2", false), ("shop", "b", "C2", false), ("web", "x", "C2", false),
            ("crm", "3", "C3", false), ("web", "y", "C3", false),
            ("crm", "4", "C4", false), ("shop", "c", "C5", false), ("web", "z", "C6", false),
            ("shop", "d", "C7", false), ("shop", "e", "C7", true),
        ]
        try c.catalog.pool.write { db in
            for (i, m) in members.enumerated() {
                // A matching pass resolves live records only.
                if !m.3 {
                    try db.execute(sql: "INSERT INTO identity_member (source, record_key, customer_id, assigned_run) VALUES (?, ?, ?, 1)",
                                   arguments: [m.0, m.1, m.2])
                }
                try db.execute(sql: """
                    INSERT INTO staged_person (source, record_key, batch_id, line, row_hash, last_seen_batch, is_deleted, first_seen_run, updated_run)
                    VALUES (?, ?, 1, ?, 'h', 1, ?, 1, 1)
                    """, arguments: [m.0, m.1, i + 1, m.3])
            }
        }
        let truth = c.project.dir.appendingPathComponent("truth.csv")
        try """
        source,record_id,entity_id
        crm,1,P1
        shop,a,P1
        crm,2,P2
        shop,b,P2
        web,x,P2
        crm,3,P3
        web,y,P3
        crm,4,P4
        shop,c,P4
        web,z,P5
        shop,d,P6
        shop,e,P6

        """.write(to: truth, atomically: true, encoding: .utf8)
        return (c, truth)
    }

    @Test func aHandBuiltCatalogHasTheKnownRateInBothPlacesAndItsCeiling() throws {
        let (c, truth) = try Self.handBuilt()
        let report = try c.catalog.pool.read { try MatchReport.load($0, truth: truth) }
        #expect(report.matchRate == 7.0 / 11.0)
        #expect(report.matchRateDetail.linked == 7 && report.matchRateDetail.records == 11)
        let ceiling = try #require(report.matchRateDetail.ceiling)
        #expect(ceiling.labelled == 11 && ceiling.withPartner == 9)

        let kpi = KPIDefinition(name: "Customer match rate", target: "95%")
        let status = try KPIEvaluator(definitions: [kpi], catalog: c.catalog, now: MetricsCatalog.now, truth: truth).evaluate(store: false)[0]
        #expect(status.value == report.matchRate)
        #expect(status.status == .breached)
        #expect(status.reason.contains("7 of 11 records linked"), "\(status.reason)")
        #expect(status.reason.contains("ceiling 81.8%") && status.reason.contains("95.0% target cannot be met"), "\(status.reason)")

        // A target under the ceiling is not called unreachable; a target met needs no ceiling; without
        // a truth file the detail says what the ceiling depends on.
        let reachable = KPIDefinition(name: "Customer match rate", target: "75%")
        let below = try KPIEvaluator(definitions: [reachable], catalog: c.catalog, now: MetricsCatalog.now, truth: truth).evaluate(store: false)[0]
        #expect(below.reason.contains("ceiling 81.8%") && !below.reason.contains("cannot be met"), "\(below.reason)")
        let met = KPIDefinition(name: "Customer match rate", target: "60%")
        let above = try KPIEvaluator(definitions: [met], catalog: c.catalog, now: MetricsCatalog.now, truth: truth).evaluate(store: false)[0]
        #expect(above.status != .breached && !above.reason.contains("ceiling"), "\(above.reason)")
        let noTruth = try KPIEvaluator(definitions: [kpi], catalog: c.catalog, now: MetricsCatalog.now).evaluate(store: false)[0]
        #expect(noTruth.value == 7.0 / 11.0)
        #expect(noTruth.reason.contains("set `truth:`"), "\(noTruth.reason)")
    }

    /// The demo end to end through the binary: `match report --json` and `kpi --json` agree, and
    /// the KPI's reason gives the demo's ceiling from its truth file.
    @Test func theDemoShowsOneRateInTheReportAndTheKPI() async throws {
        try await offPool { try Self.demoBody() }
    }

    static func demoBody() throws {
        let p = try IdentityPipelineTests.demo(300)
        #expect(try IdentityPipelineTests.run(p).status == "success")
        let report = try StewardBinary.run(["match", "report", "--json"], cwd: p.dir)
        #expect(report.status == 0, "\(report.stderr)")
        let r = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let rate = try #require(r["match_rate"] as? Double)
        let detail = try #require(r["match_rate_detail"] as? [String: Any])
        #expect(detail["rate"] as? Double == rate)
        let ceiling = try #require(detail["ceiling"] as? [String: Any])
        let ceilingRate = try #require(ceiling["rate"] as? Double)
        #expect(rate > 0.3 && rate <= ceilingRate + 0.02, "rate \(rate) ceiling \(ceilingRate)")

        let kpis = try StewardBinary.run(["kpi", "--json"], cwd: p.dir)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(kpis.stdout.utf8)) as? [[String: Any]], "\(kpis.stderr)")
        let kpi = try #require(list.first { $0["measure"] as? String == "match_rate" })
        #expect(kpi["actual"] as? Double == rate)
        let reason = kpi["reason"] as? String ?? ""
        #expect(reason.contains(String(format: "ceiling %.1f%%", ceilingRate * 100)), "\(reason)")
        // The demo's 95 % target is above what its truth allows.
        #expect(ceilingRate < 0.95 && reason.contains("target cannot be met"), "\(reason)")

        // The text report says the same figure.
        let text = try StewardBinary.run(["match", "report"], cwd: p.dir).stdout
        #expect(text.contains(String(format: "match rate %.1f%%", rate * 100)), "\(text)")
    }

    /// A catalog rebuilt at the same path (its file deleted and `steward run` again, another
    /// matching threshold) can have the same record count, run number and event count as the one
    /// the kept linked count was measured on: the latest pass's time tells them apart.
    @Test func aRebuiltCatalogWithTheSameCountsIsMeasuredAgain() throws {
        let (c, _) = try Self.handBuilt()
        try c.catalog.pool.write { db in
            try db.execute(sql: """
                INSERT INTO identity_run (run_id, at, fingerprint, records, candidate_pairs, matched_pairs, review_pairs,
                    refused_pairs, clusters, model_json, detail_json) VALUES (1, '2026-12-07T10:00:00.000Z', 'f', 11, 0, 0, 0, 0, 7, '{}', '{}')
                """)
        }
        #expect(try c.catalog.pool.read { try MatchRate.measure($0, truth: nil as URL?) }.linked == 7)
        // The rebuilt catalog's pass: the same 11 records, run 1 and no other event, every record its own customer.
        try c.catalog.pool.write { db in
            try db.execute(sql: "UPDATE identity_member SET customer_id = source || ':' || record_key")
            try db.execute(sql: "UPDATE identity_run SET at = '2026-12-07T11:00:00.000Z'")
        }
        #expect(try c.catalog.pool.read { try MatchRate.measure($0, truth: nil as URL?) }.linked == 0)
    }

    /// The ceiling reads the truth file and every record id (12 s per `steward check` at a million
    /// records): it is kept beside the catalog, private, for the next process, and measured again
    /// when the truth file or the resolved records change.
    @Test func theCeilingIsKeptForTheNextProcessUntilTheTruthOrTheRecordsChange() async throws {
        try await offPool {
            let p = try IdentityPipelineTests.demo(120)
            #expect(try IdentityPipelineTests.run(p).status == "success")
            // The match-rate KPI's reason carries the ceiling (the demo's target is above it).
            func reason() throws -> String {
                let kpis = try StewardBinary.run(["kpi", "--json"], cwd: p.dir)
                let list = try #require(try JSONSerialization.jsonObject(with: Data(kpis.stdout.utf8)) as? [[String: Any]], "\(kpis.stderr)")
                return try #require(list.first { $0["measure"] as? String == "match_rate" }?["reason"] as? String)
            }
            let measured = try reason()
            #expect(measured.contains("ceiling "), "\(measured)")
            let config = try ConfigLoader.load(p.ymlURL)
            let kept = config.catalogURL.deletingLastPathComponent().appendingPathComponent("match-rate.json")
            let mode = try FileManager.default.attributesOfItem(atPath: kept.path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            // A second process answers from the file: a hand-edited figure under the same stamp shows.
            var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: kept)) as? [String: Any])
            var ceilingEntry = try #require(object["ceiling"] as? [String: Any])
            ceilingEntry["counts"] = [7, 5]
            object["ceiling"] = ceilingEntry
            // So is the linked count (the rate's numerator), kept under the resolved records' stamp.
            var linkedEntry = try #require(object["linked"] as? [String: Any])
            let linked = try #require((linkedEntry["counts"] as? [Int])?.first)
            linkedEntry["counts"] = [linked - 1]
            object["linked"] = linkedEntry
            try JSONSerialization.data(withJSONObject: object).write(to: kept)
            let edited = try reason()
            #expect(edited.contains("ceiling 71.4% (truth: 2 records"), "\(edited)")
            #expect(edited.contains("\(linked - 1) of "), "\(edited)")
            #expect(measured.contains("\(linked) of "), "\(measured)")
            // A changed truth file (another modification time) is measured again and kept again; a change
            // of the resolved records (here an erasure's event, as `forget` writes) measures the count again.
            let truth = try #require(config.truth)
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(5)], ofItemAtPath: truth.path)
            #expect(try !reason().contains("ceiling 71.4%"))
            try p.catalog().pool.write { db in
                try db.execute(sql: "INSERT INTO identity_event (run_id, at, kind, customer_id, detail) VALUES (1, '2026-01-01T00:00:00Z', 'retire', 'X', 'test')")
            }
            #expect(try reason() == measured)
            // Junk in the file is not believed.
            try Data("{not json".utf8).write(to: kept)
            #expect(try reason() == measured)
        }
    }
}
