import Foundation
import GRDB
import StewardCatalog
import StewardConfig
import StewardIdentity

/// The value of a measure at one moment, or why there is none.
public struct MeasureResult: Sendable, Equatable {
    public struct Part: Sendable, Equatable {
        public var label: String
        public var value: Double?
        public var note: String
    }

    public var value: Double?
    /// Why `value` is nil (`no_data`), or a short explanation of the value.
    public var detail: String
    /// Per-source values behind a worst case (freshness).
    public var parts: [Part] = []
    public var budget: ErrorBudget?
    public var at: Date?

    public static func noData(_ reason: String) -> MeasureResult { MeasureResult(value: nil, detail: reason) }
}

/// Error budget of an uptime target over the window uptime was measured on (the observed part of the
/// 30 days): 99.9 % of 30 days allows 43.2 minutes below threshold. Because the budget and the uptime
/// share one window, "budget left ≥ 0" and "uptime ≥ target" always agree.
public struct ErrorBudget: Sendable, Equatable {
    public var window: TimeInterval
    public var allowed: TimeInterval
    public var used: TimeInterval
    public var left: TimeInterval { allowed - used }
    /// Share of the budget left, 0…1 (negative when overspent).
    public var fractionLeft: Double { allowed > 0 ? left / allowed : (used > 0 ? -1 : 1) }
}

/// Uptime over a window: the share of it during which every source was within its freshness error
/// threshold (`freshness.error_after`), from the load history in `batch`.
public struct UptimeResult: Sendable, Equatable {
    public var window: TimeInterval
    /// The part of the window the catalog covers (shorter while the catalog is younger than the window).
    public var covered: TimeInterval
    public var down: TimeInterval
    public var uptime: Double { covered > 0 ? max(0, 1 - down / covered) : 1 }
    public var sources: Int

    /// "14s of 30d observed": how much of the window the catalog's history covers.
    public var observedText: String { "\(Duration.describe(covered)) of \(Duration.describe(window)) observed" }
}

/// Built-in measures, read from the catalog. Identity-resolution measures read the identity tables and
/// report `no_data` with a reason while those tables do not exist.
public struct Measures: Sendable {
    public let catalog: Catalog
    public let now: Date
    public var uptimeWindow: TimeInterval = 30 * 86_400
    /// Uptime is judged only on at least this much history: a few seconds after a first load, one late
    /// source swings it from 100 % to 50 %, which says nothing about the service.
    public var minimumUptimeObserved: TimeInterval = Measures.defaultMinimumUptimeObserved
    public static let defaultMinimumUptimeObserved: TimeInterval = 86_400
    public var primarySystem: String = "crm"
    /// The project's truth file (`truth:`): the match rate's ceiling.
    public var truth: URL?
    /// `team:` of steward.yml: the User adoption KPI's denominator.
    public var team: TeamConfig?

    public init(catalog: Catalog, now: Date, uptimeWindow: TimeInterval = 30 * 86_400, primarySystem: String = "crm", truth: URL? = nil) {
        self.catalog = catalog
        self.now = now
        self.uptimeWindow = uptimeWindow
        self.primarySystem = primarySystem
        self.truth = truth
    }

    /// The tables the identity-resolution issue creates and these measures read.
    public enum IdentityTables {
        /// `customer_lookup_timing(at, duration_ms, results)`: one row per lookup in the console's Customers
        /// pane, timed by Steward (`steward customer search` is a read command and writes nothing).
        public static let lookupTiming = "customer_lookup_timing"
        /// `identity_member(source, record_key, customer_id, …)`: each staged person record's customer.
        public static let link = "identity_member"
        /// `churn_model(trained_at TEXT, accuracy REAL)`: held-out accuracy of each trained model.
        public static let churnModel = "churn_model"
    }

    public func measure(_ definition: KPIDefinition) throws -> MeasureResult {
        switch definition.measure {
        case .freshness: return try freshness(onlySource: mentionedSource(in: definition.name))
        case .quality: return try quality()
        case .uptime: return try uptime(target: definition.target)
        case .queryPerformance: return try lookupP95()
        case .matchRate: return try matchRate(target: definition.target)
        case .churnAccuracy: return try churnAccuracy()
        case .marketingROI: return try marketingROI(definition)
        case .userAdoption: return try userAdoption(definition)
        case .manual: return try manual(definition)
        }
    }

