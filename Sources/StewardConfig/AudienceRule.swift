import Foundation

/// The audience rule language (`audiences[].where` in steward.yml; README, "Audience rules"):
///
///     rule       := or
///     or         := and ("or" and)*
///     and        := unary ("and" unary)*
///     unary      := "not" unary | "(" rule ")" | predicate
///     predicate  := TRAIT op value | TRAIT ["not"] "in" "[" value ("," value)* "]"
///                 | TRAIT "is" ["not"] "null" | TRAIT            (a yes/no trait on its own)
///     op         := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
///     value      := NUMBER | 'text' | "text" | true | false | YYYY-MM-DD | N(h|d|w|y) "ago" | today | now
///
/// Parsed and type-checked when steward.yml loads (errors carry the column inside the rule), evaluated
/// by StewardActivation over each golden customer's traits. It lives here, beside the other
/// steward.yml grammars, because config loading must refuse a bad rule before anything runs.
public indirect enum RuleExpr: Sendable, Equatable {
    case and(RuleExpr, RuleExpr)
    case or(RuleExpr, RuleExpr)
    case not(RuleExpr)
    case compare(TraitRef, CompareOp, RuleLiteral)
    case inList(TraitRef, [RuleLiteral], negated: Bool)
    case isNull(TraitRef, negated: Bool)
    /// A yes/no trait on its own (`consent_email`).
    case truthy(TraitRef)

    /// Every trait the rule reads, once each, in order of appearance.
    public var traits: [String] {
        var out: [String] = []
        func add(_ t: TraitRef) { if !out.contains(t.name) { out.append(t.name) } }
        func walk(_ e: RuleExpr) {
            switch e {
            case .and(let a, let b), .or(let a, let b): walk(a); walk(b)
            case .not(let a): walk(a)
            case .compare(let t, _, _), .inList(let t, _, _), .isNull(let t, _), .truthy(let t): add(t)
            }
        }
        walk(self)
        return out
    }
}

/// A trait named in a rule, with its 1-based column in the rule text.
public struct TraitRef: Sendable, Equatable {
    public var name: String
    public var column: Int
    public init(name: String, column: Int) { self.name = name; self.column = column }
}

public enum CompareOp: String, Sendable, Equatable, CaseIterable {
    case eq = "=", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
    public var orders: Bool { self != .eq && self != .ne }
}

public enum RuleLiteral: Sendable, Equatable {
    case number(Double)
    case text(String)
    case bool(Bool)
    case date(DateLiteral)

    public var type: TraitType {
        switch self {
        case .number: return .number
        case .text: return .text
        case .bool: return .bool
        case .date: return .date
        }
    }
}

/// A date in a rule: a calendar day (UTC midnight), a span before the evaluation's "now", or now.
public enum DateLiteral: Sendable, Equatable {
    case day(secondsSince1970: Double)
    case ago(seconds: Double)
    case now
    case today

    /// The instant, seconds since 1970, for an evaluation at `now`.
    public func seconds(now: Double) -> Double {
        switch self {
        case .day(let s): return s
        case .ago(let s): return now - s
        case .now: return now
        case .today: return (now / 86_400).rounded(.down) * 86_400
        }
    }
}

/// A trait's type. `any`: a custom trait declared without a type (`traits: {income: income}`), which
/// takes the type of whatever it is compared with (values that do not read as that type never match).
public enum TraitType: String, Sendable, Equatable, CaseIterable {
    case number, text, date, bool, any
}

/// A rule the parser or type checker refused: the 1-based column inside the rule text, and why.
public struct RuleError: Error, Sendable, Equatable, CustomStringConvertible {
    public var column: Int
    public var message: String
    public init(column: Int, message: String) { self.column = column; self.message = message }
    public var description: String { "column \(column): \(message)" }
}

public enum AudienceRule {
    /// Parses a rule; the error names the column where reading stopped.
    public static func parse(_ text: String) throws(RuleError) -> RuleExpr {
        var parser = RuleParser(tokens: try RuleLexer.tokens(text))
        let expr = try parser.rule()
        if let extra = parser.peek, extra.kind != .end {
            throw RuleError(column: extra.column, message: "unexpected \(extra.describe) after a complete rule (join conditions with and/or)")
        }
        return expr
    }

