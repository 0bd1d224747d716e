import Foundation
import StewardActivation
import StewardCatalog
import StewardConfig
import StewardDemo
import StewardMetrics
import StewardPipeline

/// The demo's campaign with a known lift (`DemoCampaign`): its outcome can only be drawn once identity
/// resolution has given the audience's members their ids (and so their holdout group). Both demos plant
/// it the same way: the bundled one on first use, one written by `steward init --demo` at its first
/// `steward run` (`pending`).
enum DemoLift {
    /// The demo's first runs: one with the audiences entered at the demo calendar's end, then the
    /// campaign's orders appended to the shop's orders file, then a run that loads them and measures
    /// the lift. Returns the truth the orders were drawn from (also kept in `demo-campaign-truth.json`),
    /// nil when `stop` interrupted the first run; `onRun` sees each run's summary.
    @discardableResult
    static func firstRuns(config: ProjectConfig, catalog: Catalog, seed: UInt64, progress: ProgressReporter, trigger: String,
                          stop: StopFlag? = nil, kpis: KPIEvaluation = KPIEvaluation(),
                          onRun: (RunSummary) -> Void = { _ in }) throws -> DemoCampaign.Truth? {
        let first = try PipelineRunner(config: config, catalog: catalog, progress: progress, stop: stop,
                                       extensions: StandardRun.extensions(kpis: kpis, activationNow: DemoCampaign.enteredAt)).run(trigger: trigger)
        onRun(first)
        // Interrupted: nothing planted, and the next `steward run` starts the first runs again (`pending`).
        if first.status == "interrupted" { return nil }
        let truth = try writeResponses(config: config, catalog: catalog, seed: seed)
        // Stopped after the first run: the planted orders load on the next run, like any new rows.
        if stop?.isStopped != true {
            onRun(try PipelineRunner(config: config, catalog: catalog, progress: progress, stop: stop,
                                     extensions: StandardRun.extensions(kpis: kpis)).run(trigger: trigger))
        }
        return truth
    }

    static let truthFile = "demo-campaign-truth.json"

    /// The seed of a generated demo whose campaign is still to be planted: its folder holds the
    /// generator's `demo-manifest.json` but no campaign truth, it declares the campaign's audience, and
    /// its catalog has never run (or every run was interrupted: a first run stopped with Ctrl-C). Nil for
    /// every other project.
    static func pending(config: ProjectConfig, catalog: Catalog) throws -> UInt64? {
        let dir = config.directory
        guard config.audiences.contains(where: { $0.name == DemoCampaign.audience }),
              !FileManager.default.fileExists(atPath: dir.appendingPathComponent(truthFile).path),
              let data = FileManager.default.contents(atPath: dir.appendingPathComponent("demo-manifest.json").path),
              let manifest = try? JSONDecoder().decode(DemoManifest.self, from: data),
              try catalog.runs().allSatisfy({ $0.status == "interrupted" }) else { return nil }
        return manifest.seed
    }

    /// Appends the campaign's orders for the audience's entrants to `sources/ecommerce/orders.csv`.
    static func writeResponses(config: ProjectConfig, catalog: Catalog, seed: UInt64) throws -> DemoCampaign.Truth {
        let entrants = try AudienceLift.entrants(catalog, audience: DemoCampaign.audience, keysIn: "ecom_customers")
        let members = entrants.map {
            DemoCampaign.Member(customerId: $0.customerId, holdout: $0.holdout, enteredAt: $0.enteredAt, shopCustomerKey: $0.recordKey)
        }
        let (rows, orders, truth) = DemoCampaign.responses(members: members, seed: seed)
        let orderFile = config.directory.appendingPathComponent("sources/ecommerce/orders.csv")
        let handle = try FileHandle(forWritingTo: orderFile)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(rows.utf8))
        try handle.close()
        let summary: [String: Any] = [
            "audience": DemoCampaign.audience, "entrants": members.count, "orders": orders, "true_lift": truth.lift,
            "expected_incremental_revenue": truth.expectedIncrementalRevenue, "spend": truth.spend, "expected_roi": truth.expectedROI,
            "baseline_conversion": DemoCampaign.baselineConversion, "window_days": DemoCampaign.window / 86_400,
        ]
        let json = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
        try PrivateFiles.writeRegularFile(Array(json) + [0x0A], to: config.directory.appendingPathComponent(truthFile))
        return truth
    }
}
