import Foundation
import GRDB
import StewardCatalog

/// An audience's latest lift measurement as stored by the run (`audience_lift`).
public struct StoredLift: Sendable, Equatable {
    public var treated: Int
    public var treatedConverted: Int
    public var holdout: Int
    public var holdoutConverted: Int
    public var lift: Double?
    public var low: Double?
    public var high: Double?
    public var incrementalRevenue: Double?
    public var windowDays: Double
    public var measuredAt: String
}

/// One audience as the console's Audiences pane lists it: its latest counts, the size it had the run
/// before, its lift, and the last sync of each destination that was sent it.
public struct AudienceOverview: Sendable, Equatable {
    public var summary: AudienceSummary
    /// Size at the materialisation before the latest; nil when it has been materialised once.
    public var previousSize: Int?
    public var lift: StoredLift?
    /// Per destination that holds or was sent this audience: its last sync, with what it sent for this
    /// audience, by name.
    public var destinations: [AudienceSyncRecord]

    /// Members gained since the previous materialisation (negative: lost).
    public var delta: Int { summary.size - (previousSize ?? 0) }
}

/// A current member with the golden name and email (opened: display them through `PIIPolicy`).
public struct AudienceMemberRow: Sendable, Equatable {
    public var member: AudienceMember
    public var name: String?
    public var email: String?
}

/// What Enter on an audience shows: its runs, members (a page), and its destinations' sync history.
public struct AudienceDetail: Sendable, Equatable {
    public var overview: AudienceOverview
    public var runs: [AudienceRunCounts]
    public var memberCount: Int
    public var members: [AudienceMemberRow]
    /// Newest first, each with what it sent for this audience.
    public var syncHistory: [AudienceSyncRecord]
}

extension Catalog {
    /// Every materialised audience with its Δ, lift and destinations' last syncs, by name.
    public func audienceOverviews() throws -> [AudienceOverview] {
        let lastSyncs = try destinationSyncHealth().mapValues(\.last)
        return try pool.read { db in
            let summaries = try Self.audienceList(db)
            guard !summaries.isEmpty else { return [] }
            let lifts = try Self.storedLifts(db)
            return try summaries.map { s in
                let previous = try Int.fetchOne(db, sql: """
                    SELECT size FROM audience_run WHERE audience = ? AND run_id < ? ORDER BY run_id DESC LIMIT 1
                    """, arguments: [s.name, s.runId])
                let destinations = try Self.audienceSyncs(db, Self.destinations(db, holding: s.name).compactMap { lastSyncs[$0] }, audience: s.name)
                return AudienceOverview(summary: s, previousSize: previous, lift: lifts[s.name], destinations: destinations)
            }
        }
    }

    /// One audience for its drill-in: up to `memberLimit` members (by customer id), its last `runLimit`
    /// runs and its destinations' last `syncLimit` syncs. Nil when no audience has that name.
    public func audienceDetail(_ name: String, memberLimit: Int = 200, runLimit: Int = 20, syncLimit: Int = 20) throws -> AudienceDetail? {
        guard let overview = try audienceOverviews().first(where: { $0.summary.name == name }) else { return nil }
        let runs = try audienceRuns(name, limit: runLimit)
        let (count, members, destinations) = try pool.read { db in
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audience_member WHERE audience = ?", arguments: [name]) ?? 0
            let members = try Row.fetchAll(db, sql: """
                SELECT m.customer_id, m.holdout, m.entered_run, m.entered_at,
                       TRIM(COALESCE(vault_open(g.first_name), '') || ' ' || COALESCE(vault_open(g.last_name), '')), vault_open(g.email)
                FROM audience_member m LEFT JOIN golden_customer g ON g.customer_id = m.customer_id
                WHERE m.audience = ? ORDER BY m.customer_id LIMIT ?
                """, arguments: [name, memberLimit]).map { row -> AudienceMemberRow in
                    let name: String? = row[4]
                    return AudienceMemberRow(member: AudienceMember(customerId: row[0], holdout: row[1], enteredRun: row[2], enteredAt: row[3]),
                                             name: name?.isEmpty == false ? name : nil, email: row[5])
                }
            return (count, members, try Self.destinations(db, holding: name))
        }
        var history: [DestinationSyncRecord] = []
        for destination in destinations { history += try syncHistory(destination: destination, limit: syncLimit) }
        history.sort { $0.id > $1.id }
        let shown = Array(history.prefix(syncLimit))
        let syncs = try pool.read { db in try Self.audienceSyncs(db, shown, audience: name) }
        return AudienceDetail(overview: overview, runs: runs, memberCount: count, members: members, syncHistory: syncs)
    }

    static func storedLifts(_ db: Database) throws -> [String: StoredLift] {
        guard try db.tableExists("audience_lift") else { return [:] }
        var out: [String: StoredLift] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT * FROM audience_lift") {
            out[row["audience"]] = StoredLift(treated: row["treated"], treatedConverted: row["treated_converted"], holdout: row["holdout"],
                                              holdoutConverted: row["holdout_converted"], lift: row["lift"], low: row["lift_low"],
                                              high: row["lift_high"], incrementalRevenue: row["incremental_revenue"],
                                              windowDays: row["window_days"], measuredAt: row["measured_at"])
        }
        return out
    }

    /// Destinations that hold members of the audience or have a batch of its changes, by name.
    static func destinations(_ db: Database, holding audience: String) throws -> [String] {
        guard try db.tableExists("sync_state") else { return [] }
        return try String.fetchAll(db, sql: """
            SELECT destination FROM sync_state WHERE audience = ?
            UNION SELECT b.destination FROM sync_change c JOIN sync_batch b ON b.id = c.batch_id WHERE c.audience = ?
            ORDER BY 1
            """, arguments: [audience, audience])
    }
}
