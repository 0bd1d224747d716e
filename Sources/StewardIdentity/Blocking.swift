import Foundation

/// Blocking: which record pairs are compared at all. Each rule is a conjunction of keys; rules are
/// OR'd and their pairs deduplicated.
///
/// ```swift
/// let rules = try BlockingRule.parse(["email", "last_name & dob"])
/// ```
public struct BlockingRule: Sendable, Equatable, CustomStringConvertible {
    public var keys: [BlockingKey]

    public var description: String { keys.map(\.rawValue).joined(separator: " & ") }

    /// The defaults for the canonical fields: shared identifiers, and name/date/place combinations
    /// that survive a typo in any one field.
    public static let defaults: [BlockingRule] = [
        [.email], [.phone], [.nationalId],
        [.firstCanonical, .lastPhonetic],
        [.lastName, .dob],
        [.firstCanonical, .dob],
        [.dob, .postcode],
        [.lastPhonetic, .postcode],
        [.firstCanonical, .postcode],
        [.firstCanonical, .lastPhonetic, .city],
    ].map { BlockingRule(keys: $0) }

    /// Parses rules written as `key & key` (or `key + key`).
    public static func parse(_ texts: [String]) throws -> [BlockingRule] {
        try texts.map { text in
            let parts = text.split(whereSeparator: { $0 == "&" || $0 == "+" }).map { $0.trimmingCharacters(in: .whitespaces) }
            guard !parts.isEmpty else { throw BlockingRuleError(text: text, message: "empty rule") }
            return BlockingRule(keys: try parts.map { p in
                guard let k = BlockingKey(rawValue: p) else {
                    throw BlockingRuleError(text: text, message: "unknown key '\(p)'; known: \(BlockingKey.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return k
            })
        }
    }

    /// A 64-bit hash of the rule's key (`StableHash`: FNV-1a, then a SplitMix finaliser), stable
    /// across runs; nil when a key is missing.
    func hash(_ r: PersonRecord) -> UInt64? { withUnsafePointer(to: r) { hash($0) } }

    /// The record read in place (passing a record by value copies each of its arrays).
    func hash(_ r: UnsafePointer<PersonRecord>) -> UInt64? {
        var h = StableHash()
        for (i, k) in keys.enumerated() {
            let present = k.withBytes(r) { v -> Bool in
                if v.isEmpty { return false }
                if i > 0 { h.add(0x1F) }
                h.add(v)
                return true
            }
            if !present { return nil }
        }
        return h.value
    }

    func value(_ r: PersonRecord) -> [UInt8]? {
        var out: [UInt8] = []
        for (i, k) in keys.enumerated() {
            let v = k.value(r)
            if v.isEmpty { return nil }
            if i > 0 { out.append(0x1F) }
            out.append(contentsOf: v)
        }
        return out
    }
}

public struct BlockingRuleError: Error, CustomStringConvertible {
    public var text: String
    public var message: String
    public var description: String { "blocking rule '\(text)': \(message)" }
}

public enum BlockingKey: String, CaseIterable, Sendable {
    case firstName = "first_name", lastName = "last_name", email, phone, dob, street, city, postcode
    case nationalId = "national_id"
    case firstCanonical = "first_name_nickname"
    case firstPhonetic = "first_name_phonetic", lastPhonetic = "last_name_phonetic"
    case dobYear = "dob_year", firstInitial = "first_initial"

    /// The compared field this key draws on.
    var field: Field {
        switch self {
        case .firstName, .firstCanonical, .firstPhonetic, .firstInitial: return .firstName
        case .lastName, .lastPhonetic: return .lastName
        case .email: return .email
        case .phone: return .phone
        case .dob, .dobYear: return .dob
        case .street, .city, .postcode: return .address
        case .nationalId: return .nationalId
        }
    }

    func value(_ r: PersonRecord) -> [UInt8] { withUnsafePointer(to: r) { value($0) } }

    func value(_ r: UnsafePointer<PersonRecord>) -> [UInt8] { withBytes(r) { Array($0) } }

    /// The key's bytes read in place: no array copied out of the record (a retain and a release
    /// per record and rule).
    func withBytes<R>(_ r: UnsafePointer<PersonRecord>, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        switch self {
        case .firstName: return r.pointee.first.withUnsafeBufferPointer(body)
        case .lastName: return r.pointee.last.withUnsafeBufferPointer(body)
        case .email: return r.pointee.email.withUnsafeBufferPointer(body)
        case .phone: return r.pointee.phone.withUnsafeBufferPointer(body)
        case .dob: return r.pointee.dob.withUnsafeBufferPointer(body)
        case .street: return r.pointee.street.withUnsafeBufferPointer(body)
        case .city: return r.pointee.city.withUnsafeBufferPointer(body)
        case .postcode: return r.pointee.postcode.withUnsafeBufferPointer(body)
        case .nationalId: return r.pointee.nationalId.withUnsafeBufferPointer(body)
        case .firstCanonical: return r.pointee.firstCanonical.withUnsafeBufferPointer(body)
        case .firstPhonetic: return r.pointee.firstPhonetic.withUnsafeBufferPointer(body)
        case .lastPhonetic: return r.pointee.lastPhonetic.withUnsafeBufferPointer(body)
        case .dobYear: return r.pointee.dob.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0.prefix(4))) }
        case .firstInitial: return r.pointee.first.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0.prefix(1))) }
        }
    }
}

