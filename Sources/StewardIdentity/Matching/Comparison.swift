/// The fields the model compares, each with ordered agreement levels (0 = disagree, higher = stronger).
public enum Field: Int, CaseIterable, Sendable, Codable {
    case firstName, lastName, email, phone, dob, address, nationalId

    public var name: String {
        switch self {
        case .firstName: return "first_name"
        case .lastName: return "last_name"
        case .email: return "email"
        case .phone: return "phone"
        case .dob: return "dob"
        case .address: return "address"
        case .nationalId: return "national_id"
        }
    }

    /// Level labels, index = level.
    public var levels: [String] {
        switch self {
        case .firstName: return ["different", "phonetic", "similar (JW ≥ 0.90 or 1 edit)", "nickname", "exact"]
        case .lastName: return ["different", "phonetic", "similar (JW ≥ 0.92 or 1 edit)", "exact"]
        case .email: return ["different", "1 edit, or same user with digits", "exact"]
        case .phone: return ["different", "1 edit or same last 7 digits", "exact"]
        case .dob: return ["different", "year only", "1 edit", "day/month transposed", "exact"]
        case .address: return ["different", "same region only", "same city or area", "postcode one keystroke off", "same postcode",
                                "same house number, similar street", "same street"]
        case .nationalId: return ["different", "1 edit", "exact"]
        }
    }

    /// Each level's step of closeness, on which the prior m rises (`FSModel.initial`): its index,
    /// except the two address levels version 2 cut out of older ones (region only, out of
    /// "different"; a postcode one keystroke off, out of "same city or near postcode"), which sit half
    /// a step above the level they came from. The prior is the whole m of a project too small to
    /// train (under 50 pairs a session): counted by index, the cuts put "same city" a step further
    /// below "same street" and eight records' exact copies of name, email and phone fell from 0.89
    /// to 0.64.
    var priorSteps: [Double] {
        guard self == .address else { return levels.indices.map(Double.init) }
        return [0, 0.5, 1, 1.5, 2, 3, 4]
    }

    /// The address levels code reads by name (indexes into `levels`).
    enum AddressLevel {
        static let region: Int8 = 1, cityOrArea: Int8 = 2, postcodeTypo: Int8 = 3, postcode: Int8 = 4
        /// From here up the pair shares a house: a household's landline is weaker evidence on top.
        static let house: Int8 = 5
        static let street: Int8 = 6
    }

    /// Fields whose exact agreement is weighted by the value's frequency.
    var termFrequencyAdjusted: Bool { self == .firstName || self == .lastName }

    /// Identifier fields where a value shared by many unrelated records is junk.
    static let identifiers: [Field] = [.email, .phone, .nationalId]
}

/// The agreement levels of one record pair; -1 is missing on either side (neutral).
public struct ComparisonVector: Hashable, Sendable {
    public var levels: [Int8]
    /// True when first and last names agreed better after swapping them on one side.
    public var swappedNames = false
}

/// Compares two records field by field.
public struct Comparator: Sendable {
    public let nicknames: Nicknames
    /// Identifier values detected as placeholders (treated as missing).
    public var junk: Set<JunkValue> = []

    public init(nicknames: Nicknames, junk: Set<JunkValue> = []) {
        self.nicknames = nicknames
        self.junk = junk
    }

    /// For name comparisons alone: they read each record's own nickname expansions (`firstFormal`),
    /// not the list.
    static let names = Comparator(nicknames: Nicknames(pairs: []))

    /// Whether a name is written in Latin letters (ASCII once standardised).
    static func latin(_ name: [UInt8]) -> Bool { name.allSatisfy { $0 < 0x80 } }

