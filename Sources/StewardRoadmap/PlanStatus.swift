import Foundation

/// What Steward measures, as the plan's risks need it (filled by the caller from the KPI evaluator,
/// source overviews and quality checks: this module does not depend on the metrics engine).
public struct PlanFacts: Sendable, Equatable {
    public struct KPI: Sendable, Equatable {
        public var name: String
        /// `met`, `at_risk`, `breached`, `no_data`.
        public var status: String
        public var actual: String?
        public var target: String
        /// Recent values, oldest first.
        public var trend: [Double]
        /// The same values written in the KPI's unit (`97.2 %`, `3.2:1`), as `actual` is; empty: plain numbers.
        public var trendText: [String]
        public init(name: String, status: String, actual: String?, target: String, trend: [Double] = [], trendText: [String] = []) {
            self.name = name; self.status = status; self.actual = actual; self.target = target; self.trend = trend
            self.trendText = trendText.count == trend.count ? trendText : []
        }
    }
    public struct Source: Sendable, Equatable {
        public var name: String
        public var system: String
        /// `ok`, `warn`, `error`, `stale`, `never`, `running`.
        public var status: String
        public init(name: String, system: String, status: String) { self.name = name; self.system = system; self.status = status }
    }
    public struct FailingCheck: Sendable, Equatable {
        public var source: String
        public var name: String
        public var failed: Int
        public init(source: String, name: String, failed: Int) { self.source = source; self.name = name; self.failed = failed }
    }
    public var kpis: [KPI]
    public var sources: [Source]
    public var failingChecks: [FailingCheck]
    /// The overall data-quality score 0...1, if measured.
    public var qualityScore: Double?

    public init(kpis: [KPI] = [], sources: [Source] = [], failingChecks: [FailingCheck] = [], qualityScore: Double? = nil) {
        self.kpis = kpis; self.sources = sources; self.failingChecks = failingChecks; self.qualityScore = qualityScore
    }
}

/// Evidence for a risk from what Steward measures.
public struct RiskSignal: Sendable, Equatable {
    public enum Level: String, Sendable, Comparable {
        case ok, unknown, warn, breach
        var rank: Int { [Level.ok: 0, .unknown: 1, .warn: 2, .breach: 3][self]! }
        public static func < (a: Level, b: Level) -> Bool { a.rank < b.rank }
    }
    public var text: String
    public var level: Level
}

/// The plan with the catalog's decisions and measurements applied, as the CLI, the report and the
/// console show it.
///
/// ```swift
/// let status = PlanStatus(document: doc, progress: progress, state: try PlanState(catalog.planEvents()),
///                         facts: facts, today: Day.today())
/// status.phases.filter(\.awaitingSignOff)
/// ```
public struct PlanStatus: Sendable, Equatable {
    public struct DeliverableView: Sendable, Equatable {
        public var deliverable: PlanDeliverable
        public var signOff: PlanState.Decision?
        /// Every sign-off and reopen of it, oldest first.
        public var history: [PlanEvent]
        public var signedOff: Bool { signOff != nil }
    }
    public struct PhaseView: Sendable, Equatable {
        public var index: Int
        public var title: String
        public var figures: RoadmapProgress.Figures
        public var due: Day?
        public var deliverables: Int
        public var signedOff: Int
        /// Every task done, some deliverable not signed off.
        public var awaitingSignOff: Bool
        /// Why the phase is at risk (a blocked critical dependency), empty when it is not.
        public var atRisk: [String]
        public var done: Bool { figures.total > 0 && figures.done == figures.total }
    }
    public struct RiskView: Sendable, Equatable {
        public var risk: PlanRisk
        public var status: RiskStatus
        public var decision: PlanState.Decision?
        public var signals: [RiskSignal]
        /// A signal at warn or breach: the risk needs attention whatever its recorded status.
        public var amber: Bool { signals.contains { $0.level >= .warn } }
    }
    public struct DependencyView: Sendable, Equatable {
        public var dependency: PlanDependency
        public var status: DependencyStatus
        public var decision: PlanState.Decision?
    }
    public struct BudgetView: Sendable, Equatable {
        public var item: BudgetItem
        /// Spend recorded in the item's currency (spend in another currency is not added in).
        public var actual: Double
        public var entries: Int
        /// Actual over budget (the yearly amount for a recurring item).
        public var fraction: Double? { item.amount > 0 ? actual / item.amount : nil }
    }
    public struct CadenceView: Sendable, Equatable {
        public var update: StakeholderUpdate
        /// The next due date (today when due today).
        public var nextDue: Day
        /// The latest due date before today, if its period had no report.
        public var missedDue: Day?
        public var lastSent: Date?
        public var overdue: Bool { missedDue != nil }
    }
    public struct ForecastView: Sendable, Equatable {
        /// The tick-rate forecast (`RoadmapProgress.forecast`), and the date after blocked critical dependencies.
        public var base: Day?
        public var completion: Day?
        public var pushedDays: Int
        public var reasons: [String]
    }

