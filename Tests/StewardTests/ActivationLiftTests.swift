import Foundation
import GRDB
import Testing
@testable import StewardActivation
@testable import StewardCatalog

/// Lift counts only entrants whose conversion window has closed: one who entered yesterday has had no
/// time to order, and counting it as a non-converter would dilute both groups' rates.
@Suite struct ActivationLiftTests {
    @Test func entrantsStillInsideTheirWindowAreNotCountedYet() throws {
        let p = TempProject("lift-window")
        let catalog = try Catalog.open(at: p.dir.appendingPathComponent(".steward/catalog.sqlite"))
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        let old = now.addingTimeInterval(-45 * 86_400), recent = now.addingTimeInterval(-86_400)
        try catalog.pool.write { db in
            for (id, holdout, at) in [("C1", false, old), ("C2", true, old), ("C3", false, recent), ("C4", true, recent), ("C5", false, recent)] {
                try db.execute(sql: "INSERT INTO audience_change (audience, run_id, customer_id, change, holdout, at) VALUES ('a', 1, ?, 'entered', ?, ?)",
                               arguments: [id, holdout, Timestamp.string(at)])
            }
            // C1 entered 45 days ago, re-entered yesterday: its first entry counts, and its window has closed.
            try db.execute(sql: "INSERT INTO audience_change (audience, run_id, customer_id, change, holdout, at) VALUES ('a', 2, 'C1', 'entered', 0, ?)",
                           arguments: [Timestamp.string(recent)])
        }
        let window: TimeInterval = 30 * 86_400
        let asOf = try catalog.pool.read { try AudienceLift.measure($0, audience: "a", window: window, asOf: now) }
        #expect(asOf.treated == 1 && asOf.holdout == 1)
        let everyone = try catalog.pool.read { try AudienceLift.measure($0, audience: "a", window: window) }
        #expect(everyone.treated == 3 && everyone.holdout == 2)
        // A run's refresh measures as of its own time.
        let stored = try AudienceLift.refresh(catalog, audiences: [("a", window)], now: now)
        #expect(stored.first?.treated == 1)
        let later = try AudienceLift.refresh(catalog, audiences: [("a", window)], now: now.addingTimeInterval(31 * 86_400))
        #expect(later.first?.treated == 3 && later.first?.holdout == 2)
    }

    /// An entrant's record key is looked up by customer, never by scanning the source's members: the
    /// plan SQLite chose before read every member of the source once per entrant (quadratic; over an
    /// hour at 1 M). Also checks the answer: each entrant's smallest key in the source asked for.
    @Test func entrantsFindTheirRecordKeyThroughTheCustomerIndex() throws {
        let p = TempProject("lift-entrants")
        let catalog = try Catalog.open(at: p.dir.appendingPathComponent(".steward/catalog.sqlite"))
        try catalog.pool.write { db in
            for (id, at) in [("C1", "2026-01-02T00:00:00Z"), ("C2", "2026-01-03T00:00:00Z"), ("C1", "2026-01-01T00:00:00Z")] {
                try db.execute(sql: "INSERT INTO audience_change (audience, run_id, customer_id, change, holdout, at) VALUES ('a', 1, ?, 'entered', 0, ?)",
                               arguments: [id, at])
            }
            for (source, key, customer) in [("shop", "k9", "C1"), ("shop", "k3", "C1"), ("crm", "a1", "C1"), ("crm", "a2", "C2")] {
                try db.execute(sql: "INSERT INTO identity_member (source, record_key, customer_id, assigned_run) VALUES (?, ?, ?, 1)",
                               arguments: [source, key, customer])
            }
        }
        let entrants = try AudienceLift.entrants(catalog, audience: "a", keysIn: "shop")
        #expect(entrants.map(\.customerId) == ["C1", "C2"] && entrants.map(\.recordKey) == ["k3", nil])
        #expect(entrants.first?.enteredAt == Timestamp.date("2026-01-01T00:00:00Z"))
        let plan = try catalog.pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + AudienceLift.entrantsSQL, arguments: ["a", "shop"]).map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("identity_member_by_customer") }, "\(plan)")
        #expect(!plan.contains { $0.contains("sqlite_autoindex_identity_member_1") }, "\(plan)")
    }
}