    /// Surnames that are not one name misspelt: not alike at any level and three or more edits apart
    /// (in one script).
    static func distinctLastNames(_ a: UnsafePointer<PersonRecord>, _ b: UnsafePointer<PersonRecord>) -> Bool {
        let al = a.pointee.last, bl = b.pointee.last
        guard !al.isEmpty && !bl.isEmpty && al != bl && latin(al) == latin(bl) else { return false }
        return names.lastName(al, a.pointee.lastPhonetic, bl, b.pointee.lastPhonetic) == 0 && Compare.damerauLevenshtein(al, bl) >= 3
    }

    /// First names no typo explains: not alike at any level (`firstName` 0) and at least three
    /// edits apart, also against the other record's last name (names written the other way round).
    /// A typo on each side leaves one name's two spellings two edits apart ("dniel", "dainel"),
    /// which the model weighs; only names this far apart say "two people" whatever else agrees.
    /// Names in two scripts ("敏", "min") are not compared: a transliteration is no typo, and no other name.
    static func distinctFirstNames(_ a: UnsafePointer<PersonRecord>, _ b: UnsafePointer<PersonRecord>) -> Bool {
        let af = a.pointee.first, bf = b.pointee.first
        guard !af.isEmpty && !bf.isEmpty && af != bf && latin(af) == latin(bf) else { return false }
        func far(_ x: [UInt8], _ xp: [UInt8], _ xf: [String], _ y: [UInt8], _ yp: [UInt8], _ yf: [String]) -> Bool {
            y.isEmpty || latin(x) != latin(y) || (names.firstName(x, xp, xf, y, yp, yf) == 0 && Compare.damerauLevenshtein(x, y) >= 3)
        }
        return far(af, a.pointee.firstPhonetic, a.pointee.firstFormal, bf, b.pointee.firstPhonetic, b.pointee.firstFormal)
            && far(af, a.pointee.firstPhonetic, a.pointee.firstFormal, b.pointee.last, b.pointee.lastPhonetic, b.pointee.lastFormal)
            && far(bf, b.pointee.firstPhonetic, b.pointee.firstFormal, a.pointee.last, a.pointee.lastPhonetic, a.pointee.lastFormal)
    }

    public func compare(_ a: PersonRecord, _ b: PersonRecord) -> ComparisonVector {
        withUnsafePointer(to: a) { a in withUnsafePointer(to: b) { b in compare(a, b, junk: junkMask(a) | junkMask(b)).unpacked } }
    }

    /// Which of the record's identifiers are placeholders (`JunkValue.mask`).
    func junkMask(_ r: UnsafePointer<PersonRecord>) -> UInt8 { JunkValue.mask(r, junk: junk) }

    func junkMasks(_ records: [PersonRecord]) -> [UInt8] { JunkValue.masks(records, junk: junk) }

