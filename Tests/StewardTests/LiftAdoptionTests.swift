import Foundation
import GRDB
import Testing
@testable import StewardActivation
@testable import StewardCatalog
@testable import StewardConfig
@testable import StewardMetrics
@testable import StewardPipeline

/// Holdout lift, Marketing ROI from campaign spend, User adoption from usage, and a destination failing
/// past its `error_after` in `steward check` (issue 20).
@Suite struct LiftAdoptionTests {
    @Test func liftIntervalIsTheKatzLogRelativeRiskInterval() throws {
        let m = LiftMeasurement(audience: "a", windowSeconds: 30 * 86_400, treated: 1000, treatedConverted: 300,
                                holdout: 1000, holdoutConverted: 200, treatedRevenue: 30_000, holdoutRevenue: 15_000)
        #expect(abs(try #require(m.lift) - 0.5) < 1e-12)
        let ci = try #require(m.liftInterval)
        // se = √(1/300 − 1/1000 + 1/200 − 1/1000) = 0.0795822; exp(ln 1.5 ± 1.96·se) − 1
        #expect(abs(ci.low - 0.283_37) < 1e-4 && abs(ci.high - 0.753_17) < 1e-4, "\(ci)")
        #expect(try #require(m.incrementalRevenue) == 15_000)
        // No holdout conversion: no ratio, no interval.
        let none = LiftMeasurement(audience: "a", windowSeconds: 1, treated: 10, treatedConverted: 2, holdout: 5, holdoutConverted: 0,
                                   treatedRevenue: 1, holdoutRevenue: 0)
        #expect(none.lift == nil && none.liftInterval == nil)
    }

    /// A catalog with one audience whose entrants, orders and campaign spend are written directly.
    static func seeded(entrants: [(id: String, holdout: Bool, orders: [(days: Double, amount: Double)])], spend: [(String, Double)],
                       window: Double = 30) throws -> (TempProject, Catalog) {
        let p = TempProject("lift")
        let catalog = try Catalog.open(at: p.dir.appendingPathComponent(".steward/catalog.sqlite"))
        let entered = Date(timeIntervalSince1970: 1_780_000_000)
        try catalog.pool.write { db in
            var n = 0
            for e in entrants {
                try db.execute(sql: "INSERT INTO audience_change (audience, run_id, customer_id, change, holdout, at) VALUES ('win_back', 1, ?, 'entered', ?, ?)",
                               arguments: [e.id, e.holdout, Timestamp.string(entered)])
                for o in e.orders {
                    n += 1
                    try db.execute(sql: """
                        INSERT INTO staged_activity (source, record_key, entity, batch_id, line, customer_ref_kind, customer_ref, occurred_at, amount,
                            type, row_hash, last_seen_batch, first_seen_run, updated_run)
                        VALUES ('orders', ?, 'transaction', 1, ?, 'email', 'x', ?, ?, 'placed', 'h', 1, 1, 1)
                        """, arguments: ["o\(n)", n, Timestamp.string(entered.addingTimeInterval(o.days * 86_400)), o.amount])
                    try db.execute(sql: """
                        INSERT INTO customer_activity_link (source, record_key, customer_id, method, candidates, linked_run) VALUES ('orders', ?, ?, 'email', 1, 1)
                        """, arguments: ["o\(n)", e.id])
                }
            }
            // The spend comes from a configured `entity: campaign` source, as `steward run` registers it.
            try db.execute(sql: """
                INSERT INTO source (name, system, entity, format, path, key_column, updated_at)
                VALUES ('spend', 'marketing', 'campaign', 'csv', 'spend.csv', 'id', '2026-05-01T00:00:00Z')
                """)
            for (i, s) in spend.enumerated() {
                try db.execute(sql: """
                    INSERT INTO staged_activity (source, record_key, entity, batch_id, line, customer_ref_kind, customer_ref, occurred_at, amount,
                        type, row_hash, last_seen_batch, first_seen_run, updated_run)
                    VALUES ('spend', ?, 'campaign', 1, ?, 'audience', ?, '2026-05-01', ?, 'spring', 'h', 1, 1, 1)
                    """, arguments: ["s\(i)", i + 1, s.0, s.1])
            }
        }
        try AudienceLift.refresh(catalog, audiences: [("win_back", window * 86_400)])
        return (p, catalog)
    }

