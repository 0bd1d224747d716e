import Foundation

/// Recency, frequency and monetary value of a customer's orders, scored in quintiles and named as
/// a segment.
///
/// ```swift
/// let scores = RFM.score([RFM.Values(recencyDays: 3, frequency: 9, monetary: 900), …])
/// scores[0].segment   // "Champions"
/// ```
public enum RFM {
    public struct Values: Sendable, Equatable {
        /// Days from the customer's last order to the latest order in the catalog.
        public var recencyDays: Int
        public var frequency: Int
        public var monetary: Double
        public init(recencyDays: Int, frequency: Int, monetary: Double) {
            self.recencyDays = recencyDays
            self.frequency = frequency
            self.monetary = monetary
        }
    }

    public struct Score: Sendable, Equatable {
        public var r: Int
        public var f: Int
        public var m: Int
        public var segment: String
    }

    /// The segment of customers without any linked order.
    public static let noOrders = "No orders"

    /// Scores every customer against the others: 5 is best (most recent, most frequent, highest spend).
    public static func score(_ values: [Values]) -> [Score] {
        // Recency: fewer days is better, so rank on the negated value.
        let r = quintiles(values.map { -Double($0.recencyDays) })
        let f = quintiles(values.map { Double($0.frequency) })
        let m = quintiles(values.map(\.monetary))
        return values.indices.map { i in
            Score(r: r[i], f: f[i], m: m[i], segment: segment(r: r[i], f: f[i], m: m[i], frequency: values[i].frequency))
        }
    }

    /// Quintile 1…5 of each value (higher value, higher quintile). Equal values share the quintile of
    /// the first of them in ascending order, so a value held by most customers (one order) does not
    /// spread over several quintiles by input order.
    public static func quintiles(_ xs: [Double]) -> [Int] {
        let n = xs.count
        guard n > 0 else { return [] }
        let order = xs.indices.sorted { xs[$0] < xs[$1] }
        var result = [Int](repeating: 1, count: n)
        var firstRank = 0
        for (rank, i) in order.enumerated() {
            if rank > 0 && xs[i] != xs[order[rank - 1]] { firstRank = rank }
            result[i] = 1 + firstRank * 5 / n
        }
        return result
    }

    /// The usual RFM segment map, on recency and the mean of frequency and monetary scores (FM).
    /// First match wins.
    public static func segment(r: Int, f: Int, m: Int, frequency: Int) -> String {
        let fm = (f + m + 1) / 2
        if r >= 4 && fm >= 4 { return "Champions" }
        if r >= 3 && fm >= 4 { return "Loyal" }
        if r >= 4 && frequency <= 1 { return "New" }
        if r >= 4 { return "Potential loyalists" }
        if r == 3 { return "Need attention" }
        if fm >= 4 { return "At risk" }
        if r == 2 { return "About to sleep" }
        return "Hibernating"
    }
}
