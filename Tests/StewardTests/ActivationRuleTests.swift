import Foundation
import Testing
@testable import StewardActivation
@testable import StewardConfig
import StewardDemo

/// The audience rule language: parse errors with columns, type errors, each operator, three-valued
/// logic, and a seeded fuzz of the parser.
@Suite struct ActivationRuleTests {
    static let types: [String: TraitType] = [
        "orders": .number, "revenue": .number, "segment": .text, "last_order_at": .date, "consent_email": .bool,
        "income": .any, "city": .text, "churn_score": .number,
    ]

    static func error(_ rule: String) -> RuleError? {
        do { _ = try AudienceRule.compile(rule, traits: types); return nil } catch { return error }
    }

    @Test func parseErrorsNameTheColumn() throws {
        let cases: [(String, Int, String)] = [
            ("orders >= ", 11, "expected a value"),
            ("orders >> 2", 9, "expected a value"),
            ("(orders > 2", 12, "expected ')'"),
            ("orders > 2 segment = 'x'", 12, "after a complete rule"),
            ("segment = 'At risk", 11, "never closed"),
            ("orders in [1, 2", 16, "expected ',' or ']'"),
            ("orders is 3", 11, "expected 'null'"),
            ("last_order_at < 30q ago", 19, "not a unit"),
            ("last_order_at < 30d", 20, "expected 'ago'"),
            ("orders > 2 and", 15, "expected a trait name"),
            ("segment = At", 11, "quote text values"),
            ("orders ~ 2", 8, "unexpected character"),
            ("last_order_at > 2024-02-30", 17, "not a number or a date"),
        ]
        for (rule, column, fragment) in cases {
            let e = try #require(Self.error(rule), "\(rule) parsed")
            #expect(e.column == column, "\(rule): \(e)")
            #expect(e.message.contains(fragment), "\(rule): \(e)")
        }
    }

    @Test func typeErrorsNameTheTraitAndItsColumn() throws {
        let unknown = try #require(Self.error("orders > 1 and revenu > 5"))
        #expect(unknown.column == 16 && unknown.message.contains("unknown trait 'revenu'") && unknown.message.contains("revenue"))
        let wrong = try #require(Self.error("segment > 3"))
        #expect(wrong.column == 1 && wrong.message.contains("text trait, compared with a number"))
        let date = try #require(Self.error("orders = 1 or last_order_at < 'soon'"))
        #expect(date.column == 15 && date.message.contains("date trait"))
        let boolOrder = try #require(Self.error("consent_email > true"))
        #expect(boolOrder.message.contains("yes/no"))
        let notBool = try #require(Self.error("orders and consent_email"))
        #expect(notBool.column == 1 && notBool.message.contains("not yes/no"))
        let list = try #require(Self.error("segment in ['a', 3]"))
        #expect(list.message.contains("compared with a number"))
        // An untyped custom trait takes any comparison.
        #expect(Self.error("income > 50000 or income = 'n/a'") == nil)
    }

    /// Five customers; `now` is 2024-07-01.
    static let now = AudienceRule.daySeconds("2024-07-01")!
    static let table = TraitTable(ids: ["C1", "C2", "C3", "C4", "C5"], columns: [
        "orders": [.number(0), .number(2), .number(5), .number(1), nil],
        "revenue": [.number(0), .number(80), .number(500), .number(40), nil],
        "segment": [.text("Lost"), .text("At risk"), .text("Champions"), .text("About to sleep"), nil],
        "last_order_at": [nil, .date("2024-05-01T10:00:00Z"), .date("2024-06-25"), .date("2024-01-15"), nil],
        "consent_email": [.bool(true), .bool(false), .bool(true), .bool(true), .bool(false)],
        "income": [.text("45000"), .text("72,000"), .text("n/a"), .text("$91000"), nil],
        "city": [.text("Paris"), .text("Berlin"), .text("paris"), nil, .text("Rome")],
    ])

    static func members(_ rule: String) throws -> [String] {
        let expr = try AudienceRule.compile(rule, traits: types)
        let e = RuleEvaluator(expr, table: table, now: now)
        return e.rows(count: table.ids.count).map { table.ids[$0] }
    }

    @Test func eachOperator() throws {
        #expect(try Self.members("orders = 2") == ["C2"])
        #expect(try Self.members("orders == 2") == ["C2"])
        #expect(try Self.members("orders != 2") == ["C1", "C3", "C4"])
        #expect(try Self.members("orders <> 2") == ["C1", "C3", "C4"])
        #expect(try Self.members("orders < 2") == ["C1", "C4"])
        #expect(try Self.members("orders <= 2") == ["C1", "C2", "C4"])
        #expect(try Self.members("orders > 2") == ["C3"])
        #expect(try Self.members("orders >= 2") == ["C2", "C3"])
        #expect(try Self.members("segment in ['at risk', 'About to sleep']") == ["C2", "C4"])
        #expect(try Self.members("segment not in ['Lost']") == ["C2", "C3", "C4"])
        #expect(try Self.members("city = 'PARIS'") == ["C1", "C3"])
        #expect(try Self.members("last_order_at is null") == ["C1", "C5"])
        #expect(try Self.members("last_order_at is not null") == ["C2", "C3", "C4"])
        #expect(try Self.members("consent_email") == ["C1", "C3", "C4"])
        #expect(try Self.members("consent_email = false") == ["C2", "C5"])
        #expect(try Self.members("orders > 0 and consent_email") == ["C3", "C4"])
        #expect(try Self.members("orders = 0 or revenue > 100") == ["C1", "C3"])
        #expect(try Self.members("not (orders >= 2)") == ["C1", "C4"])
        #expect(try Self.members("(orders = 0 or orders = 5) and not consent_email = false") == ["C1", "C3"])
        // and binds tighter than or.
        #expect(try Self.members("orders = 0 or orders = 1 and revenue > 100") == ["C1"])
    }

