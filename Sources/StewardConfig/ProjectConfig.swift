import Foundation
import StewardCatalog

/// A project as declared in `steward.yml` (docs/CONTRACTS.md), validated and with paths resolved.
public struct ProjectConfig: Sendable {
    public var file: URL
    public var directory: URL { file.deletingLastPathComponent() }
    public var name: String
    public var catalogURL: URL
    public var defaultRegion: String
    public var roadmap: URL?
    public var truth: URL?
    public var theme: String?
    public var refreshSeconds: Double?
    public var keys: [String: String]
    public var sources: [SourceConfig]
    public var matching: MatchingConfig
    public var kpis: [KPIConfig]
    public var scheduleEvery: TimeInterval?
    public var alerts: [AlertConfig]
    /// `evidence:` rules linking roadmap tasks (id or text) to catalog conditions.
    public var evidence: [EvidenceRule] = []
    /// `survivorship:` (or the older `matching.survivorship`): how golden values are chosen.
    public var survivorship = SurvivorshipConfig()
    /// `privacy:`: whether the catalog's PII is sealed by the privacy vault.
    public var privacy = PrivacyConfig()
    /// `team:`: how many people (or which OS users) should use Steward (the User adoption KPI).
    public var team: TeamConfig?
    /// `audiences:`: segments materialised each run (StewardActivation), rules already type-checked.
    public var audiences: [AudienceConfig] = []
    /// `destinations:`: where audiences are synced (StewardActivation's Sync).
    public var destinations: [DestinationConfig] = []

    public func source(named name: String) -> SourceConfig? { sources.first { $0.name == name } }
}

/// `privacy: {vault: true}`: PII is stored encrypted (the default `steward init` and the demo write;
/// a steward.yml without the key keeps a catalog as it is).
public struct PrivacyConfig: Sendable, Equatable {
    public var vault = false
    public init(vault: Bool = false) { self.vault = vault }
}

/// `campaign`: marketing spend (campaign, audience, spend, date), staged like an activity but never
/// linked to a customer: the Marketing ROI KPI divides the audiences' incremental revenue by it.
public enum Entity: String, Sendable, CaseIterable { case person, transaction, event, campaign }
/// `http`: no files; events are pushed to `POST /v1/events/NAME` of `steward serve`.
public enum SourceFormat: String, Sendable, CaseIterable { case csv, ndjson, sqlite, http }
public enum Snapshot: String, Sendable, CaseIterable { case full, incremental }

public struct SourceConfig: Sendable {
    public var name: String
    public var system: String
    public var entity: Entity
    public var format: SourceFormat
    /// The `path:` as written (a file or a glob), relative to the project folder.
    public var path: String
    public var table: String?
    public var key: String
    public var warnAfter: TimeInterval?
    public var errorAfter: TimeInterval?
    public var mapping: [(field: String, value: FieldMapping)]
    public var checks: [CheckConfig]
    public var delimiter: UInt8
    public var dateFormats: [String]
    public var snapshot: Snapshot
    public var region: String?
    /// Where `path:` was declared, for messages.
    public var line: Int
    /// `max_delete:` the share of live records a full snapshot may mark deleted before the deletion
    /// guard holds the deletions for a person to allow (`steward run --allow-delete SOURCE`).
    public var maxDelete: Double = 0.10
    /// `pii: [COLUMN…]`: columns holding personal data besides those mapped to email, phone, dob,
    /// street or national_id (`PIIPolicy` masks both).
    public var piiColumns: [String] = []
    /// `traits:`: custom attributes kept on the golden customer (person sources).
    public var traits: [TraitDeclaration] = []
    /// `consent:`: the columns stating consent per channel.
    public var consent: [ConsentMapping] = []

    /// The checks a load evaluates: the declared ones, then the built-in `readable` check.
    public var loadChecks: [CheckConfig] { checks + [CheckConfig.readable] }

    /// Sources this one's relationship checks and customer references point at.
    public var dependencies: [String] {
        var deps = checks.compactMap { check -> String? in
            if case .relationship(let to, _) = check.kind { return to } else { return nil }
        }
        for (_, value) in mapping { if case .reference(let source, _) = value { deps.append(source) } }
        return deps.filter { $0 != name }
    }

    /// Every source column this source reads (mappings and checks): checked against a file's header when
    /// the source loads (config loading never reads source files).
    public var referencedColumns: [(column: String, line: Int)] {
        var cols: [(String, Int)] = [(key, line)]
        for (_, value) in mapping {
            switch value {
            case .column(let c, let l): cols.append((c, l))
            case .template(let parts, let l):
                for case .column(let c) in parts { cols.append((c, l)) }
            case .reference(_, let c): cols.append((c, line))
            case .canonical: break
            }
        }
        for check in checks { for c in check.columns { cols.append((c, check.line)) } }
        for t in traits { cols.append((t.column, t.line)) }
        for c in consent { for column in c.columns { cols.append((column, c.line)) } }
        return cols
    }
}

public enum TemplatePart: Sendable, Equatable { case literal(String), column(String) }

public enum FieldMapping: Sendable {
    case column(String, line: Int)
    case template([TemplatePart], line: Int)
    /// `customer_ref: {source: NAME, column: COL}`: the column holds a record key of another source.
    case reference(source: String, column: String)
    /// `customer_ref: email`: use this row's standardised canonical field.
    case canonical(String)
}

