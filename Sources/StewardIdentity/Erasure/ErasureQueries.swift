import Foundation
import GRDB
import StewardCatalog

/// Read-only questions about erasures, for screens that hold a customer while another process may
/// erase it (the console's Customers pane): cheap enough to ask every refresh.
extension Erasure {
    /// The newest erasure request's id (0 before any): it moves whenever someone is erased.
    public static func latestRequestId(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM erasure_request") ?? 0
    }

    /// Which of `customerIds` were erased on request, with when: an id erased itself, or merged
    /// (transitively) into a customer that was. A request counts from the moment it is recorded,
    /// finished or not: nothing of the person is to be shown once erasure was asked for.
    public static func erased(_ db: Database, among customerIds: some Sequence<String>) throws -> [String: String] {
        let when = try db.makeStatement(sql: "SELECT at FROM erasure_request WHERE customer_id = ? ORDER BY id DESC LIMIT 1")
        let survivor = try db.makeStatement(sql: "SELECT merged_into FROM identity_customer WHERE customer_id = ? AND status = 'merged'")
        var out: [String: String] = [:]
        for id in Set(customerIds) {
            var current = id
            // The same bound as forget's own walk along merges.
            for _ in 0..<16 {
                if let at = try String.fetchOne(when, arguments: [current]) { out[id] = at; break }
                guard let next = try String.fetchOne(survivor, arguments: [current]), next != current else { break }
                current = next
            }
        }
        return out
    }
}