    @Test func datesAndTheRelativeForms() throws {
        // 2024-07-01 minus 30 days is 2024-06-01.
        #expect(try Self.members("last_order_at >= 30d ago") == ["C3"])
        // 60 days before 2024-07-01 is 2024-05-02: C2's order of 2024-05-01 is older.
        #expect(try Self.members("last_order_at < 60d ago") == ["C2", "C4"])
        #expect(try Self.members("last_order_at < 2024-05-01") == ["C4"])
        #expect(try Self.members("last_order_at >= 2024-05-01") == ["C2", "C3"])
        #expect(try Self.members("last_order_at > 1w ago") == ["C3"])
        #expect(try Self.members("last_order_at < today") == ["C2", "C3", "C4"])
        #expect(try Self.members("last_order_at > 1y ago") == ["C2", "C3", "C4"])
    }

    @Test func untypedTraitsConvertAndMissingValuesAreUnknown() throws {
        // "72,000" and "$91000" read as numbers; "n/a" never matches a number.
        #expect(try Self.members("income > 50000") == ["C2", "C4"])
        #expect(try Self.members("income = 'n/a'") == ["C3"])
        // Unknown stays unknown under not: C5 (no revenue) is in neither.
        #expect(try Self.members("revenue > 50") == ["C2", "C3"])
        #expect(try Self.members("not revenue > 50") == ["C1", "C4"])
        #expect(try Self.members("revenue > 50 or consent_email = false") == ["C2", "C3", "C5"])
    }

    @Test func traitsListedOnceInOrder() throws {
        let e = try AudienceRule.parse("orders > 1 and (segment = 'x' or orders < 9) and not consent_email")
        #expect(e.traits == ["orders", "segment", "consent_email"])
    }

    @Test func seededFuzzNeverCrashesAndErrorsCarryPositions() {
        var rng = SplitMix64(state: 2026)
        let pieces = ["orders", "revenue", "segment", "and", "or", "not", "(", ")", "[", "]", ",", "in", "is", "null", ">=", "<", "=", "!=",
                      "'x'", "\"y", "30d", "ago", "2024-06-30", "12.5", "-3", "true", "?", "~", "consent_email", "today", "  ", "é", "9q"]
        var parsed = 0
        for _ in 0..<3_000 {
            var text = ""
            for _ in 0..<Int(rng.next() % 12) {
                let piece = pieces[Int(rng.next() % UInt64(pieces.count))]
                text += (rng.next() % 3 == 0 ? "" : " ") + piece
            }
            do {
                let expr = try AudienceRule.compile(text, traits: Self.types)
                parsed += 1
                _ = RuleEvaluator(expr, table: Self.table, now: Self.now).rows(count: Self.table.ids.count)
            } catch {
                #expect(error.column >= 1 && error.column <= text.count + 1, "\(text): \(error)")
                #expect(!error.message.isEmpty)
            }
        }
        #expect(parsed > 5)
        // Deep nesting is refused, not a stack overflow.
        let deep = String(repeating: "(", count: 10_000) + "orders > 1" + String(repeating: ")", count: 10_000)
        #expect(Self.error(deep)?.message.contains("nests deeper") == true)
        let nots = String(repeating: "not ", count: 10_000) + "consent_email"
        #expect(Self.error(nots)?.message.contains("nests deeper") == true)
    }

    @Test func holdoutIsDeterministicAndNearItsShare() {
        let ids = (0..<20_000).map { "C\(String(format: "%07d", $0))" }
        let held = ids.filter { Holdout.isHeldOut(audience: "win_back", customerId: $0, share: 0.1) }
        #expect(held.count > 1_850 && held.count < 2_150, "\(held.count)")
        #expect(ids.filter { Holdout.isHeldOut(audience: "win_back", customerId: $0, share: 0.1) } == held)
        // Another audience holds out other customers; a larger share keeps the smaller one's.
        let other = ids.filter { Holdout.isHeldOut(audience: "vip", customerId: $0, share: 0.1) }
        #expect(Set(other).intersection(held).count < 400)
        let larger = Set(ids.filter { Holdout.isHeldOut(audience: "win_back", customerId: $0, share: 0.2) })
        #expect(Set(held).isSubset(of: larger))
        #expect(!ids.contains { Holdout.isHeldOut(audience: "win_back", customerId: $0, share: 0) })
        // A fixed value: the hash must not change between versions (held-out customers stay held out).
        #expect(String(format: "%.6f", Holdout.position(audience: "win_back", customerId: "C0000001")) == Self.pinnedPosition)
    }
    static let pinnedPosition = "0.531876"
}
