import Foundation

/// A regex for hot paths (postcode patterns, `pattern: {regex:}` checks). Simple patterns run on a
/// small byte-level backtracking matcher (NSRegularExpression costs microseconds per call); anything
/// it does not understand falls back to NSRegularExpression.
struct RegexPattern: Sendable {
    let source: String
    private let mini: MiniRegex?
    private let fallback: RegexBox?

    init?(_ pattern: String) {
        source = pattern
        guard let re = try? NSRegularExpression(pattern: pattern) else { return nil }
        mini = MiniRegex(pattern)
        fallback = RegexBox(re: re)
    }

    func matches(_ s: String) -> Bool {
        // MiniRegex's classes are ASCII-only: "é" must still match [^0-9] or ".".
        if let mini, s.utf8.allSatisfy({ $0 < 0x80 }) { return mini.matches(s) }
        guard let re = fallback?.re else { return false }
        let ns = s as NSString
        return re.firstMatch(in: s, range: NSRange(location: 0, length: ns.length)) != nil
    }
}

/// NSRegularExpression is immutable and documented thread-safe.
private final class RegexBox: @unchecked Sendable {
    let re: NSRegularExpression
    init(re: NSRegularExpression) { self.re = re }
}

/// Subset of regex syntax: literals, `.`, escapes (\d \w \s and escaped punctuation), classes
/// `[A-Z0-9]` / `[^…]`, groups `(…)` / `(?:…)` with `|`, quantifiers `? * + {n} {n,} {n,m}`,
/// anchors `^` `$` at the ends. ASCII only: a non-ASCII input never matches a class.
struct MiniRegex: Sendable {
    struct ByteSet: Sendable {
        var lo: UInt64 = 0, hi: UInt64 = 0
        mutating func insert(_ b: UInt8) {
            if b < 64 { lo |= 1 << UInt64(b) } else if b < 128 { hi |= 1 << UInt64(b - 64) }
        }
        func contains(_ b: UInt8) -> Bool {
            b < 64 ? (lo >> UInt64(b)) & 1 == 1 : b < 128 ? (hi >> UInt64(b - 64)) & 1 == 1 : false
        }
        mutating func invert() { lo = ~lo; hi = ~hi }
    }
    indirect enum Node: Sendable {
        case set(ByteSet)
        case group([[Item]])
    }
    struct Item: Sendable {
        var node: Node
        var min = 1, max = 1
    }

    let alternatives: [[Item]]
    let anchoredStart: Bool
    let anchoredEnd: Bool
    /// The same pattern as a position automaton when it has at most 64 positions (every pattern of
    /// postcodes.csv does): one pass over the bytes, no backtracking, no closures.
    private let automaton: PositionAutomaton?

    init?(_ pattern: String) {
        var p = Array(pattern.utf8)[...]
        guard p.allSatisfy({ $0 < 128 }) else { return nil }
        anchoredStart = p.first == UInt8(ascii: "^")
        if anchoredStart { p = p.dropFirst() }
        // A trailing unescaped "$".
        if p.last == UInt8(ascii: "$"), p.count < 2 || p[p.endIndex - 2] != UInt8(ascii: "\\") {
            anchoredEnd = true
            p = p.dropLast()
        } else {
            anchoredEnd = false
        }
        var parser = Parser(p: p)
        guard let alts = parser.parseAlternatives(), parser.p.isEmpty else { return nil }
        alternatives = alts
        automaton = PositionAutomaton(alts, anchoredStart: anchoredStart, anchoredEnd: anchoredEnd)
    }

    private struct Parser {
        var p: ArraySlice<UInt8>

        mutating func parseAlternatives() -> [[Item]]? {
            var alts: [[Item]] = []
            while true {
                guard let seq = parseSequence() else { return nil }
                alts.append(seq)
                if p.first == UInt8(ascii: "|") { p.removeFirst(); continue }
                return alts
            }
        }

        mutating func parseSequence() -> [Item]? {
            var items: [Item] = []
            while let c = p.first, c != UInt8(ascii: "|"), c != UInt8(ascii: ")") {
                guard var item = parseAtom() else { return nil }
                guard parseQuantifier(&item) else { return nil }
                items.append(item)
            }
            return items
        }