    /// Age of the newest successful load: the worst case over sources, each source as a part.
    /// A KPI whose name contains a source's name ("Data freshness crm_contacts") measures that source.
    public func freshness(onlySource: String? = nil) throws -> MeasureResult {
        let sources = try catalog.sourceOverviews(now: now).filter { onlySource == nil || $0.name == onlySource }
        guard !sources.isEmpty else { return .noData("no sources in the catalog yet (run `steward run`)") }
        let parts = sources.map { s in
            MeasureResult.Part(label: s.name, value: s.freshnessAge.map { max($0, 0) },
                               note: s.lastLoadedAt == nil ? "never loaded" : s.freshnessStatus.rawValue)
        }
        let loaded = parts.filter { $0.value != nil }
        guard let worst = loaded.max(by: { $0.value! < $1.value! }) else {
            return MeasureResult(value: nil, detail: "no source has loaded yet", parts: parts)
        }
        let never = parts.filter { $0.value == nil }.map(\.label)
        var detail = onlySource == nil ? "worst: \(worst.label)" : worst.label
        if !never.isEmpty { detail += "; never loaded: " + never.joined(separator: ", ") }
        return MeasureResult(value: worst.value, detail: detail, parts: parts)
    }

    /// The data-quality score of the foundation issue's formula (`QualityScoring`).
    public func quality() throws -> MeasureResult {
        let q = try catalog.qualityOverview(trendLength: 1)
        guard let score = q.score else { return .noData("no checks have run yet") }
        let parts = q.sources.map { MeasureResult.Part(label: $0.source, value: $0.score, note: "") }
        return MeasureResult(value: score, detail: "\(q.sources.count) sources, row-weighted", parts: parts)
    }

    /// Uptime over the observed part of the window, with the error budget of the target (when the
    /// target is a share) over that same part; `no_data` until `minimumUptimeObserved` is covered.
    public func uptime(target: KPITarget? = nil) throws -> MeasureResult {
        guard let u = try uptimeResult() else {
            return .noData("no source declares freshness.error_after, or nothing has loaded yet")
        }
        guard u.covered >= minimumUptimeObserved else {
            return .noData("\(u.observedText); uptime is judged from \(Duration.describe(minimumUptimeObserved)) of history")
        }
        var result = MeasureResult(value: u.uptime, detail: "")
        let covered = u.covered < u.window - 1 ? " (\(u.observedText))" : ""
        result.detail = "\(u.sources) sources, window \(Duration.describe(u.window))\(covered), below threshold \(Duration.describe(u.down))"
        if let t = target, t.unit == .percent {
            result.budget = ErrorBudget(window: u.covered, allowed: max(0, 1 - t.value) * u.covered, used: u.down)
        }
        return result
    }

    public func uptimeResult() throws -> UptimeResult? {
        try catalog.pool.read { db in
            let limits = try Row.fetchAll(db, sql: "SELECT name, error_after_seconds FROM source WHERE error_after_seconds IS NOT NULL")
            guard !limits.isEmpty else { return nil }
            // Uptime counts from the moment every source had delivered once (a catalog's first run loads
            // its sources one after another); a source that never loaded counts as down from the first load.
            var firstLoads: [String: Date] = [:]
            for row in limits {
                let name: String = row["name"]
                if let t = try String.fetchOne(db, sql: "SELECT MIN(loaded_at) FROM batch WHERE source = ?", arguments: [name])
                    .flatMap(Timestamp.date) { firstLoads[name] = t }
            }
            guard let earliest = firstLoads.values.min() else { return nil }
            let first = firstLoads.count == limits.count ? firstLoads.values.max()! : earliest
            let windowStart = now.addingTimeInterval(-uptimeWindow)
            let start = max(windowStart, first)
            guard start < now else { return UptimeResult(window: uptimeWindow, covered: 0, down: 0, sources: limits.count) }
            let s0 = start.timeIntervalSince1970, s1 = now.timeIntervalSince1970
            var down: [(Double, Double)] = []
            for row in limits {
                let name: String = row["name"]
                let limit: Double = row["error_after_seconds"]
                // In load order, as epoch seconds computed by SQLite (index-only scan of batch_by_source_time).
                let loads = try Double.fetchAll(db, sql: """
                    SELECT (julianday(loaded_at) - 2440587.5) * 86400.0 FROM batch WHERE source = ? AND loaded_at >= ? ORDER BY loaded_at
                    """, arguments: [name, Timestamp.string(start.addingTimeInterval(-limit))])
                down += Self.downIntervals(loads: loads, limit: limit, from: s0, to: s1)
            }
            return UptimeResult(window: uptimeWindow, covered: s1 - s0, down: Self.unionLength(down), sources: limits.count)
        }
    }

