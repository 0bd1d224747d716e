import Foundation
import GRDB
import Testing
@testable import StewardCatalog
@testable import StewardMetrics
import StewardPipeline
@testable import StewardConfig

@Suite struct MetricsTargetTests {
    @Test func parsesTheRoadmapsTargets() throws {
        let hour = try KPITarget.parse("< 1 hour")
        #expect(hour.comparison == .atMost && hour.value == 3600 && hour.unit == .seconds)
        let dq = try KPITarget.parse("> 95%")
        #expect(dq.comparison == .atLeast && abs(dq.value - 0.95) < 1e-12 && dq.unit == .percent)
        let uptime = try KPITarget.parse("99.9%")
        #expect(uptime.comparison == .atLeast && abs(uptime.value - 0.999) < 1e-12)
        let roi = try KPITarget.parse("4:1")
        #expect(roi.comparison == .atLeast && roi.value == 4 && roi.unit == .ratio)
        let query = try KPITarget.parse("< 5 seconds")
        #expect(query.comparison == .atMost && query.value == 5 && query.unit == .seconds)
        let bare = try KPITarget.parse("1200")
        #expect(bare.comparison == .atLeast && bare.value == 1200 && bare.unit == .number)
        let ms = try KPITarget.parse("<= 250 ms")
        #expect(ms.comparison == .atMost && abs(ms.value - 0.25) < 1e-12)
    }

    @Test func baselinesInsideTheTargetAndDirection() throws {
        let match = try KPITarget.parse("60% → 95%")
        #expect(match.comparison == .atLeast && abs(match.value - 0.95) < 1e-12)
        #expect(match.baseline == KPIQuantity(value: 0.6, unit: .percent))
        let ascii = try KPITarget.parse("60 -> 95%")
        #expect(ascii.baseline == KPIQuantity(value: 0.6, unit: .percent))
        // From a higher baseline towards a lower target: at most, even without an operator.
        let down = try KPITarget.parse("24 hours → 1 hour")
        #expect(down.comparison == .atMost && down.value == 3600 && down.baseline?.value == 86_400)
        let roi = try KPITarget.parse("2:1 → 4:1")
        #expect(roi.baseline == KPIQuantity(value: 2, unit: .ratio))
        #expect(try KPITarget.parseQuantity("n/a") == nil)
        #expect(try KPITarget.parseQuantity("78%") == KPIQuantity(value: 0.78, unit: .percent))
        let withUnit = try KPITarget.parse("5", unit: "seconds")
        #expect(withUnit.unit == .seconds && withUnit.comparison == .atMost)
    }

    @Test func rejectsWhatItCannotRead() {
        #expect(throws: KPIParseError.self) { try KPITarget.parse("fast") }
        #expect(throws: KPIParseError.self) { try KPITarget.parse("< 3 parsecs") }
        #expect(throws: KPIParseError.self) { try KPITarget.parse("") }
        let d = KPIDefinition(name: "Speed", target: "very fast")
        #expect(d.target == nil && d.targetError != nil)
    }

    @Test func dueDatesAndNameMatching() {
        #expect(DueDate.parse("2024-09-30").map(Timestamp.string) == "2024-09-30T23:59:59.000Z")
        #expect(DueDate.parse("Q2 2024").map(Timestamp.string) == "2024-06-30T23:59:59.000Z")
        #expect(DueDate.parse("Q4 2024").map(Timestamp.string) == "2024-12-31T23:59:59.000Z")
        #expect(DueDate.parse("2024-02").map(Timestamp.string) == "2024-02-29T23:59:59.000Z")
        #expect(DueDate.parse("someday") == nil)
        #expect(BuiltInMeasure.match("Data freshness") == .freshness)
        #expect(BuiltInMeasure.match("Data quality score") == .quality)
        #expect(BuiltInMeasure.match("System uptime") == .uptime)
        #expect(BuiltInMeasure.match("Query performance") == .queryPerformance)
        #expect(BuiltInMeasure.match("Customer match rate") == .matchRate)
        #expect(BuiltInMeasure.match("Churn prediction accuracy") == .churnAccuracy)
        // Measured from data since issue 20 (campaign spend and holdout lift; usage and team:).
        #expect(BuiltInMeasure.match("Marketing ROI") == .marketingROI)
        #expect(BuiltInMeasure.match("User adoption") == .userAdoption)
        #expect(BuiltInMeasure.match("Budget burn") == .manual)
    }

