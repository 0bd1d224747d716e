import Foundation
import GRDB
import StewardCatalog

/// Treated vs holdout outcome of one audience: who converted (an order within the audience's window
/// after entering) and what they spent in it.
///
/// Method (stated in README): every customer who ever entered the audience counts once, in the group
/// it entered in (treated or holdout: intention to treat), from its first entry, once the window after
/// that entry has closed (a run measures as of its own time). Conversion rates
/// p_t = x_t / n_t and p_h = x_h / n_h; lift = p_t / p_h − 1, with a 95 % interval from the log
/// relative risk (Katz): exp(ln RR ± 1.96·√(1/x_t − 1/n_t + 1/x_h − 1/n_h)) − 1, undefined while
/// either group has no conversion. Incremental revenue = (revenue per treated member − revenue per
/// holdout member) × n_t: the revenue the treated group brought beyond what it would have without
/// the campaign, estimated from the holdout.
public struct LiftMeasurement: Sendable, Equatable {
    public var audience: String
    public var windowSeconds: Double
    public var treated: Int
    public var treatedConverted: Int
    public var holdout: Int
    public var holdoutConverted: Int
    public var treatedRevenue: Double
    public var holdoutRevenue: Double

    public init(audience: String, windowSeconds: Double, treated: Int, treatedConverted: Int, holdout: Int, holdoutConverted: Int,
                treatedRevenue: Double, holdoutRevenue: Double) {
        self.audience = audience; self.windowSeconds = windowSeconds
        self.treated = treated; self.treatedConverted = treatedConverted
        self.holdout = holdout; self.holdoutConverted = holdoutConverted
        self.treatedRevenue = treatedRevenue; self.holdoutRevenue = holdoutRevenue
    }

    public var treatedRate: Double? { treated > 0 ? Double(treatedConverted) / Double(treated) : nil }
    public var holdoutRate: Double? { holdout > 0 ? Double(holdoutConverted) / Double(holdout) : nil }

    /// p_t / p_h − 1 (0.25: the treated converted 25 % more often).
    public var lift: Double? {
        guard let pt = treatedRate, let ph = holdoutRate, ph > 0 else { return nil }
        return pt / ph - 1
    }

    /// The 95 % interval of `lift` (Katz log relative risk).
    public var liftInterval: (low: Double, high: Double)? {
        guard treatedConverted > 0, holdoutConverted > 0, let lift else { return nil }
        let variance = 1 / Double(treatedConverted) - 1 / Double(treated) + 1 / Double(holdoutConverted) - 1 / Double(holdout)
        let se = variance.squareRoot()
        let logRR = log(lift + 1)
        return (exp(logRR - 1.96 * se) - 1, exp(logRR + 1.96 * se) - 1)
    }

    /// Revenue beyond the holdout's rate, over the treated group.
    public var incrementalRevenue: Double? {
        guard treated > 0, holdout > 0 else { return nil }
        return (treatedRevenue / Double(treated) - holdoutRevenue / Double(holdout)) * Double(treated)
    }
}

public enum AudienceLift {
    /// The default conversion window when an audience declares none.
    public static let defaultWindow: TimeInterval = 30 * 86_400

    /// Measures one audience from its entries (`audience_change`) and the orders linked to its members.
    /// With `asOf`, only entrants whose window has closed by then count: one who entered yesterday has
    /// not had the time to convert, and counting it as a non-converter would dilute both groups' rates.
    public static func measure(_ db: Database, audience: String, window: TimeInterval?, asOf: Date? = nil) throws -> LiftMeasurement {
        let window = window ?? defaultWindow
        let closedBy = Timestamp.string(asOf.map { $0.addingTimeInterval(-window) } ?? .distantFuture)
        // First entry per customer, in the group of that entry. Orders: linked transactions.
        let row = try Row.fetchOne(db, sql: """
            WITH entrant AS (
                SELECT customer_id, holdout, MIN(at) AS entered_at FROM audience_change
                WHERE audience = ? AND change = 'entered' GROUP BY customer_id
                HAVING julianday(MIN(at)) <= julianday(?)
            ), outcome AS (
                SELECT e.customer_id, e.holdout,
                       COUNT(a.record_key) AS orders, COALESCE(SUM(a.amount), 0) AS revenue
                FROM entrant e
                LEFT JOIN customer_activity_link l ON l.customer_id = e.customer_id
                LEFT JOIN staged_activity a ON a.source = l.source AND a.record_key = l.record_key AND a.entity = 'transaction'
                    AND a.is_deleted = 0 AND julianday(a.occurred_at) > julianday(e.entered_at)
                    AND julianday(a.occurred_at) <= julianday(e.entered_at) + ? / 86400.0
                GROUP BY e.customer_id
            )
            SELECT COALESCE(SUM(holdout = 0), 0), COALESCE(SUM(holdout = 0 AND orders > 0), 0),
                   COALESCE(SUM(holdout = 1), 0), COALESCE(SUM(holdout = 1 AND orders > 0), 0),
                   COALESCE(SUM(CASE WHEN holdout = 0 THEN revenue END), 0), COALESCE(SUM(CASE WHEN holdout = 1 THEN revenue END), 0)
            FROM outcome
            """, arguments: [audience, closedBy, window])
        return LiftMeasurement(audience: audience, windowSeconds: window,
                               treated: row?[0] ?? 0, treatedConverted: row?[1] ?? 0, holdout: row?[2] ?? 0, holdoutConverted: row?[3] ?? 0,
                               treatedRevenue: row?[4] ?? 0, holdoutRevenue: row?[5] ?? 0)
    }