    @Test func liftCountsOnlyOrdersInsideTheWindowAfterEntering() throws {
        let (p, catalog) = try Self.seeded(entrants: [
            ("C1", false, [(2, 100), (40, 999)]),   // converts; the second order is outside the 30-day window
            ("C2", false, [(-3, 50)]),              // ordered before entering: not a conversion
            ("C3", false, []),
            ("C4", false, [(29, 60)]),
            ("C5", true, [(5, 40)]),
            ("C6", true, []),
        ], spend: [])
        defer { _ = p }
        let m = try catalog.pool.read { try AudienceLift.measure($0, audience: "win_back", window: 30 * 86_400) }
        #expect(m.treated == 4 && m.treatedConverted == 2 && m.holdout == 2 && m.holdoutConverted == 1)
        #expect(m.treatedRevenue == 160 && m.holdoutRevenue == 40)
        // (160/4 − 40/2) × 4 = 80
        #expect(m.incrementalRevenue == 80)
        let stored = try catalog.pool.read { try Double.fetchOne($0, sql: "SELECT incremental_revenue FROM audience_lift WHERE audience = 'win_back'") }
        #expect(stored == 80)
    }

    @Test func marketingROIIsIncrementalRevenueOverSpendWithItsInputs() throws {
        let (p, catalog) = try Self.seeded(entrants: [
            ("C1", false, [(1, 500)]), ("C2", false, [(1, 300)]), ("C3", true, [(1, 100)]), ("C4", true, []),
        ], spend: [("win_back", 150), ("win_back", 50), ("nobody", 100)])
        defer { _ = p }
        // (800/2 − 100/2) × 2 = 700 incremental over 300 spent.
        let d = KPIDefinition(name: "Marketing ROI", target: "4:1", baseline: "2:1")
        #expect(d.measure == .marketingROI)
        let status = try #require(try KPIEvaluator(definitions: [d], catalog: catalog).evaluate(store: false).first)
        #expect(abs(try #require(status.value) - 700.0 / 300.0) < 1e-9)
        #expect(status.formatted(status.value) == "2.3:1")
        #expect(status.result.detail == "incremental revenue 700 ÷ spend 300 over 2 audiences")
        #expect(status.result.parts.map(\.label) == ["nobody", "win_back"])
        #expect(status.result.parts[1].note.contains("incremental revenue 700 ÷ spend 200"))
        #expect(status.result.parts[0].note.contains("not a materialised audience"))
        #expect(status.status == .breached)
    }

    @Test func marketingROIFallsBackToTheRecordedValueWithoutSpend() throws {
        let (p, catalog) = try Self.seeded(entrants: [("C1", false, [])], spend: [])
        defer { _ = p }
        let d = KPIDefinition(name: "Marketing ROI", target: "4:1")
        let before = try #require(try KPIEvaluator(definitions: [d], catalog: catalog).evaluate(store: false).first)
        #expect(before.value == nil && before.result.detail.contains("entity: campaign"))
        try catalog.recordKPI(name: "Marketing ROI", value: 3.1, text: "3.1:1", at: Date().addingTimeInterval(-60))
        let after = try #require(try KPIEvaluator(definitions: [d], catalog: catalog).evaluate(store: false).first)
        #expect(after.value == 3.1 && after.result.detail.contains("no campaign spend source"))
    }

