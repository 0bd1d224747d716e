import Foundation
import Testing
import GRDB
@testable import StewardCatalog
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

    /// A comma only separates thousands: a vendor's "1,5" (a decimal comma) or "$1,2,3" is no
    /// number (both read as 15 and 123 before), nor is a hexadecimal "0x10" (16).
    @Test func commasOnlyGroupThousands() {
        for good in [("75,000", 75_000.0), ("$1,234,567.5", 1_234_567.5), ("-75,000", -75_000), ("€ 1,000", 1_000), ("999", 999), ("1,000e2", 100_000)] {
            #expect(TraitCoercion.number(good.0) == good.1, "\(good.0)")
        }
        for bad in ["$1,2,3", "1,5", "12,34", ",500", "500,", "1,,000", "1,0000", "1.5,000", "0x10", " 0X1p3 ", "abc", "1e309"] {
            #expect(TraitCoercion.number(bad) == nil, "\(bad)")
        }
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
            // Commas only between groups of three digits of the whole part (commasOnlyGroupThousands).
            let stripped = t.filter { $0 != "$" && $0 != "€" && $0 != "£" && $0 != " " }
            let grouped = !stripped.contains(",") || stripped.range(of: #"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?([eE][+-]?[0-9]+)?$"#, options: .regularExpression) != nil
            let general: Double? = t.isEmpty ? nil : (Double(t).flatMap { $0.isFinite ? $0 : nil }
                ?? (grouped ? Double(stripped.filter { $0 != "," }).flatMap { $0.isFinite ? $0 : nil } : nil))
            #expect(TraitCoercion.number(text) == general, "\(text.debugDescription)")
        }
    }
}

extension SplitMix {
    mutating func int(_ low: Int, _ high: Int) -> Int { low + Int(next() % UInt64(high - low + 1)) }
}

/// The membership merge (`AudienceMaterialiser.apply`): whatever the stored and wanted members, the
/// stored membership becomes the wanted one, the counts and the change log say who entered and left,
/// a member whose group changed stays with its new group, and customers are compared bytewise.
@Suite struct AudienceMembershipMergeTests {
    @Test(arguments: [5, 11, 2026] as [UInt64])
    func storedMembershipBecomesTheWantedOne(seed: UInt64) async throws {
        try await offPool {
            let p = ActivationPipelineTests.project()
            let catalog = try p.catalog()
            let materialiser = AudienceMaterialiser(config: try p.config())
            var rng = SplitMix(seed: seed)
            // Ids of several widths and cases, so text order is not length order.
            let universe = (0..<400).map { i in ["C\(i)", "c\(i)", "C0\(i)", "Z\(i)x"][i % 4] }
            var stored: [String: Bool] = [:]
            for round in 0..<6 {
                let wanted = universe.filter { _ in rng.int(0, 2) == 0 }.map { ($0, rng.int(0, 3) == 0) }
                let sorted = wanted.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
                let outcome = try catalog.pool.write { db in
                    try materialiser.apply(db, audience: "a", wanted: sorted.map { .init(id: $0.0, holdout: $0.1) }, runId: Int64(round + 1), at: "2024-01-0\(round + 1)")
                }
                let want = Dictionary(uniqueKeysWithValues: wanted)
                #expect(outcome.entered == Set(want.keys).subtracting(stored.keys).count)
                #expect(outcome.left == Set(stored.keys).subtracting(want.keys).count)
                #expect(outcome.size == want.count && outcome.holdout == want.values.filter { $0 }.count)
                let now = try catalog.pool.read { db in
                    Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT customer_id, holdout FROM audience_member WHERE audience = 'a'")
                        .map { ($0[0] as String, ($0[1] as Int) == 1) })
                }
                #expect(now == want, "round \(round)")
                let log = try catalog.pool.read { db in
                    try Row.fetchAll(db, sql: "SELECT customer_id, change FROM audience_change WHERE audience = 'a' AND run_id = ? ORDER BY id",
                                     arguments: [round + 1]).map { "\($0[1] as String):\($0[0] as String)" }
                }
                let lefts = Set(stored.keys).subtracting(want.keys).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { "left:\($0)" }
                let entries = Set(want.keys).subtracting(stored.keys).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { "entered:\($0)" }
                #expect(log == lefts + entries)
                stored = want
            }
        }
    }
}
