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
}
