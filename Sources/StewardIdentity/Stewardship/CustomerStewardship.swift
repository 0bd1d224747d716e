import Foundation
import GRDB
import StewardCatalog

/// A steward's merge or split of whole customers. Each is written as pair decisions (accept /
/// reject, the same ones `match accept|reject` writes), so every later matching pass obeys it: a
/// merge links every record of both customers to one anchor record; a split keeps each leaving
/// record apart from each staying one and links the leaving records together. The customer ids
/// change at once (with an event, an audit row and a stewardship action), and the next pass keeps
/// them because ids follow their records.
public enum CustomerStewardship {
    public typealias RecordRef = (source: String, key: String)

    /// What a merge or split did, before the matching pass that follows it.
    public struct Change: Sendable {
        public var kind: String
        /// The survivor of a merge; the customer a split took records from.
        public var customerId: String
        /// The customer merged away; the new customer of a split.
        public var otherId: String
        /// The records that changed customer, as `source:record`.
        public var moved: [String]
        public var decisions: Int
    }

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case unknownCustomer(String)
        case notActive(String, status: String, mergedInto: String?)
        case sameCustomer(String)
        case badReference(String)
        case notMember(String, customer: String, actual: String?)
        case everyRecord(String)
        case tooLarge(Int, max: Int)