    @Test func userAdoptionCountsDistinctUsersOfTheLast30DaysOverTheTeam() throws {
        let p = TempProject("adoption")
        p.write("src.csv", "id,Email\n1,a@example.com\n")
        p.write("steward.yml", """
        name: t
        team: [alice, bob, carol, dave]
        sources:
          - {name: crm, system: crm, entity: person, format: csv, path: src.csv, key: id, mapping: {email: Email}}
        kpis:
          - {name: User adoption, target: "80%"}
        """)
        let config = try p.config()
        let catalog = try Catalog.open(at: config.catalogURL)
        let now = Date()
        UsageLog.record(catalogURL: config.catalogURL, surface: "cli", user: "alice", at: now.addingTimeInterval(-86_400))
        UsageLog.record(catalogURL: config.catalogURL, surface: "console", user: "alice", at: now.addingTimeInterval(-3600))
        UsageLog.record(catalogURL: config.catalogURL, surface: "cli", user: "bob", at: now.addingTimeInterval(-40 * 86_400))  // too old
        UsageLog.record(catalogURL: config.catalogURL, surface: "cli", user: "mallory", at: now)                            // not in the team
        try catalog.audit(action: "roadmap_tick", subject: "task:1", actor: "carol")                                       // a writing action
        let attributes = try FileManager.default.attributesOfItem(atPath: UsageLog.url(catalogURL: config.catalogURL).path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        let status = try #require(try KPIEvaluator(config: config, catalog: catalog, roadmap: [], now: now).evaluate(store: false).first)
        #expect(status.definition.measure == .userAdoption)
        #expect(status.value == 0.5, "alice and carol of four")
        #expect(status.result.detail == "2 of 4 team members used Steward in the last 30 days (1 other user not in team:)")
        #expect(status.result.parts.map { "\($0.label)=\($0.value ?? -1)" } == ["alice=1.0", "carol=1.0", "bob=0.0", "dave=0.0"])
        #expect(status.status == .breached)

        // A team given as a number counts every user.
        var numbered = config
        numbered.team = TeamConfig(size: 4)
        let all = try #require(try KPIEvaluator(config: numbered, catalog: catalog, roadmap: [], now: now).evaluate(store: false).first)
        #expect(all.value == 0.75, "alice, carol, mallory")
    }

    @Test func cliUseIsLoggedWithoutWritingTheCatalog() async throws {
        try await offPool {
            let p = TempProject("usage")
            p.write("src.csv", "id,Email\n1,a@example.com\n")
            p.write("steward.yml", "name: t\nsources:\n  - {name: crm, system: crm, entity: person, format: csv, path: src.csv, key: id, mapping: {email: Email}}\n")
            #expect(try StewardBinary.run(["run", "--project", p.dir.path]).status == 0)
            let config = try p.config()
            let before = try Data(contentsOf: config.catalogURL)
            #expect(try StewardBinary.run(["status", "--project", p.dir.path], env: ["USER": "zoe"]).status == 0)
            #expect(try Data(contentsOf: config.catalogURL) == before, "a read command leaves the catalog alone")
            let uses = UsageLog.uses(catalogURL: config.catalogURL, since: Date().addingTimeInterval(-600))
            #expect(uses.contains { $0.user == "zoe" && $0.surface == "cli" })
        }
    }

    @Test func checkReportsADestinationFailingLongerThanItsErrorAfter() throws {
        let p = TempProject("destcheck")
        p.write("src.csv", "id,Email\n1,a@example.com\n")
        p.write("steward.yml", """
        name: t
        sources:
          - {name: crm, system: crm, entity: person, format: csv, path: src.csv, key: id, mapping: {email: Email}}
        audiences:
          - {name: all, where: "orders >= 0"}
        destinations:
          - {name: hook, type: webhook, url: "http://127.0.0.1:9/x", audiences: [all], error_after: 1h}
        """)
        let config = try p.config()
        try p.run(now: Date())
        let catalog = try Catalog.open(at: config.catalogURL)
        let t0 = Date().addingTimeInterval(-2 * 3600)
        try catalog.pool.write { db in
            for (i, status) in ["ok", "failed", "failed"].enumerated() {
                let at = Timestamp.string(t0.addingTimeInterval(Double(i) * 1800 - 1800))
                try db.execute(sql: """
                    INSERT INTO sync_run (destination, type, started_at, finished_at, status, pending, error) VALUES ('hook', 'webhook', ?, ?, ?, 5, ?)
                    """, arguments: [at, at, status, status == "ok" ? nil : "HTTP 503"])
            }
        }
        let late = try HealthCheck(config: config, catalog: catalog).report(storeMeasurements: false)
        let problem = try #require(late.problems.first { $0.kind == "destination_failing" })
        #expect(problem.severity == .breach && problem.subject == "hook")
        #expect(problem.message.contains("error after 1h") && problem.message.contains("HTTP 503") && problem.message.contains("5 changes waiting"))
        // Failing for less than error_after: a warning.
        let early = try HealthCheck(config: config, catalog: catalog, now: t0.addingTimeInterval(600)).report(storeMeasurements: false)
        #expect(early.problems.first { $0.kind == "destination_failing" }?.severity == .warn)
    }

    @Test func aCampaignSourceIsStagedWithItsAudienceAndSpend() throws {
        let p = TempProject("campaign")
        p.write("src.csv", "id,Email\n1,a@example.com\n")
        p.write("spend.csv", "Campaign,Audience,Spend,Day\nspring,win_back,\"1,200.50\",2026-04-01\nsummer,vip,300,2026-06-01\n")
        p.write("steward.yml", """
        name: t
        sources:
          - {name: crm, system: crm, entity: person, format: csv, path: src.csv, key: id, mapping: {email: Email}}
          - name: spend
            system: marketing
            entity: campaign
            format: csv
            path: spend.csv
            key: Campaign
            mapping: {campaign: Campaign, audience: Audience, spend: Spend, date: Day}
        """)
        try p.run()
        let rows = try p.catalog().pool.read { db in
            try Row.fetchAll(db, sql: "SELECT entity, customer_ref_kind, customer_ref, amount, type, occurred_at FROM staged_activity ORDER BY record_key")
        }
        #expect(rows.count == 2)
        #expect(rows[0]["entity"] as String == "campaign" && rows[0]["customer_ref_kind"] as String == "audience")
        #expect(rows[0]["customer_ref"] as String == "win_back" && rows[0]["amount"] as Double == 1200.5 && rows[0]["type"] as String == "spring")
        #expect((rows[0]["occurred_at"] as String).hasPrefix("2026-04-01"))
        // A campaign source must say where each of its fields is.
        p.write("steward.yml", try String(contentsOf: p.ymlURL, encoding: .utf8).replacingOccurrences(of: ", date: Day}", with: "}"))
        #expect(throws: ConfigError.self) { try p.config() }
        do { _ = try p.config() } catch let e as ConfigError { #expect(e.key == "sources.spend.mapping.date" && e.line == 10, "\(e)") }
    }
}