        mutating func parseAtom() -> Item? {
            guard let c = p.popFirst() else { return nil }
            var set = ByteSet()
            switch c {
            case UInt8(ascii: "("):
                if p.starts(with: [UInt8(ascii: "?"), UInt8(ascii: ":")]) { p = p.dropFirst(2) }
                else if p.first == UInt8(ascii: "?") { return nil }
                guard let alts = parseAlternatives(), p.popFirst() == UInt8(ascii: ")") else { return nil }
                return Item(node: .group(alts))
            case UInt8(ascii: "["):
                var negate = false
                if p.first == UInt8(ascii: "^") { negate = true; p.removeFirst() }
                var first = true
                while let b = p.first, b != UInt8(ascii: "]") || first {
                    first = false
                    p.removeFirst()
                    var lo = b
                    if b == UInt8(ascii: "\\") {
                        guard let e = p.popFirst() else { return nil }
                        if let cls = Self.classEscape(e) { set.lo |= cls.lo; set.hi |= cls.hi; continue }
                        lo = e
                    } else if b == UInt8(ascii: "[") {
                        return nil  // POSIX classes: leave to NSRegularExpression
                    }
                    if p.first == UInt8(ascii: "-"), p.count >= 2, p[p.startIndex + 1] != UInt8(ascii: "]") {
                        p.removeFirst()
                        guard let hi = p.popFirst(), hi != UInt8(ascii: "\\"), hi >= lo else { return nil }
                        for x in lo...hi { set.insert(x) }
                    } else {
                        set.insert(lo)
                    }
                }
                guard p.popFirst() == UInt8(ascii: "]") else { return nil }
                if negate { set.invert() }
                return Item(node: .set(set))
            case UInt8(ascii: "\\"):
                guard let e = p.popFirst() else { return nil }
                if let cls = Self.classEscape(e) { return Item(node: .set(cls)) }
                guard !Self.isAlnum(e) else { return nil }  // \b, \1…: unsupported
                set.insert(e)
                return Item(node: .set(set))
            case UInt8(ascii: "."):
                set.invert()
                return Item(node: .set(set))
            case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"), UInt8(ascii: "{"),
                 UInt8(ascii: "^"), UInt8(ascii: "$"), UInt8(ascii: "]"):
                return nil
            default:
                set.insert(c)
                return Item(node: .set(set))
            }
        }

        mutating func parseQuantifier(_ item: inout Item) -> Bool {
            guard let c = p.first else { return true }
            switch c {
            case UInt8(ascii: "?"): item.min = 0; item.max = 1; p.removeFirst()
            case UInt8(ascii: "*"): item.min = 0; item.max = Int.max; p.removeFirst()
            case UInt8(ascii: "+"): item.min = 1; item.max = Int.max; p.removeFirst()
            case UInt8(ascii: "{"):
                p.removeFirst()
                guard let lo = readInt() else { return false }
                var hi = lo
                if p.first == UInt8(ascii: ",") {
                    p.removeFirst()
                    hi = p.first == UInt8(ascii: "}") ? Int.max : (readInt() ?? -1)
                }
                guard p.popFirst() == UInt8(ascii: "}"), hi >= lo else { return false }
                item.min = lo; item.max = hi
            default: return true
            }
            // Lazy/possessive modifiers or stacked quantifiers: unsupported.
            if let n = p.first, n == UInt8(ascii: "?") || n == UInt8(ascii: "+") || n == UInt8(ascii: "*")
                || n == UInt8(ascii: "{") { return false }
            return true
        }

        mutating func readInt() -> Int? {
            var v = 0, any = false
            while let d = p.first, d >= 48, d <= 57 { v = v * 10 + Int(d - 48); any = true; p.removeFirst() }
            return any ? v : nil
        }

        static func isAlnum(_ b: UInt8) -> Bool {
            (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122)
        }

        static func classEscape(_ e: UInt8) -> ByteSet? {
            var s = ByteSet()
            switch e {
            case UInt8(ascii: "d"): for x in UInt8(48)...57 { s.insert(x) }
            case UInt8(ascii: "w"):
                for x in UInt8(0)..<128 where isAlnum(x) || x == UInt8(ascii: "_") { s.insert(x) }
            case UInt8(ascii: "s"): for x: UInt8 in [9, 10, 11, 12, 13, 32] { s.insert(x) }
            default: return nil
            }
            return s
        }
    }

    func matches(_ s: String) -> Bool {
        guard let automaton else { return matchesByBacktracking(s) }
        var s = s
        return s.withUTF8 { automaton.matches($0) }
    }

    func matchesByBacktracking(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { buf in
            let n = buf.count
            let accept: (Int) -> Bool = { anchoredEnd ? $0 == n : true }
            let starts = anchoredStart ? 0...0 : 0...n
            for start in starts {
                for alt in alternatives where matchSeq(alt, 0, start, buf, accept) { return true }
            }
            return false
        }
    }

    private func matchSeq(_ seq: [Item], _ i: Int, _ pos: Int, _ buf: UnsafeBufferPointer<UInt8>,
                          _ k: (Int) -> Bool) -> Bool {
        if i == seq.count { return k(pos) }
        return matchRepeat(seq[i], 0, pos, buf) { p in matchSeq(seq, i + 1, p, buf, k) }
    }

