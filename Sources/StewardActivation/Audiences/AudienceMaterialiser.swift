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
            // In the table's order (customer id, bytewise), which the stored membership is read in too.
            var wanted: [Member] = []
            wanted.reserveCapacity(table.ids.count / 4)
            var excluded = 0
            for row in table.ids.indices where evaluator.matches(row) {
                if let consent, consent[row] != .bool(true) { excluded += 1; continue }
                let id = table.ids[row]
                wanted.append(Member(id: id, holdout: Holdout.isHeldOut(audience: audience.name, customerId: id, share: audience.holdout)))
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
            _ = try apply(db, audience: gone, wanted: [], runId: runId, at: at)
            try db.execute(sql: "DELETE FROM audience WHERE name = ?", arguments: [gone])
        }
        return outcomes
    }

    struct Member {
        var id: String
        var holdout: Bool
    }

    /// Moves an audience's stored membership to `wanted` (sorted by customer id, bytewise, as SQLite
    /// orders text), recording each change: one merge of two sorted lists, no sets or sorts.
    func apply(_ db: Database, audience: String, wanted: [Member], runId: Int64, at: String) throws -> Outcome {
        var out = Outcome(audience: audience, size: wanted.count, holdout: wanted.reduce(0) { $0 + ($1.holdout ? 1 : 0) }, excludedNoConsent: 0,
                          entered: 0, left: 0, seconds: 0)
        var left: [Member] = [], entered: [Member] = [], flipped: [Member] = []
        let rows = try Row.fetchCursor(db, sql: "SELECT customer_id, holdout FROM audience_member WHERE audience = ? ORDER BY customer_id",
                                       arguments: [audience])
        var next = 0
        while let r = try rows.next() {
            let current = Member(id: r[0], holdout: (r[1] as Int) == 1)
            while next < wanted.count, wanted[next].id.utf8.lexicographicallyPrecedes(current.id.utf8) {
                entered.append(wanted[next]); next += 1
            }
            if next < wanted.count, wanted[next].id == current.id {
                // The holdout share changed: the member stays, its group follows the share.
                if wanted[next].holdout != current.holdout { flipped.append(wanted[next]) }
                next += 1
            } else {
                left.append(current)
            }
        }
        entered.append(contentsOf: wanted[next...])
        var changes = try BulkRows(db, insertInto: "audience_change", columns: ["audience", "run_id", "customer_id", "change", "holdout", "at"])
        var members = try BulkRows(db, insertInto: "audience_member", columns: ["audience", "customer_id", "holdout", "entered_run", "entered_at"])
        let remove = try db.makeStatement(sql: "DELETE FROM audience_member WHERE audience = ? AND customer_id = ?")
        let flip = try db.makeStatement(sql: "UPDATE audience_member SET holdout = ? WHERE audience = ? AND customer_id = ?")
        // Those who left, then those who entered, each in id order: the change log reads so within a run.
        for m in left {
            try remove.execute(arguments: [audience, m.id])
            changes.text(audience); changes.int(runId); changes.text(m.id); changes.text("left"); changes.int(m.holdout); changes.text(at)
            try changes.endRow(db)
        }
        for m in flipped { try flip.execute(arguments: [m.holdout ? 1 : 0, audience, m.id]) }
        for m in entered {
            members.text(audience); members.text(m.id); members.int(m.holdout); members.int(runId); members.text(at)
            try members.endRow(db)
            changes.text(audience); changes.int(runId); changes.text(m.id); changes.text("entered"); changes.int(m.holdout); changes.text(at)
            try changes.endRow(db)
        }
        out.left = left.count
        out.entered = entered.count
        try members.finish(db)
        try changes.finish(db)
        return out
    }
}