public enum Dimension: String, Sendable, CaseIterable { case completeness, validity, uniqueness, consistency, timeliness }
public enum Severity: String, Sendable, CaseIterable { case error, warn }

public struct CheckConfig: Sendable {
    public enum Kind: Sendable {
        case notNull
        case unique
        case pattern(format: PatternFormat)
        case acceptedValues(Set<String>)
        case range(min: Double?, max: Double?)
        case relationship(to: String, toColumn: String?)
        case rowCount(min: Int?, max: Int?)
        case freshness(maxAge: TimeInterval)
        /// Built in: a row the reader could not read as written (broken quote, wrong field count, bad UTF-8, invalid JSON).
        case readable
    }
    public var name: String
    public var type: String
    public var column: String?
    public var kind: Kind
    public var dimension: Dimension
    public var severity: Severity
    public var paramsJSON: String
    public var line: Int
    public var columns: [String] { column.map { [$0] } ?? [] }

    /// Every source has it: unreadable rows count against validity instead of vanishing.
    public static let readable = CheckConfig(name: "readable", type: "readable", column: nil, kind: .readable,
                                             dimension: .validity, severity: .error, paramsJSON: "{}", line: 0)
}

public enum PatternFormat: Sendable {
    case email, phone, postcode, date
    case regex(String)
}

public struct MatchingConfig: Sendable {
    public var threshold: Double = 0.9
    public var review: (Double, Double) = (0.6, 0.9)
    public var primarySystem: String = "crm"
    /// Blocking rules as written (`last_name & dob`); nil: the identity module's defaults.
    public var blocking: [String]?
    /// The keys a blocking rule may use (the identity module's `BlockingKey`).
    public static let blockingKeys = ["first_name", "last_name", "email", "phone", "dob", "street", "city", "postcode",
                                      "national_id", "first_name_nickname", "first_name_phonetic", "last_name_phonetic",
                                      "dob_year", "first_initial"]
    /// Tuning of the matcher; nil: the identity module's defaults.
    public var maxBlockSize: Int?
    public var blockWindow: Int?
    public var maxClusterSize: Int?
    public var groupAgreement: Double?
    public var uSamples: Int?
    public init() {}

    /// The tuning keys `matching:` accepts (each a positive number).
    public static let tuningKeys = ["max_block_size", "block_window", "max_cluster_size", "group_agreement", "u_samples"]

    /// Sets a tuning key by its steward.yml name; false for a name that is not one.
    public mutating func setTuning(_ key: String, to value: Double) -> Bool {
        switch key {
        case "max_block_size": maxBlockSize = Int(value)
        case "block_window": blockWindow = Int(value)
        case "max_cluster_size": maxClusterSize = Int(value)
        case "group_agreement": groupAgreement = value
        case "u_samples": uSamples = Int(value)
        default: return false
        }
        return true
    }
}

/// How a golden value is chosen among a customer's source records.
public enum SurvivorshipRule: String, Sendable, CaseIterable {
    /// The value most records agree on (normalised); ties go to the higher-priority source, then the newest.
    case mostFrequent = "most_frequent"
    /// The value from the most recently updated record.
    case mostRecent = "most_recent"
    /// The value from the highest-priority source (`source_priority`, else the primary system first).
    case sourcePriority = "source_priority"
    /// The value from the record with the most fields filled.
    case mostComplete = "most_complete"
}

/// `survivorship: {default: RULE, source_priority: [SOURCE…], attributes: {ATTRIBUTE: RULE}}`.
public struct SurvivorshipConfig: Sendable, Equatable {
    public var defaultRule: SurvivorshipRule = .mostFrequent
    /// Person sources, highest priority first; empty: the primary system's sources first.
    public var sourcePriority: [String] = []
    public var attributes: [String: SurvivorshipRule] = [:]

    public init(defaultRule: SurvivorshipRule = .mostFrequent, sourcePriority: [String] = [], attributes: [String: SurvivorshipRule] = [:]) {
        self.defaultRule = defaultRule
        self.sourcePriority = sourcePriority
        self.attributes = attributes
    }

    /// The attributes of a golden record, in column order.
    public static let attributeNames = ["first_name", "last_name", "email", "phone", "dob", "street", "city", "postcode",
                                        "region", "country", "national_id"]

    public func rule(for attribute: String) -> SurvivorshipRule { attributes[attribute] ?? defaultRule }

    /// A stable text of the settings (part of the matching pass's fingerprint).
    public var description: String {
        "\(defaultRule.rawValue)|\(sourcePriority.joined(separator: ","))|"
            + attributes.keys.sorted().map { "\($0)=\(attributes[$0]!.rawValue)" }.joined(separator: ",")
    }
}

public struct KPIConfig: Sendable {
    public var name: String
    public var target: String
    public var baseline: String?
    public var due: String?
    public var unit: String?
}

public struct AlertConfig: Sendable {
    public var webhook: String
}

public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int?
    public var key: String
    public var message: String

    public init(file: String, line: Int?, key: String, message: String) {
        self.file = file; self.line = line; self.key = key; self.message = message
    }

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        return "\(place): \(key): \(message)"
    }
}