    @Test func roadmapMetricTables() {
        let md = """
        # Plan\r
        | Metric | Baseline | Target | Timeline |\r
        |---|---|---|---|\r
        | **Data freshness** | 24 hours | < 1 hour | Q2 2024 |\r
        | Churn prediction accuracy | n/a | > 80% | Q4 2024 |\r
        \r
        | Risk | Impact |\r
        |---|---|\r
        | Target drift | High |\r
        """
        let kpis = RoadmapKPIs.parse(md)
        #expect(kpis.map(\.name) == ["Data freshness", "Churn prediction accuracy"])
        #expect(kpis[0].target?.value == 3600 && kpis[0].baseline?.value == 86_400 && kpis[0].origin == .roadmap)
        #expect(kpis[0].due.map(Timestamp.string) == "2024-06-30T23:59:59.000Z")
        #expect(kpis[1].baseline == nil)
    }
}

@Suite struct MetricsMeasureTests {
    let now = MetricsCatalog.now

    @Test func freshnessIsTheWorstSourceWithEachSourceAsAPart() throws {
        let c = try MetricsCatalog()
        try c.source("crm")
        try c.source("shop", system: "ecommerce")
        try c.source("web", system: "web")
        try c.load("crm", ago: 1800)
        try c.load("crm", ago: 600)
        try c.load("shop", ago: 7200)
        let r = try c.measures().freshness()
        #expect(r.value == 7200)
        #expect(r.parts.first { $0.label == "crm" }?.value == 600)
        #expect(r.parts.first { $0.label == "web" }?.value == nil)
        #expect(r.detail.contains("worst: shop") && r.detail.contains("never loaded: web"))
        let one = try c.measures().measure(KPIDefinition(name: "Data freshness crm", target: "< 1 hour"))
        #expect(one.value == 600)
    }

    @Test func qualityIsTheRowWeightedScore() throws {
        let c = try MetricsCatalog()
        try c.source("a")
        try c.source("b")
        try c.run(ago: 100)
        try c.check("a", name: "not_null_id", evaluated: 100, failed: 10)   // 0.9 × 100 rows
        try c.check("b", name: "not_null_id", evaluated: 300, failed: 0)    // 1.0 × 300 rows
        let r = try c.measures().quality()
        #expect(abs(r.value! - (0.9 * 100 + 1.0 * 300) / 400) < 1e-9)
        let empty = try MetricsCatalog()
        #expect(try empty.measures().quality().value == nil)
    }

    @Test func uptimeIsTheShareOfTheWindowWithEverySourceFreshAndTheBudgetLeft() throws {
        let c = try MetricsCatalog()
        try c.source("crm", errorAfter: 3600)
        try c.source("shop", errorAfter: 3600)
        try c.source("nolimit", errorAfter: nil)
        let day = 86_400.0
        // Loads every 30 minutes for 31 days, except: crm skips 10:00–16:00 on day 20 (gap 6 h → 5 h down),
        // shop skips 12:00–15:00 the same day (inside crm's gap: the union stays 5 h), and shop misses
        // four loads on day 5 (2.5 h between loads, 1.5 h down).
        var t: Double = 31 * day
        while t >= 0 {
            let d20: Double = 20 * day, d5: Double = 5 * day
            let crmGap: Bool = t < d20 - 36_000 && t > d20 - 57_600
            let shopGap20: Bool = t < d20 - 43_200 && t > d20 - 54_000
            let shopGap5: Bool = t < d5 && t > d5 - 7201
            let shopGap = shopGap20 || shopGap5
            if !crmGap { try c.load("crm", ago: t) }
            if !shopGap { try c.load("shop", ago: t + 1) }
            t -= 1800
        }
        let u = try #require(try c.measures().uptimeResult())
        #expect(u.covered == 30 * day)
        // crm: last load before the gap at +10:00, covered till 11:00, next load 16:00 → 5 h down.
        // shop: last load before its day-5 gap covered 1 h, next load 2 h + 30 min later → 1.5 h down.
        #expect(abs(u.down - (5 * 3600 + 1.5 * 3600)) < 5, "down \(u.down)")
        let r = try c.measures().uptime(target: try KPITarget.parse("99.9%"))
        #expect(abs(r.value! - (1 - 6.5 * 3600 / (30 * day))) < 1e-6)
        let budget = try #require(r.budget)
        #expect(abs(budget.allowed - 43.2 * 60) < 1e-6)
        #expect(budget.left < 0)
        // 99 %: a budget of 7.2 h, 6.5 h used, under 10 % left: at risk.
        let tight = KPIDefinition(name: "System uptime", target: "99%")
        let judged = KPIEvaluator.judge(tight, result: try c.measures().uptime(target: tight.target), history: [], now: now)
        #expect(judged.status == .atRisk)
        #expect(judged.result.budget.map { abs($0.left - 0.7 * 3600) < 5 } == true)
        // 98.9 %: 7.92 h allowed, 1.42 h left: met.
        let loose = KPIDefinition(name: "System uptime", target: "98.9%")
        #expect(KPIEvaluator.judge(loose, result: try c.measures().uptime(target: loose.target), history: [], now: now).status == .met)
    }