/// Candidate pairs from blocking, as (i, j) with i < j packed into one UInt64, deduplicated.
///
/// A block of at most `maxBlockSize` records yields all its pairs. A bigger block (a common value:
/// "james smith", a town's postcode) is compared in sorted neighbourhoods instead: its records are
/// sorted by each field the rule does not block on (date of birth, email forwards and backwards,
/// phone, last name, first name, national id), and each record is paired with the next `window - 1` records
/// of every order. A block of s records then yields at most s × (window − 1) pairs per order instead
/// of s²/2, so the candidate pairs grow linearly with the data (all-pairs blocks on common values
/// grow with its square), while a true pair, which agrees on more than the block's key, still sits
/// side by side in the order of a field it agrees on.
public struct CandidatePairs: Sendable {
    public var pairs: [UInt64]
    /// Pairs each rule produced before deduplication.
    public var perRule: [Int]
    /// Blocks larger than the cap, compared in sorted neighbourhoods rather than all pairs.
    public var windowedBlocks: Int
    /// The pairs of single rules, by rule index, when asked for (`generate(…keeping:)`).
    var rulePairs: [Int: [UInt64]] = [:]

    public static let defaultMaxBlockSize = 16
    public static let defaultWindow = 2

    public static func generate(_ records: [PersonRecord], rules: [BlockingRule], junk: Set<JunkValue>,
                                maxBlockSize: Int = defaultMaxBlockSize, window: Int = defaultWindow) -> CandidatePairs {
        generate(records, rules: rules, junkMasks: JunkValue.masks(records, junk: junk), maxBlockSize: maxBlockSize, window: window)
    }