    /// The records through pointers: the matcher's loops compare records in place (a record passed
    /// by value is copied, retaining and releasing each of its dozen arrays: 1.7 s of CPU at 200k),
    /// and the levels go straight into one word (no array per pair).
    /// - parameter junk: the two records' `junkMask`s or'd: those identifiers count as missing.
    func compare(_ a: UnsafePointer<PersonRecord>, _ b: UnsafePointer<PersonRecord>, junk: UInt8) -> PackedVector {
        var v = PackedVector(bits: 0)
        // A record whose one name sits in the last-name field ("", "christine") is compared as the
        // side whose first name is read against the other's last name, whichever record comes first.
        let (a, b) = a.pointee.first.isEmpty && !b.pointee.first.isEmpty ? (b, a) : (a, b)
        let straight = (firstName(a.pointee.first, a.pointee.firstPhonetic, a.pointee.firstFormal, b.pointee.first, b.pointee.firstPhonetic, b.pointee.firstFormal),
                        lastName(a.pointee.last, a.pointee.lastPhonetic, b.pointee.last, b.pointee.lastPhonetic))
        var names = straight
        if !a.pointee.first.isEmpty && !b.pointee.last.isEmpty && a.pointee.first != b.pointee.first {
            // Swapped names win when their levels sum to more than the straight ones + 1. The last
            // name's level first: it tells how high the first name's must be, and a first name that
            // must be at least a nickname needs no Jaro-Winkler (the levels are the same).
            let last = lastName(a.pointee.last, a.pointee.lastPhonetic, b.pointee.first, b.pointee.firstPhonetic)
            let need = Int(straight.0) + Int(straight.1) + 2 - Int(last)
            if need <= 4 {
                let first = firstName(a.pointee.first, a.pointee.firstPhonetic, a.pointee.firstFormal, b.pointee.last, b.pointee.lastPhonetic,
                                      b.pointee.lastFormal, atLeast: need)
                if Int(first) >= need { names = (first, last); v.swappedNames = true }
            }
        }
        v[.firstName] = names.0
        v[.lastName] = names.1
        v[.email] = identifier(a.pointee.email, b.pointee.email, junk: junk & JunkValue.bit(.email) != 0) { x, y in
            // Near = a typo in a letter. Addresses that differ only in digits or punctuation are two
            // accounts of namesakes: a provider numbers the next john.smith (john.smith2@,
            // john.smith3@), others pick john_smith@ or johnsmith@, and the bigger the data the more
            // namesakes hold such neighbouring addresses. For the same reason the same user part at
            // another provider is no evidence ("john.smith2@" is the second John Smith at each).
            Compare.withinOneEdit(x, y) && !Compare.sameLetters(x, y)
        }
        v[.phone] = identifier(a.pointee.phone, b.pointee.phone, junk: junk & JunkValue.bit(.phone) != 0) { x, y in
            (x.count >= 7 && y.count >= 7 && x.suffix(7) == y.suffix(7)) || Compare.withinOneEdit(x, y)
        }
        v[.nationalId] = identifier(a.pointee.nationalId, b.pointee.nationalId, junk: junk & JunkValue.bit(.nationalId) != 0) { x, y in
            Compare.withinOneEdit(x, y)
        }
        if !a.pointee.dob.isEmpty && !b.pointee.dob.isEmpty { v[.dob] = Int8(Compare.dates(a.pointee.dob, b.pointee.dob).rawValue) }
        v[.address] = address(a, b)
        return v
    }

