import Foundation

/// The demo's marketing campaign (issue 20), with a lift the generator plants and therefore knows.
///
/// The campaign targets `audience`. Its outcome can only be written once the audience exists: holdout
/// membership is a hash of the golden customer id, which identity resolution assigns. So the demo runs
/// in two steps: the first run materialises the audience "as of" the demo calendar's end
/// (`enteredAt`), then `responses` writes the orders the audience's members placed within the window
/// after entering — a member held out converts with `baselineConversion`, a treated member with
/// `baselineConversion × (1 + trueLift)`, each order `meanOrder` on average — and the next run loads
/// them. The spend (`spendCSV`) is written with the other sources.
public enum DemoCampaign {
    public static let audience = "win_back"
    public static let baselineConversion = 0.30
    public static let trueLift = 0.50
    public static let meanOrder = 80.0
    public static let window: TimeInterval = 30 * 86_400
    /// When the demo's first run materialises the audiences: the last second of the demo calendar (its orders all come before).
    public static let enteredAt = Date(timeIntervalSince1970: Double(DemoCalendar.days(2024, 6, 30)) * 86_400 + 86_399)

    public static let spendFile = "sources/marketing/campaign_spend.csv"
    /// campaign, audience, spend, date.
    public static let spend: [(campaign: String, audience: String, amount: Double, date: String)] = [
        ("win_back_july_email", "win_back", 450, "2024-07-01"),
        ("win_back_july_retarget", "win_back", 300, "2024-07-08"),
        ("high_value_preview", "high_value", 250, "2024-07-01"),
    ]

    static func spendCSV() -> String {
        "campaign,audience,spend,date\n" + spend.map { "\($0.campaign),\($0.audience),\(String(format: "%.2f", $0.amount)),\($0.date)" }
            .joined(separator: "\n") + "\n"
    }

    /// One entrant of the audience: its group, when it entered, and its record key in the order source
    /// (nil: it has no shop account, so it cannot order there, in either group).
    public struct Member: Sendable {
        public var customerId: String
        public var holdout: Bool
        public var enteredAt: Date
        public var shopCustomerKey: String?
        public init(customerId: String, holdout: Bool, enteredAt: Date, shopCustomerKey: String?) {
            self.customerId = customerId; self.holdout = holdout; self.enteredAt = enteredAt; self.shopCustomerKey = shopCustomerKey
        }
    }

    /// What the planted effect is, for the members given.
    public struct Truth: Sendable, Equatable {
        /// Relative lift of the conversion rate (treated ÷ holdout − 1): the planted `trueLift`, since
        /// members who cannot order lower both groups' rates alike.
        public var lift: Double
        /// Expected revenue the campaign added: Σ over treated members who can order of the extra
        /// conversion probability × the mean order.
        public var expectedIncrementalRevenue: Double
        public var spend: Double
        public var expectedROI: Double { spend > 0 ? expectedIncrementalRevenue / spend : 0 }
    }

    /// The campaign's orders as rows of the shop's orders file (`order_id,customer_id,order_date,total,
    /// currency,status,items`), deterministic for a seed, and the truth they were drawn from.
    public static func responses(members: [Member], seed: UInt64) -> (rows: String, orders: Int, truth: Truth) {
        var rng = DemoRNG(seed: seed, stream: 20)
        var rows = "", orders = 0, expected = 0.0
        let treatedRate = baselineConversion * (1 + trueLift)
        for m in members.sorted(by: { $0.customerId < $1.customerId }) {
            guard let key = m.shopCustomerKey else { continue }
            let rate = m.holdout ? baselineConversion : treatedRate
            if !m.holdout { expected += (treatedRate - baselineConversion) * meanOrder }
            guard rng.chance(rate) else { continue }
            orders += 1
            // A day 1 to 29 after entering (whole days: always after the entry, inside the window).
            let day = Int(m.enteredAt.timeIntervalSince1970 / 86_400) + rng.range(1, 29)
            let (y, mo, d) = DemoCalendar.civil(day)
            let total = meanOrder * (0.5 + rng.unit())   // uniform on [40, 120): mean 80
            rows += "CMP\(String(format: "%06d", orders)),\(key),\(String(format: "%04d-%02d-%02d", y, mo, d)),"
                + "\(String(format: "%.2f", total)),USD,delivered,1\n"
        }
        let spent = spend.filter { $0.audience == audience }.reduce(0) { $0 + $1.amount }
        return (rows, orders, Truth(lift: trueLift, expectedIncrementalRevenue: expected, spend: spent))
    }
}
