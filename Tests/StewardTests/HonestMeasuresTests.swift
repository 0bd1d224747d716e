import Foundation
import Testing
@testable import StewardCatalog
@testable import StewardConsole
@testable import StewardMetrics
@testable import StewardPipeline
@testable import StewardRoadmap

/// Evidence, uptime and anomalies judge what happened, not the noise of a run that did nothing, a
/// catalog a few seconds old or a series that never moves (issue 15, item 9).
@Suite struct HonestMeasuresTests {
    // MARK: evidence

    @Test func evidenceIgnoresARunThatLoadedNothing() throws {
        let p = TempProject("evidence")
        p.write("people.csv", "id,name\n1,Ann\n2,Bob\n")
        p.write("roadmap.md", RoadmapPlans.demo)
        p.write("steward.yml", """
        name: ev
        roadmap: roadmap.md
        sources:
          - name: people
            system: crm
            entity: person
            format: csv
            path: people.csv
            key: id
            mapping: {full_name: name}
            checks:
              - not_null: [id]
        evidence:
          "Implement data quality checks": checks_ran
          "Implement SCD Type 2": runs_succeeded
        """)
        let config = try p.config()
        let doc = try RoadmapDocument(contentsOf: config.roadmap!)
        let catalog = try p.catalog()
        func evidence() -> [String: TaskEvidence] {
            let e = RoadmapEvidence(doc, rules: config.evidence, catalog: catalog)
            var out: [String: TaskEvidence] = [:]
            for t in doc.tasks { if let m = e.byTask[t.id] { out[t.plainText] = m } }
            return out
        }
        let first = try p.run()
        #expect(first.steps.map(\.status) == ["success"])
        let afterWork = evidence()
        #expect(afterWork["Implement data quality checks"]?.mark == .evidenceNotTicked)
        #expect(afterWork["Implement SCD Type 2"]?.mark == .evidenceNotTicked)

        // Nothing changed: every step is `unchanged`, no check runs; the evidence still reads run 1.
        let second = try p.run()
        #expect(second.steps.map(\.status) == ["unchanged"])
        #expect(second.runId > first.runId)
        #expect(evidence() == afterWork)
        #expect(afterWork["Implement data quality checks"]?.result.reason.contains("run \(first.runId)") == true)

        // A run that does work again is the one judged.
        p.write("people.csv", "id,name\n1,Ann\n2,Bob\n3,Cy\n")
        let third = try p.run()
        #expect(third.steps.map(\.status) == ["success"])
        #expect(evidence()["Implement data quality checks"]?.result.reason.contains("run \(third.runId)") == true)
    }

    // MARK: uptime

    /// Two sources with a one-hour freshness limit, loaded every 30 minutes for `hours`, with crm
    /// silent for three hours in the middle when `gap` (two hours down).
    static func uptimeCatalog(hours: Double, gap: Bool) throws -> MetricsCatalog {
        let c = try MetricsCatalog()
        try c.source("crm", errorAfter: 3600)
        try c.source("shop", errorAfter: 3600)
        var t = hours * 3600
        while t >= 0 {
            let inGap = gap && t < hours * 1800 + 5400 && t > hours * 1800 - 5400
            if !inGap { try c.load("crm", ago: t) }
            try c.load("shop", ago: t + 1)
            t -= 1800
        }
        return c
    }

    @Test func uptimeIsNoDataBeforeADayOfHistory() throws {
        let c = try MetricsCatalog()
        try c.source("crm", errorAfter: 3600)
        try c.source("shop", errorAfter: 3600)
        // A first run 14 s ago loaded crm; shop has never loaded: half the short history is "down".
        try c.load("crm", ago: 14)
        let definition = KPIDefinition(name: "System uptime", target: "99.9%")
        let status = try KPIEvaluator(definitions: [definition], catalog: c.catalog, now: MetricsCatalog.now).evaluate(store: false)[0]
        #expect(status.status == .noData)
        #expect(status.value == nil && status.result.budget == nil)
        #expect(status.reason.contains("14s of 30d observed"), "\(status.reason)")

        let hours = try Self.uptimeCatalog(hours: 20, gap: false)
        let young = try KPIEvaluator(definitions: [definition], catalog: hours.catalog, now: MetricsCatalog.now).evaluate(store: false)[0]
        #expect(young.status == .noData)
        #expect(young.reason.contains("20h of 30d observed"), "\(young.reason)")
    }

