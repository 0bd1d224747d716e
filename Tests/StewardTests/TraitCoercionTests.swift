import Foundation
import Testing
@testable import StewardActivation
@testable import StewardConfig
@testable import StewardIdentity

/// The byte-level date reader (`TraitCoercion.isoSeconds`) answers exactly as the general one
/// (`AudienceRule.daySeconds` plus the time of day) wherever it answers, and leaves every other
/// writing to it; numbers skip the trimming copy without changing a value.
@Suite struct TraitCoercionTests {
    /// The general reading, as `seconds` did before the fast path.
    static func slow(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard t.count >= 10, let day = AudienceRule.daySeconds(String(t.prefix(10))) else { return nil }
        guard t.count > 10 else { return day }
        let b = Array(t.utf8)
        guard b.count >= 19, b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: " ") else { return day }
        func num(_ from: Int) -> Double? {
            guard b[from] >= 48, b[from] <= 57, b[from + 1] >= 48, b[from + 1] <= 57 else { return nil }
            return Double(Int(b[from] - 48) * 10 + Int(b[from + 1] - 48))
        }
        guard let h = num(11), let m = num(14), let s = num(17) else { return day }
        return day + h * 3600 + m * 60 + s
    }

    @Test func knownDates() {
        #expect(TraitCoercion.isoSeconds("1970-01-01") == 0)
        #expect(TraitCoercion.isoSeconds("2024-02-29") == Double(19_782 * 86_400))
        #expect(TraitCoercion.isoSeconds("2023-02-29") == nil)
        #expect(TraitCoercion.isoSeconds("2024-07-01T10:20:30Z") == Double(19_905 * 86_400 + 37_230))
        #expect(TraitCoercion.seconds(" 2024-07-01 ") == Double(19_905 * 86_400))
        #expect(TraitCoercion.seconds("0000-02-01") == Self.slow("0000-02-01"))
        #expect(TraitCoercion.number("75,000") == 75_000 && TraitCoercion.number(" 12.5 ") == 12.5 && TraitCoercion.number("inf") == nil)
    }

    /// Seeded: dates, timestamps and near-misses (bad months and days, other separators, spaces,
    /// signs, letters) read the same both ways.
    @Test(arguments: [1, 7, 42, 2026] as [UInt64])
    func fastDatesEqualTheGeneralReading(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        let alphabet = Array("0123456789-T: Z+x.")
        for _ in 0..<20_000 {
            var text = String(format: "%04d-%02d-%02d", rng.int(0, 9999), rng.int(0, 13), rng.int(0, 32))
            if rng.int(0, 2) == 0 { text += String(format: "T%02d:%02d:%02d", rng.int(0, 25), rng.int(0, 61), rng.int(0, 61)) + (rng.int(0, 1) == 0 ? "Z" : ".5+01:00") }
            var chars = Array(text)
            for _ in 0..<rng.int(0, 2) where !chars.isEmpty { chars[rng.int(0, chars.count - 1)] = alphabet[rng.int(0, alphabet.count - 1)] }
            text = String(chars)
            if let fast = TraitCoercion.isoSeconds(text) { #expect(fast == Self.slow(text), "\(text)") }
            #expect(TraitCoercion.seconds(text) == Self.slow(text), "\(text)")
        }
    }

    @Test(arguments: [3, 99] as [UInt64])
    func numbersReadTheSameWithoutTheTrimmingCopy(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        let pieces = ["1", "25", "0.5", "-3", "1e3", " ", "\t", ",", "$", "x", "nan", "."]
        for _ in 0..<20_000 {
            let text = (0..<rng.int(1, 4)).map { _ in pieces[rng.int(0, pieces.count - 1)] }.joined()
            let t = text.trimmingCharacters(in: .whitespaces)
            let general: Double? = t.isEmpty ? nil : (Double(t).flatMap { $0.isFinite ? $0 : nil }
                ?? Double(t.filter { $0 != "," && $0 != "$" && $0 != "€" && $0 != "£" && $0 != " " }).flatMap { $0.isFinite ? $0 : nil })
            #expect(TraitCoercion.number(text) == general, "\(text.debugDescription)")
        }
    }
}

extension SplitMix {
    mutating func int(_ low: Int, _ high: Int) -> Int { low + Int(next() % UInt64(high - low + 1)) }
}
