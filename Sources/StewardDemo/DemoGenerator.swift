import Foundation

/// Generates the `acme-demo` project: messy sources from five systems and a data vendor, `steward.yml`, `truth.csv`,
/// `roadmap.md` and `demo-manifest.json`.
///
/// The output is a pure function of `(customers, seed)`: the same bytes every time (a private
/// xoshiro256** generator, a fixed calendar from 2019-01-01 to 2024-06-30, never the current date).
///
/// ```swift
/// let manifest = try DemoGenerator(customers: 5_000, seed: 42).write(to: projectURL)
/// manifest.sources["crm_contacts"]?.quarantined   // rows the pipeline must hold back
/// ```
public struct DemoGenerator: Sendable {
    public var customers: Int
    public var seed: UInt64

    public init(customers: Int = 5_000, seed: UInt64 = 42) {
        self.customers = customers
        self.seed = seed
    }

    /// The largest demo `init --demo --customers` accepts: far beyond it the
    /// generator runs out of memory or integer range part-way and leaves a half-written folder.
    public static let maximumCustomers = 10_000_000

    /// Source names in the order the pipeline runs them (orders after the customers they reference).
    public static let sourceNames = ["crm_contacts", "ecom_customers", "ecom_orders", "marketing_list",
                                     DemoVendor.sourceName, "support_tickets", "web_events", "campaign_spend"]

    /// Creates `directory` (and its `sources/…` folders) and writes the whole project into it.
    ///
    /// - Returns: what was written, with the exact number of rows the pipeline should quarantine.
    /// - Throws: `DemoError` for a customer count below 1, or the file system's error.
    @discardableResult
    public func write(to directory: URL) throws -> DemoManifest {
        guard customers >= 1, customers <= Self.maximumCustomers else { throw DemoError.invalidCustomerCount(customers) }
        let fm = FileManager.default
        for system in ["crm", "ecommerce", "support", "marketing", "web", "vendor"] {
            try fm.createDirectory(at: directory.appendingPathComponent("sources/\(system)"),
                                   withIntermediateDirectories: true)
        }
        let population = DemoPopulation(customers: customers, seed: seed)
        var writer = try DemoSourceWriter(population: population, directory: directory, seed: seed)
        var sources = try writer.writeAll()
        sources["campaign_spend"] = DemoSourceCounts(files: [DemoCampaign.spendFile], rows: DemoCampaign.spend.count, malformed: 0,
                                                     failingErrorChecks: 0)
        let manifest = DemoManifest(customers: customers, seed: seed, sources: sources)

        // The campaign spend behind the Marketing ROI KPI (DemoCampaign: its orders come after the first run).
        try Data(DemoCampaign.spendCSV().utf8).write(to: directory.appendingPathComponent(DemoCampaign.spendFile))
        try Data(DemoProjectFiles.stewardYAML(customers: customers, seed: seed).utf8)
            .write(to: directory.appendingPathComponent("steward.yml"))
        try Data(DemoProjectFiles.roadmap.utf8).write(to: directory.appendingPathComponent("roadmap.md"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var json = try encoder.encode(manifest)
        json.append(0x0A)
        try json.write(to: directory.appendingPathComponent("demo-manifest.json"))
        return manifest
    }
}

/// What the demo generator wrote (`demo-manifest.json`).
public struct DemoManifest: Codable, Sendable, Equatable {
    public var customers: Int
    public var seed: UInt64
    /// Keyed by source name.
    public var sources: [String: DemoSourceCounts]

    public init(customers: Int, seed: UInt64, sources: [String: DemoSourceCounts]) {
        self.customers = customers
        self.seed = seed
        self.sources = sources
    }
}

/// Rows written for one source, and how many of them the pipeline must quarantine.
public struct DemoSourceCounts: Codable, Sendable, Equatable {
    /// Paths relative to the project folder.
    public var files: [String]
    /// Data records written: CSV records without the header, NDJSON lines.
    public var rows: Int
    /// Ragged CSV records and invalid JSON lines.
    public var malformed: Int
    /// Well-formed rows failing at least one error-severity check of `steward.yml`.
    public var failingErrorChecks: Int

    public var quarantined: Int { malformed + failingErrorChecks }
    public var staged: Int { rows - quarantined }

    public init(files: [String], rows: Int, malformed: Int, failingErrorChecks: Int) {
        self.files = files
        self.rows = rows
        self.malformed = malformed
        self.failingErrorChecks = failingErrorChecks
    }
}
