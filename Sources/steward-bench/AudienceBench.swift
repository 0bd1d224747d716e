import Foundation
import GRDB
import StewardActivation
import StewardCatalog
import StewardConfig
import StewardDemo

/// `steward-bench audiences --customers N`: five audiences materialised over N golden customers
/// written straight into a fresh catalog (traits, scores, consent), then again after ~5 % of the
/// customers changed: the first run and the diff run each timed (goal: ≤ 5 s at 1 M, release).
func measureAudiences(customers n: Int, in dir: URL) throws -> [String: Any] {
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let yml = dir.appendingPathComponent("steward.yml")
    try """
    name: audience-bench
    catalog: catalog.sqlite
    sources:
      - {name: crm, system: crm, entity: person, format: csv, path: crm.csv, key: id,
         consent: {channel: email, granted: ok, at: at}, traits: {income: {column: income, type: number}}}
    audiences:
      - {name: win_back, where: "segment in ['At risk', 'About to sleep'] and orders >= 2 and last_order_at < 2024-04-01", channel: email, holdout: 10%}
      - {name: high_value, where: "revenue >= 800 and churn_score < 0.5", holdout: 10%}
      - {name: first_order, where: "orders = 0", channel: email}
      - {name: rich, where: "income > 90000 or (city = 'Paris' and revenue > 300)", holdout: 5%}
      - {name: lapsed, where: "not (last_order_at >= 2024-03-01) and orders > 0 and consent_email"}

    """.write(to: yml, atomically: true, encoding: .utf8)
    let config = try ConfigLoader.load(yml)
    let catalog = try Catalog.open(at: config.catalogURL)
    let segments = ["Champions", "Loyal", "New", "Potential loyalists", "Need attention", "At risk", "About to sleep", "Hibernating"]
    let cities = ["Paris", "Berlin", "Austin", "Leeds", "Porto", "Osaka"]
    /// Writes (or rewrites) the traits of customers `ids` from a generator of the given version.
    func fill(_ db: Database, _ range: Range<Int>, version: UInt64) throws {
        var golden = try BulkRows(db, insertInto: "golden_customer", columns: ["customer_id", "first_name", "city", "country", "provenance_json", "updated_run"],
                                  then: "ON CONFLICT (customer_id) DO UPDATE SET city = excluded.city")
        var totals = try BulkRows(db, insertInto: "customer_activity_total", columns: ["customer_id", "orders", "revenue", "last_order_at", "tickets", "events"],
                                  then: "ON CONFLICT (customer_id) DO UPDATE SET orders = excluded.orders, revenue = excluded.revenue, last_order_at = excluded.last_order_at")
        var scores = try BulkRows(db, insertInto: "customer_score", columns: ["customer_id", "frequency", "monetary", "segment", "churn_score", "run_id"],
                                  then: "ON CONFLICT (customer_id) DO UPDATE SET segment = excluded.segment, churn_score = excluded.churn_score")
        var consent = try BulkRows(db, insertInto: "customer_consent", columns: ["customer_id", "channel", "granted", "at", "source", "record_key", "changed_run"],
                                   then: "ON CONFLICT (customer_id, channel) DO UPDATE SET granted = excluded.granted")
        var traits = try BulkRows(db, insertInto: "customer_trait", columns: ["customer_id", "name", "value", "source", "record_key"],
                                  then: "ON CONFLICT (customer_id, name) DO UPDATE SET value = excluded.value")
        for i in range {
            var rng = SplitMix64(state: UInt64(i) &* 0x9E37_79B9_7F4A_7C15 ^ version)
            let id = String(format: "C%08d", i + 1)
            let orders = Int(rng.next() % 8)
            let revenue = Double(orders) * Double(20 + rng.next() % 300)
            golden.text(id); golden.text("P\(i)"); golden.text(cities[Int(rng.next() % UInt64(cities.count))]); golden.text("US")
            golden.text("{}"); golden.int(1); try golden.endRow(db)
            totals.text(id); totals.int(orders); totals.real(revenue)
            totals.text(orders == 0 ? nil : String(format: "2024-%02d-%02d", 1 + rng.next() % 6, 1 + rng.next() % 28)); totals.int(0); totals.int(0)
            try totals.endRow(db)
            scores.text(id); scores.int(orders); scores.real(revenue); scores.text(orders == 0 ? "No orders" : segments[Int(rng.next() % UInt64(segments.count))])
            scores.real(orders == 0 ? nil : Double(rng.next() % 1000) / 1000); scores.int(1); try scores.endRow(db)
            consent.text(id); consent.text("email"); consent.int(rng.next() % 10 < 7); consent.text("2024-01-01"); consent.text("crm"); consent.text(id)
            consent.int(1); try consent.endRow(db)
            traits.text(id); traits.text("income"); traits.text(String(20_000 + rng.next() % 100_000)); traits.text("crm"); traits.text(id)
            try traits.endRow(db)
        }
        try golden.finish(db); try totals.finish(db); try scores.finish(db); try consent.finish(db); try traits.finish(db)
    }
    var started = Date()
    try catalog.write(large: true) { db in try fill(db, 0..<n, version: 1) }
    let setup = Date().timeIntervalSince(started)
    let materialiser = AudienceMaterialiser(config: config, now: Date(timeIntervalSince1970: 1_720_000_000))
    started = Date()
    let first = try catalog.write(large: true) { db in try materialiser.materialise(db, runId: 1) }
    let firstSeconds = Date().timeIntervalSince(started)
    // ~5 % of customers change (every 20th): new orders, segments, consent and income.
    try catalog.write(large: true) { db in
        for start in stride(from: 0, to: n, by: 20) { try fill(db, start..<(start + 1), version: 2) }
    }
    started = Date()
    let second = try catalog.write(large: true) { db in try materialiser.materialise(db, runId: 2) }
    let diffSeconds = Date().timeIntervalSince(started)
    func describe(_ outcomes: [AudienceMaterialiser.Outcome]) -> [[String: Any]] {
        outcomes.map { ["audience": $0.audience, "size": $0.size, "holdout": $0.holdout, "excluded_no_consent": $0.excludedNoConsent,
                        "entered": $0.entered, "left": $0.left, "seconds": $0.seconds] }
    }
    return ["customers": n, "audiences": config.audiences.count, "setup_seconds": setup,
            "first_run_seconds": firstSeconds, "diff_run_seconds": diffSeconds, "goal_seconds": 5.0,
            "first_run": describe(first), "diff_run": describe(second)]
}