    public var plan: RoadmapPlan
    public var deliverables: [DeliverableView]
    public var phases: [PhaseView]
    public var risks: [RiskView]
    public var dependencies: [DependencyView]
    public var budget: [BudgetView]
    public var cadence: [CadenceView]
    public var forecast: ForecastView
    public var today: Day

    public init(document: RoadmapDocument, progress: RoadmapProgress, state: PlanState, facts: PlanFacts = PlanFacts(),
                today: Day, now: Date = Date()) {
        self.today = today
        let plan = RoadmapPlan(document)
        self.plan = plan
        deliverables = plan.deliverables.map { DeliverableView(deliverable: $0, signOff: state.signOffs[$0.id], history: state.signOffHistory(of: $0.id)) }
        risks = plan.risks.map { r in
            let d = state.risks[r.id]
            return RiskView(risk: r, status: d.flatMap { RiskStatus(rawValue: $0.status) } ?? .open, decision: d,
                            signals: Self.signals(for: r, facts: facts))
        }
        dependencies = plan.dependencies.map { dep in
            let d = state.dependencies[dep.id]
            return DependencyView(dependency: dep, status: d.flatMap { DependencyStatus(rawValue: $0.status) } ?? .pending, decision: d)
        }

        // Blocked critical dependencies: every unfinished phase is at risk, and the forecast moves by
        // as long as the longest block has lasted so far (at least a week).
        // A finished plan has nothing left to push.
        let unfinished = (progress.forecast?.remaining ?? 1) > 0.000_1
        let blocked = unfinished ? dependencies.filter { $0.dependency.kind == .critical && $0.status == .blocked } : []
        var reasons: [String] = []
        var pushed = 0
        for b in blocked {
            let since = b.decision.map { Day.today($0.at) } ?? today
            let days = max(7, today.ordinal - since.ordinal)
            pushed = max(pushed, days)
            reasons.append("critical dependency “\(b.dependency.text)” blocked since \(since) (\(days) days)")
        }
        let base = progress.forecast?.completion
        forecast = ForecastView(base: base, completion: base.map { Day(ordinal: $0.ordinal + pushed) }, pushedDays: pushed, reasons: reasons)

        let deliverables = self.deliverables
        phases = progress.phases.enumerated().map { p, figures in
            let mine = deliverables.filter { $0.deliverable.phaseIndex == p }
            let signed = mine.filter(\.signedOff).count
            let done = figures.figures.total > 0 && figures.figures.done == figures.figures.total
            return PhaseView(index: p, title: figures.title, figures: figures.figures, due: figures.due, deliverables: mine.count,
                             signedOff: signed, awaitingSignOff: done && signed < mine.count,
                             atRisk: done ? [] : reasons)
        }

        budget = plan.budget.map { item in
            let entries = state.spend[item.id] ?? []
            let same = entries.filter { ($0.currency ?? item.currency) == item.currency }
            return BudgetView(item: item, actual: same.reduce(0) { $0 + $1.amount }, entries: entries.count)
        }

        cadence = plan.cadence.map { u in
            let last = state.lastReport(for: u.id)?.at
            let dueToday = u.every.lastDue(onOrBefore: today) == today
            let next = dueToday ? today : u.every.nextDue(after: today)
            // The latest due date strictly before today, and the start of the period it closes.
            let previousDue = u.every.lastDue(onOrBefore: Day(ordinal: today.ordinal - 1))
            let periodStart = Day(ordinal: u.every.lastDue(onOrBefore: Day(ordinal: previousDue.ordinal - 1)).ordinal + 1)
            let sentInOrAfterPeriod = last.map { Day.today($0) >= periodStart } ?? false
            return CadenceView(update: u, nextDue: next, missedDue: sentInOrAfterPeriod ? nil : previousDue, lastSent: last)
        }
    }