    /// - parameters:
    ///   - junkMasks: each record's placeholder identifiers (`JunkValue.mask`): they block nothing.
    ///   - keeping: indices of rules whose own pairs to keep in `rulePairs` (what `generate` with
    ///     that rule alone returns), so training does not block them again.
    ///   - extra: rules blocked alongside for training only: their pairs are kept in `rulePairs` at
    ///     `rules.count + i`, not candidates.
    static func generate(_ records: [PersonRecord], rules: [BlockingRule], junkMasks: [UInt8],
                         maxBlockSize: Int = defaultMaxBlockSize, window: Int = defaultWindow, keeping: Set<Int> = [],
                         extra: [BlockingRule] = []) -> CandidatePairs {
        // Rules blocked on every core, each into its own slot; their pairs are then joined in rule order.
        let every = rules + extra
        var blocked = [(pairs: [UInt64], windowed: Int)](repeating: ([], 0), count: every.count)
        blocked.withUnsafeMutableBufferPointer { buffer in
            let out = SlicedOutput(buffer)
            DispatchQueue.concurrentPerform(iterations: every.count) { r in
                out[r] = block(records, rule: every[r], junkMasks: junkMasks, maxBlockSize: maxBlockSize, window: window)
            }
        }
        var all: [UInt64] = []
        all.reserveCapacity(blocked[..<rules.count].reduce(0) { $0 + $1.pairs.count })
        var rulePairs: [Int: [UInt64]] = [:]
        let perRule = blocked[..<rules.count].map(\.pairs.count)
        for r in blocked.indices {
            if r < rules.count { all.append(contentsOf: blocked[r].pairs) }
            if keeping.contains(r) || r >= rules.count {
                Self.sortUnique(&blocked[r].pairs)
                rulePairs[r] = blocked[r].pairs
            }
            blocked[r].pairs = []
        }
        Self.sortUnique(&all)
        return CandidatePairs(pairs: all, perRule: perRule, windowedBlocks: blocked[..<rules.count].reduce(0) { $0 + $1.windowed },
                              rulePairs: rulePairs)
    }

    /// One rule's pairs, before deduplication, and how many of its blocks were over the cap.
    static func block(_ records: [PersonRecord], rule: BlockingRule, junkMasks: [UInt8], maxBlockSize: Int, window: Int) -> (pairs: [UInt64], windowed: Int) {
        let cap = max(2, maxBlockSize), window = max(2, window)
        let identifierField: Field? = rule.keys.count == 1 ? {
            switch rule.keys[0] {
            case .email: return .email
            case .phone: return .phone
            case .nationalId: return .nationalId
            default: return nil
            }
        }() : nil
        // Blocks as runs of equal key hashes (a 64-bit hash: a collision only adds pairs), record
        // indices ascending within a block (the sort is stable and they are appended in order).
        var hashes: [UInt64] = [], indices: [Int32] = []
        hashes.reserveCapacity(records.count)
        indices.reserveCapacity(records.count)
        // Records read in place (`enumerated()` copied each one out: 0.9 s of a 200k pass).
        RecordView.with(records) { view in
            for i in 0..<records.count {
                if let f = identifierField, junkMasks[i] & JunkValue.bit(f) != 0 { continue }
                guard let h = rule.hash(view.pointer(i)) else { continue }
                hashes.append(h)
                indices.append(Int32(i))
            }
        }
        RadixSort.sort(&hashes, carrying: &indices)
        let orders = NeighbourhoodOrder.allCases.filter { o in !rule.keys.contains { $0.field == o.field } }
        var pairs: [UInt64] = []
        var windowed = 0
        var start = 0
        while start < hashes.count {
            var end = start + 1
            while end < hashes.count && hashes[end] == hashes[start] { end += 1 }
            let size = end - start
            if size > cap {
                windowed += 1
                let members = Array(indices[start..<end])
                for order in orders { order.neighbours(members, records, window: window, into: &pairs) }
            } else if size > 1 {
                for x in start..<end {
                    let a = UInt64(indices[x])
                    for y in (x + 1)..<end { pairs.append(a << 32 | UInt64(indices[y])) }
                }
            }
            start = end
        }
        return (pairs, windowed)
    }

    /// Sorts the pairs and drops repeats.
    static func sortUnique(_ all: inout [UInt64]) {
        RadixSort.sort(&all)
        var unique = 0
        for k in all.indices where k == 0 || all[k] != all[k - 1] {
            all[unique] = all[k]
            unique += 1
        }
        all.removeLast(all.count - unique)
    }
}

/// The orders an oversized block is sorted by for its sorted-neighbourhood pass.
enum NeighbourhoodOrder: CaseIterable {
    case dob, email, emailReversed, phone, lastName, firstName, nationalId