    /// Street, postcode, city and region as one comparison: they are not independent evidence.
    /// A postcode one keystroke off is a level of its own: within "same city" it weighed as every
    /// pair of one town does (below "different" once fitted), though a mistyped digit is what a
    /// record holding only a name and a postcode most often shows of its person (with two streets
    /// that disagree it is "same area"). The region counts
    /// alone only where nothing finer is compared (a marketing record without its postcode): there
    /// it tells namesakes in two states apart; a city of the same name in another region is not
    /// the same city.
    func address(_ a: UnsafePointer<PersonRecord>, _ b: UnsafePointer<PersonRecord>) -> Int8 {
        typealias Level = Field.AddressLevel
        var street: Int8 = -1, postcode: Int8 = -1, city: Int8 = -1, region: Int8 = -1
        if !a.pointee.street.isEmpty && !b.pointee.street.isEmpty {
            if a.pointee.street == b.pointee.street { street = 2 }
            else if a.pointee.houseNumber != nil && a.pointee.houseNumber == b.pointee.houseNumber && Compare.jaroWinkler(a.pointee.street, b.pointee.street) >= 0.85 { street = 1 }
            else { street = 0 }
        }
        // Regions compare when written alike: both codes ("fl", "or") or both names. A code against
        // a name ("ca", "california") is not compared: no list here maps one to the other, and two
        // systems spelling one state their own way must not read as two states.
        if !a.pointee.region.isEmpty && !b.pointee.region.isEmpty && (a.pointee.region.count <= 3) == (b.pointee.region.count <= 3) {
            region = a.pointee.region == b.pointee.region ? 1 : 0
        }
        var postcodeTypo = false
        if !a.pointee.postcode.isEmpty && !b.pointee.postcode.isEmpty {
            if a.pointee.postcode == b.pointee.postcode { postcode = 2 }
            else {
                // One character keyed wrong or two swapped, at the same length.
                postcodeTypo = a.pointee.postcode.count >= 4 && a.pointee.postcode.count == b.pointee.postcode.count
                    && Compare.withinOneEdit(a.pointee.postcode, b.pointee.postcode)
                // The same area: numbers a step or two apart, or (not all digits) the same outward part.
                let near = Compare.numericNear(a.pointee.postcode, b.pointee.postcode, tolerance: 2)
                let prefix = a.pointee.postcode.count >= 4 && b.pointee.postcode.count >= 4 && a.pointee.postcode.prefix(3) == b.pointee.postcode.prefix(3)
                    && !(a.pointee.postcode.allSatisfy { $0 >= 48 && $0 <= 57 })
                postcode = postcodeTypo || near || prefix ? 1 : 0
            }
        }
        if !a.pointee.city.isEmpty && !b.pointee.city.isEmpty && region != 0 {
            city = a.pointee.city == b.pointee.city || Compare.jaroWinkler(a.pointee.city, b.pointee.city) >= 0.92 ? 1 : 0
        }
        if street == 2 { return Level.street }
        if street == 1 { return Level.house }
        if postcode == 2 { return Level.postcode }
        // Only where the streets do not disagree: a true pair keeps its street (a shared street ranks
        // above), so with two streets a postcode a digit off is a neighbour's as often as a typo.
        if postcodeTypo && street != 0 { return Level.postcodeTypo }
        if postcode == 1 || city == 1 { return Level.cityOrArea }
        if street == 0 || postcode == 0 || city == 0 || region == 0 { return 0 }
        return region == 1 ? Level.region : -1
    }

    /// - parameter atLeast: levels below it are not needed exactly: 0 stands for any of them.
    func firstName(_ a: [UInt8], _ ap: [UInt8], _ af: [String], _ b: [UInt8], _ bp: [UInt8], _ bf: [String], atLeast: Int = 0) -> Int8 {
        if a.isEmpty || b.isEmpty { return -1 }
        if a == b { return 4 }
        if !af.isEmpty && !bf.isEmpty && af.contains(where: bf.contains) { return 3 }
        if atLeast >= 3 { return 0 }
        if Compare.jaroWinkler(a, b) >= 0.9 || Compare.withinOneEdit(a, b) { return 2 }
        if !ap.isEmpty && ap == bp { return 1 }
        return 0
    }

    func lastName(_ a: [UInt8], _ ap: [UInt8], _ b: [UInt8], _ bp: [UInt8]) -> Int8 {
        if a.isEmpty || b.isEmpty { return -1 }
        if a == b { return 3 }
        if Compare.jaroWinkler(a, b) >= 0.92 || Compare.withinOneEdit(a, b) { return 2 }
        if !ap.isEmpty && ap == bp { return 1 }
        return 0
    }

    /// - parameter junk: either value is a placeholder.
    func identifier(_ a: [UInt8], _ b: [UInt8], junk: Bool, near: ([UInt8], [UInt8]) -> Bool) -> Int8 {
        if a.isEmpty || b.isEmpty || junk { return -1 }
        if a == b { return 2 }
        return near(a, b) ? 1 : 0
    }
}

/// A placeholder identifier (email, phone or national id) shared by many unrelated records.
public struct JunkValue: Hashable, Sendable {
    public var field: Field
    public var value: [UInt8]
    public var text: String { String(decoding: value, as: UTF8.self) }

    /// The bit of an identifier field in a record's junk mask (`Comparator.junkMask`).
    static func bit(_ field: Field) -> UInt8 {
        switch field {
        case .email: return 1
        case .phone: return 2
        case .nationalId: return 4
        default: return 0
        }
    }

