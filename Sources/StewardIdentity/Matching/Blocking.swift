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
        // The house: a record whose names are swapped or misspelt and whose birth date or postcode
        // is missing still shares its street and house number with its person's other records.
        [.street],
        // Names swapped on one side (last, first) where the postcode is all the address there is.
        [.namesAnyOrder, .postcode],
        // The house again when its street is misspelt: the number with the postcode, or with the
        // city where one record lacks the postcode.
        [.houseNumber, .postcode],
        [.houseNumber, .city],
        // Two names each misspelt, or swapped and one misspelt, or a day/month swap with misspelt
        // names: their initials, either way round, with the postcode or the birth date.
        [.initialsAnyOrder, .postcode],
        [.initialsAnyOrder, .dob],
        // Names alone, in either order, by sound: the records of a system that holds little else
        // (a marketing list: a name and an email) whose other fields are missing or misspelt.
        [.namesAnyOrder],
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
    /// The two names' sounds in sorted order: equal for "richard nguyen" and "nguyen richard".
    case namesAnyOrder = "names_any_order"
    /// The two names' first letters in sorted order: equal for "richard nguyen" and "nuyen ricard".
    case initialsAnyOrder = "initials_any_order"
    /// The street's leading number: equal for "12 oak street" and "12 oka street".
    case houseNumber = "house_number"

    /// The compared field this key draws on.
    var field: Field {
        switch self {
        case .firstName, .firstCanonical, .firstPhonetic, .firstInitial, .namesAnyOrder, .initialsAnyOrder: return .firstName
        case .lastName, .lastPhonetic: return .lastName
        case .email: return .email
        case .phone: return .phone
        case .dob, .dobYear: return .dob
        case .street, .city, .postcode, .houseNumber: return .address
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
        case .namesAnyOrder:
            let f = r.pointee.firstPhonetic, l = r.pointee.lastPhonetic
            if f.isEmpty || l.isEmpty { return body(UnsafeBufferPointer(start: nil, count: 0)) }
            return (f.lexicographicallyPrecedes(l) ? f + [0x1E] + l : l + [0x1E] + f).withUnsafeBufferPointer(body)
        case .initialsAnyOrder:
            guard let f = r.pointee.first.first, let l = r.pointee.last.first else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
            return withUnsafeBytes(of: (min(f, l), max(f, l))) { body($0.bindMemory(to: UInt8.self)) }
        case .houseNumber:
            guard let n = r.pointee.houseNumber else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
            return withUnsafeBytes(of: n) { body($0.bindMemory(to: UInt8.self)) }
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

/// Finds placeholder identifiers: values that are no evidence that two records are one person.
/// A value is a placeholder when
/// - it is a known filler (`KnownPlaceholder`: 000-00-0000, 123456789, test@test.com, n/a, …),
///   at any count;
/// - the records that share it disagree: at least a third of their pairs are clearly two people
///   (`differentPeople`: another birth date beyond a typo or a day/month swap, or another first
///   name and surname) — a form's default, or a household's landline;
/// - more records share it than one customer may hold (`implausibleCount`, the cluster cap).
/// How many records carry it says nothing by itself: the six records of one person share their
/// national id, and that is the strongest evidence there is.
public enum JunkDetector {
    /// The share of disagreeing pairs among a value's records that makes it a placeholder: two
    /// people sharing it, however many records each has, disagree in at least half of the pairs;
    /// one odd record among seven or more of one person (a bad typo) disagrees in fewer than a third.
    static let disagreeingShare = 1.0 / 3.0
    /// A value's disagreement is judged on its first records (in record order) only: a value on
    /// thousands of records is a placeholder by count long before.
    static let sampledMembers = 24

    public static func detect(_ records: [PersonRecord], implausibleCount: Int = MatchSettings().maxClusterSize) -> [(JunkValue, Int)] {
        detectWithMasks(records, implausibleCount: implausibleCount).values
    }

    /// Also each record's junk mask (`JunkValue.mask`), from the same groups. Values are grouped by
    /// their blocking hash, sorted (a dictionary of every value was 3.6 s at 1M); a run of equal
    /// hashes is split by value only when its values differ (a hash collision).
    static func detectWithMasks(_ records: [PersonRecord], implausibleCount: Int = MatchSettings().maxClusterSize)
        -> (values: [(JunkValue, Int)], masks: [UInt8]) {
        // Each identifier field on its own core; their masks are or'd afterwards.
        var perField = [(values: [(JunkValue, Int)], members: [Int32])](repeating: ([], []), count: Field.identifiers.count)
        RecordView.with(records) { view in
            perField.withUnsafeMutableBufferPointer { buffer in
                let out = SlicedOutput(buffer)
                DispatchQueue.concurrentPerform(iterations: out.count) { k in
                    out[k] = detect(Field.identifiers[k], view, count: records.count, implausibleCount: implausibleCount)
                }
            }
        }
        var out: [(JunkValue, Int)] = []
        var masks = [UInt8](repeating: 0, count: records.count)
        for (k, found) in perField.enumerated() {
            out += found.values
            for m in found.members { masks[Int(m)] |= JunkValue.bit(Field.identifiers[k]) }
        }
        return (out.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : ($0.0.field.rawValue, $0.0.text) < ($1.0.field.rawValue, $1.0.text) }, masks)
    }

    /// One identifier field's placeholders and the records carrying them.
    static func detect(_ field: Field, _ view: RecordView, count: Int, implausibleCount: Int) -> (values: [(JunkValue, Int)], members: [Int32]) {
        let rule = BlockingRule(keys: [field == .email ? .email : field == .phone ? .phone : .nationalId])
        var hashes: [UInt64] = [], indices: [Int32] = []
        for i in 0..<count {
            guard let h = rule.hash(view.pointer(i)) else { continue }
            hashes.append(h)
            indices.append(Int32(i))
        }
        RadixSort.sort(&hashes, carrying: &indices)
        var values: [(JunkValue, Int)] = [], members: [Int32] = []
        func judge(_ value: [UInt8], _ group: ArraySlice<Int32>) {
            let known = KnownPlaceholder.matches(field, value)
            guard known || group.count > implausibleCount || (group.count > 1 && disagree(group, view)) else { return }
            values.append((JunkValue(field: field, value: value), group.count))
            members += group
        }
        var start = 0
        while start < hashes.count {
            var end = start + 1
            while end < hashes.count && hashes[end] == hashes[start] { end += 1 }
            let first = JunkValue.identifier(field, view.pointer(Int(indices[start])))
            if (start + 1..<end).allSatisfy({ JunkValue.identifier(field, view.pointer(Int(indices[$0]))) == first }) {
                judge(first, indices[start..<end])
            } else {
                var groups: [[UInt8]: [Int32]] = [:]
                for x in start..<end { groups[JunkValue.identifier(field, view.pointer(Int(indices[x]))), default: []].append(indices[x]) }
                for (v, group) in groups { judge(v, group.sorted()[...]) }
            }
            start = end
        }
        return (values, members)
    }

    /// Whether the records sharing a value disagree: at least `disagreeingShare` of their pairs
    /// are `differentPeople`.
    static func disagree(_ group: ArraySlice<Int32>, _ view: RecordView) -> Bool {
        let sample = Array(group.prefix(sampledMembers))
        var pairs = 0, different = 0
        for x in sample.indices {
            for y in (x + 1)..<sample.count {
                pairs += 1
                if differentPeople(view.pointer(Int(sample[x])), view.pointer(Int(sample[y]))) { different += 1 }
            }
        }
        return Double(different) >= disagreeingShare * Double(pairs)
    }

    /// Two records that cannot be one person: their birth dates differ (beyond a one-character typo
    /// or a day/month swap), or both their first names and their surnames do (beyond a typo on each
    /// side: `Comparator.distinctFirstNames`). Another first name alone is no proof: a nickname the
    /// list lacks ("Toy" for Anthony) looks like one. Missing values never disagree.
    static func differentPeople(_ a: UnsafePointer<PersonRecord>, _ b: UnsafePointer<PersonRecord>) -> Bool {
        let ad = a.pointee.dob, bd = b.pointee.dob
        if !ad.isEmpty && !bd.isEmpty && ad != bd && Compare.dates(ad, bd).rawValue <= Compare.DateAgreement.yearOnly.rawValue {
            return true
        }
        return Comparator.distinctFirstNames(a, b) && Comparator.distinctLastNames(a, b)
    }
}