    /// Measures each audience and keeps the result in `audience_lift` (what KPIs and the console read).
    @discardableResult
    public static func refresh(_ catalog: Catalog, audiences: [(name: String, window: TimeInterval?)], now: Date = Date()) throws -> [LiftMeasurement] {
        try catalog.pool.write { db in
            var out: [LiftMeasurement] = []
            for a in audiences {
                let m = try measure(db, audience: a.name, window: a.window, asOf: now)
                let interval = m.liftInterval
                try db.execute(sql: """
                    INSERT INTO audience_lift (audience, measured_at, window_days, treated, treated_converted, holdout, holdout_converted,
                        treated_revenue, holdout_revenue, lift, lift_low, lift_high, incremental_revenue)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (audience) DO UPDATE SET measured_at = excluded.measured_at, window_days = excluded.window_days,
                        treated = excluded.treated, treated_converted = excluded.treated_converted, holdout = excluded.holdout,
                        holdout_converted = excluded.holdout_converted, treated_revenue = excluded.treated_revenue,
                        holdout_revenue = excluded.holdout_revenue, lift = excluded.lift, lift_low = excluded.lift_low,
                        lift_high = excluded.lift_high, incremental_revenue = excluded.incremental_revenue
                    """, arguments: [m.audience, Timestamp.string(now), m.windowSeconds / 86_400, m.treated, m.treatedConverted, m.holdout,
                                     m.holdoutConverted, m.treatedRevenue, m.holdoutRevenue, m.lift, interval?.low, interval?.high,
                                     m.incrementalRevenue])
                out.append(m)
            }
            // An audience no longer declared has no current measurement.
            let names = audiences.map(\.name)
            if names.isEmpty { try db.execute(sql: "DELETE FROM audience_lift") } else {
                try db.execute(sql: "DELETE FROM audience_lift WHERE audience NOT IN (\(names.map { _ in "?" }.joined(separator: ",")))",
                               arguments: StatementArguments(names))
            }
            return out
        }
    }
}

/// Everyone who entered an audience, once, in the group of its first entry: the population lift is
/// measured over (a simulated campaign's responses are drawn for it too).
public struct AudienceEntrant: Sendable, Equatable {
    public var customerId: String
    public var holdout: Bool
    public var enteredAt: Date
    /// The customer's record key in the source asked for (the smallest, when it has several).
    public var recordKey: String?
}

extension AudienceLift {
    /// Each entrant's record key is found through the customer index: left to itself SQLite chose the
    /// primary key's `source = ?` prefix and read the source's every member once per entrant (a 1 M demo's
    /// first run spent over an hour here). Parameters: audience, source.
    static let entrantsSQL = """
        WITH entrant AS (
            SELECT customer_id, holdout, MIN(at) AS entered_at FROM audience_change
            WHERE audience = ? AND change = 'entered' GROUP BY customer_id
        )
        SELECT e.customer_id, e.holdout, e.entered_at,
               (SELECT MIN(m.record_key) FROM identity_member m INDEXED BY identity_member_by_customer
                WHERE m.customer_id = e.customer_id AND m.source = ?)
        FROM entrant e ORDER BY e.customer_id
        """

    public static func entrants(_ catalog: Catalog, audience: String, keysIn source: String) throws -> [AudienceEntrant] {
        try catalog.pool.read { db in
            try Row.fetchAll(db, sql: entrantsSQL, arguments: [audience, source]).map {
                AudienceEntrant(customerId: $0[0], holdout: $0[1], enteredAt: Timestamp.date($0[2]) ?? .distantPast, recordKey: $0[3])
            }
        }
    }
}
