import Foundation
import GRDB
import StewardCatalog

/// A current member of an audience.
public struct AudienceMember: Sendable, Equatable {
    public var customerId: String
    /// In the audience's control group: never sent, measured for lift.
    public var holdout: Bool
    public var enteredRun: Int64
    public var enteredAt: String
}

/// An audience as last materialised, with the counts of its latest run.
public struct AudienceSummary: Sendable, Equatable {
    public var name: String
    public var description: String
    public var rule: String
    public var channel: String?
    public var holdoutShare: Double
    public var windowSeconds: Double?
    /// Members, the holdout included.
    public var size: Int
    /// Members held out.
    public var holdout: Int
    /// Matched the rule but did not consent to the channel.
    public var excludedNoConsent: Int
    /// Since the previous materialisation.
    public var entered: Int
    public var left: Int
    public var runId: Int64
    public var materialisedAt: String
}

/// One customer entering or leaving an audience in a run.
public struct AudienceChange: Sendable, Equatable {
    public enum Kind: String, Sendable { case entered, left }
    public var audience: String
    public var runId: Int64
    public var customerId: String
    public var kind: Kind
    public var holdout: Bool
    public var at: String
}

/// One run's counts for an audience.
public struct AudienceRunCounts: Sendable, Equatable {
    public var runId: Int64
    public var at: String
    public var size: Int
    public var holdout: Int
    public var excludedNoConsent: Int
    public var entered: Int
    public var left: Int
    public var seconds: Double
}

extension Catalog {
    /// Every materialised audience with its latest run's counts, by name.
    public func audienceList() throws -> [AudienceSummary] {
        try pool.read { db in try Self.audienceList(db) }
    }

    public static func audienceList(_ db: Database) throws -> [AudienceSummary] {
        guard try db.tableExists("audience") else { return [] }
        return try Row.fetchAll(db, sql: """
            SELECT a.name, a.description, a.rule, a.channel, a.holdout_share, a.window_seconds, a.run_id, a.materialised_at,
                   COALESCE(r.size, 0), COALESCE(r.holdout, 0), COALESCE(r.excluded_no_consent, 0), COALESCE(r.entered, 0), COALESCE(r.left, 0)
            FROM audience a LEFT JOIN audience_run r ON r.audience = a.name AND r.run_id = a.run_id
            ORDER BY a.name
            """).map {
                AudienceSummary(name: $0[0], description: $0[1], rule: $0[2], channel: $0[3], holdoutShare: $0[4], windowSeconds: $0[5],
                                size: $0[8], holdout: $0[9], excludedNoConsent: $0[10], entered: $0[11], left: $0[12], runId: $0[6],
                                materialisedAt: $0[7])
            }
    }

    /// The audience's current members by customer id (holdout included; filter `holdout` to send).
    public func audienceMembers(_ name: String) throws -> [AudienceMember] {
        try pool.read { db in try Self.audienceMembers(db, name) }
    }

    public static func audienceMembers(_ db: Database, _ name: String) throws -> [AudienceMember] {
        guard try db.tableExists("audience_member") else { return [] }
        return try Row.fetchAll(db, sql: """
            SELECT customer_id, holdout, entered_run, entered_at FROM audience_member WHERE audience = ? ORDER BY customer_id
            """, arguments: [name]).map { AudienceMember(customerId: $0[0], holdout: $0[1], enteredRun: $0[2], enteredAt: $0[3]) }
    }

    /// Who entered and left, newest run first; of one run when given.
    public func audienceChanges(_ name: String, runId: Int64? = nil, limit: Int? = nil) throws -> [AudienceChange] {
        try pool.read { db in try Self.audienceChanges(db, name, runId: runId, limit: limit) }
    }

    public static func audienceChanges(_ db: Database, _ name: String, runId: Int64? = nil, limit: Int? = nil) throws -> [AudienceChange] {
        guard try db.tableExists("audience_change") else { return [] }
        var sql = "SELECT audience, run_id, customer_id, change, holdout, at FROM audience_change WHERE audience = ?"
        var args: [any DatabaseValueConvertible] = [name]
        if let runId { sql += " AND run_id = ?"; args.append(runId) }
        sql += " ORDER BY run_id DESC, id"
        if let limit { sql += " LIMIT ?"; args.append(limit) }
        return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map {
            AudienceChange(audience: $0[0], runId: $0[1], customerId: $0[2], kind: AudienceChange.Kind(rawValue: $0[3]) ?? .entered,
                           holdout: $0[4], at: $0[5])
        }
    }

    /// Each materialisation's counts for an audience, newest first.
    public func audienceRuns(_ name: String, limit: Int = 20) throws -> [AudienceRunCounts] {
        try pool.read { db in
            guard try db.tableExists("audience_run") else { return [] }
            return try Row.fetchAll(db, sql: """
                SELECT run_id, at, size, holdout, excluded_no_consent, entered, left, seconds FROM audience_run
                WHERE audience = ? ORDER BY run_id DESC LIMIT ?
                """, arguments: [name, limit]).map {
                    AudienceRunCounts(runId: $0[0], at: $0[1], size: $0[2], holdout: $0[3], excludedNoConsent: $0[4], entered: $0[5],
                                      left: $0[6], seconds: $0[7])
                }
        }
    }
}
