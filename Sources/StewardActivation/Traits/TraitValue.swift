import Foundation
import StewardConfig

/// One trait's value for one customer. Dates keep their ISO text (a day or a timestamp) and compare
/// through `seconds`.
public enum TraitValue: Sendable, Equatable {
    case number(Double)
    case text(String)
    case date(String)
    case bool(Bool)

    /// The value as text (CSV cells, JSON strings, the 360).
    public var text: String {
        switch self {
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .text(let t), .date(let t): return t
        case .bool(let b): return b ? "true" : "false"
        }
    }

    /// A JSON-ready value: numbers and booleans as themselves, the rest as text.
    public var json: Any {
        switch self {
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? Int64(n) as Any : n as Any
        case .bool(let b): return b
        case .text(let t), .date(let t): return t
        }
    }

    /// Reads stored text as a trait of `type` (`.any`: kept as text, converted when compared).
    public static func parse(_ text: String, as type: TraitType) -> TraitValue? {
        switch type {
        case .number:
            return TraitCoercion.number(text).map(TraitValue.number)
        case .date:
            return TraitCoercion.seconds(text) == nil ? nil : .date(text)
        case .bool:
            return TraitCoercion.bool(text).map(TraitValue.bool)
        case .text, .any:
            return .text(text)
        }
    }
}

/// Reading text as a number, a date or a yes/no: for custom traits from source columns.
public enum TraitCoercion {
    public static func number(_ text: String) -> Double? {
        // Swift reads "0x10" as 16: a hexadecimal cell is no export's number.
        if text.utf8.contains(where: { $0 == UInt8(ascii: "x") || $0 == UInt8(ascii: "X") }) { return nil }
        // Most stored values are plain numbers: no trimming copy for them.
        if let first = text.utf8.first, first != UInt8(ascii: " "), text.utf8.last != UInt8(ascii: " "),
           let d = Double(text), d.isFinite { return d }
        let t = text.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty else { return nil }
        if let d = Double(t), d.isFinite { return d }
        // "75,000" and "$75000": the separators and currency signs exports add.
        let stripped = t.filter { $0 != "$" && $0 != "€" && $0 != "£" && $0 != " " }
        guard thousandsGrouped(stripped) else { return nil }
        return Double(stripped.filter { $0 != "," }).flatMap { $0.isFinite ? $0 : nil }
    }

    /// A comma only between groups of three digits of the whole part ("1,234,567.5"): "1,5" is a
    /// decimal comma and "$1,2,3" a broken cell, which dropping the commas read as 15 and 123.
    static func thousandsGrouped(_ s: String) -> Bool {
        guard s.contains(",") else { return true }
        let body = s.first == "-" || s.first == "+" ? s.dropFirst() : s[...]
        let whole = body.prefix { $0 != "." && $0 != "e" && $0 != "E" }
        guard !body.dropFirst(whole.count).contains(",") else { return false }
        let groups = whole.split(separator: ",", omittingEmptySubsequences: false)
        return (1...3).contains(groups[0].count) && groups.dropFirst().allSatisfy { $0.count == 3 }
            && groups.allSatisfy { $0.allSatisfy { $0 >= "0" && $0 <= "9" } }
    }

    /// Seconds since 1970 of a day (YYYY-MM-DD) or an ISO timestamp.
    public static func seconds(_ text: String) -> Double? {
        if let fast = isoSeconds(text) { return fast }
        // The catalog's own dates (ISO, no spaces) skip the trimming copy.
        let t = text.utf8.first == UInt8(ascii: " ") || text.utf8.last == UInt8(ascii: " ") ? text.trimmingCharacters(in: .whitespaces) : text
        guard t.count >= 10 else { return nil }
        guard let day = AudienceRule.daySeconds(String(t.prefix(10))) else { return nil }
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

    /// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS…` read from the bytes in place (the catalog's own
    /// dates, a million per audience run); nil for anything else, which `seconds` reads the slow way.
    /// Equal to the slow way wherever it answers (TraitCoercionTests compares them).
    static func isoSeconds(_ text: String) -> Double? {
        var text = text
        return text.withUTF8 { b -> Double? in
            guard b.count == 10 || (b.count >= 19 && b[10] == UInt8(ascii: "T")) else { return nil }
            func digits(_ from: Int, _ count: Int) -> Int? {
                var v = 0
                for i in from..<(from + count) {
                    let d = Int(b[i]) - 48
                    guard d >= 0, d <= 9 else { return nil }
                    v = v * 10 + d
                }
                return v
            }
            guard b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
                  let y = digits(0, 4), let m = digits(5, 2), let d = digits(8, 2), m >= 1, m <= 12, d >= 1 else { return nil }
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
            let length = m == 2 ? (leap ? 29 : 28) : (m == 4 || m == 6 || m == 9 || m == 11 ? 30 : 31)
            guard d <= length else { return nil }
            // Days from the civil date (Howard Hinnant's algorithm, as the rule language's dates).
            let yy = m <= 2 ? y - 1 : y
            let era = (yy >= 0 ? yy : yy - 399) / 400
            let yoe = yy - era * 400
            let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
            let day = Double(era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468) * 86_400
            guard b.count > 10 else { return day }
            guard b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
                  let h = digits(11, 2), let mi = digits(14, 2), let s = digits(17, 2) else { return nil }
            return day + Double(h * 3600 + mi * 60 + s)
        }
    }

    public static func bool(_ text: String) -> Bool? {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "yes", "y", "1", "t", "on", "opted_in", "subscribed": return true
        case "false", "no", "n", "0", "f", "off", "opted_out", "unsubscribed": return false
        default: return nil
        }
    }
}