    public var awaitingSignOff: [PhaseView] { phases.filter(\.awaitingSignOff) }
    public func phase(_ index: Int) -> PhaseView? { phases.indices.contains(index) ? phases[index] : nil }
    public var blockedDependencies: [DependencyView] { dependencies.filter { $0.status == .blocked } }
    public var openRisks: [RiskView] { risks.filter { $0.status != .closed } }

    // MARK: risk signals

    /// Links a risk to what Steward measures, by the words of its title and description:
    /// data quality → the quality KPIs and failing checks; integration, sources, feeds → the health of
    /// the sources it names (all sources when it names none); merges, matching → the match KPIs;
    /// adoption → the adoption KPI; any KPI whose name the risk quotes.
    public static func signals(for risk: PlanRisk, facts: PlanFacts) -> [RiskSignal] {
        let words = " " + Normalise.key([risk.title, risk.description ?? ""].joined(separator: " ")) + " "
        func has(_ w: String...) -> Bool { w.contains { words.contains($0) } }
        var out: [RiskSignal] = []
        var linked = Set<String>()
        func kpiSignal(_ k: PlanFacts.KPI) {
            guard linked.insert(k.name).inserted else { return }
            let level: RiskSignal.Level = k.status == "breached" ? .breach : k.status == "at_risk" ? .warn : k.status == "met" ? .ok : .unknown
            let label = k.status.replacingOccurrences(of: "_", with: " ")
            out.append(RiskSignal(text: "\(k.name) \(k.actual ?? "–") (target \(k.target)): \(label)", level: level))
        }
        if has(" quality ", " dq ", " data quality") {
            let qualityKPIs = facts.kpis.filter { Normalise.key($0.name).contains("quality") }
            for k in qualityKPIs { kpiSignal(k) }
            if !facts.failingChecks.isEmpty {
                let total = facts.failingChecks.reduce(0) { $0 + $1.failed }
                let names = facts.failingChecks.prefix(3).map { "\($0.source).\($0.name)" }.joined(separator: ", ")
                // With a quality KPI, its status decides (a few failing rows are normal); without one, failing checks warn.
                let judged = qualityKPIs.contains { $0.status != "no_data" }
                out.append(RiskSignal(text: "\(facts.failingChecks.count) failing checks (\(total) rows): \(names)", level: judged ? .unknown : .warn))
            } else if facts.qualityScore != nil {
                out.append(RiskSignal(text: "no failing checks", level: .ok))
            }
        }
        if has(" integration", " source", " feed", " connector", " ingest", " interface", " api ", " export", " pipeline") {
            let named = facts.sources.filter { s in
                let n = Normalise.key(s.name), sys = Normalise.key(s.system)
                return (!n.isEmpty && words.contains(" \(n) ")) || (!sys.isEmpty && words.contains(" \(sys) "))
            }
            let sources = named.isEmpty ? facts.sources : named
            let bad = sources.filter { !["ok", "running"].contains($0.status) }
            if sources.isEmpty {
                // Nothing loaded yet: no evidence either way.
            } else if bad.isEmpty {
                out.append(RiskSignal(text: "sources healthy: \(sources.count) of \(sources.count) ok", level: .ok))
            } else {
                for s in bad {
                    let level: RiskSignal.Level = s.status == "error" ? .breach : .warn
                    out.append(RiskSignal(text: "source \(s.name): \(s.status)", level: level))
                }
            }
        }
        if has(" merge", " match", " duplicate", " identity", " identities") {
            for k in facts.kpis where Normalise.key(k.name).contains("match") { kpiSignal(k) }
        }
        if has(" adoption", " usage ", " users ", " user ") {
            for k in facts.kpis where Normalise.key(k.name).contains("adoption") { kpiSignal(k) }
        }
        for k in facts.kpis {
            let key = Normalise.key(k.name)
            if !key.isEmpty, words.contains(" \(key) ") { kpiSignal(k) }
        }
        return out
    }
}