    /// Which of the record's identifiers are in `junk`, a bit each: the matcher looks this up once per
    /// record, not twice per pair and field.
    static func mask(_ r: UnsafePointer<PersonRecord>, junk: Set<JunkValue>) -> UInt8 {
        if junk.isEmpty { return 0 }
        var mask: UInt8 = 0
        for f in Field.identifiers {
            let v = identifier(f, r)
            if !v.isEmpty && junk.contains(JunkValue(field: f, value: v)) { mask |= bit(f) }
        }
        return mask
    }

    static func masks(_ records: [PersonRecord], junk: Set<JunkValue>) -> [UInt8] {
        if junk.isEmpty { return [UInt8](repeating: 0, count: records.count) }
        return RecordView.with(records) { view in records.indices.map { mask(view.pointer($0), junk: junk) } }
    }

    /// The record's value of an identifier field (empty for the other fields).
    static func identifier(_ field: Field, _ r: UnsafePointer<PersonRecord>) -> [UInt8] {
        switch field {
        case .email: return r.pointee.email
        case .phone: return r.pointee.phone
        case .nationalId: return r.pointee.nationalId
        default: return []
        }
    }
}

/// Identifier values that stand for "no value" whoever carries them: what forms and clerks type
/// when there is none. They are placeholders at any count, even on two records that agree.
public enum KnownPlaceholder {
    /// Words typed instead of a value (letters only: "n/a" is "na").
    static let words: Set<String> = [
        "na", "none", "null", "nil", "unknown", "unk", "test", "testing", "xxx", "tbd", "noemail", "nomail", "nophone",
        "notprovided", "notavailable", "declined", "refused", "noreply", "donotreply", "dummy", "fake", "invalid", "example",
    ]
    /// Email domains typed for "none". Not RFC 2606's example.com: documentation and test data use
    /// it for addresses that stand for real people (its fillers are caught by their user part).
    static let domains: Set<String> = [
        "test.com", "none.com", "noemail.com", "nomail.com", "invalid", "localhost", "email.invalid", "test.invalid",
    ]

    /// - parameter value: the standardised value (`JunkValue.identifier`).
    public static func matches(_ field: Field, _ value: [UInt8]) -> Bool {
        func letters(_ s: ArraySlice<UInt8>) -> String {
            String(decoding: s.filter { ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) }, as: UTF8.self).lowercased()
        }
        let digits = value.filter { $0 >= 48 && $0 <= 57 }
        switch field {
        case .email:
            guard let at = value.lastIndex(of: 64) else { return true }
            let user = letters(value[..<at])
            let domain = String(decoding: value[(at + 1)...], as: UTF8.self).lowercased()
            return words.contains(user) || domains.contains(domain) || fillerDigits(Array(value[..<at].filter { $0 != 46 }))
        case .phone:
            // The last ten digits (a country code dropped), and the subscriber's last seven alone.
            let national = Array(digits.suffix(10))
            return digits.count < 4 || fillerDigits(national) || fillerDigits(Array(national.suffix(7)))
        case .nationalId:
            let text = letters(value[...])
            return digits.isEmpty ? words.contains(text) : text.isEmpty && fillerDigits(digits)
        default:
            return false
        }
    }

    /// One digit over and over (000000000, 5555555555) or a counting run (123456789, 0123456789,
    /// 987654321): at least four digits.
    static func fillerDigits(_ d: [UInt8]) -> Bool {
        guard d.count >= 4 else { return false }
        if d.allSatisfy({ $0 == d[0] }) { return true }
        let up = zip(d, d.dropFirst()).allSatisfy { $1 == ($0 == 57 ? 48 : $0 + 1) }
        let down = zip(d, d.dropFirst()).allSatisfy { $1 == ($0 == 48 ? 57 : $0 - 1) }
        return (up || down) && d.allSatisfy { $0 >= 48 && $0 <= 57 }
    }
}
