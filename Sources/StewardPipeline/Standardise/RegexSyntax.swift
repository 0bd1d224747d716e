import Foundation

/// Why a pattern cannot be used: bad syntax, or a construct that cannot be matched in time linear in
/// the value (backreferences, lookaround, possessive quantifiers) and is therefore refused at load.
struct RegexPatternError: Error, CustomStringConvertible, Equatable {
    let message: String
    var description: String { message }
}

/// Where a zero-width assertion may hold. ICU's meanings (NSRegularExpression), measured:
/// `$` holds at the end or before one final line terminator, `(?m)$` before any line terminator,
/// neither between the `\r` and `\n` of a CRLF; `(?m)^` holds after a line terminator except at the
/// very end (between CR and LF too, but a match never starts there: see `RegexDFA.lineAnchored`).
enum RegexAssertion: Int32 {
    case textStart           // ^  \A
    case lineStart           // (?m)^
    case textEnd             // \z
    case textEndOrFinalBreak // $  \Z
    case lineEnd             // (?m)$
    case wordBoundary        // \b
    case notWordBoundary     // \B
    case notBeforeLF         // internal: `(?s).` takes a CRLF whole, so a lone `\r` must not precede `\n`
}

/// What kind of scalar stands on one side of a position, for the assertions.
enum ScalarKind: UInt8 {
    case none = 0     // before the first / after the last scalar
    case lf, cr, lineBreak, word, other

    var isLineBreak: Bool { self == .lf || self == .cr || self == .lineBreak }

    static func of(_ c: UInt32) -> ScalarKind {
        switch c {
        case 0x0A: return .lf
        case 0x0D: return .cr
        case 0x0B, 0x0C, 0x85, 0x2028, 0x2029: return .lineBreak
        default: return ScalarProperty.isWord(c) ? .word : .other
        }
    }

    static func holds(_ a: RegexAssertion, prev: ScalarKind, next: ScalarKind, finalBreak: Bool) -> Bool {
        switch a {
        case .textStart: return prev == .none
        case .lineStart: return prev == .none || (prev.isLineBreak && next != .none)
        case .textEnd: return next == .none
        case .textEndOrFinalBreak: return next == .none || (finalBreak && !(prev == .cr && next == .lf))
        case .lineEnd: return next == .none || (next.isLineBreak && !(prev == .cr && next == .lf))
        case .wordBoundary: return (prev == .word) != (next == .word)
        case .notWordBoundary: return (prev == .word) == (next == .word)
        case .notBeforeLF: return next != .lf
        }
    }
}

