import Foundation
import StewardCatalog

/// What a KPI's number means: values are stored in canonical units (seconds, fractions, ratios).
public enum KPIUnit: String, Sendable, Codable {
    /// A duration in seconds (`< 1 hour`, `< 5 seconds`, `250 ms`).
    case seconds
    /// A share, stored as a fraction 0…1 (`> 95%`, `99.9%`).
    case percent
    /// A ratio `a:b`, stored as a / b (`4:1` is 4).
    case ratio
    /// A plain number (`1200`, `3.5`).
    case number

    /// Formats a canonical value for people: `43m`, `96.2%`, `3.1:1`, `1,200`.
    public func format(_ value: Double) -> String {
        switch self {
        case .seconds:
            if value < 1 { return String(format: "%.0f ms", value * 1000) }
            if value < 60 { return String(format: value < 10 ? "%.1f s" : "%.0f s", value) }
            return Duration.describe(value)
        case .percent:
            let p = value * 100
            return p >= 99 && p < 100 ? String(format: "%.2f%%", p) : String(format: "%.1f%%", p)
        case .ratio:
            return String(format: value == value.rounded() ? "%.0f:1" : "%.1f:1", value)
        case .number:
            return value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.2f", value)
        }
    }
}

/// A quantity with its unit, in canonical form: `2:1` is (2, ratio), `24 hours` is (86400, seconds).
public struct KPIQuantity: Sendable, Equatable {
    public var value: Double
    public var unit: KPIUnit

    public init(value: Double, unit: KPIUnit) {
        self.value = value
        self.unit = unit
    }
}

/// A KPI target such as `< 1 hour`, `> 95%`, `99.9%`, `4:1` or `60% → 95%`.
///
/// ```swift
/// let t = try KPITarget.parse("< 1 hour")      // at most 3600 seconds
/// t.isMet(by: 1800)                            // true
/// let m = try KPITarget.parse("60% → 95%")     // at least 0.95, baseline 0.60
/// ```
/// Without an operator a target means "at least" (a bare number, a share, a ratio), except a duration,
/// which means "at most" (nobody targets a slower answer); with a baseline and no operator the
/// direction goes from the baseline towards the target (`24 hours → 1 hour` is at most).
public struct KPITarget: Sendable, Equatable {
    public enum Comparison: String, Sendable { case atLeast = "at_least", atMost = "at_most" }

    public var comparison: Comparison
    public var value: Double
    public var unit: KPIUnit
    /// The baseline written inside the target (`60% → 95%`), if any.
    public var baseline: KPIQuantity?
    public var text: String

    public init(comparison: Comparison, value: Double, unit: KPIUnit, baseline: KPIQuantity? = nil, text: String) {
        self.comparison = comparison
        self.value = value
        self.unit = unit
        self.baseline = baseline
        self.text = text
    }

    public func isMet(by actual: Double) -> Bool {
        comparison == .atLeast ? actual >= value : actual <= value
    }

    /// How much room the target allows, used by the "within 10 % of the margin" at-risk rule: for
    /// "at most" the distance from zero; for a share the distance to 100 %; otherwise the distance
    /// from the baseline (or from zero without one).
    public func margin(baseline explicit: KPIQuantity? = nil) -> Double {
        switch comparison {
        case .atMost:
            return abs(value)
        case .atLeast:
            if unit == .percent, value < 1 { return 1 - value }
            if let b = explicit ?? baseline, b.unit == unit, b.value < value { return value - b.value }
            return abs(value)
        }
    }