    var field: Field {
        switch self {
        case .dob: return .dob
        case .email, .emailReversed: return .email
        case .phone: return .phone
        case .lastName: return .lastName
        case .firstName: return .firstName
        case .nationalId: return .nationalId
        }
    }

    func value(_ r: UnsafePointer<PersonRecord>) -> [UInt8] {
        switch self {
        case .dob: return r.pointee.dob
        case .email: return r.pointee.email
        // Backwards, a typo near the start of an address still leaves it next to the right one.
        case .emailReversed: return r.pointee.email.reversed()
        case .phone: return r.pointee.phone
        case .lastName: return r.pointee.last
        case .firstName: return r.pointee.first
        case .nationalId: return r.pointee.nationalId
        }
    }

    /// Sorts the block's records holding this value (ties by record index, so the result is
    /// deterministic) and appends each record's pairs with the next `window - 1`.
    func neighbours(_ members: [Int32], _ records: [PersonRecord], window: Int, into out: inout [UInt64]) {
        var keyed: [(value: [UInt8], index: Int32)] = []
        keyed.reserveCapacity(members.count)
        RecordView.with(records) { view in
            for i in members {
                let v = value(view.pointer(Int(i)))
                if !v.isEmpty { keyed.append((v, i)) }
            }
        }
        guard keyed.count > 1 else { return }
        keyed.sort { $0.value != $1.value ? $0.value.lexicographicallyPrecedes($1.value) : $0.index < $1.index }
        for x in keyed.indices {
            for y in (x + 1)..<min(x + window, keyed.count) {
                out.append(Clusterer.pairKey(keyed[x].index, keyed[y].index))
            }
        }
    }
}

/// Finds placeholder identifiers: a value carried by many records of clearly different people.
public enum JunkDetector {
    public static func detect(_ records: [PersonRecord], minRecords: Int = 5, minDistinctNames: Int = 4) -> [(JunkValue, Int)] {
        detectWithMasks(records, minRecords: minRecords, minDistinctNames: minDistinctNames).values
    }

    /// Also each record's junk mask (`JunkValue.mask`), from the same groups. Values are grouped by
    /// their blocking hash, sorted (a dictionary of every value was 3.6 s at 1M); only a hash that
    /// `minRecords` records share is grouped by the values themselves.
    static func detectWithMasks(_ records: [PersonRecord], minRecords: Int = 5, minDistinctNames: Int = 4)
        -> (values: [(JunkValue, Int)], masks: [UInt8]) {
        var out: [(JunkValue, Int)] = []
        var masks = [UInt8](repeating: 0, count: records.count)
        RecordView.with(records) { view in
            for field in Field.identifiers {
                let rule = BlockingRule(keys: [field == .email ? .email : field == .phone ? .phone : .nationalId])
                var hashes: [UInt64] = [], indices: [Int32] = []
                for i in 0..<records.count {
                    guard let h = rule.hash(view.pointer(i)) else { continue }
                    hashes.append(h)
                    indices.append(Int32(i))
                }
                RadixSort.sort(&hashes, carrying: &indices)
                var start = 0
                while start < hashes.count {
                    var end = start + 1
                    while end < hashes.count && hashes[end] == hashes[start] { end += 1 }
                    if end - start >= minRecords {
                        var groups: [[UInt8]: [Int32]] = [:]
                        for x in start..<end { groups[JunkValue.identifier(field, view.pointer(Int(indices[x]))), default: []].append(indices[x]) }
                        for (v, members) in groups where members.count >= minRecords {
                            let names = Set(members.map { view[Int($0)].firstCanonical + [0x20] + view[Int($0)].lastPhonetic })
                            guard names.count >= minDistinctNames else { continue }
                            out.append((JunkValue(field: field, value: v), members.count))
                            for m in members { masks[Int(m)] |= JunkValue.bit(field) }
                        }
                    }
                    start = end
                }
            }
        }
        return (out.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0.text < $1.0.text }, masks)
    }
}
