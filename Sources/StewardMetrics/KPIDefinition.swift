import Foundation
import StewardConfig

/// One KPI as declared in `kpis:` of steward.yml or in a metric table of the roadmap.
public struct KPIDefinition: Sendable, Equatable {
    public enum Origin: String, Sendable { case config, roadmap }

    public var name: String
    public var targetText: String
    public var target: KPITarget?
    /// Why the target could not be parsed (the KPI then reports `no_data` with this reason).
    public var targetError: String?
    public var baseline: KPIQuantity?
    public var baselineText: String?
    public var dueText: String?
    public var due: Date?
    public var origin: Origin
    public var measure: BuiltInMeasure

    /// Normalised name: the key of measurements and manual values (case and spacing do not matter).
    public var key: String { Self.key(name) }

    public static func key(_ name: String) -> String {
        name.lowercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    public init(name: String, target: String, baseline: String? = nil, due: String? = nil, unit: String? = nil,
                origin: Origin = .config) {
        self.name = name.trimmingCharacters(in: .whitespaces)
        self.targetText = target
        self.origin = origin
        self.dueText = due
        self.due = DueDate.parse(due)
        self.measure = BuiltInMeasure.match(name)
        do {
            let t = try KPITarget.parse(target, unit: unit)
            self.target = t
            self.baselineText = baseline
            let explicit = try? baseline.flatMap { try KPITarget.parseQuantity($0, unit: unit ?? t.unit.rawValue) }
            self.baseline = explicit ?? t.baseline
            if baseline == nil, let b = t.baseline { self.baselineText = t.unit == b.unit ? b.unit.format(b.value) : nil }
        } catch {
            self.target = nil
            self.targetError = "\(error)"
            self.baselineText = baseline
        }
    }

    /// The definitions of a project: `kpis:` first, then the roadmap's metric rows whose names are not
    /// already declared (steward.yml wins, so a team can override a roadmap target).
    public static func all(config: ProjectConfig, roadmap: [KPIDefinition] = []) -> [KPIDefinition] {
        var seen = Set<String>()
        var list: [KPIDefinition] = []
        for k in config.kpis {
            let d = KPIDefinition(name: k.name, target: k.target, baseline: k.baseline, due: k.due, unit: k.unit)
            if seen.insert(d.key).inserted { list.append(d) }
        }
        for d in roadmap where seen.insert(d.key).inserted { list.append(d) }
        return list
    }
}

/// Measures Steward computes itself; every other KPI is manual (`steward kpi record`).
public enum BuiltInMeasure: String, Sendable, CaseIterable {
    case freshness
    case quality
    case uptime
    case queryPerformance = "query_performance"
    case matchRate = "match_rate"
    case churnAccuracy = "churn_accuracy"
    /// From the audiences' holdout lift and the campaign spend (Measures+Activation.swift).
    case marketingROI = "marketing_roi"
    /// From who used Steward in the last 30 days and `team:` (Measures+Activation.swift).
    case userAdoption = "user_adoption"
    case manual

    /// Matches a KPI name to a measure by its words: "Data freshness", "Data quality score",
    /// "System uptime", "Query performance", "Customer match rate", "Churn prediction accuracy".
    public static func match(_ name: String) -> BuiltInMeasure {
        let n = KPIDefinition.key(name)
        if n.contains("fresh") { return .freshness }
        if n.contains("uptime") || n.contains("availability") { return .uptime }
        if n.contains("churn") { return .churnAccuracy }
        if n.contains("match rate") || n.contains("match-rate") || n.contains("matching rate") { return .matchRate }
        if n.contains("query") || n.contains("lookup") || n.contains("latency") || n.contains("response time") {
            return .queryPerformance
        }
        if n.contains("quality") || n.hasPrefix("dq ") || n == "dq" { return .quality }
        if n.contains("roi") || n.contains("return on") { return .marketingROI }
        if n.contains("adoption") { return .userAdoption }
        return .manual
    }

    /// Whether `steward kpi record` takes values for it: manual KPIs, and the marketing KPIs, which
    /// fall back to recorded values while their data (campaign spend, `team:`) is missing.
    public var acceptsRecordedValues: Bool { self == .manual || self == .marketingROI || self == .userAdoption }

    /// The unit a built-in measure produces (nil for manual KPIs: the target's unit).
    public var unit: KPIUnit? {
        switch self {
        case .freshness, .queryPerformance: return .seconds
        case .quality, .uptime, .matchRate, .churnAccuracy, .userAdoption: return .percent
        case .marketingROI: return .ratio
        case .manual: return nil
        }
    }
}
