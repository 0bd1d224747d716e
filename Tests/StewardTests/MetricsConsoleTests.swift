import Foundation
import Testing
@testable import StewardCatalog
@testable import StewardConsole
@testable import StewardMetrics

/// The SLA/KPI pane rendered in the in-memory backend.
@MainActor
@Suite struct MetricsConsoleTests {
    typealias F = ConsoleFixtures
    static let now = ConsoleFixtures.now

    static func kpis() -> [KPIStatus] {
        let day = 86_400.0
        let fresh = KPIDefinition(name: "Data freshness", target: "< 1 hour", due: "2027-06-30")
        let dq = KPIDefinition(name: "Data quality score", target: "> 95%", baseline: "78%", due: "Q3 2027")
        let uptime = KPIDefinition(name: "System uptime", target: "99.9%")
        let roi = KPIDefinition(name: "Marketing ROI", target: "4:1", baseline: "2:1")
        var up = MeasureResult(value: 0.9995, detail: "")
        up.budget = ErrorBudget(window: 30 * day, allowed: 43.2 * 60, used: 21.6 * 60)
        return [
            KPIEvaluator.judge(fresh, result: MeasureResult(value: 7200, detail: "worst: crm"), history: [(now.addingTimeInterval(-day), 600)], now: now),
            KPIEvaluator.judge(dq, result: MeasureResult(value: 0.97, detail: ""), history: [(now.addingTimeInterval(-2 * day), 0.96), (now.addingTimeInterval(-day), 0.965)], now: now),
            KPIEvaluator.judge(uptime, result: up, history: [], now: now),
            KPIEvaluator.judge(roi, result: .noData("manual KPI: nothing recorded yet"), history: [], now: now),
        ]
    }

    func state() -> AppState {
        var s = F.state()
        s.pane = .sla
        s.snapshot?.kpis = Self.kpis()
        s.snapshot?.anomalies = [Anomaly(metric: .rowsLoaded, subject: "crm_contacts", runId: 7, value: 20, median: 1000,
                                         expectedLow: 980, expectedHigh: 1020, z: -120)]
        return s
    }

    @Test func paneShowsEachKPIWithStatusBudgetAndAnomalies() {
        let lines = F.screen(state()).lines
        #expect(lines[1].contains("4 SLA/KPI"))
        let text = lines.joined(separator: "\n")
        #expect(text.contains("╭ SLA / KPI (4)"))
        let fresh = lines.first { $0.contains("Data freshness") }!
        #expect(fresh.contains("< 1 hour") && fresh.contains("2h") && fresh.contains("✗ breached") && fresh.contains("2027-06-30"))
        let dq = lines.first { $0.contains("Data quality score") }!
        #expect(dq.contains("97.0%") && dq.contains("78.0%") && dq.contains("✓ met") && dq.contains("2027-09-30"))
        #expect(lines.first { $0.contains("Marketing ROI") }!.contains("○ no data"))
        #expect(lines.first { $0.contains("System uptime") }!.contains("99.95%"))
        let budget = lines.first { $0.contains("Error budget") }!
        #expect(budget.contains("50%") && budget.contains("21m of 43m left") && budget.contains("█"))
        #expect(text.contains("crm_contacts: rows loaded 20 in run 7, expected 980–1020"))
        #expect(lines.allSatisfy { $0.displayWidth <= 100 })
    }

    @Test func enterOpensHistoryChartAndDefinitionEscGoesBack() {
        var s = state()
        s = F.send(s, [.key(.enter)])
        #expect(s.sla.openKPI == "Data freshness")
        #expect(s.snapshotRequest.kpi == "Data freshness")
        var history: [KPIMeasurement] = []
        for i in 0..<30 {
            let value: Double = 600 + Double(i) * 200
            let at: Date = Self.now.addingTimeInterval(Double(i - 30) * 3600)
            history.append(KPIMeasurement(at: at, value: value, status: value > 3600 ? .breached : .met, detail: ""))
        }
        s.snapshot?.kpiHistory = history
        let text = F.screen(s).text
        #expect(text.contains("Data freshness ✗ breached"))
        #expect(text.contains("Target   < 1 hour  (at most 1h)"))
        #expect(text.contains("Measure  freshness   from steward.yml"))
        #expect(text.contains("target 1h"))
        #expect(text.components(separatedBy: "●").count - 1 == 30)
        #expect(text.contains("(30 of 30 measurements)"))
        s = F.send(s, [.key(.escape)])
        #expect(s.sla.openKPI == nil)
        #expect(F.screen(s).text.contains("╭ SLA / KPI (4)"))
    }

    @Test func aRealSnapshotMeasuresKPIsWithoutWriting() throws {
        let c = try MetricsCatalog()
        try c.source("crm")
        try c.load("crm", ago: 600)
        let defs = [KPIDefinition(name: "Data freshness", target: "< 1 hour")]
        let snap = try SnapshotSource.load(from: c.catalog, SnapshotRequest(kpi: "Data freshness"), kpis: defs)
        #expect(snap.kpis.map(\.status) == [.met])
        #expect(snap.kpiHistory == [])
        #expect(try c.catalog.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM kpi_measurement") } == 0)
    }
}
