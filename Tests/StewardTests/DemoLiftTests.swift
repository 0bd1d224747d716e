import Foundation
import GRDB
import Testing
@testable import steward
@testable import StewardActivation
@testable import StewardCatalog
@testable import StewardConfig
@testable import StewardDemo
@testable import StewardMetrics
@testable import StewardPipeline

/// The demo's campaign (issue 20): the lift and Marketing ROI Steward measures on the demo agree with
/// the effect the generator planted, within the sampling error of the holdout.
@Suite struct DemoLiftTests {
    /// A project as `steward init --demo` writes it, never run.
    static func generated(_ name: String, customers: Int) throws -> (TempProject, DemoManifest, ProjectConfig, Catalog) {
        let p = TempProject(name)
        let manifest = try DemoGenerator(customers: customers, seed: 42).write(to: p.dir)
        let config = try p.config()
        return (p, manifest, config, try Catalog.open(at: config.catalogURL))
    }

    @Test func demoLiftAndROIMatchTheGeneratorsTruth() async throws {
        try await offPool {
            let (p, manifest, config, catalog) = try Self.generated("demolift", customers: 3000)
            let truth = try #require(try DemoLift.firstRuns(config: config, catalog: catalog, seed: manifest.seed, progress: SilentProgress(), trigger: "test"))
            let m = try catalog.pool.read { try AudienceLift.measure($0, audience: DemoCampaign.audience, window: DemoCampaign.window, asOf: Date()) }
            #expect(m.treated >= 100 && m.holdout >= 10, "enough entrants to measure: \(m)")

            // The planted lift lies inside the measured 95 % interval.
            let interval = try #require(m.liftInterval)
            #expect(interval.low <= truth.lift && truth.lift <= interval.high, "true lift \(truth.lift), measured \(m.lift ?? -1) \(interval)")

            // Incremental revenue within 2.5 standard errors of the expected one: per member, revenue in the
            // window is an order of uniform [40, 120) (E[X²] = 6933.3) with the group's conversion rate.
            let eX2 = 80.0 * 80.0 + 80.0 * 80.0 / 12
            let pt = DemoCampaign.baselineConversion * (1 + DemoCampaign.trueLift), ph = DemoCampaign.baselineConversion
            let varT = pt * eX2 - pow(pt * 80, 2), varH = ph * eX2 - pow(ph * 80, 2)
            let se = Double(m.treated) * (varT / Double(m.treated) + varH / Double(m.holdout)).squareRoot()
            let incremental = try #require(m.incrementalRevenue)
            #expect(abs(incremental - truth.expectedIncrementalRevenue) <= 2.5 * se,
                    "incremental \(incremental) vs expected \(truth.expectedIncrementalRevenue) ± \(2.5 * se)")

            // Marketing ROI = incremental revenue ÷ spend over the audiences spent on (the demo also spends on
            // high_value, which no campaign response lifts: its estimate is noise around 0).
            let status = try #require(try KPIEvaluator(config: config, catalog: catalog).evaluate(store: false).first { $0.name == "Marketing ROI" })
            #expect(status.definition.measure == .marketingROI)
            let lifts = try catalog.pool.read { db in
                try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT audience, incremental_revenue FROM audience_lift").map {
                    ($0[0] as String, $0[1] as Double?) })
            }
            let spent = DemoCampaign.spend.reduce(0) { $0 + $1.amount }
            let measured = ((lifts[DemoCampaign.audience] ?? nil) ?? 0) + ((lifts["high_value"] ?? nil) ?? 0)
            #expect(abs(try #require(status.value) - measured / spent) < 1e-9, "the KPI is the catalog's incremental revenue over the spend")
            let winBackROI = incremental / truth.spend
            #expect(abs(winBackROI - truth.expectedROI) <= 2.5 * se / truth.spend, "win_back ROI \(winBackROI) vs \(truth.expectedROI)")
            #expect(status.result.parts.contains { $0.label == DemoCampaign.audience && $0.note.contains("incremental revenue") })
            #expect(FileManager.default.fileExists(atPath: p.dir.appendingPathComponent("demo-campaign-truth.json").path))
        }
    }

    /// Ctrl-C during `steward run`'s first runs of an `init --demo` project stops them (it said
    /// "stopping after the current file commits" and ran both runs on): an interrupted first run plants
    /// nothing and the next `steward run` starts the first runs again; a first run that completed
    /// plants the campaign, whose orders load on the next run if the stop came before the second.
    @Test func aStopInTheDemosFirstRunsStopsThemAndTheNextRunPlants() async throws {
        try await offPool {
            let (p, manifest, config, catalog) = try Self.generated("demolift-stop", customers: 200)
            let orders = p.dir.appendingPathComponent("sources/ecommerce/orders.csv")
            let before = try Data(contentsOf: orders)
            let stopped = StopFlag()
            stopped.stop()
            var statuses: [String] = []
            let none = try DemoLift.firstRuns(config: config, catalog: catalog, seed: manifest.seed, progress: SilentProgress(),
                                              trigger: "test", stop: stopped) { statuses.append($0.status) }
            #expect(none == nil && statuses == ["interrupted"])
            #expect(try Data(contentsOf: orders) == before)
            #expect(!FileManager.default.fileExists(atPath: p.dir.appendingPathComponent(DemoLift.truthFile).path))
            #expect(try DemoLift.pending(config: config, catalog: catalog) == manifest.seed)

            // Stopped once the first run is done: the campaign is planted, the second run waits for the next `steward run`.
            let late = StopFlag()
            statuses = []
            let truth = try DemoLift.firstRuns(config: config, catalog: catalog, seed: manifest.seed, progress: SilentProgress(),
                                               trigger: "test", stop: late) { statuses.append($0.status); late.stop() }
            #expect(truth != nil && statuses.count == 1 && statuses[0] != "interrupted", "\(statuses)")
            #expect(try Data(contentsOf: orders).count > before.count)
            #expect(try DemoLift.pending(config: config, catalog: catalog) == nil)
        }
    }
}
