import GRDB

/// Turns this pass's clusters into customer ids that keep their meaning across runs: a cluster keeps
/// the id most of its previously assigned records had (largest clusters choose first); records new
/// to the catalog join the customer of their cluster; every other change is an event.
public struct StableIdAssigner: Sendable {
    public struct Event: Sendable, Equatable {
        public enum Kind: String, Sendable { case create, join, merge, split }
        public var kind: Kind
        public var customerId: String
        public var other: String?
        public var detail: String
    }

    public struct Assignment: Sendable {
        /// Customer id per record, in record order.
        public var ids: [String]
        public var events: [Event]
        /// Old ids no longer carried by any record because their records joined another customer.
        public var mergedInto: [String: String]
        public var nextNumber: Int
    }

    /// - parameters:
    ///   - labels: cluster label per record.
    ///   - previous: the customer id each record had before this pass (nil: new record).
    ///   - nextNumber: the number of the next fresh id (`C00000001` …).
    public static func assign(labels: [Int32], previous: [String?], nextNumber: Int) -> Assignment {
        var clusters: [Int32: [Int]] = [:]
        for (i, l) in labels.enumerated() { clusters[l, default: []].append(i) }
        // Largest first, then by first record: deterministic.
        let order = clusters.map { (label: $0.key, size: $0.value.count) }
            .sorted { $0.size != $1.size ? $0.size > $1.size : $0.label < $1.label }.map(\.label)
        var ids = [String](repeating: "", count: labels.count)
        var taken = Set<String>()
        var events: [Event] = []
        var mergedInto: [String: String] = [:]
        var next = nextNumber
        var oldHolders: [String: Int] = [:]
        for p in previous { if let p { oldHolders[p, default: 0] += 1 } }
        for label in order {
            let members = clusters[label]!
            var votes: [String: Int] = [:]
            for m in members { if let p = previous[m] { votes[p, default: 0] += 1 } }
            let ranked = votes.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            let id: String
            if let keep = ranked.first(where: { !taken.contains($0.key) }) {
                id = keep.key
            } else {
                id = Self.format(next)
                next += 1
                if ranked.isEmpty {
                    events.append(Event(kind: .create, customerId: id, other: nil, detail: "\(members.count) records"))
                }
            }
            taken.insert(id)
            for (old, n) in ranked where old != id {
                if n == oldHolders[old] {
                    mergedInto[old] = id
                    events.append(Event(kind: .merge, customerId: id, other: old, detail: "\(old) merged into \(id) (\(n) records)"))
                } else {
                    events.append(Event(kind: .split, customerId: id, other: old, detail: "\(n) records split off from \(old)"))
                }
            }
            let joined = members.filter { previous[$0] == nil }.count
            if joined > 0 && !ranked.isEmpty {
                events.append(Event(kind: .join, customerId: id, other: nil, detail: "\(joined) new records"))
            }
            for m in members { ids[m] = id }
        }
        return Assignment(ids: ids, events: events, mergedInto: mergedInto, nextNumber: next)
    }

    public static func format(_ n: Int) -> String {
        let s = String(n)
        return "C" + String(repeating: "0", count: max(0, 8 - s.count)) + s
    }

    /// "C00000042" → 42, the inverse of `format` (also the customer's lookup-index rowid).
    static func number(_ id: String) -> Int64? { Int64(id.dropFirst()) }

    /// The number the next new customer gets: past every id ever handed out (retired ones included).
    static func nextNumber(_ db: Database) throws -> Int {
        (try Int.fetchOne(db, sql: "SELECT MAX(CAST(substr(customer_id, 2) AS INTEGER)) FROM identity_customer") ?? 0) + 1
    }
}