/// A named class of scalars (`\d`, `\w`, `\p{Lu}`, `.`), with ICU's Unicode meanings.
struct ScalarProperty: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case digit, word, space, horizontalSpace, lineBreak, any, ascii, alphabetic
        case categories([Unicode.GeneralCategory])
    }
    var kind: Kind
    var negated = false

    func contains(_ c: UInt32) -> Bool { inner(c) != negated }

    private func inner(_ c: UInt32) -> Bool {
        switch kind {
        case .any: return true
        case .ascii: return c < 0x80
        case .lineBreak: return ScalarKind.of(c).isLineBreak
        case .word: return Self.isWord(c)
        default: break
        }
        guard let s = Unicode.Scalar(c) else { return false }
        switch kind {
        case .digit: return s.properties.generalCategory == .decimalNumber
        case .space: return s.properties.isWhitespace
        case .horizontalSpace: return c == 9 || s.properties.generalCategory == .spaceSeparator
        case .alphabetic: return s.properties.isAlphabetic
        case .categories(let cats): return cats.contains(s.properties.generalCategory)
        default: return false
        }
    }

    /// ICU's `\w`: alphabetic, marks, decimal digits, connector punctuation, ZWNJ and ZWJ.
    static func isWord(_ c: UInt32) -> Bool {
        if c < 0x80 {
            return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
        }
        if c == 0x200C || c == 0x200D { return true }
        guard let s = Unicode.Scalar(c) else { return false }
        if s.properties.isAlphabetic { return true }
        switch s.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    /// `\p{…}` names: general categories, and a few binary properties.
    static func named(_ name: String) -> Kind? {
        typealias G = Unicode.GeneralCategory
        let groups: [String: [G]] = [
            "L": [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter],
            "Lu": [.uppercaseLetter], "Ll": [.lowercaseLetter], "Lt": [.titlecaseLetter],
            "Lm": [.modifierLetter], "Lo": [.otherLetter],
            "M": [.nonspacingMark, .spacingMark, .enclosingMark], "Mn": [.nonspacingMark], "Mc": [.spacingMark],
            "Me": [.enclosingMark],
            "N": [.decimalNumber, .letterNumber, .otherNumber], "Nd": [.decimalNumber], "Nl": [.letterNumber],
            "No": [.otherNumber],
            "P": [.connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
                  .initialPunctuation, .finalPunctuation, .otherPunctuation],
            "Pc": [.connectorPunctuation], "Pd": [.dashPunctuation], "Ps": [.openPunctuation],
            "Pe": [.closePunctuation], "Pi": [.initialPunctuation], "Pf": [.finalPunctuation], "Po": [.otherPunctuation],
            "S": [.mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol], "Sm": [.mathSymbol],
            "Sc": [.currencySymbol], "Sk": [.modifierSymbol], "So": [.otherSymbol],
            "Z": [.spaceSeparator, .lineSeparator, .paragraphSeparator], "Zs": [.spaceSeparator],
            "Zl": [.lineSeparator], "Zp": [.paragraphSeparator],
            "C": [.control, .format, .surrogate, .privateUse, .unassigned], "Cc": [.control], "Cf": [.format],
            "Co": [.privateUse], "Cn": [.unassigned],
        ]
        if let g = groups[name] { return .categories(g) }
        switch name.lowercased().replacingOccurrences(of: "_", with: "") {
        case "letter": return .categories(groups["L"]!)
        case "alphabetic", "alpha": return .alphabetic
        case "whitespace", "space": return .space
        case "any": return .any
        case "ascii": return .ascii
        default: return nil
        }
    }
}

/// A set of scalars matched by one step of the pattern. Membership of ASCII scalars is precomputed.
struct ScalarSet: Sendable {
    var ranges: [ClosedRange<UInt32>] = []
    var properties: [ScalarProperty] = []
    var negated = false
    var caseInsensitive = false
    private(set) var asciiLow: UInt64 = 0, asciiHigh: UInt64 = 0

    /// Called once the set is complete.
    mutating func seal() {
        asciiLow = 0; asciiHigh = 0
        for c in UInt32(0)..<128 where slowContains(c) {
            if c < 64 { asciiLow |= 1 << UInt64(c) } else { asciiHigh |= 1 << UInt64(c - 64) }
        }
    }

    func contains(_ c: UInt32) -> Bool {
        if c < 64 { return (asciiLow >> UInt64(c)) & 1 == 1 }
        if c < 128 { return (asciiHigh >> UInt64(c - 64)) & 1 == 1 }
        return slowContains(c)
    }

    private func slowContains(_ c: UInt32) -> Bool {
        // Case-insensitive: the set is closed over simple case mappings before it is negated (as ICU does).
        var hit = inner(c)
        if !hit && caseInsensitive, let s = Unicode.Scalar(c) {
            for mapped in [s.properties.lowercaseMapping, s.properties.uppercaseMapping, s.properties.titlecaseMapping] {
                let scalars = mapped.unicodeScalars
                if scalars.count == 1, let m = scalars.first, m.value != c, inner(m.value) { hit = true; break }
            }
        }
        return hit != negated
    }

    private func inner(_ c: UInt32) -> Bool {
        for r in ranges where r.contains(c) { return true }
        for p in properties where p.contains(c) { return true }
        return false
    }
}

/// A parsed pattern.
indirect enum RegexNode {
    case empty
    case set(Int)
    case concat([RegexNode])
    case alternate([RegexNode])
    case repeated(RegexNode, min: Int, max: Int?)
    case assertion(RegexAssertion)
}

