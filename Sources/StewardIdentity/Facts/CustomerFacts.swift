import Foundation
import GRDB
import StewardCatalog
import StewardPipeline
import StewardConfig

/// The run extension after identity resolution: addresses, activity links, RFM segments and the
/// churn model, in one transaction.
public struct CustomerFactsStep: RunExtension {
    public let name = "facts"
    public init() {}

    public func afterLoad(runId: Int64, summary: RunSummary, config: ProjectConfig, catalog: Catalog,
                          progress: ProgressReporter) throws -> String? {
        try CustomerFacts(catalog: catalog).update(runId: runId).summary
    }
}

/// Keeps the customer facts in step with identity resolution and the staged activity. Skips the work
/// (changing nothing) when neither the latest matching pass nor the live activity changed; rebuilds
/// the address links only when the matching pass changed.
public struct CustomerFacts: Sendable {
    public let catalog: Catalog
    /// With at least this many activity rows the facts are one large write (`Catalog.write(large:)`).
    public var largeWriteMinimumRows = Catalog.largeWriteMinimumRows

    public init(catalog: Catalog) { self.catalog = catalog }

    public struct Outcome: Sendable {
        public var changed: Bool
        public var activities = 0
        public var linked = 0
        public var addresses = 0
        public var customers = 0
        public var model: ChurnTraining?
        /// Why no model was trained, when none was.
        public var skipped: String?
        public var seconds: [String: Double] = [:]

        public var summary: String {
            guard changed else { return "unchanged" }
            var s = "\(linked)/\(activities) activities linked, \(addresses) addresses, \(customers) customers scored"
            if let m = model {
                s += String(format: "; churn model accuracy %.3f (majority %.3f)", m.accuracy, m.baseRate)
                if let auc = m.auc { s += String(format: ", AUC %.3f", auc) }
            } else if let skipped { s += "; no churn model: \(skipped)" }
            let total = seconds.values.reduce(0, +)
            return s + String(format: " in %.2fs", total)
        }
    }