    @Test func uptimeAndItsBudgetShareTheObservedWindow() throws {
        let c = try Self.uptimeCatalog(hours: 48, gap: true)
        let definition = KPIDefinition(name: "System uptime", target: "99.9%")
        let status = try KPIEvaluator(definitions: [definition], catalog: c.catalog, now: MetricsCatalog.now).evaluate(store: false)[0]
        let budget = try #require(status.result.budget)
        let value = try #require(status.value)
        // Covered: 48 h since both sources had loaded; crm missed five loads: two hours down.
        #expect(abs(budget.window - 48 * 3600) < 2)
        #expect(abs(budget.used - 2 * 3600) < 5, "\(budget.used)")
        #expect(abs(budget.allowed - 0.001 * budget.window) < 1e-6)
        #expect(abs(value - (1 - budget.used / budget.window)) < 1e-9)
        // Breached, and the budget says so too (never "breached" beside "41m of 43m left").
        #expect(status.status == .breached)
        #expect(budget.left < 0)

        let loose = KPIDefinition(name: "System uptime", target: "95%")
        let met = try KPIEvaluator(definitions: [loose], catalog: c.catalog, now: MetricsCatalog.now).evaluate(store: false)[0]
        #expect(met.status == .met)
        #expect(try #require(met.result.budget).left > 0)
    }

    // MARK: anomalies

    @Test func aFlatSeriesDoesNotAlarmOnNoiseButARealDropDoes() throws {
        let d = AnomalyDetector()
        // Scores that agree to a few millionths: MAD is tiny but not 0.
        let history = [0.99901, 0.99902, 0.99901, 0.99903, 0.99902, 0.99901, 0.99902]
        let wobble = try #require(d.score(0.99908, history: history, metric: .qualityScore))
        #expect(abs(wobble.z) > d.threshold)      // the z alone would alarm …
        #expect(!wobble.isAnomaly)                 // … the deviation is 0.006 % of the median
        #expect(wobble.low < 0.99 && wobble.high > 1.0)
        let drop = try #require(d.score(0.95, history: history, metric: .qualityScore))
        #expect(drop.isAnomaly)

        // End to end over the catalog: 99.9 % after runs of 99.9 % is quiet; 93 % is reported.
        let c = try MetricsCatalog()
        try c.source("crm")
        for i in 0..<8 {
            try c.run(ago: Double(100 - i) * 3600, steps: [("crm", 1000, 1000, 0)], quality: history[i % history.count])
        }
        try c.run(ago: 3600, steps: [("crm", 1000, 1000, 0)], quality: 0.99908)
        #expect(try AnomalyDetector().detect(catalog: c.catalog).filter { $0.metric == .qualityScore }.isEmpty)
        let bad = try c.run(ago: 1800, steps: [("crm", 1000, 1000, 0)], quality: 0.93)
        let found = try AnomalyDetector().detect(catalog: c.catalog).filter { $0.metric == .qualityScore }
        #expect(found.map(\.runId) == [bad])
        #expect(found.first.map { $0.value < $0.expectedLow } == true)
    }
}

/// The SLA pane's error-budget gauge shows the uptime KPI's own window and numbers.
@MainActor
@Suite struct HonestUptimePaneTests {
    typealias F = ConsoleFixtures

    func screen(_ c: MetricsCatalog, target: String) throws -> (KPIStatus, [String]) {
        let definition = KPIDefinition(name: "System uptime", target: target)
        let kpis = try KPIEvaluator(definitions: [definition], catalog: c.catalog, now: MetricsCatalog.now).evaluate(store: false)
        var s = F.state()
        s.pane = .sla
        s.snapshot?.kpis = kpis
        s.snapshot?.anomalies = []
        return (kpis[0], F.screen(s).lines)
    }

    @Test func gaugeSaysHowMuchIsObservedBeforeUptimeIsJudged() throws {
        let c = try MetricsCatalog()
        try c.source("crm", errorAfter: 3600)
        try c.load("crm", ago: 14)
        let (kpi, lines) = try screen(c, target: "99.9%")
        #expect(kpi.status == .noData)
        let row = try #require(lines.first { $0.contains("System uptime") && !$0.contains("Error budget") })
        #expect(row.contains("○ no data"))
        let budget = try #require(lines.first { $0.contains("Error budget") })
        #expect(budget.contains("14s of 30d observed"), "\(budget)")
        #expect(!budget.contains("left"))
    }

    @Test func gaugeShowsTheSameBudgetAsTheKPI() throws {
        let c = try HonestMeasuresTests.uptimeCatalog(hours: 48, gap: true)
        let (kpi, lines) = try screen(c, target: "90%")
        let b = try #require(kpi.result.budget)
        #expect(kpi.status == .met)
        let budget = try #require(lines.first { $0.contains("Error budget") })
        // 10 % of 48 h allowed (4h 48m), 2 h used: 2h 48m left.
        #expect(budget.contains("\(Duration.describe(b.left)) of \(Duration.describe(b.allowed)) left"), "\(budget)")
        #expect(budget.contains("2h 48m of 4h 48m left"), "\(budget)")
    }
}