/// Parses the ICU syntax NSRegularExpression accepts, minus what cannot be matched in linear time.
struct RegexParser {
    struct Flags { var caseInsensitive = false, dotAll = false, multiline = false }

    private var p: [Unicode.Scalar]
    private var i = 0
    private var flags = Flags()
    private(set) var sets: [ScalarSet] = []
    /// The literals of a `\Q…\E` before its last: a quantifier after `\E` repeats only the last one.
    private var quotedLead: [RegexNode] = []
    static let maxCount = 1000

    init(_ pattern: String) { p = Array(pattern.unicodeScalars) }

    mutating func parse() throws(RegexPatternError) -> RegexNode {
        let node = try alternation()
        if i < p.count { throw fail("unbalanced ')' at offset \(i)") }
        return node
    }

    private func fail(_ m: String) -> RegexPatternError { RegexPatternError(message: m) }

    private static func unsupported(_ what: String) -> RegexPatternError {
        RegexPatternError(message: "\(what) is not supported (patterns are matched in time linear in the value)")
    }

    private var peek: Unicode.Scalar? { i < p.count ? p[i] : nil }

    private mutating func eat(_ c: Unicode.Scalar) -> Bool {
        if peek == c { i += 1; return true }
        return false
    }

    private mutating func alternation() throws(RegexPatternError) -> RegexNode {
        var alts = [try sequence()]
        while eat("|") { alts.append(try sequence()) }
        return alts.count == 1 ? alts[0] : .alternate(alts)
    }

    private mutating func sequence() throws(RegexPatternError) -> RegexNode {
        var items: [RegexNode] = []
        while let c = peek, c != "|", c != ")" {
            guard var atom = try atom() else { continue }
            items += quotedLead
            quotedLead = []
            atom = try quantifiers(atom)
            items.append(atom)
        }
        return items.count == 1 ? items[0] : .concat(items)
    }

    private mutating func addSet(_ s: ScalarSet) -> RegexNode {
        var s = s
        s.seal()
        sets.append(s)
        return .set(sets.count - 1)
    }

    private mutating func literal(_ c: UInt32) -> RegexNode {
        addSet(ScalarSet(ranges: [c...c], caseInsensitive: flags.caseInsensitive))
    }

    private mutating func property(_ prop: ScalarProperty) -> RegexNode {
        addSet(ScalarSet(properties: [prop], caseInsensitive: flags.caseInsensitive))
    }

    /// One atom; nil for something that matches nothing in place (a flag switch, a comment).
    private mutating func atom() throws(RegexPatternError) -> RegexNode? {
        let c = p[i]
        i += 1
        switch c {
        case "(": return try group()
        case "[": return addSet(try bracketClass())
        case "\\": return try escape()
        case ".":
            guard flags.dotAll else { return property(ScalarProperty(kind: .lineBreak, negated: true)) }
            // ICU's dot-all `.` takes "\r\n" as one unit: CRLF, or a `\r` not before `\n`, or any other scalar.
            let notCR = addSet(ScalarSet(ranges: [0x0D...0x0D], negated: true))
            return .alternate([.concat([literal(0x0D), literal(0x0A)]),
                               .concat([literal(0x0D), .assertion(.notBeforeLF)]), notCR])
        case "^": return .assertion(flags.multiline ? .lineStart : .textStart)
        case "$": return .assertion(flags.multiline ? .lineEnd : .textEndOrFinalBreak)
        case "*", "+", "?", "{": throw fail("'\(c)' at offset \(i - 1) has nothing to repeat")
        default: return literal(c.value)
        }
    }

