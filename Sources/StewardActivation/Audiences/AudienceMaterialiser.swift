import Foundation
import GRDB
import StewardCatalog
import StewardConfig

/// Materialises each audience of steward.yml over the golden customers' traits: members are the
/// customers the rule holds for (and, with a channel, who consent to it), a deterministic share
/// flagged holdout; the difference from the previous membership is recorded as entered and left.
public struct AudienceMaterialiser {
    public var config: ProjectConfig
    /// What `30d ago` counts from.
    public var now: Date

    public init(config: ProjectConfig, now: Date = Date()) {
        self.config = config
        self.now = now
    }

    public struct Outcome: Sendable, Equatable {
        public var audience: String
        public var size: Int
        public var holdout: Int
        public var excludedNoConsent: Int
        public var entered: Int
        public var left: Int
        public var seconds: Double
    }

    /// Evaluates every audience and writes membership, changes and counts (inside the caller's write).
    @discardableResult
    public func materialise(_ db: Database, runId: Int64) throws -> [Outcome] {
        let at = Timestamp.string(now)
        var traits: [String] = []
        for a in config.audiences {
            for t in a.expr.traits where !traits.contains(t) { traits.append(t) }
            if let c = a.channel, !traits.contains(Traits.consentPrefix + c) { traits.append(Traits.consentPrefix + c) }
        }
        let table = try CustomerTraits.table(db, traits: traits, config: config)
        var outcomes: [Outcome] = []
        // Audiences reading the same trait share its conversion (dates parsed once, text folded once).
        var cache = RuleEvaluator.ColumnCache(table: table)
        for audience in config.audiences {
            let start = DispatchTime.now().uptimeNanoseconds
            let evaluator = RuleEvaluator(audience.expr, cache: &cache, now: now.timeIntervalSince1970)
            let consent = audience.channel.map { table.columns[Traits.consentPrefix + $0] ?? [] }
            var wanted: [String: Bool] = [:]
            wanted.reserveCapacity(table.ids.count / 4)
            var excluded = 0
            for row in table.ids.indices where evaluator.matches(row) {
                if let consent, consent[row] != .bool(true) { excluded += 1; continue }
                let id = table.ids[row]
                wanted[id] = Holdout.isHeldOut(audience: audience.name, customerId: id, share: audience.holdout)
            }
            var outcome = try apply(db, audience: audience.name, wanted: wanted, runId: runId, at: at)
            outcome.excludedNoConsent = excluded
            try db.execute(sql: """
                INSERT OR REPLACE INTO audience (name, description, rule, channel, holdout_share, window_seconds, run_id, materialised_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [audience.name, audience.description, audience.rule, audience.channel, audience.holdout, audience.window, runId, at])
            outcome.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            try db.execute(sql: """
                INSERT OR REPLACE INTO audience_run (audience, run_id, at, size, holdout, excluded_no_consent, entered, left, seconds)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [audience.name, runId, at, outcome.size, outcome.holdout, excluded, outcome.entered, outcome.left, outcome.seconds])
            outcomes.append(outcome)
        }
        // Audiences removed from steward.yml: every member leaves, then the audience goes.
        let names = Set(config.audiences.map(\.name))
        for gone in try String.fetchAll(db, sql: "SELECT name FROM audience") where !names.contains(gone) {
            _ = try apply(db, audience: gone, wanted: [:], runId: runId, at: at)
            try db.execute(sql: "DELETE FROM audience WHERE name = ?", arguments: [gone])
        }
        return outcomes
    }

    /// Moves an audience's stored membership to `wanted` (customer → holdout), recording each change.
    func apply(_ db: Database, audience: String, wanted: [String: Bool], runId: Int64, at: String) throws -> Outcome {
        var current: [String: Bool] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT customer_id, holdout FROM audience_member WHERE audience = ?", arguments: [audience])
        while let r = try rows.next() { current[r[0]] = (r[1] as Int) == 1 }
        var out = Outcome(audience: audience, size: wanted.count, holdout: wanted.values.filter { $0 }.count, excludedNoConsent: 0,
                          entered: 0, left: 0, seconds: 0)
        var changes = try BulkRows(db, insertInto: "audience_change", columns: ["audience", "run_id", "customer_id", "change", "holdout", "at"])
        var members = try BulkRows(db, insertInto: "audience_member", columns: ["audience", "customer_id", "holdout", "entered_run", "entered_at"])
        let remove = try db.makeStatement(sql: "DELETE FROM audience_member WHERE audience = ? AND customer_id = ?")
        let flip = try db.makeStatement(sql: "UPDATE audience_member SET holdout = ? WHERE audience = ? AND customer_id = ?")
        // Sorted, so the change log reads in id order within a run.
        for id in current.keys.sorted() where wanted[id] == nil {
            try remove.execute(arguments: [audience, id])
            changes.text(audience); changes.int(runId); changes.text(id); changes.text("left"); changes.int(current[id]!); changes.text(at)
            try changes.endRow(db)
            out.left += 1
        }
        for id in wanted.keys.sorted() {
            let holdout = wanted[id]!
            if let was = current[id] {
                // The holdout share changed: the member stays, its group follows the share.
                if was != holdout { try flip.execute(arguments: [holdout ? 1 : 0, audience, id]) }
                continue
            }
            members.text(audience); members.text(id); members.int(holdout); members.int(runId); members.text(at)
            try members.endRow(db)
            changes.text(audience); changes.int(runId); changes.text(id); changes.text("entered"); changes.int(holdout); changes.text(at)
            try changes.endRow(db)
            out.entered += 1
        }
        try members.finish(db)
        try changes.finish(db)
        return out
    }
}
