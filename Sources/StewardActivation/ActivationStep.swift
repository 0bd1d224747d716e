import Foundation
import GRDB
import StewardCatalog
import StewardConfig
import StewardPipeline

/// The run extension after the customer facts: custom traits and consent from the records, their
/// golden values, activity totals, then every audience materialised, in one transaction.
public struct ActivationStep: RunExtension {
    public let name = "activation"
    /// What `30d ago` counts from (tests fix it).
    public var now: @Sendable () -> Date

    public init(now: @escaping @Sendable () -> Date = { Date() }) { self.now = now }

    public func afterLoad(runId: Int64, summary: RunSummary, config: ProjectConfig, catalog: Catalog,
                          progress: ProgressReporter) throws -> String? {
        try Activation.update(catalog, config: config, runId: runId, now: now()).summary
    }
}

public enum Activation {
    public struct Outcome: Sendable {
        public var recordsRead = 0
        public var traitValues = 0
        public var consentChanges = 0
        public var audiences: [AudienceMaterialiser.Outcome] = []

        public var summary: String {
            var parts: [String] = []
            if recordsRead > 0 { parts.append("\(recordsRead) records read for traits/consent") }
            if traitValues > 0 { parts.append("\(traitValues) custom trait values") }
            if consentChanges > 0 { parts.append("\(consentChanges) consent changes") }
            for a in audiences {
                parts.append("\(a.audience): \(a.size) (+\(a.entered) −\(a.left), \(a.holdout) held out\(a.excludedNoConsent > 0 ? ", \(a.excludedNoConsent) without consent" : ""))")
            }
            return parts.isEmpty ? "no traits, consent or audiences declared" : parts.joined(separator: "; ")
        }
    }

    /// Brings traits, consent and audience membership up to date for run `runId`.
    @discardableResult
    public static func update(_ catalog: Catalog, config: ProjectConfig, runId: Int64, now: Date = Date()) throws -> Outcome {
        let customers = try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM golden_customer") } ?? 0
        return try catalog.write(large: customers >= Catalog.largeWriteMinimumRows) { db in
            var out = Outcome()
            out.recordsRead = try RecordTraits.update(db, config: config).read
            out.traitValues = try GoldenTraits.update(db, config: config)
            out.consentChanges = try ConsentResolution.update(db, runId: runId).changed
            _ = try ActivityTotals.update(db)
            out.audiences = try AudienceMaterialiser(config: config, now: now).materialise(db, runId: runId)
            return out
        }
    }
}
