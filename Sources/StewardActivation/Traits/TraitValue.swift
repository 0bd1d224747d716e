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
        let t = text.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty else { return nil }
        if let d = Double(t), d.isFinite { return d }
        // "75,000" and "$75000": the separators and currency signs exports add.
        let stripped = t.filter { $0 != "," && $0 != "$" && $0 != "€" && $0 != "£" && $0 != " " }
        return Double(stripped).flatMap { $0.isFinite ? $0 : nil }
    }

    /// Seconds since 1970 of a day (YYYY-MM-DD) or an ISO timestamp.
    public static func seconds(_ text: String) -> Double? {
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

    public static func bool(_ text: String) -> Bool? {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "yes", "y", "1", "t", "on", "opted_in", "subscribed": return true
        case "false", "no", "n", "0", "f", "off", "opted_out", "unsubscribed": return false
        default: return nil
        }
    }
}