    /// Checks every trait exists and is compared with a value of its type.
    public static func check(_ expr: RuleExpr, traits: [String: TraitType]) throws(RuleError) {
        func type(_ t: TraitRef) throws(RuleError) -> TraitType {
            guard let type = traits[t.name] else {
                let near = traits.keys.filter { Self.close($0, t.name) }.sorted()
                let hint = near.isEmpty ? "traits: \(traits.keys.sorted().joined(separator: ", "))" : "did you mean \(near.joined(separator: ", "))?"
                throw RuleError(column: t.column, message: "unknown trait '\(t.name)'; \(hint)")
            }
            return type
        }
        func compatible(_ trait: TraitRef, _ type: TraitType, _ literal: RuleLiteral) throws(RuleError) {
            guard type != .any, literal.type != type else { return }
            throw RuleError(column: trait.column,
                            message: "'\(trait.name)' is \(Self.article(type)) \(type.rawValue) trait, compared with \(Self.article(literal.type)) \(literal.type.rawValue)")
        }
        switch expr {
        case .and(let a, let b), .or(let a, let b):
            try check(a, traits: traits); try check(b, traits: traits)
        case .not(let a):
            try check(a, traits: traits)
        case .compare(let t, let op, let literal):
            let ty = try type(t)
            try compatible(t, ty, literal)
            if op.orders && (literal.type == .bool || ty == .bool) {
                throw RuleError(column: t.column, message: "'\(op.rawValue)' orders numbers, dates or text; '\(t.name)' is yes/no (use = true or = false)")
            }
        case .inList(let t, let values, _):
            let ty = try type(t)
            for v in values { try compatible(t, ty, v) }
        case .isNull(let t, _):
            _ = try type(t)
        case .truthy(let t):
            let ty = try type(t)
            guard ty == .bool || ty == .any else {
                throw RuleError(column: t.column, message: "'\(t.name)' is \(Self.article(ty)) \(ty.rawValue) trait, not yes/no: compare it with a value")
            }
        }
    }

    /// Parses and checks in one step.
    public static func compile(_ text: String, traits: [String: TraitType]) throws(RuleError) -> RuleExpr {
        let expr = try parse(text)
        try check(expr, traits: traits)
        return expr
    }

    /// Seconds since 1970 of a YYYY-MM-DD day at UTC midnight (nil: not a valid day).
    public static func daySeconds(_ text: String) -> Double? { RuleLexer.day(text) }

    static func article(_ t: TraitType) -> String { t == .any ? "an" : "a" }

    /// A likely misspelling: one edit apart, or one name inside the other.
    static func close(_ a: String, _ b: String) -> Bool {
        if a.contains(b) || b.contains(a) { return min(a.count, b.count) >= 3 }
        let x = Array(a), y = Array(b)
        guard abs(x.count - y.count) <= 1 else { return false }
        var row = Array(0...y.count)
        for i in 1...max(x.count, 1) where i <= x.count {
            var prev = row[0]; row[0] = i
            for j in 1...max(y.count, 1) where j <= y.count {
                let cur = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (x[i - 1] == y[j - 1] ? 0 : 1))
                prev = cur
            }
        }
        return row[y.count] <= 1
    }
}

struct RuleToken: Equatable {
    enum Kind: Equatable { case word(String), number(Double), text(String), date(Double), span(Double), op(String), punct(Character), end }
    var kind: Kind
    var column: Int

    var describe: String {
        switch kind {
        case .word(let w): return "'\(w)'"
        case .number(let n): return "number \(RuleToken.format(n))"
        case .text(let t): return "text '\(t)'"
        case .date: return "a date"
        case .span: return "a duration"
        case .op(let o): return "'\(o)'"
        case .punct(let c): return "'\(c)'"
        case .end: return "the end of the rule"
        }
    }

    static func format(_ n: Double) -> String { n == n.rounded() && abs(n) < 1e15 ? String(Int(n)) : String(n) }
}

