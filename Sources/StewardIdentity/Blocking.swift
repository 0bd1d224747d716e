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

    func value(_ r: PersonRecord) -> [UInt8] {
        switch self {
        case .firstName: return r.first
        case .lastName: return r.last
        case .email: return r.email
        case .phone: return r.phone
        case .dob: return r.dob
        case .street: return r.street
        case .city: return r.city
        case .postcode: return r.postcode
        case .nationalId: return r.nationalId
        case .firstCanonical: return r.firstCanonical
        case .firstPhonetic: return r.firstPhonetic
        case .lastPhonetic: return r.lastPhonetic
        case .dobYear: return Array(r.dob.prefix(4))
        case .firstInitial: return Array(r.first.prefix(1))
        }
    }
}

/// Candidate pairs from blocking, as (i, j) with i < j packed into one UInt64, deduplicated.
public struct CandidatePairs: Sendable {
    public var pairs: [UInt64]
    /// Pairs each rule produced before deduplication.
    public var perRule: [Int]
    /// Blocks skipped for being larger than the cap (their keys are too common to be evidence).
    public var skippedBlocks: Int

    public static func generate(_ records: [PersonRecord], rules: [BlockingRule], junk: Set<JunkValue>,
                                maxBlockSize: Int = 500) -> CandidatePairs {
        var seen = Set<UInt64>()
        var perRule: [Int] = []
        var skipped = 0
        for rule in rules {
            var groups: [[UInt8]: [Int32]] = [:]
            let identifierField: Field? = rule.keys.count == 1 ? {
                switch rule.keys[0] {
                case .email: return .email
                case .phone: return .phone
                case .nationalId: return .nationalId
                default: return nil
                }
            }() : nil
            for (i, r) in records.enumerated() {
                guard let v = rule.value(r) else { continue }
                if let f = identifierField, junk.contains(JunkValue(field: f, value: v)) { continue }
                groups[v, default: []].append(Int32(i))
            }
            var count = 0
            for (_, members) in groups where members.count > 1 {
                if members.count > maxBlockSize { skipped += 1; continue }
                for x in 0..<members.count {
                    for y in (x + 1)..<members.count {
                        let a = UInt64(members[x]), b = UInt64(members[y])
                        seen.insert(a < b ? a << 32 | b : b << 32 | a)
                        count += 1
                    }
                }
            }
            perRule.append(count)
        }
        return CandidatePairs(pairs: seen.sorted(), perRule: perRule, skippedBlocks: skipped)
    }
}

/// Finds placeholder identifiers: a value carried by many records of clearly different people.
public enum JunkDetector {
    public static func detect(_ records: [PersonRecord], minRecords: Int = 5, minDistinctNames: Int = 4) -> [(JunkValue, Int)] {
        var out: [(JunkValue, Int)] = []
        for field in Field.identifiers {
            var groups: [[UInt8]: [Int]] = [:]
            for (i, r) in records.enumerated() {
                let v: [UInt8]
                switch field {
                case .email: v = r.email
                case .phone: v = r.phone
                default: v = r.nationalId
                }
                if !v.isEmpty { groups[v, default: []].append(i) }
            }
            for (v, members) in groups where members.count >= minRecords {
                let names = Set(members.map { records[$0].firstCanonical + [0x20] + records[$0].lastPhonetic })
                if names.count >= minDistinctNames { out.append((JunkValue(field: field, value: v), members.count)) }
            }
        }
        return out.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0.text < $1.0.text }
    }
}