    /// Parses a target. `unit` (from `unit:` in steward.yml) applies to a bare number: `target: 5`,
    /// `unit: seconds` is `< 5 seconds`.
    public static func parse(_ text: String, unit: String? = nil) throws -> KPITarget {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw KPIParseError(text: text, message: "empty target") }
        var leftText: String?
        var rest = trimmed
        for arrow in ["→", "->", "=>", "⟶"] {
            if let r = rest.range(of: arrow) {
                leftText = String(rest[..<r.lowerBound])
                rest = String(rest[r.upperBound...])
                break
            }
        }
        let (op, body) = splitOperator(rest)
        var comparison = op
        var quantity = try parseQuantity(body, unitHint: unit, whole: text)
        var baseline = try leftText.flatMap { try parseQuantity($0, unit: unit) }
        // "60 → 95%" and "60% → 95": a bare side takes the other side's unit.
        if let left = leftText, let b = baseline, b.unit == .number, quantity.unit != .number {
            baseline = try parseQuantity(left, unit: quantity.unit.rawValue)
        } else if let b = baseline, quantity.unit == .number, b.unit != .number {
            quantity = try parseQuantity(body, unitHint: b.unit.rawValue, whole: text)
        }
        if comparison == nil {
            if let b = baseline, b.unit == quantity.unit, b.value != quantity.value {
                comparison = b.value > quantity.value ? .atMost : .atLeast
            } else {
                comparison = quantity.unit == .seconds ? .atMost : .atLeast
            }
        }
        return KPITarget(comparison: comparison!, value: quantity.value, unit: quantity.unit, baseline: baseline, text: trimmed)
    }

    /// Parses a value or baseline such as `24 hours`, `78%`, `2:1`, `n/a` (nil).
    public static func parseQuantity(_ text: String, unit: String? = nil) throws -> KPIQuantity? {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.isEmpty || ["n/a", "na", "-", "–", "—", "none", "tbd", "?"].contains(t.lowercased()) { return nil }
        let (_, body) = splitOperator(t)
        return try parseQuantity(body, unitHint: unit, whole: text)
    }

    private static let operators: [(String, Comparison)] = [
        ("<=", .atMost), ("≤", .atMost), ("<", .atMost), (">=", .atLeast), ("≥", .atLeast), (">", .atLeast),
        ("at most ", .atMost), ("under ", .atMost), ("below ", .atMost), ("less than ", .atMost), ("max ", .atMost),
        ("at least ", .atLeast), ("over ", .atLeast), ("above ", .atLeast), ("more than ", .atLeast), ("min ", .atLeast),
    ]

    private static func splitOperator(_ text: String) -> (Comparison?, String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        let lower = t.lowercased()
        for (op, comparison) in operators where lower.hasPrefix(op) {
            return (comparison, String(t.dropFirst(op.count)))
        }
        return (nil, t)
    }

    private static func parseQuantity(_ text: String, unitHint: String?, whole: String) throws -> KPIQuantity {
        let t = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: "")
            .replacingOccurrences(of: "$", with: "").replacingOccurrences(of: "~", with: "")
        let chars = Array(t)
        var i = 0
        func number() -> Double? {
            let start = i
            if i < chars.count, chars[i] == "-" || chars[i] == "+" { i += 1 }
            while i < chars.count, chars[i].isASCII && (chars[i].isNumber || chars[i] == ".") { i += 1 }
            return Double(String(chars[start..<i]))
        }
        guard let v = number() else {
            throw KPIParseError(text: whole, message: "expected a number in '\(text.trimmingCharacters(in: .whitespaces))'")
        }
        var suffix = String(chars[i...]).trimmingCharacters(in: .whitespaces).lowercased()
        if suffix.isEmpty, let hint = unitHint?.trimmingCharacters(in: .whitespaces).lowercased(), !hint.isEmpty {
            suffix = hint == "percent" ? "%" : hint == "ratio" ? "x" : hint == "number" ? "" : hint
        }
        if suffix.isEmpty { return KPIQuantity(value: v, unit: .number) }
        if suffix == "%" || suffix == "percent" || suffix == "pct" { return KPIQuantity(value: v / 100, unit: .percent) }
        if suffix.hasPrefix(":") {
            guard let d = Double(suffix.dropFirst().trimmingCharacters(in: .whitespaces)), d != 0 else {
                throw KPIParseError(text: whole, message: "expected a ratio such as 4:1")
            }
            return KPIQuantity(value: v / d, unit: .ratio)
        }
        if suffix == "x" || suffix == "×" { return KPIQuantity(value: v, unit: .ratio) }
        if let seconds = timeUnits[suffix] { return KPIQuantity(value: v * seconds, unit: .seconds) }
        if ["customers", "users", "records", "rows", "people", "campaigns", "points", "pts"].contains(suffix) {
            return KPIQuantity(value: v, unit: .number)
        }
        throw KPIParseError(text: whole, message: "unknown unit '\(suffix)' (use %, a:b, ms, seconds, minutes, hours, days)")
    }

    private static let timeUnits: [String: Double] = {
        var u: [String: Double] = [:]
        for (names, s) in [(["ms", "msec", "millisecond", "milliseconds"], 0.001),
                           (["s", "sec", "secs", "second", "seconds"], 1),
                           (["m", "min", "mins", "minute", "minutes"], 60),
                           (["h", "hr", "hrs", "hour", "hours"], 3600),
                           (["d", "day", "days"], 86_400),
                           (["w", "wk", "week", "weeks"], 604_800)] {
            for n in names { u[n] = s }
        }
        return u
    }()
}

public struct KPIParseError: Error, CustomStringConvertible, Equatable {
    public var text: String
    public var message: String
    public var description: String { "target '\(text)': \(message)" }
}

/// Due dates (nil: not a date): `2024-09-30`, `2024-09` (end of month), `Q3 2024` / `2024 Q3` (end of quarter), `2024`.
public enum DueDate {
    /// The end (23:59:59 UTC) of the day, month, quarter or year written.
    public static func parse(_ text: String?) -> Date? {
        guard let raw = text?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
        let t = raw.uppercased()
        let ints = t.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        if let q = t.range(of: #"Q[1-4]"#, options: .regularExpression), let year = ints.first(where: { $0 >= 1900 }) {
            let quarter = Int(String(t[q].dropFirst()))!
            return endOfMonth(year, quarter * 3)
        }
        let parts = raw.split(separator: "-").map(String.init)
        if parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2].prefix(2)), (1...12).contains(m),
           d >= 1, endOfDay(y, m, d) <= endOfMonth(y, m) {
            return endOfDay(y, m, d)
        }
        if parts.count == 2, let y = Int(parts[0]), let m = Int(parts[1]), (1...12).contains(m) { return endOfMonth(y, m) }
        if parts.count == 1, let y = Int(raw), y >= 1900 { return endOfMonth(y, 12) }
        return nil
    }

    static func endOfDay(_ y: Int, _ m: Int, _ d: Int) -> Date {
        Date(timeIntervalSince1970: Double(Timestamp.daysFromCivil(y, m, d)) * 86_400 + 86_399)
    }

    static func endOfMonth(_ y: Int, _ m: Int) -> Date {
        let next = m == 12 ? (y + 1, 1) : (y, m + 1)
        return Date(timeIntervalSince1970: Double(Timestamp.daysFromCivil(next.0, next.1, 1)) * 86_400 - 1)
    }
}
