import Foundation

/// How common each value is, for term-frequency adjustment of exact agreement.
public struct TermFrequencies: Sendable {
    var tables: [Int: [[UInt8]: Int]] = [:]
    var totals: [Int: Int] = [:]

    /// Each record's count of its own value per adjusted field (0: none), kept by `init(_:)` for the
    /// matcher's scoring tables (`PairWeights`), so the value is not hashed again per pair.
    var recordCounts: [Int: [Int32]] = [:]

    public init(_ records: [PersonRecord]) { self.init(records, groups: nil) }

    /// - parameter groups: a group label per record (records believed to be one person): a value
    ///   counts once per group that holds it, so a person with nine records does not make their own
    ///   name look nine times as common as a namesake's (which would weigh down exactly the names of
    ///   the people with the most records). Nil: every record counts.
    public init(_ records: [PersonRecord], groups: [Int32]?) {
        for f in Field.allCases where f.termFrequencyAdjusted {
            var slots: [[UInt8]: Int] = [:]
            var counts: [Int] = []
            var slotOf = [Int32](repeating: -1, count: records.count)
            var seen = Set<UInt64>()
            var n = 0
            RecordView.with(records) { view in
                for i in records.indices {
                    let v = Self.value(f, view.pointer(i))
                    guard !v.isEmpty else { continue }
                    let slot: Int
                    if let k = slots[v] { slot = k } else {
                        slot = counts.count
                        slots[v] = slot
                        counts.append(0)
                    }
                    slotOf[i] = Int32(slot)
                    if let groups, !seen.insert(UInt64(UInt32(bitPattern: groups[i])) << 32 | UInt64(slot)).inserted { continue }
                    counts[slot] += 1
                    n += 1
                }
            }
            tables[f.rawValue] = slots.mapValues { counts[$0] }
            totals[f.rawValue] = n
            recordCounts[f.rawValue] = slotOf.map { $0 < 0 ? 0 : Int32(counts[Int($0)]) }
        }
    }

    /// Builds from explicit counts (explain, which reads them from the catalog).
    public init(counts: [Field: (value: [UInt8], count: Int, total: Int)]) {
        for (f, c) in counts {
            tables[f.rawValue] = [c.value: c.count]
            totals[f.rawValue] = c.total
        }
    }

    static func value(_ f: Field, _ r: PersonRecord) -> [UInt8] { withUnsafePointer(to: r) { value(f, $0) } }

    static func value(_ f: Field, _ r: UnsafePointer<PersonRecord>) -> [UInt8] {
        switch f {
        case .firstName: return r.pointee.first
        case .lastName: return r.pointee.last
        default: return []
        }
    }

    /// `frequency` from a count of the field's values.
    func frequency(_ f: Field, count: Int) -> Double? {
        guard let n = totals[f.rawValue], n > 0, count > 0 else { return nil }
        return Double(count) / Double(n)
    }

    /// The share of records (or groups) holding this value, or nil when unknown.
    public func frequency(_ f: Field, _ value: [UInt8]) -> Double? {
        guard let t = tables[f.rawValue], let n = totals[f.rawValue], n > 0, let c = t[value] else { return nil }
        return Double(c) / Double(n)
    }
}
