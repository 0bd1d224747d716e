import Foundation
import GRDB
import StewardCatalog
import StewardConfig

/// The marketing KPIs measured from data (issue 20): Marketing ROI from the audiences' holdout lift and
/// the campaign spend, User adoption from who used Steward. Without their data each falls back to the
/// value recorded by hand (`steward kpi record`), saying so.
extension Measures {
    /// Incremental revenue ÷ spend over the audiences some campaign spent on (`3.2:1`). Incremental
    /// revenue per audience is the holdout estimate kept in `audience_lift` (StewardActivation's Lift);
    /// spend is the `entity: campaign` rows, staged with the audience in `customer_ref`.
    public func marketingROI(_ definition: KPIDefinition) throws -> MeasureResult {
        let data = try catalog.pool.read { db -> (spend: [(audience: String, amount: Double, campaigns: Int)], lift: [String: Double?])? in
            // Through the campaign sources' part of the (source, record_key) index: filtering on the
            // entity alone read every order and event (710 ms of `steward check`'s 1 s at a million customers).
            let spend = try Row.fetchAll(db, sql: """
                SELECT customer_ref, SUM(amount), COUNT(DISTINCT type) FROM staged_activity
                WHERE source IN (SELECT name FROM source WHERE entity = 'campaign')
                  AND entity = 'campaign' AND is_deleted = 0 AND amount IS NOT NULL AND customer_ref IS NOT NULL
                GROUP BY customer_ref ORDER BY customer_ref
                """).map { (audience: $0[0] as String, amount: $0[1] as Double, campaigns: $0[2] as Int) }
            guard !spend.isEmpty else { return nil }
            var lift: [String: Double?] = [:]
            if try db.tableExists("audience_lift") {
                for row in try Row.fetchAll(db, sql: "SELECT audience, incremental_revenue FROM audience_lift") { lift[row[0]] = row[1] as Double? }
            }
            return (spend, lift)
        }
        guard let data else {
            var manual = try self.manual(definition)
            if manual.value == nil {
                manual.detail = "no campaign spend: add a source with entity: campaign (campaign, audience, spend, date), or \(manual.detail)"
            } else {
                manual.detail += " (no campaign spend source to measure it from)"
            }
            return manual
        }
        var parts: [MeasureResult.Part] = []
        var incremental = 0.0, spend = 0.0
        for s in data.spend {
            spend += s.amount
            switch data.lift[s.audience] {
            case let value?? :
                incremental += value
                parts.append(MeasureResult.Part(label: s.audience, value: s.amount > 0 ? value / s.amount : nil,
                                                note: "incremental revenue \(Self.money(value)) ÷ spend \(Self.money(s.amount))"
                                                    + " (\(s.campaigns) campaign\(s.campaigns == 1 ? "" : "s"))"))
            case .some(nil):
                parts.append(MeasureResult.Part(label: s.audience, value: nil,
                                                note: "spend \(Self.money(s.amount)); no lift yet (treated or holdout group empty)"))
            case nil:
                parts.append(MeasureResult.Part(label: s.audience, value: nil,
                                                note: "spend \(Self.money(s.amount)); not a materialised audience, no lift measured"))
            }
        }
        guard spend > 0 else { return MeasureResult(value: nil, detail: "campaign spend totals 0", parts: parts) }
        return MeasureResult(value: incremental / spend,
                             detail: "incremental revenue \(Self.money(incremental)) ÷ spend \(Self.money(spend)) over \(data.spend.count) audience\(data.spend.count == 1 ? "" : "s")",
                             parts: parts)
    }

    /// Distinct OS users who used Steward (console or CLI: the usage log; any writing action: the audit
    /// log) in the last 30 days ÷ the team size declared in steward.yml (`team: 12` or a list of user
    /// names, then only those users count).
    public func userAdoption(_ definition: KPIDefinition) throws -> MeasureResult {
        guard let team, team.size > 0 else {
            var manual = try self.manual(definition)
            if manual.value == nil { manual.detail = "declare the team in steward.yml (team: 12, or a list of user names), or \(manual.detail)" }
            return manual
        }
        let since = now.addingTimeInterval(-Self.adoptionWindow)
        let found = try UsageLog.users(catalog: catalog, since: since)
        let counted = team.members.isEmpty ? found.users : found.users.intersection(team.members)
        let value = min(1, Double(counted.count) / Double(team.size))
        var parts = counted.sorted().map { MeasureResult.Part(label: $0, value: 1, note: "used Steward in the last 30 days") }
        if !team.members.isEmpty {
            parts += team.members.filter { !counted.contains($0) }.sorted()
                .map { MeasureResult.Part(label: $0, value: 0, note: "no use in the last 30 days") }
        }
        let outside = team.members.isEmpty ? 0 : found.users.subtracting(team.members).count
        return MeasureResult(value: value,
                             detail: "\(counted.count) of \(team.size) team members used Steward in the last 30 days"
                                 + (outside > 0 ? " (\(outside) other user\(outside == 1 ? "" : "s") not in team:)" : ""),
                             parts: parts)
    }

    public static let adoptionWindow: TimeInterval = 30 * 86_400

    static func money(_ v: Double) -> String {
        let n = Int(v.rounded())
        let digits = String(abs(n))
        var out = ""
        for (i, ch) in digits.reversed().enumerated() { if i > 0 && i % 3 == 0 { out.append(",") }; out.append(ch) }
        return (n < 0 ? "-" : "") + String(out.reversed())
    }
}
