import Foundation
import StewardConfig

/// An audience rule compiled over a `TraitTable`: each comparison reads a column converted once to
/// the type it is compared as. Logic is three-valued: a comparison with a missing value is unknown,
/// `not unknown` is unknown, and only rows whose rule is true are members (a customer without an
/// income is neither above nor below 50000).
public struct RuleEvaluator {
    let test: (Int) -> Bool?

    /// - parameter now: seconds since 1970 that `30d ago`, `today` and `now` count from.
    public init(_ expr: RuleExpr, table: TraitTable, now: Double) {
        var cache = ColumnCache(table: table)
        test = Self.compile(expr, &cache, now: now)
    }

    /// With a cache shared by several rules over one table: each column is converted once for all.
    public init(_ expr: RuleExpr, cache: inout ColumnCache, now: Double) {
        test = Self.compile(expr, &cache, now: now)
    }

    public func matches(_ row: Int) -> Bool { test(row) == true }

    /// The rows of the table the rule holds for.
    public func rows(count: Int) -> [Int] { (0..<count).filter { test($0) == true } }

    /// Columns converted to one type each, shared by the comparisons of a rule (or of several).
    public struct ColumnCache {
        let table: TraitTable
        public init(table: TraitTable) { self.table = table }
        var numbers: [String: [Double?]] = [:]
        var seconds: [String: [Double?]] = [:]
        var texts: [String: [String?]] = [:]
        var bools: [String: [Bool?]] = [:]

        mutating func numbers(_ t: String) -> [Double?] {
            if let c = numbers[t] { return c }
            let c = (table.columns[t] ?? []).map { v -> Double? in
                switch v {
                case .number(let n)?: return n
                case .text(let s)?: return TraitCoercion.number(s)
                case .bool(let b)?: return b ? 1 : 0
                default: return nil
                }
            }
            numbers[t] = c
            return c
        }

        mutating func seconds(_ t: String) -> [Double?] {
            if let c = seconds[t] { return c }
            let c = (table.columns[t] ?? []).map { v -> Double? in
                switch v {
                case .date(let s)?, .text(let s)?: return TraitCoercion.seconds(s)
                default: return nil
                }
            }
            seconds[t] = c
            return c
        }

        /// Text compares without regard to case ('at risk' finds 'At risk').
        mutating func texts(_ t: String) -> [String?] {
            if let c = texts[t] { return c }
            let c = (table.columns[t] ?? []).map { $0.map { $0.text.lowercased() } }
            texts[t] = c
            return c
        }

        mutating func bools(_ t: String) -> [Bool?] {
            if let c = bools[t] { return c }
            let c = (table.columns[t] ?? []).map { v -> Bool? in
                switch v {
                case .bool(let b)?: return b
                case .text(let s)?: return TraitCoercion.bool(s)
                case .number(let n)?: return n != 0
                default: return nil
                }
            }
            bools[t] = c
            return c
        }

        func present(_ t: String) -> [Bool] { (table.columns[t] ?? []).map { $0 != nil } }
    }

    static func order<T: Comparable>(_ a: T, _ op: CompareOp, _ b: T) -> Bool {
        switch op {
        case .eq: return a == b
        case .ne: return a != b
        case .lt: return a < b
        case .le: return a <= b
        case .gt: return a > b
        case .ge: return a >= b
        }
    }

    static func compile(_ expr: RuleExpr, _ cache: inout ColumnCache, now: Double) -> (Int) -> Bool? {
        switch expr {
        case .and(let a, let b):
            let fa = compile(a, &cache, now: now), fb = compile(b, &cache, now: now)
            return { row in
                let x = fa(row)
                if x == false { return false }
                let y = fb(row)
                if y == false { return false }
                return x == nil || y == nil ? nil : true
            }
        case .or(let a, let b):
            let fa = compile(a, &cache, now: now), fb = compile(b, &cache, now: now)
            return { row in
                let x = fa(row)
                if x == true { return true }
                let y = fb(row)
                if y == true { return true }
                return x == nil || y == nil ? nil : false
            }
        case .not(let a):
            let fa = compile(a, &cache, now: now)
            return { row in fa(row).map { !$0 } }
        case .compare(let t, let op, let literal):
            switch literal {
            case .number(let n):
                let c = cache.numbers(t.name)
                return { row in row < c.count ? c[row].map { order($0, op, n) } : nil }
            case .date(let d):
                let s = d.seconds(now: now)
                let c = cache.seconds(t.name)
                return { row in row < c.count ? c[row].map { order($0, op, s) } : nil }
            case .text(let text):
                let lower = text.lowercased()
                let c = cache.texts(t.name)
                return { row in row < c.count ? c[row].map { order($0, op, lower) } : nil }
            case .bool(let b):
                let c = cache.bools(t.name)
                return { row in row < c.count ? c[row].map { op == .eq ? $0 == b : $0 != b } : nil }
            }
        case .inList(let t, let values, let negated):
            // One membership set per type the list holds.
            var numbers = Set<Double>(), texts = Set<String>(), seconds = Set<Double>(), bools = Set<Bool>()
            for v in values {
                switch v {
                case .number(let n): numbers.insert(n)
                case .text(let s): texts.insert(s.lowercased())
                case .date(let d): seconds.insert(d.seconds(now: now))
                case .bool(let b): bools.insert(b)
                }
            }
            let cn = numbers.isEmpty ? [] : cache.numbers(t.name), ct = texts.isEmpty ? [] : cache.texts(t.name)
            let cs = seconds.isEmpty ? [] : cache.seconds(t.name), cb = bools.isEmpty ? [] : cache.bools(t.name)
            return { row in
                var known = false
                if !cn.isEmpty, let v = cn[row] { known = true; if numbers.contains(v) { return !negated } }
                if !ct.isEmpty, let v = ct[row] { known = true; if texts.contains(v) { return !negated } }
                if !cs.isEmpty, let v = cs[row] { known = true; if seconds.contains(v) { return !negated } }
                if !cb.isEmpty, let v = cb[row] { known = true; if bools.contains(v) { return !negated } }
                return known ? negated : nil
            }
        case .isNull(let t, let negated):
            let c = cache.present(t.name)
            return { row in row < c.count ? (c[row] == negated) : !negated }
        case .truthy(let t):
            let c = cache.bools(t.name)
            return { row in row < c.count ? c[row] : nil }
        }
    }
}

/// The holdout: a deterministic share of each audience chosen by a hash of the audience and the
/// customer id, so a customer stays in or out of the control group from run to run (and across
/// machines) while the share is unchanged.
public enum Holdout {
    /// FNV-1a 64 of "audience\0customer", as a fraction in [0, 1).
    public static func position(audience: String, customerId: String) -> Double {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in audience.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        h = (h ^ 0) &* 0x100_0000_01b3
        for b in customerId.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        // Final mix (splitmix64's), so ids differing in their last character spread over the range.
        h ^= h >> 30; h = h &* 0xbf58_476d_1ce4_e5b9
        h ^= h >> 27; h = h &* 0x94d0_49bb_1331_11eb
        h ^= h >> 31
        return Double(h >> 11) / Double(UInt64(1) << 53)
    }

    public static func isHeldOut(audience: String, customerId: String, share: Double) -> Bool {
        share > 0 && position(audience: audience, customerId: customerId) < share
    }
}