    // Greedy with backtracking.
    private func matchRepeat(_ item: Item, _ count: Int, _ pos: Int, _ buf: UnsafeBufferPointer<UInt8>,
                             _ k: (Int) -> Bool) -> Bool {
        if count < item.max {
            let more = matchOne(item.node, pos, buf) { p in
                p != pos && matchRepeat(item, count + 1, p, buf, k)
            }
            if more { return true }
        }
        return count >= item.min && k(pos)
    }

    private func matchOne(_ node: Node, _ pos: Int, _ buf: UnsafeBufferPointer<UInt8>,
                          _ k: (Int) -> Bool) -> Bool {
        switch node {
        case .set(let set):
            return pos < buf.count && set.contains(buf[pos]) && k(pos + 1)
        case .group(let alts):
            for alt in alts where matchSeq(alt, 0, pos, buf, k) { return true }
            return false
        }
    }
}

/// Glushkov's position automaton of a `MiniRegex`, simulated with one bit per position: `{n,m}` is
/// unrolled into copies, so each position is one byte set, and a state is the set of positions the
/// last byte may have matched.
struct PositionAutomaton: Sendable {
    private var follow: [UInt64] = []
    /// Per byte value, the positions whose set holds it (non-ASCII bytes match nothing, as in `MiniRegex`).
    private var positionsMatching = [UInt64](repeating: 0, count: 256)
    private var first: UInt64 = 0, last: UInt64 = 0, nullable = false
    private let anchoredStart: Bool, anchoredEnd: Bool

    private struct Fragment { var nullable: Bool, first: UInt64, last: UInt64 }
    private struct TooLarge: Error {}

    init?(_ alternatives: [[MiniRegex.Item]], anchoredStart: Bool, anchoredEnd: Bool) {
        self.anchoredStart = anchoredStart
        self.anchoredEnd = anchoredEnd
        guard let whole = try? alternation(alternatives) else { return nil }
        first = whole.first; last = whole.last; nullable = whole.nullable
    }

    private mutating func alternation(_ alternatives: [[MiniRegex.Item]]) throws -> Fragment {
        var f = Fragment(nullable: false, first: 0, last: 0)
        for seq in alternatives {
            let g = try sequence(seq)
            f.nullable = f.nullable || g.nullable; f.first |= g.first; f.last |= g.last
        }
        return f
    }

    private mutating func sequence(_ items: [MiniRegex.Item]) throws -> Fragment {
        var f = Fragment(nullable: true, first: 0, last: 0)
        for item in items {
            for _ in 0..<item.min { f = concat(f, try node(item.node)) }
            if item.max == Int.max {
                var g = try node(item.node)
                for p in Self.bits(g.last) { follow[p] |= g.first }
                g.nullable = true
                f = concat(f, g)
            } else {
                guard item.max - item.min <= 64 else { throw TooLarge() }
                for _ in item.min..<item.max {
                    var g = try node(item.node)
                    g.nullable = true
                    f = concat(f, g)
                }
            }
        }
        return f
    }

    private mutating func node(_ node: MiniRegex.Node) throws -> Fragment {
        switch node {
        case .group(let alternatives):
            return try alternation(alternatives)
        case .set(let set):
            guard follow.count < 64 else { throw TooLarge() }
            let bit = UInt64(1) << UInt64(follow.count)
            follow.append(0)
            for b in 0..<128 where set.contains(UInt8(b)) { positionsMatching[b] |= bit }
            return Fragment(nullable: false, first: bit, last: bit)
        }
    }

    private mutating func concat(_ a: Fragment, _ b: Fragment) -> Fragment {
        for p in Self.bits(a.last) { follow[p] |= b.first }
        return Fragment(nullable: a.nullable && b.nullable,
                        first: a.first | (a.nullable ? b.first : 0),
                        last: b.last | (b.nullable ? a.last : 0))
    }

    private static func bits(_ mask: UInt64) -> [Int] {
        var out: [Int] = [], m = mask
        while m != 0 { out.append(m.trailingZeroBitCount); m &= m - 1 }
        return out
    }

    func matches(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        // Unanchored at the end, any match will do: an empty one too.
        if !anchoredEnd && nullable { return true }
        var state: UInt64 = 0
        for (i, byte) in bytes.enumerated() {
            var reach: UInt64 = anchoredStart && i > 0 ? 0 : first
            var s = state
            while s != 0 {
                reach |= follow[s.trailingZeroBitCount]
                s &= s - 1
            }
            state = reach & positionsMatching[Int(byte)]
            if !anchoredEnd && state & last != 0 { return true }
            if state == 0 && anchoredStart { return false }
        }
        guard anchoredEnd else { return false }
        return state & last != 0 || (nullable && (!anchoredStart || bytes.isEmpty))
    }
}