    @Test func uptimeHasNoDataWithoutThresholdsOrLoads() throws {
        let c = try MetricsCatalog()
        try c.source("crm", errorAfter: nil)
        try c.load("crm", ago: 60)
        #expect(try c.measures().uptime().value == nil)
        let d = try MetricsCatalog()
        try d.source("crm")
        #expect(try d.measures().uptime().value == nil)
    }

    @Test func identityMeasuresReportNoDataUntilTheirTablesExist() throws {
        let c = try MetricsCatalog()
        try c.source("crm", system: "crm")
        try c.source("shop", system: "ecommerce")
        for name in ["Query performance", "Customer match rate", "Churn prediction accuracy"] {
            let r = try c.measures().measure(KPIDefinition(name: name, target: "> 1"))
            #expect(r.value == nil)
            #expect(r.detail.contains("table"), "\(name): \(r.detail)")
        }
        // Once identity resolution has written its tables, the same KPIs are measured.
        try c.catalog.pool.write { db in
            try db.execute(sql: """
                INSERT INTO identity_member (source, record_key, customer_id, assigned_run)
                VALUES ('crm','1','1',1), ('crm','2','2',1), ('shop','a','1',1), ('shop','b','3',1), ('shop','c','2',1), ('shop','d','4',1);
                INSERT INTO churn_model (trained_at, run_id, reference_date, cutoff_date, window_days, train_rows, test_rows,
                    base_rate, accuracy, model_json) VALUES ('2027-01-01T00:00:00.000Z', 1, '2026-12-31', '2026-10-01', 91, 80, 20, 0.7, 0.83, '{}');
                """)
            for i in 1...100 {
                try db.execute(sql: "INSERT INTO customer_lookup_timing (at, duration_ms, results) VALUES (?, ?, 1)",
                               arguments: [Timestamp.string(MetricsCatalog.now.addingTimeInterval(-60)), Double(i)])
            }
        }
        // Records linked to another record: crm 1 and shop a, crm 2 and shop c (MatchRateTests).
        #expect(try c.measures().matchRate().value == 4.0 / 6.0)
        #expect(try c.measures().lookupP95().value == 0.095)       // 95th of 1…100 ms
        #expect(try c.measures().churnAccuracy().value == 0.83)
    }

    @Test func manualKPIsTakeTheLatestRecordedValue() throws {
        let c = try MetricsCatalog()
        let roi = KPIDefinition(name: "Marketing ROI", target: "4:1", baseline: "2:1")
        #expect(try c.measures().manual(roi).value == nil)
        try c.catalog.recordKPI(name: "marketing roi", value: 2.5, text: "2.5:1", at: now.addingTimeInterval(-86_400))
        try c.catalog.recordKPI(name: "Marketing  ROI", value: 3.1, text: "3.1:1", at: now.addingTimeInterval(-3600))
        try c.catalog.recordKPI(name: "Marketing ROI", value: 9, text: "9:1", at: now.addingTimeInterval(3600)) // the future
        #expect(try c.measures().manual(roi).value == 3.1)
    }
}

@Suite struct MetricsStatusTests {
    let now = MetricsCatalog.now

    func judge(_ name: String, _ target: String, _ value: Double?, baseline: String? = nil, due: String? = nil,
               history: [(Date, Double)] = []) -> KPIStatus {
        let d = KPIDefinition(name: name, target: target, baseline: baseline, due: due)
        let r = value.map { MeasureResult(value: $0, detail: "") } ?? .noData("nothing")
        return KPIEvaluator.judge(d, result: r, history: history, now: now)
    }

    @Test func metBreachedAndNoData() {
        #expect(judge("Data freshness", "< 1 hour", 1200).status == .met)
        #expect(judge("Data freshness", "< 1 hour", 7200).status == .breached)
        #expect(judge("Data freshness", "< 1 hour", nil).status == .noData)
        #expect(judge("Data quality score", "> 95%", 0.97).status == .met)
        #expect(judge("Data quality score", "> 95%", 0.90).status == .breached)
        #expect(judge("Marketing ROI", "4:1", 3.0, baseline: "2:1").status == .breached)
        #expect(judge("Marketing ROI", "4:1", 5.0, baseline: "2:1").status == .met)
        // A measure in another unit than its target: no data, with the reason.
        let wrong = judge("Data freshness", "> 95%", 100)
        #expect(wrong.status == .noData && wrong.reason.contains("seconds"))
    }