enum RuleLexer {
    static func tokens(_ text: String) throws(RuleError) -> [RuleToken] {
        let chars = Array(text)
        var out: [RuleToken] = []
        var i = 0
        func isWordStart(_ c: Character) -> Bool { c == "_" || (c.isASCII && c.isLetter) }
        func isWord(_ c: Character) -> Bool { isWordStart(c) || (c.isASCII && c.isNumber) || c == "." }
        while i < chars.count {
            let c = chars[i]
            let column = i + 1
            if c.isWhitespace { i += 1; continue }
            if c == "(" || c == ")" || c == "[" || c == "]" || c == "," {
                out.append(RuleToken(kind: .punct(c), column: column)); i += 1; continue
            }
            if "=<>!".contains(c) {
                var op = String(c)
                if i + 1 < chars.count, "=>".contains(chars[i + 1]), !(c == "=" && chars[i + 1] == ">"), !(c == ">" && chars[i + 1] == ">") {
                    op.append(chars[i + 1])
                }
                switch op {
                case "=", "==": out.append(RuleToken(kind: .op("="), column: column))
                case "!=", "<>": out.append(RuleToken(kind: .op("!="), column: column))
                case "<", "<=", ">", ">=": out.append(RuleToken(kind: .op(op), column: column))
                default: throw RuleError(column: column, message: "'\(op)' is not an operator; expected =, !=, <, <=, >, >=")
                }
                i += op.count; continue
            }
            if c == "'" || c == "\"" {
                var j = i + 1, value = ""
                while j < chars.count, chars[j] != c { value.append(chars[j]); j += 1 }
                guard j < chars.count else { throw RuleError(column: column, message: "text opened with \(c) is never closed") }
                out.append(RuleToken(kind: .text(value), column: column)); i = j + 1; continue
            }
            if c.isASCII && c.isNumber || ((c == "-" || c == ".") && i + 1 < chars.count && chars[i + 1].isASCII && chars[i + 1].isNumber) {
                var j = i + 1
                while j < chars.count, chars[j].isASCII && (chars[j].isNumber || chars[j] == "." || chars[j] == "-" || chars[j] == "_") { j += 1 }
                let body = String(chars[i..<j])
                // A calendar day: 2024-06-30.
                if body.count == 10, body.dropFirst(4).first == "-", let day = Self.day(body) {
                    out.append(RuleToken(kind: .date(day), column: column)); i = j; continue
                }
                guard let n = Double(body.replacingOccurrences(of: "_", with: "")), n.isFinite else {
                    throw RuleError(column: column, message: "'\(body)' is not a number or a date (YYYY-MM-DD)")
                }
                // A span: 30d, 12h, 2w, 1y, followed by `ago`.
                if j < chars.count, let unit = Self.units[chars[j]], j + 1 == chars.count || !isWord(chars[j + 1]) {
                    out.append(RuleToken(kind: .span(n * unit), column: column)); i = j + 1; continue
                }
                if j < chars.count, isWordStart(chars[j]) {
                    var k = j
                    while k < chars.count, isWord(chars[k]) { k += 1 }
                    throw RuleError(column: j + 1, message: "'\(String(chars[j..<k]))' is not a unit; write h, d, w or y (e.g. 30d ago)")
                }
                out.append(RuleToken(kind: .number(n), column: column)); i = j; continue
            }
            if isWordStart(c) {
                var j = i + 1
                while j < chars.count, isWord(chars[j]) { j += 1 }
                out.append(RuleToken(kind: .word(String(chars[i..<j])), column: column)); i = j; continue
            }
            throw RuleError(column: column, message: "unexpected character '\(c)'")
        }
        out.append(RuleToken(kind: .end, column: chars.count + 1))
        return out
    }

    static let units: [Character: Double] = ["h": 3_600, "d": 86_400, "w": 7 * 86_400, "y": 365 * 86_400]

    /// Seconds since 1970 of a valid YYYY-MM-DD at UTC midnight.
    static func day(_ text: String) -> Double? {
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), (1...12).contains(m), d >= 1 else { return nil }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard d <= lengths[m - 1] else { return nil }
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return Double(era * 146_097 + doe - 719_468) * 86_400
    }
}

struct RuleParser {
    var tokens: [RuleToken]
    var at = 0
    /// Nesting depth, bounded so a hostile rule cannot exhaust the stack.
    var depth = 0
    static let maxDepth = 64

    var peek: RuleToken? { at < tokens.count ? tokens[at] : nil }
    var current: RuleToken { tokens[min(at, tokens.count - 1)] }