    /// The parts of [from, to] not within `limit` seconds after some load.
    static func downIntervals(loads: [Double], limit: Double, from: Double, to: Double) -> [(Double, Double)] {
        var result: [(Double, Double)] = []
        var coveredUntil = -Double.infinity
        for l in loads where l <= to {
            let gapStart = max(coveredUntil, from)
            if l > gapStart { result.append((gapStart, l)) }
            coveredUntil = max(coveredUntil, l + limit)
        }
        let gapStart = max(coveredUntil, from)
        if gapStart < to { result.append((gapStart, to)) }
        return result
    }

    static func unionLength(_ intervals: [(Double, Double)]) -> Double {
        var total = 0.0, curStart = -Double.infinity, curEnd = -Double.infinity
        for (a, b) in intervals.sorted(by: { $0.0 < $1.0 }) {
            if a > curEnd {
                if curEnd > curStart { total += curEnd - curStart }
                curStart = a; curEnd = b
            } else { curEnd = max(curEnd, b) }
        }
        if curEnd > curStart { total += curEnd - curStart }
        return total
    }

    /// p95 of customer lookups over the last 7 days, in seconds.
    public func lookupP95() throws -> MeasureResult {
        try catalog.pool.read { db in
            guard try db.tableExists(IdentityTables.lookupTiming) else {
                return .noData("customer lookups are not timed yet: identity resolution is not installed (no \(IdentityTables.lookupTiming) table)")
            }
            let since = Timestamp.string(now.addingTimeInterval(-7 * 86_400))
            let ms = try Double.fetchAll(db, sql: "SELECT duration_ms FROM \(IdentityTables.lookupTiming) WHERE at >= ? ORDER BY duration_ms",
                                         arguments: [since])
            guard !ms.isEmpty else { return .noData("no customer lookups in the last 7 days (the \(IdentityTables.lookupTiming) table is empty)") }
            let p95 = ms[min(ms.count - 1, Int((Double(ms.count) * 0.95).rounded(.up)) - 1)]
            return MeasureResult(value: p95 / 1000, detail: "p95 of \(ms.count) lookups in 7 days")
        }
    }

    /// The customer match rate, the figure `steward match report` shows (`MatchRate`); below its
    /// target, the detail gives the ceiling of the truth file and says when the target is above it.
    public func matchRate(target: KPITarget? = nil) throws -> MeasureResult {
        try catalog.pool.read { db in
            guard try db.tableExists(IdentityTables.link) else {
                return .noData("identity resolution has not run: no \(IdentityTables.link) table")
            }
            guard try Int.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(IdentityTables.link))") == 1 else {
                return .noData("identity resolution has not linked any record yet (the \(IdentityTables.link) table is empty)")
            }
            let share = target.flatMap { $0.comparison == .atLeast && $0.unit == .percent ? $0.value : nil }
            // The ceiling (the truth file read against every record) is what explains a target not met.
            let rate = try MatchRate.measure(db, truth: share == nil ? nil : truth, ceilingBelow: share)
            return MeasureResult(value: rate.rate, detail: rate.explanation(target: share, truthKnown: truth != nil))
        }
    }

    public func churnAccuracy() throws -> MeasureResult {
        try catalog.pool.read { db in
            guard try db.tableExists(IdentityTables.churnModel) else {
                return .noData("no churn model has been trained: no \(IdentityTables.churnModel) table")
            }
            guard let row = try Row.fetchOne(db, sql: "SELECT accuracy, trained_at FROM \(IdentityTables.churnModel) ORDER BY trained_at DESC LIMIT 1"),
                  let accuracy: Double = row["accuracy"] else {
                return .noData("no churn model has been trained yet (the \(IdentityTables.churnModel) table is empty)")
            }
            return MeasureResult(value: accuracy, detail: "held-out accuracy", at: (row["trained_at"] as String?).flatMap(Timestamp.date))
        }
    }

    /// The latest value recorded with `steward kpi record` at or before now.
    public func manual(_ definition: KPIDefinition) throws -> MeasureResult {
        try catalog.pool.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT value, text, at, actor FROM kpi_manual_value WHERE kpi = ? AND at <= ? ORDER BY at DESC, id DESC LIMIT 1
                """, arguments: [definition.key, Timestamp.string(now)]) else {
                return .noData("manual KPI: nothing recorded yet (steward kpi record \"\(definition.name)\" VALUE)")
            }
            let at = (row["at"] as String?).flatMap(Timestamp.date)
            let actor: String = row["actor"]
            return MeasureResult(value: row["value"], detail: "recorded by \(actor)", at: at)
        }
    }

    private func mentionedSource(in name: String) -> String? {
        let lower = name.lowercased()
        return (try? catalog.projectSources())?.filter { lower.contains($0.lowercased()) }.max { $0.count < $1.count }
    }
}