    @Test func atRiskWithinTenPercentOfTheMargin() {
        // < 1 hour: the margin is the hour; 55 minutes leaves under 6 minutes.
        #expect(judge("Data freshness", "< 1 hour", 55 * 60).status == .atRisk)
        #expect(judge("Data freshness", "< 1 hour", 50 * 60).status == .met)
        // > 95 %: the margin is the 5 points to 100 %; 95.4 % is within half a point.
        #expect(judge("Data quality score", "> 95%", 0.954).status == .atRisk)
        #expect(judge("Data quality score", "> 95%", 0.96).status == .met)
        // 4:1 from a 2:1 baseline: the margin is 2; 4.1 is within 0.2.
        #expect(judge("Marketing ROI", "4:1", 4.1, baseline: "2:1").status == .atRisk)
        #expect(judge("Marketing ROI", "4:1", 4.3, baseline: "2:1").status == .met)
    }

    @Test func atRiskWhenTrendingToBreachBeforeDue() {
        let day = 86_400.0
        // Quality falling a point a day from 99 % to 97 %: crosses 95 % in two days, due in 30 days.
        let falling = [(now.addingTimeInterval(-2 * day), 0.99), (now.addingTimeInterval(-day), 0.98)]
        let due = String(Timestamp.string(now.addingTimeInterval(30 * day)).prefix(10))
        let s = judge("Data quality score", "> 95%", 0.97, due: due, history: falling)
        #expect(s.status == .atRisk && s.reason.contains("trending"))
        // The same fall with the due date tomorrow: the crossing comes after it.
        let tomorrow = String(Timestamp.string(now.addingTimeInterval(day)).prefix(10))
        #expect(judge("Data quality score", "> 95%", 0.97, due: tomorrow, history: falling).status == .met)
        // Rising: no risk.
        let rising = [(now.addingTimeInterval(-2 * day), 0.95), (now.addingTimeInterval(-day), 0.96)]
        #expect(judge("Data quality score", "> 95%", 0.97, due: due, history: rising).status == .met)
    }

    @Test func evaluationStoresAMeasurementPerKPIAndBuildsTheTrend() throws {
        let c = try MetricsCatalog()
        try c.source("crm")
        try c.load("crm", ago: 600)
        let defs = [KPIDefinition(name: "Data freshness", target: "< 1 hour"), KPIDefinition(name: "Marketing ROI", target: "4:1")]
        for i in 0..<3 {
            let e = KPIEvaluator(definitions: defs, catalog: c.catalog, now: now.addingTimeInterval(Double(i) * 60))
            let s = try e.evaluate()
            #expect(s[0].status == .met)
            #expect(s[0].trend.count == i + 1)
            #expect(s[1].status == .noData)
        }
        let history = try c.catalog.kpiHistory("data freshness")
        #expect(history.map { $0.value } == [600, 660, 720])
        #expect(try c.catalog.kpiHistory("Marketing ROI").map(\.status) == [.noData, .noData, .noData])
    }
}

@Suite struct MetricsAnomalyTests {
    @Test func robustZScoreOnAPlantedOutlier() throws {
        let c = try MetricsCatalog()
        try c.source("crm")
        try c.source("shop")
        let normal = [1000, 1010, 990, 1005, 995, 1002, 998, 1001, 1003, 997, 1000, 999]
        for (i, n) in normal.enumerated() {
            try c.run(ago: Double(100 - i) * 3600, duration: 10 + Double(i % 3) * 0.5,
                      steps: [("crm", n, n - 5, 5), ("shop", 500, 500, 0)], quality: 0.97 + Double(i % 2) * 0.002)
        }
        let quiet = try AnomalyDetector().detect(catalog: c.catalog)
        #expect(quiet.isEmpty, "\(quiet.map(\.message))")
        // The planted outlier: crm loads 40 rows, and the run's quarantine rate jumps.
        let id = try c.run(ago: 3600, duration: 11, steps: [("crm", 40, 20, 20), ("shop", 500, 500, 0)], quality: 0.971)
        let found = try AnomalyDetector().detect(catalog: c.catalog)
        let rows = try #require(found.first { $0.metric == .rowsLoaded })
        #expect(rows.subject == "crm" && rows.runId == id && rows.value == 20)
        #expect(rows.expectedLow > 900 && rows.expectedHigh < 1100 && rows.z < -3.5)
        #expect(found.contains { $0.metric == .quarantineRate })
        #expect(!found.contains { $0.subject == "shop" })
        #expect(!found.contains { $0.metric == .runDuration || $0.metric == .qualityScore })
        #expect(rows.message.contains("expected"))
        // With a window too short for the minimum history, nothing is judged.
        #expect(try AnomalyDetector(window: 3).detect(catalog: c.catalog).isEmpty)
    }

    @Test func scoreFallsBackWhenMADIsZero() {
        let d = AnomalyDetector()
        let flat = Array(repeating: 100.0, count: 10)
        #expect(d.score(100, history: flat).map { abs($0.z) < 3.5 } == true)
        #expect(d.score(150, history: flat).map { abs($0.z) > 3.5 } == true)
        #expect(d.score(100, history: [1, 2]) == nil)
    }
}