        public var description: String {
            switch self {
            case .unknownCustomer(let id): return "no customer \(id)"
            case .notActive(let id, let status, let into):
                return into.map { "\(id) was already merged into \($0)" } ?? "\(id) is \(status), not an active customer"
            case .sameCustomer(let id): return "\(id) cannot be merged with itself"
            case .badReference(let r): return "'\(r)': expected SOURCE:RECORD"
            case .notMember(let r, let c, let actual):
                return "\(r) is not a record of \(c)" + (actual.map { " (it belongs to \($0))" } ?? " (no such staged person record)")
            case .everyRecord(let id): return "those are all the records of \(id): nothing would stay"
            case .tooLarge(let n, let max): return "the merged customer would hold \(n) records, above matching.max_cluster_size \(max)"
            }
        }
    }

    static func activeMembers(_ db: Database, _ id: String) throws -> [RecordRef] {
        guard let row = try Row.fetchOne(db, sql: "SELECT status, merged_into FROM identity_customer WHERE customer_id = ?", arguments: [id]) else {
            throw Failure.unknownCustomer(id)
        }
        let status: String = row[0]
        guard status == "active" else { throw Failure.notActive(id, status: status, mergedInto: row[1]) }
        return try Row.fetchAll(db, sql: "SELECT source, record_key FROM identity_member WHERE customer_id = ? ORDER BY source, record_key",
                                arguments: [id]).map { (source: $0[0], key: $0[1]) }
    }

    static func text(_ r: RecordRef) -> String { "\(r.source):\(r.key)" }

    /// Merges `other` into `survivor`, which keeps its id; `other` points at it from now on.
    public static func merge(_ db: Database, survivor: String, other: String, runId: Int64, maxClusterSize: Int,
                             actor: String = Catalog.osUser) throws -> Change {
        if survivor == other { throw Failure.sameCustomer(survivor) }
        let a = try activeMembers(db, survivor), b = try activeMembers(db, other)
        if a.count + b.count > maxClusterSize { throw Failure.tooLarge(a.count + b.count, max: maxClusterSize) }
        let at = Timestamp.now()
        let all = a + b
        // An earlier reject between any two of these records would keep them apart: the newer decision wins.
        let dropReject = try db.makeStatement(sql: """
            DELETE FROM identity_decision WHERE decision = 'reject' AND a_source = ? AND a_key = ? AND b_source = ? AND b_key = ?
            """)
        for i in all.indices {
            for j in all.indices where i != j { try dropReject.execute(arguments: [all[i].source, all[i].key, all[j].source, all[j].key]) }
        }
        var decisions = 0
        if let anchor = all.first {
            for r in all.dropFirst() { try ReviewQueue.record(db, anchor, r, accept: true, actor: actor, at: at); decisions += 1 }
        }
        try db.execute(sql: "UPDATE identity_member SET customer_id = ?, assigned_run = ? WHERE customer_id = ?", arguments: [survivor, runId, other])
        try db.execute(sql: "UPDATE identity_customer SET records = ?, updated_run = ? WHERE customer_id = ?", arguments: [all.count, runId, survivor])
        try db.execute(sql: "UPDATE identity_customer SET status = 'merged', merged_into = ?, records = 0, updated_run = ? WHERE customer_id = ?",
                       arguments: [survivor, runId, other])
        let moved = b.map(text)
        let detail = "steward \(actor): \(other) merged into \(survivor) (\(b.count) records)"
        try db.execute(sql: "INSERT INTO identity_event (run_id, at, kind, customer_id, other_customer_id, detail) VALUES (?, ?, 'merge', ?, ?, ?)",
                       arguments: [runId, at, survivor, other, detail])
        try log(db, kind: "merge", customerId: survivor, otherId: other, records: moved, decisions: decisions, actor: actor, at: at)
        try Catalog.audit(db, action: "customer.merge", subject: "customer:\(survivor)",
                          detail: "\(other) merged into \(survivor): \(b.count) records, \(decisions) accept decisions", actor: actor)
        return Change(kind: "merge", customerId: survivor, otherId: other, moved: moved, decisions: decisions)
    }

    /// Moves the listed records of `customer` into a new customer id.
    public static func split(_ db: Database, customer: String, records refs: [String], runId: Int64,
                             actor: String = Catalog.osUser) throws -> Change {
        let members = try activeMembers(db, customer)
        var leaving: [RecordRef] = []
        for r in refs {
            guard let i = r.firstIndex(of: ":"), i != r.startIndex, r.index(after: i) != r.endIndex else { throw Failure.badReference(r) }
            let ref = (source: String(r[..<i]), key: String(r[r.index(after: i)...]))
            guard members.contains(where: { $0 == ref }) else {
                let actual = try String.fetchOne(db, sql: "SELECT customer_id FROM identity_member WHERE source = ? AND record_key = ?",
                                                 arguments: [ref.source, ref.key])
                throw Failure.notMember(r, customer: customer, actual: actual)
            }
            if !leaving.contains(where: { $0 == ref }) { leaving.append(ref) }
        }
        let staying = members.filter { m in !leaving.contains { $0 == m } }
        if staying.isEmpty { throw Failure.everyRecord(customer) }
        let at = Timestamp.now()
        var decisions = 0
        for l in leaving {
            for s in staying { try ReviewQueue.record(db, l, s, accept: false, actor: actor, at: at); decisions += 1 }
        }
        if let anchor = leaving.first {
            for l in leaving.dropFirst() { try ReviewQueue.record(db, anchor, l, accept: true, actor: actor, at: at); decisions += 1 }
        }
        let newId = StableIdAssigner.format(try StableIdAssigner.nextNumber(db))
        let move = try db.makeStatement(sql: "UPDATE identity_member SET customer_id = ?, assigned_run = ? WHERE source = ? AND record_key = ?")
        for l in leaving { try move.execute(arguments: [newId, runId, l.source, l.key]) }
        try db.execute(sql: "INSERT INTO identity_customer (customer_id, status, records, created_run, updated_run) VALUES (?, 'active', ?, ?, ?)",
                       arguments: [newId, leaving.count, runId, runId])
        try db.execute(sql: "UPDATE identity_customer SET records = ?, updated_run = ? WHERE customer_id = ?", arguments: [staying.count, runId, customer])
        let moved = leaving.map(text)
        let detail = "steward \(actor): \(leaving.count) records split off from \(customer)"
        try db.execute(sql: "INSERT INTO identity_event (run_id, at, kind, customer_id, other_customer_id, detail) VALUES (?, ?, 'split', ?, ?, ?)",
                       arguments: [runId, at, newId, customer, detail])
        try log(db, kind: "split", customerId: customer, otherId: newId, records: moved, decisions: decisions, actor: actor, at: at)
        try Catalog.audit(db, action: "customer.split", subject: "customer:\(customer)",
                          detail: "\(leaving.count) records moved to \(newId): \(moved.joined(separator: ", ")); \(decisions) decisions", actor: actor)
        return Change(kind: "split", customerId: customer, otherId: newId, moved: moved, decisions: decisions)
    }

    private static func log(_ db: Database, kind: String, customerId: String, otherId: String, records: [String], decisions: Int,
                            actor: String, at: String) throws {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: records), as: UTF8.self)
        try db.execute(sql: """
            INSERT INTO identity_steward_action (kind, customer_id, other_customer_id, records_json, decisions, actor, at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [kind, customerId, otherId, json, decisions, actor, at])
    }

    /// A customer's state now: status, where it was merged, its records.
    public struct State: Sendable {
        public var customerId: String
        public var status: String
        public var mergedInto: String?
        public var records: [String]
    }

    public static func state(_ db: Database, _ id: String) throws -> State? {
        guard let row = try Row.fetchOne(db, sql: "SELECT status, merged_into FROM identity_customer WHERE customer_id = ?", arguments: [id]) else {
            return nil
        }
        let records = try String.fetchAll(db, sql: """
            SELECT source || ':' || record_key FROM identity_member WHERE customer_id = ? ORDER BY source, record_key
            """, arguments: [id])
        return State(customerId: id, status: row[0], mergedInto: row[1], records: records)
    }
}