    @discardableResult
    public func update(runId: Int64, force: Bool = false) throws -> Outcome {
        // The highest rowid counts the activity rows without a scan (deleted ones too: close enough).
        let activityRows = try catalog.pool.read { try Int.fetchOne($0, sql: "SELECT MAX(rowid) FROM staged_activity") } ?? 0
        return try catalog.write(large: activityRows >= largeWriteMinimumRows) { db in
            let identity = try String.fetchOne(db, sql: "SELECT run_id || ':' || at FROM identity_run ORDER BY run_id DESC LIMIT 1") ?? "none"
            let act = try Row.fetchOne(db, sql: """
                SELECT COUNT(*), COALESCE(MAX(updated_run), 0), COALESCE(SUM(updated_run), 0), COALESCE(SUM(is_deleted), 0) FROM staged_activity
                """)!
            let activity = "\(act[0] as Int)/\(act[1] as Int)/\(act[2] as Int)/\(act[3] as Int)"
            let fingerprint = "v1;identity \(identity);activity \(activity)"
            let last = try String.fetchOne(db, sql: "SELECT fingerprint FROM customer_facts_run ORDER BY run_id DESC LIMIT 1")
            if !force && last == fingerprint { return Outcome(changed: false) }
            let identityChanged = force || last?.contains("identity \(identity);") != true

            var out = Outcome(changed: true)
            var clock = Clock()
            let at = Timestamp.now()
            if identityChanged {
                out.addresses = try AddressDimension.update(db, runId: runId, at: at).addresses
                clock.lap("addresses")
            } else {
                out.addresses = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT address_key) FROM customer_address WHERE sources > 0") ?? 0
            }
            var histories = try Self.emptyHistories(db)
            let support = try Self.supportSources(db)
            let links = try ActivityLinks.update(db, runId: runId) { Self.add($0, to: &histories, support: support) }
            out.activities = links.activities
            out.linked = links.linked
            clock.lap("links")
            var modelId: Int64?
            do {
                let m = try ChurnTraining.train(histories)
                out.model = m
                modelId = try Self.store(m, db, runId: runId, at: at)
            } catch let skip as ChurnTraining.Skip {
                out.skipped = skip.description
            }
            clock.lap("churn")
            out.customers = try Self.writeScores(db, histories: histories, model: out.model, modelId: modelId, runId: runId)
            clock.lap("scores")
            out.seconds = clock.laps
            var detail: [String: Any] = ["seconds": clock.laps, "cpu_seconds": clock.cpuLaps, "activity_links_changed": links.changed]
            if let s = out.skipped { detail["churn_skipped"] = s }
            let detailJSON = String(decoding: try JSONSerialization.data(withJSONObject: detail, options: [.sortedKeys]), as: UTF8.self)
            try db.execute(sql: """
                INSERT OR REPLACE INTO customer_facts_run (run_id, at, fingerprint, activities, linked, addresses, model_id, detail_json)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [runId, at, fingerprint, out.activities, out.linked, out.addresses, modelId, detailJSON])
            return out
        }
    }

    /// Erases a customer from the facts: score, activity links, address links, and the addresses no
    /// other customer has had (a street is personal data). For a "forget" request, together with the
    /// customer's identity rows and staged records.
    public static func forget(_ db: Database, customerId: String) throws {
        try db.execute(sql: "DELETE FROM customer_score WHERE customer_id = ?", arguments: [customerId])
        try db.execute(sql: "DELETE FROM customer_activity_link WHERE customer_id = ?", arguments: [customerId])
        let keys = try Int64.fetchAll(db, sql: "SELECT address_key FROM customer_address WHERE customer_id = ?", arguments: [customerId])
        try db.execute(sql: "DELETE FROM customer_address WHERE customer_id = ?", arguments: [customerId])
        for key in keys {
            try db.execute(sql: """
                DELETE FROM address_dim WHERE address_key = ?1 AND NOT EXISTS (SELECT 1 FROM customer_address WHERE address_key = ?1)
                """, arguments: [key])
        }
    }

    /// Each active customer with an empty history, filled by `add` as the links pass reads the activity.
    static func emptyHistories(_ db: Database) throws -> [String: ActivityHistory] {
        var result: [String: ActivityHistory] = [:]
        let ids = try String.fetchAll(db, sql: "SELECT customer_id FROM golden_customer")
        result.reserveCapacity(ids.count)
        for id in ids { result[id] = ActivityHistory() }
        return result
    }

    /// The sources whose events are support tickets.
    static func supportSources(_ db: Database) throws -> Set<String> {
        Set(try String.fetchAll(db, sql: "SELECT name FROM source WHERE system = 'support'"))
    }

    /// A linked, dated activity in its customer's history: an order, a support ticket or another event.
    static func add(_ a: ActivityLinks.Linked, to histories: inout [String: ActivityHistory], support: Set<String>) {
        // One hash of the id per row (3.3 M rows at a million customers), the history changed in place.
        guard let i = histories.index(forKey: a.customer), let at = a.occurredAt, let day = Self.day(at) else { return }
        if a.entity == "transaction" { histories.values[i].orders.append((day, a.amount ?? 0)) }
        else if support.contains(a.source) { histories.values[i].tickets.append(day) }
        else { histories.values[i].events.append(day) }
    }

    /// Each active customer's linked, dated activity, read back from the stored links (tests check
    /// it equals what the links pass builds).
    static func histories(_ db: Database) throws -> [String: ActivityHistory] {
        var result = try emptyHistories(db)
        let support = try supportSources(db)
        let rows = try Row.fetchCursor(db, sql: """
            SELECT l.customer_id, a.source, a.entity, a.occurred_at, a.amount
            FROM customer_activity_link l JOIN staged_activity a ON a.source = l.source AND a.record_key = l.record_key
            WHERE a.is_deleted = 0 ORDER BY a.rowid
            """)
        while let r = try rows.next() {
            add(ActivityLinks.Linked(customer: r[0], source: r[1], entity: r[2], occurredAt: r[3], amount: r[4]), to: &result, support: support)
        }
        return result
    }

    /// Days since 1970-01-01 of an ISO date or timestamp ("2024-06-30T…").
    static func day(_ iso: String) -> Int? {
        let b = Array(iso.utf8.prefix(10))
        guard b.count == 10, b[4] == 0x2D, b[7] == 0x2D else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r { guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }; v = v * 10 + Int(b[i] - 0x30) }
            return v
        }
        guard let y = num(0..<4), let m = num(5..<7), let d = num(8..<10), (1...12).contains(m), (1...31).contains(d) else { return nil }
        // Days from civil (Howard Hinnant's algorithm).
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func dateString(_ day: Int) -> String {
        String(Timestamp.string(Date(timeIntervalSince1970: Double(day) * 86_400)).prefix(10))
    }

    static func store(_ m: ChurnTraining, _ db: Database, runId: Int64, at: String) throws -> Int64 {
        var model: [String: Any] = ["features": ChurnTraining.featureNames, "means": m.model.means, "scales": m.model.scales,
                                    "weights": m.model.weights, "bias": m.model.bias, "iterations": m.model.iterations,
                                    "held_out_share": ChurnTraining.heldOutShare, "split_seed": ChurnTraining.splitSeed]
        model["label"] = "no order in the \(m.windowDays) days after the cutoff"
        let json = String(decoding: try JSONSerialization.data(withJSONObject: model, options: [.sortedKeys]), as: UTF8.self)
        try db.execute(sql: """
            INSERT INTO churn_model (trained_at, run_id, reference_date, cutoff_date, window_days, train_rows, test_rows, base_rate,
                accuracy, auc, model_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [at, runId, dateString(m.referenceDay), dateString(m.cutoffDay), m.windowDays, m.trainRows, m.testRows,
                             m.baseRate, m.accuracy, m.auc, json])
        return db.lastInsertedRowID
    }

    /// Rewrites `customer_score`: RFM against the latest order in the catalog, and the churn score.
    static func writeScores(_ db: Database, histories: [String: ActivityHistory], model: ChurnTraining?, modelId: Int64?,
                            runId: Int64) throws -> Int {
        // Customers in id order with their histories, and their RFM by position: no lookups by id.
        let customers = histories.sorted { $0.key < $1.key }
        let latest = histories.values.lazy.flatMap { $0.orders.map(\.day) }.max() ?? 0
        let buyers = customers.indices.filter { !customers[$0].value.orders.isEmpty }
        let values = buyers.map { i -> RFM.Values in
            let o = customers[i].value.orders
            return RFM.Values(recencyDays: latest - o.map(\.day).max()!, frequency: o.count, monetary: o.reduce(0) { $0 + max(0, $1.amount) })
        }
        let scores = RFM.score(values)
        var rfm = [(RFM.Values, RFM.Score)?](repeating: nil, count: customers.count)
        for (k, i) in buyers.enumerated() { rfm[i] = (values[k], scores[k]) }
        try db.execute(sql: "DELETE FROM customer_score")
        var deferred = DeferredIndexes()
        try deferred.drop(db, table: "customer_score")
        var insert = try BulkRows(db, insertInto: "customer_score", columns: [
            "customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "segment", "churn_score", "model_id", "run_id"])
        for (i, (id, history)) in customers.enumerated() {
            let churn = model?.score(history)
            insert.text(id)
            if let (v, s) = rfm[i] {
                insert.int(v.recencyDays); insert.int(v.frequency); insert.real(v.monetary)
                insert.int(s.r); insert.int(s.f); insert.int(s.m); insert.text(s.segment)
                insert.real(churn); insert.int(churn == nil ? nil : modelId)
            } else {
                insert.int(nil as Int64?); insert.int(0); insert.real(0); insert.int(nil as Int64?); insert.int(nil as Int64?)
                insert.int(nil as Int64?); insert.text(RFM.noOrders); insert.real(nil); insert.int(nil as Int64?)
            }
            insert.int(runId)
            try insert.endRow(db)
        }
        try insert.finish(db)
        try deferred.restore(db)
        return customers.count
    }
}