    private mutating func group() throws(RegexPatternError) -> RegexNode? {
        let saved = flags
        if eat("?") {
            guard let c = peek else { throw fail("unterminated group") }
            switch c {
            case ":": i += 1
            case "=", "!": throw Self.unsupported("lookahead '(?\(c)'")
            case ">": throw Self.unsupported("an atomic group '(?>'")
            case "#":
                while let d = peek, d != ")" { i += 1 }
                guard eat(")") else { throw fail("unterminated comment") }
                return nil
            case "<":
                i += 1
                if peek == "=" || peek == "!" { throw Self.unsupported("lookbehind '(?<\(peek!)'") }
                while let d = peek, d != ">" { i += 1 }  // a named group: the name plays no part in a yes/no match
                guard eat(">") else { throw fail("unterminated group name") }
            default:
                // Inline flags: (?i) for the rest of the enclosing group, (?i:…) for this group.
                var on = true
                var f = saved
                while let d = peek, d != ")", d != ":" {
                    i += 1
                    switch d {
                    case "-": on = false
                    case "i": f.caseInsensitive = on
                    case "s": f.dotAll = on
                    case "m": f.multiline = on
                    case "x", "w": throw Self.unsupported("the '(?\(d))' flag")
                    default: throw fail("unknown group flag '\(d)'")
                    }
                }
                if eat(")") {
                    flags = f  // for the rest of the enclosing group
                    return nil
                }
                guard eat(":") else { throw fail("unterminated group") }
                flags = f
            }
        }
        let inner = try alternation()
        guard eat(")") else { throw fail("missing ')'") }
        flags = saved  // flags switched inside the group end with it
        return inner
    }

    private mutating func quantifiers(_ atom: RegexNode) throws(RegexPatternError) -> RegexNode {
        var node = atom
        while let c = peek {
            var lo = 0, hi: Int? = nil
            switch c {
            case "*": i += 1
            case "+": i += 1; lo = 1
            case "?": i += 1; hi = 1
            case "{":
                i += 1
                lo = try number()
                hi = lo
                if eat(",") { hi = peek == "}" ? nil : try number() }
                guard eat("}") else { throw fail("bad {m,n} quantifier") }
                if let h = hi, h < lo { throw fail("{\(lo),\(h)}: the maximum is below the minimum") }
            default: return node
            }
            // ICU repeats an assertion in its own way (`${1,3}` never matches): a repeated zero-width
            // test means nothing more than the test, so it is refused rather than guessed.
            if case .assertion = atom { throw fail("a quantifier after an anchor or '\\b' at offset \(i - 1)") }
            // A lazy quantifier matches the same values as a greedy one; a possessive one gives up
            // matches a yes/no matcher would have to find by backtracking.
            if eat("+") { throw Self.unsupported("a possessive quantifier") }
            _ = eat("?")
            node = .repeated(node, min: lo, max: hi)
        }
        return node
    }

    private mutating func number() throws(RegexPatternError) -> Int {
        var v = 0, any = false
        while let d = peek, d.value >= 0x30, d.value <= 0x39 {
            v = v * 10 + Int(d.value - 0x30)
            any = true
            i += 1
            if v > Self.maxCount { throw fail("a repetition count above \(Self.maxCount)") }
        }
        guard any else { throw fail("bad {m,n} quantifier") }
        return v
    }

    private mutating func hexDigits(min: Int, max: Int) throws(RegexPatternError) -> UInt32 {
        var v: UInt32 = 0, n = 0
        while n < max, let d = peek, let x = UInt32(String(d), radix: 16), d.value < 128 {
            v = v * 16 + x; n += 1; i += 1
        }
        guard n >= min, v <= 0x10FFFF else { throw fail("bad hexadecimal escape") }
        return v
    }

    /// An escape that stands for one scalar, if `e` is one.
    private mutating func scalarEscape(_ e: Unicode.Scalar) throws(RegexPatternError) -> UInt32? {
        switch e {
        case "t": return 9
        case "n": return 10
        case "r": return 13
        case "f": return 12
        case "e": return 27
        case "a": return 7
        case "x":
            if eat("{") {
                let v = try hexDigits(min: 1, max: 8)
                guard eat("}") else { throw fail("bad \\x{…} escape") }
                return v
            }
            return try hexDigits(min: 2, max: 2)
        case "u": return try hexDigits(min: 4, max: 4)
        case "U": return try hexDigits(min: 8, max: 8)
        case "0":
            var v: UInt32 = 0, n = 0
            while n < 3, let d = peek, d.value >= 0x30, d.value <= 0x37 { v = v * 8 + d.value - 0x30; n += 1; i += 1 }
            return v
        case "c":
            guard let x = peek else { throw fail("bad \\c escape") }
            i += 1
            return x.value & 0x1F
        default:
            return e.properties.isAlphabetic || e.properties.numericType != nil ? nil : e.value
        }
    }