    mutating func next() -> RuleToken { defer { at = min(at + 1, tokens.count - 1) }; return current }

    func isWord(_ w: String) -> Bool { if case .word(let x) = current.kind { return x.lowercased() == w }; return false }

    static let keywords: Set<String> = ["and", "or", "not", "in", "is", "null", "true", "false", "ago", "now", "today"]

    mutating func rule() throws(RuleError) -> RuleExpr {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxDepth { throw RuleError(column: current.column, message: "the rule nests deeper than \(Self.maxDepth) levels") }
        var left = try and()
        while isWord("or") { _ = next(); left = .or(left, try and()) }
        return left
    }

    mutating func and() throws(RuleError) -> RuleExpr {
        var left = try unary()
        while isWord("and") { _ = next(); left = .and(left, try unary()) }
        return left
    }

    mutating func unary() throws(RuleError) -> RuleExpr {
        if isWord("not") {
            _ = next()
            depth += 1
            defer { depth -= 1 }
            if depth > Self.maxDepth { throw RuleError(column: current.column, message: "the rule nests deeper than \(Self.maxDepth) levels") }
            return .not(try unary())
        }
        if current.kind == .punct("(") {
            let open = next()
            let inner = try rule()
            guard current.kind == .punct(")") else {
                throw RuleError(column: current.column, message: "expected ')' to close the '(' at column \(open.column), found \(current.describe)")
            }
            _ = next()
            return inner
        }
        return try predicate()
    }

    mutating func predicate() throws(RuleError) -> RuleExpr {
        let token = next()
        guard case .word(let name) = token.kind, !Self.keywords.contains(name.lowercased()) else {
            throw RuleError(column: token.column, message: "expected a trait name, found \(token.describe)")
        }
        let trait = TraitRef(name: name, column: token.column)
        if case .op(let op) = current.kind {
            _ = next()
            return .compare(trait, CompareOp(rawValue: op)!, try literal())
        }
        if isWord("not") || isWord("in") {
            let negated = isWord("not")
            if negated {
                _ = next()
                guard isWord("in") else { throw RuleError(column: current.column, message: "expected 'in' after '\(name) not', found \(current.describe)") }
            }
            _ = next()
            guard current.kind == .punct("[") else { throw RuleError(column: current.column, message: "expected '[' to open the list, found \(current.describe)") }
            _ = next()
            var values = [try literal()]
            while current.kind == .punct(",") { _ = next(); values.append(try literal()) }
            guard current.kind == .punct("]") else { throw RuleError(column: current.column, message: "expected ',' or ']' in the list, found \(current.describe)") }
            _ = next()
            return .inList(trait, values, negated: negated)
        }
        if isWord("is") {
            _ = next()
            let negated = isWord("not")
            if negated { _ = next() }
            guard isWord("null") else { throw RuleError(column: current.column, message: "expected 'null' after 'is', found \(current.describe)") }
            _ = next()
            return .isNull(trait, negated: negated)
        }
        switch current.kind {
        case .end, .punct(")"): return .truthy(trait)
        case .word(let w) where ["and", "or"].contains(w.lowercased()): return .truthy(trait)
        default:
            throw RuleError(column: current.column, message: "expected an operator (=, !=, <, <=, >, >=, in, is) after '\(name)', found \(current.describe)")
        }
    }

    mutating func literal() throws(RuleError) -> RuleLiteral {
        let token = next()
        switch token.kind {
        case .number(let n): return .number(n)
        case .text(let t): return .text(t)
        case .date(let d): return .date(.day(secondsSince1970: d))
        case .span(let s):
            guard isWord("ago") else { throw RuleError(column: current.column, message: "expected 'ago' after the duration, found \(current.describe)") }
            _ = next()
            return .date(.ago(seconds: s))
        case .word(let w):
            switch w.lowercased() {
            case "true": return .bool(true)
            case "false": return .bool(false)
            case "now": return .date(.now)
            case "today": return .date(.today)
            default:
                throw RuleError(column: token.column, message: "expected a value (a number, 'text', true/false, YYYY-MM-DD or 30d ago), found \(token.describe); quote text values")
            }
        default:
            throw RuleError(column: token.column, message: "expected a value (a number, 'text', true/false, YYYY-MM-DD or 30d ago), found \(token.describe)")
        }
    }
}
