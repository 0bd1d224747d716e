import Foundation

/// A comparison vector in one word: 4 bits per field (level + 1), bit 63 = names swapped.
struct PackedVector: Hashable, Sendable {
    var bits: UInt64

    init(bits: UInt64) { self.bits = bits }

    init(_ v: ComparisonVector) {
        var b: UInt64 = 0
        for (i, l) in v.levels.enumerated() { b |= UInt64(Int(l) + 1) << (4 * UInt64(i)) }
        if v.swappedNames { b |= 1 << 63 }
        bits = b
    }

    var unpacked: ComparisonVector {
        ComparisonVector(levels: Field.allCases.map { self[$0] }, swappedNames: swappedNames)
    }

    /// A field's level (-1: missing).
    subscript(field: Field) -> Int8 {
        get { Int8(Int((bits >> (4 * UInt64(field.rawValue))) & 0xF) - 1) }
        set {
            let shift = 4 * UInt64(field.rawValue)
            bits = bits & ~(0xF << shift) | UInt64(Int(newValue) + 1) << shift
        }
    }

    var swappedNames: Bool {
        get { bits & (1 << 63) != 0 }
        set { bits = newValue ? bits | 1 << 63 : bits & ~(1 << 63) }
    }

    /// Two people for certain, whatever else they share: first names no typo explains
    /// (`Comparator.distinctFirstNames`) or birth dates years apart, unless a personal identifier
    /// (email or national id, never a placeholder) agrees exactly. Household members share address,
    /// landline and surname, twins also their birth date: only their first names tell them apart,
    /// so no sum of shared household evidence may outweigh that.
    /// - parameters: a, b: the two records this vector compares.
    func twoPeople(_ a: UnsafePointer<PersonRecord>, _ b: UnsafePointer<PersonRecord>) -> Bool {
        guard self[.email] != 2 && self[.nationalId] != 2 else { return false }
        return self[.dob] == 0 || (self[.firstName] == 0 && Comparator.distinctFirstNames(a, b))
    }

    /// `twoPeople`, or a record without a first name whose email or national id is another's (and
    /// no personal identifier agrees): without the first name, only that tells household members apart.
    func apart(_ a: UnsafePointer<PersonRecord>, _ b: UnsafePointer<PersonRecord>) -> Bool {
        if twoPeople(a, b) { return true }
        return (a.pointee.first.isEmpty || b.pointee.first.isEmpty) && (self[.email] == 0 || self[.nationalId] == 0)
            && self[.email] != 2 && self[.nationalId] != 2
    }
}