    /// A class escape (`\d`, `\p{L}`…), if `e` is one.
    private mutating func propertyEscape(_ e: Unicode.Scalar) throws(RegexPatternError) -> ScalarProperty? {
        switch e {
        case "d", "D": return ScalarProperty(kind: .digit, negated: e == "D")
        case "w", "W": return ScalarProperty(kind: .word, negated: e == "W")
        case "s", "S": return ScalarProperty(kind: .space, negated: e == "S")
        case "h", "H": return ScalarProperty(kind: .horizontalSpace, negated: e == "H")
        case "v", "V": return ScalarProperty(kind: .lineBreak, negated: e == "V")
        case "p", "P":
            var name = ""
            if eat("{") {
                while let d = peek, d != "}" { name.unicodeScalars.append(d); i += 1 }
                guard eat("}") else { throw fail("unterminated \\p{…}") }
            } else if let d = peek {
                name = String(d); i += 1
            }
            guard let kind = ScalarProperty.named(name) else {
                throw RegexPatternError(message: "the Unicode property '\\\(e){\(name)}' is not supported "
                    + "(general categories such as L, Lu, Nd, P, Zs, and Alphabetic, White_Space, Any, ASCII are)")
            }
            return ScalarProperty(kind: kind, negated: e == "P")
        default: return nil
        }
    }

    private mutating func escape() throws(RegexPatternError) -> RegexNode? {
        guard let e = peek else { throw fail("a trailing backslash") }
        i += 1
        switch e {
        case "b": return .assertion(.wordBoundary)
        case "B": return .assertion(.notWordBoundary)
        case "A": return .assertion(.textStart)
        case "z": return .assertion(.textEnd)
        case "Z": return .assertion(.textEndOrFinalBreak)
        case "1"..."9", "k": throw Self.unsupported("a backreference ('\\\(e)')")
        case "G", "X", "R", "N": throw Self.unsupported("'\\\(e)'")
        case "Q":
            // Literal text up to \E.
            var parts: [RegexNode] = []
            while i < p.count {
                if p[i] == "\\", i + 1 < p.count, p[i + 1] == "E" { i += 2; break }
                parts.append(literal(p[i].value))
                i += 1
            }
            guard let last = parts.popLast() else { return nil }
            quotedLead = parts
            return last
        case "E": return nil
        default: break
        }
        if let prop = try propertyEscape(e) { return property(prop) }
        if let v = try scalarEscape(e) { return literal(v) }
        throw fail("unknown escape '\\\(e)'")
    }

    private mutating func bracketClass() throws(RegexPatternError) -> ScalarSet {
        var set = ScalarSet(caseInsensitive: flags.caseInsensitive)
        set.negated = eat("^")
        var first = true
        while true {
            guard let c = peek else { throw fail("missing ']'") }
            if c == "]" && !first { i += 1; break }
            first = false
            i += 1
            var lo: UInt32
            if c == "[" { throw Self.unsupported("a nested class or POSIX class ('[' inside '[…]')") }
            if c == "&", peek == "&" { throw Self.unsupported("class intersection ('&&')") }
            if c == "\\" {
                guard let e = peek else { throw fail("missing ']'") }
                i += 1
                if let prop = try propertyEscape(e) { set.properties.append(prop); continue }
                if e == "Q" || e == "E" || e == "b" { throw Self.unsupported("'\\\(e)' inside '[…]'") }
                guard let v = try scalarEscape(e) else { throw fail("unknown escape '\\\(e)' in a class") }
                lo = v
            } else {
                lo = c.value
            }
            if peek == "-", i + 1 < p.count, p[i + 1] != "]" {
                i += 1
                var hi = p[i].value
                i += 1
                if hi == 0x5C {  // "\"
                    guard let e = peek else { throw fail("missing ']'") }
                    i += 1
                    guard let v = try scalarEscape(e) else { throw fail("bad range end '\\\(e)'") }
                    hi = v
                } else if hi == 0x5B {
                    throw Self.unsupported("a nested class or POSIX class ('[' inside '[…]')")
                }
                guard lo <= hi else { throw fail("a class range out of order") }
                set.ranges.append(lo...hi)
            } else {
                set.ranges.append(lo...lo)
            }
        }
        return set
    }
}

