import Foundation
import Testing
@testable import StewardIdentity

/// The matcher's fast paths give what the plain code gives: record values built from caches and
/// byte loops, numbers parsed from bytes, the radix sort, the packed comparison vector.
@Suite struct IdentityMatcherSpeedTests {
    static let nicknames = Nicknames(pairs: [("robert", "bob"), ("robert", "rob"), ("elizabeth", "liz")])

    /// Every derived value equals the formula it caches, for repeated, cased, accented and empty values.
    @Test func recordValuesEqualTheirFormulas() {
        let rows: [(String?, String?, String?, String?, String?)] = [
            ("Bob", "Smith", "John.Smith@Example.COM", "(313) 635-7273", "1980-03-07"),
            ("BOB", "smith", "ÉMILE@exämple.com", "+44 ٣١٣ 635", "1980-03-07"),
            ("Zoë", "Müller-Lüdenscheidt", "", "\r\n12", nil),
            (nil, "", nil, "phone: n/a", ""),
            ("Liz", "O'Brien", "liz@x.org", "+1-313-635-7273 ext. 9", "07/03/1980"),
            ("bob", "Smith", "john.smith@example.com", "3136357273", "1980-03-07"),
        ]
        var codes = PersonRecord.PhoneticCodes()
        for (f, l, e, p, d) in rows + rows {
            let r = PersonRecord(source: "s", key: "k", firstName: f, lastName: l, fullName: nil, email: e, phone: p, dob: d,
                                 street: "12 Oak Road", city: "Zürich", postcode: "SW1A 1AA", nationalId: nil,
                                 nicknames: Self.nicknames, codes: &codes)
            let first = PersonRecord.bytes(f ?? ""), last = PersonRecord.bytes(l ?? "")
            let fs = String(decoding: first, as: UTF8.self), ls = String(decoding: last, as: UTF8.self)
            #expect(r.first == first && r.last == last)
            #expect(r.email == Array((e ?? "").lowercased().utf8))
            #expect(r.phone == Array((p ?? "").filter { $0.isNumber || $0 == "+" }.utf8))
            #expect(r.dob == Array((d ?? "").utf8))
            #expect(r.city == PersonRecord.bytes("Zürich") && r.postcode == PersonRecord.bytes("SW1A 1AA"))
            #expect(r.firstPhonetic == Array(Compare.nysiis(fs).utf8) && r.lastPhonetic == Array(Compare.nysiis(ls).utf8))
            #expect(r.firstCanonical == Array(Self.nicknames.canonical(fs).utf8))
            #expect(r.firstFormal == Self.nicknames.formalNames(fs) && r.lastFormal == Self.nicknames.formalNames(ls))
        }
    }

    @Test func integersReadLikeIntOfString() {
        for s in ["0", "10115", "+12", "-7", "", "+", "-", "12a", "٣", "99999999999999999999", "9223372036854775807",
                  "-9223372036854775808", "9223372036854775808", " 1", "00042"] {
            #expect(Compare.integer(Array(s.utf8)) == Int(s), "\(s)")
        }
    }

    @Test func radixSortEqualsSortAndIsStable() {
        var rng = SplitMix(seed: 3)
        var keys = (0..<20_000).map { i in i % 3 == 0 ? rng.next() : rng.next() % 50 }
        var values = keys.indices.map { Int32($0) }
        let expected = zip(keys, values).sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        RadixSort.sort(&keys, carrying: &values)
        #expect(keys == expected.map(\.0) && values == expected.map(\.1))
        var small: [UInt64] = (0..<5_000).map { UInt64($0 * 7919 % 5_000) }
        RadixSort.sort(&small)
        #expect(small == (0..<5_000).map(UInt64.init))
    }

    /// The bit-flag Jaro gives the flag-array Jaro to the bit, on random short values over a small
    /// alphabet (many repeated letters, so many matches and transpositions).
    @Test func shortJaroEqualsTheGeneralOne() {
        var rng = SplitMix(seed: 11)
        for _ in 0..<20_000 {
            let a = (0..<Int(rng.next() % 20 + 1)).map { _ in UInt8(97 + rng.next() % 5) }
            let b = (0..<Int(rng.next() % 64 + 1)).map { _ in UInt8(97 + rng.next() % 5) }
            let window = max(0, max(a.count, b.count) / 2 - 1)
            if a != b { #expect(Compare.jaro(a, b).bitPattern == Compare.longJaro(a, b, window: window).bitPattern) }
        }
    }

    @Test func patternCountsEqualADictionary() {
        var rng = SplitMix(seed: 5)
        var counts = PatternCounts(), expected: [PackedVector: Int] = [:]
        for _ in 0..<50_000 {
            let v = PackedVector(bits: rng.next() % 3_000 | (rng.next() % 2 == 0 ? 0 : 1 << 63))
            counts.add(v)
            expected[v, default: 0] += 1
        }
        counts.add(PackedVector(bits: 0))
        expected[PackedVector(bits: 0), default: 0] += 1
        #expect(counts.dictionary == expected)
    }

    @Test func packedVectorRoundTrips() {
        let v = ComparisonVector(levels: [4, -1, 2, 0, 3, -1, 1], swappedNames: true)
        var p = PackedVector(v)
        #expect(p.unpacked == v)
        p[.lastName] = 3
        p[.firstName] = -1
        p.swappedNames = false
        #expect(p.unpacked == ComparisonVector(levels: [-1, 3, 2, 0, 3, -1, 1], swappedNames: false))
    }

    /// Junk values and masks from sorted hashes equal a plain grouping of the values.
    @Test func junkMasksMatchTheJunkValues() {
        var records: [PersonRecord] = []
        for i in 0..<40 {
            records.append(PersonRecord(source: "s", key: "\(i)", firstName: ["Ann", "Bo", "Cy", "Di", "Ed"][i % 5], lastName: "Lee\(i % 7)",
                                        email: i % 2 == 0 ? "test@test.com" : "p\(i)@x.com", phone: i < 6 ? "5550000" : "555\(i)",
                                        // Born years apart: the records sharing the phone are different people.
                                        dob: "\(1900 + 11 * i)-01-01"))
        }
        let (values, masks) = JunkDetector.detectWithMasks(records)
        #expect(values.map(\.0.text) == ["test@test.com", "5550000"])
        #expect(masks == JunkValue.masks(records, junk: Set(values.map(\.0))))
    }
}
