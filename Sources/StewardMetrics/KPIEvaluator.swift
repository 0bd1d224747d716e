import Foundation
import GRDB
import StewardCatalog
import StewardConfig

public enum KPIState: String, Sendable, Codable, CaseIterable {
    case met
    case atRisk = "at_risk"
    case breached
    case noData = "no_data"
}

/// A KPI after evaluation: its value now, status, reason and recent history.
public struct KPIStatus: Sendable, Equatable {
    public var definition: KPIDefinition
    public var value: Double?
    public var status: KPIState
    /// Why the status is what it is ("3h 5m > 1h", "trending to breach by 2024-09-30", or the no-data reason).
    public var reason: String
    public var result: MeasureResult
    /// Values of the last measurements, oldest first, this one included.
    public var trend: [Double]
    public var unit: KPIUnit { definition.target?.unit ?? definition.measure.unit ?? .number }

    public var name: String { definition.name }
    public func formatted(_ v: Double?) -> String { v.map { unit.format($0) } ?? "–" }
}

/// The at-risk rule's knobs.
public struct StatusRules: Sendable {
    /// At risk when the slack left is under this share of the target's margin.
    public var marginShare = 0.10
    /// Measurements used to project the trend (at least 3 are needed).
    public var trendPoints = 10
    public init() {}
}

/// Evaluates every KPI of a project, stores one measurement per KPI and returns their status.
///
/// ```swift
/// let kpis = try KPIEvaluator(config: config, catalog: catalog).evaluate()
/// ```
public struct KPIEvaluator: Sendable {
    public let definitions: [KPIDefinition]
    public let catalog: Catalog
    public var measures: Measures
    public let now: Date
    public var rules = StatusRules()
    public var historyLength = 24

    public init(config: ProjectConfig, catalog: Catalog, roadmap: [KPIDefinition]? = nil, now: Date = Date()) {
        self.init(definitions: KPIDefinition.all(config: config, roadmap: roadmap ?? RoadmapKPIs.load(config: config)),
                  catalog: catalog, now: now, primarySystem: config.matching.primarySystem, truth: config.truth)
        measures.team = config.team
    }

    public init(definitions: [KPIDefinition], catalog: Catalog, now: Date = Date(), primarySystem: String = "crm", truth: URL? = nil) {
        self.definitions = definitions
        self.catalog = catalog
        self.now = now
        self.measures = Measures(catalog: catalog, now: now, primarySystem: primarySystem, truth: truth)
    }

    /// Measures and judges every KPI; with `store`, appends one measurement per KPI to the catalog.
    public func evaluate(store: Bool = true, runId: Int64? = nil) throws -> [KPIStatus] {
        let history = try recentValues()
        var statuses: [KPIStatus] = []
        for d in definitions {
            let result: MeasureResult
            do { result = try measures.measure(d) } catch { result = .noData("measure failed: \(error)") }
            let previous = history[d.key] ?? []
            statuses.append(Self.judge(d, result: result, history: previous, now: now, rules: rules))
        }
        if store { try self.store(statuses, runId: runId) }
        return statuses
    }

    /// The status rules, pure: no value → no_data; not meeting the target → breached; meeting it with
    /// under 10 % of the margin left, or trending to cross it before the due date → at_risk; else met.
    public static func judge(_ d: KPIDefinition, result: MeasureResult, history: [(Date, Double)], now: Date,
                             rules: StatusRules = StatusRules()) -> KPIStatus {
        var status = KPIStatus(definition: d, value: result.value, status: .noData, reason: result.detail, result: result,
                               trend: history.map(\.1) + (result.value.map { [$0] } ?? []))
        guard let target = d.target else {
            status.reason = d.targetError ?? "no target"
            return status
        }
        guard let value = result.value else { return status }
        if let expected = d.measure.unit, expected != target.unit {
            status.value = nil
            status.reason = "target '\(d.targetText)' is not in \(expected.rawValue), which \(d.measure.rawValue) measures"
            return status
        }
        let fmt = { (v: Double) in target.unit.format(v) }
        if !target.isMet(by: value) {
            status.status = .breached
            status.reason = "\(fmt(value)) \(target.comparison == .atMost ? ">" : "<") \(fmt(target.value))"
            if !result.detail.isEmpty { status.reason += " (\(result.detail))" }
            return status
        }
        let slack = abs(value - target.value)
        let margin = target.margin(baseline: d.baseline)
        if margin > 0, slack < rules.marginShare * margin {
            status.status = .atRisk
            status.reason = "\(fmt(value)) is within \(Int(rules.marginShare * 100))% of the target's margin (\(fmt(target.value)))"
            return status
        }
        if let budget = result.budget, budget.fractionLeft < rules.marginShare {
            status.status = .atRisk
            status.reason = "error budget nearly spent: \(Duration.describe(max(budget.left, 0))) of \(Duration.describe(budget.allowed)) left"
            return status
        }
        let points = Array((history + [(now, value)]).suffix(rules.trendPoints))
        if let due = d.due, due > now, let crossing = projectedCrossing(points, target: target), crossing <= due {
            status.status = .atRisk
            status.reason = "trending to breach by \(Timestamp.string(crossing).prefix(10)), before due \(Timestamp.string(due).prefix(10))"
            return status
        }
        status.status = .met
        status.reason = "\(fmt(value)) \(target.comparison == .atMost ? "≤" : "≥") \(fmt(target.value))"
        if !result.detail.isEmpty { status.reason += " (\(result.detail))" }
        return status
    }