/// A Thompson NFA: `char` steps consume one scalar of a set, the others are ε-moves.
struct RegexProgram: Sendable {
    enum Op: UInt8, Sendable { case char, split, jump, assert, match }
    struct Inst: Sendable { var op: Op; var a: Int32; var b: Int32 }

    /// Keeps a pattern's `{m,n}` unrolling within a size whose per-scalar cost stays small.
    static let maxInstructions = 10_000

    var insts: [Inst] = []
    var sets: [ScalarSet]

    init(_ node: RegexNode, sets: [ScalarSet]) throws(RegexPatternError) {
        self.sets = sets
        try emit(node)
        insts.append(Inst(op: .match, a: 0, b: 0))
    }

    private mutating func add(_ op: Op, _ a: Int32 = 0, _ b: Int32 = 0) throws(RegexPatternError) -> Int {
        guard insts.count < Self.maxInstructions else {
            throw RegexPatternError(message: "the pattern is too large once its repetitions are expanded "
                + "(over \(Self.maxInstructions) steps)")
        }
        insts.append(Inst(op: op, a: a, b: b))
        return insts.count - 1
    }

    private var here: Int32 { Int32(insts.count) }

    private mutating func emit(_ node: RegexNode) throws(RegexPatternError) {
        switch node {
        case .empty: break
        case .set(let s): _ = try add(.char, Int32(s))
        case .assertion(let a): _ = try add(.assert, a.rawValue)
        case .concat(let items): for item in items { try emit(item) }
        case .alternate(let alts):
            var jumps: [Int] = []
            for (k, alt) in alts.enumerated() {
                if k == alts.count - 1 { try emit(alt); break }
                let split = try add(.split)
                insts[split].a = here
                try emit(alt)
                jumps.append(try add(.jump))
                insts[split].b = here
            }
            for j in jumps { insts[j].a = here }
        case .repeated(let body, let min, let max):
            for _ in 0..<min { try emit(body) }
            if let max {
                var splits: [Int] = []
                for _ in min..<max {
                    let split = try add(.split)
                    insts[split].a = here
                    try emit(body)
                    splits.append(split)
                }
                for s in splits { insts[s].b = here }
            } else {
                let split = try add(.split)
                insts[split].a = here
                try emit(body)
                _ = try add(.jump, Int32(split))
                insts[split].b = here
            }
        }
    }

    var assertions: Set<RegexAssertion> {
        Set(insts.compactMap { $0.op == .assert ? RegexAssertion(rawValue: $0.a) : nil })
    }

    /// True when every match must begin with `assertion` (`.textStart`: the match starts at the first scalar).
    static func startsWith(_ assertion: RegexAssertion, _ node: RegexNode) -> Bool {
        switch node {
        case .assertion(let a): return a == assertion
        case .concat(let items):
            // Zero-width tests before it (`\B^`) do not move the start: ICU's start scan looks past them too.
            for item in items {
                if case .assertion(let a) = item, a != assertion { continue }
                return startsWith(assertion, item)
            }
            return false
        case .alternate(let alts): return alts.allSatisfy { startsWith(assertion, $0) }
        case .repeated(let body, let min, _): return min > 0 && startsWith(assertion, body)
        default: return false
        }
    }
}