    /// When a least-squares line through the points crosses the target, if it is heading there.
    static func projectedCrossing(_ points: [(Date, Double)], target: KPITarget) -> Date? {
        guard points.count >= 3 else { return nil }
        let xs = points.map { $0.0.timeIntervalSince1970 }, ys = points.map(\.1)
        let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
        var sxy = 0.0, sxx = 0.0
        for (x, y) in zip(xs, ys) { sxy += (x - mx) * (y - my); sxx += (x - mx) * (x - mx) }
        guard sxx > 0 else { return nil }
        let slope = sxy / sxx
        let worsening = target.comparison == .atLeast ? slope < 0 : slope > 0
        guard worsening, slope != 0 else { return nil }
        let intercept = my - slope * mx
        let x = (target.value - intercept) / slope
        let last = xs.last!
        return Date(timeIntervalSince1970: max(x, last))
    }

    /// Appends one measurement per KPI.
    public func store(_ statuses: [KPIStatus], runId: Int64?) throws {
        let at = Timestamp.string(now)
        try catalog.pool.write { db in
            for s in statuses {
                try db.execute(sql: """
                    INSERT INTO kpi_measurement (kpi, name, at, run_id, measure, value, status, target, detail)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [s.definition.key, s.name, at, runId, s.definition.measure.rawValue, s.value,
                                     s.status.rawValue, s.definition.targetText, s.reason])
            }
        }
    }

    /// The last values of every KPI, oldest first (one indexed read per KPI).
    func recentValues() throws -> [String: [(Date, Double)]] {
        try catalog.pool.read { db in
            var out: [String: [(Date, Double)]] = [:]
            for d in definitions {
                let rows = try Row.fetchAll(db, sql: """
                    SELECT at, value FROM kpi_measurement WHERE kpi = ? AND value IS NOT NULL ORDER BY id DESC LIMIT ?
                    """, arguments: [d.key, historyLength - 1])
                out[d.key] = rows.reversed().compactMap { r in
                    guard let at = Timestamp.date(r["at"]), let v: Double = r["value"] else { return nil }
                    return (at, v)
                }
            }
            return out
        }
    }
}

/// One stored measurement of a KPI (for the history chart).
public struct KPIMeasurement: Sendable, Equatable {
    public var at: Date
    public var value: Double?
    public var status: KPIState
    public var detail: String
}

extension Catalog {
    /// Stored measurements of one KPI, oldest first.
    public func kpiHistory(_ name: String, limit: Int = 200) throws -> [KPIMeasurement] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT at, value, status, detail FROM kpi_measurement WHERE kpi = ? ORDER BY id DESC LIMIT ?
                """, arguments: [KPIDefinition.key(name), limit]).reversed().compactMap { r in
                guard let at = Timestamp.date(r["at"]) else { return nil }
                return KPIMeasurement(at: at, value: r["value"], status: KPIState(rawValue: r["status"]) ?? .noData, detail: r["detail"])
            }
        }
    }

    /// Records a manual KPI value (`steward kpi record`), audited.
    public func recordKPI(name: String, value: Double, text: String, at: Date, actor: String = Catalog.osUser) throws {
        try pool.write { db in
            try db.execute(sql: """
                INSERT INTO kpi_manual_value (kpi, name, value, text, at, actor, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [KPIDefinition.key(name), name, value, text, Timestamp.string(at), actor, Timestamp.now()])
            try Catalog.audit(db, action: "kpi_record", subject: "kpi:\(name)", detail: "\(text) at \(Timestamp.string(at))", actor: actor)
        }
    }
}
