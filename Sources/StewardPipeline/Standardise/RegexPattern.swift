import Foundation

/// A regex for hot paths (postcode patterns, `pattern: {regex:}` checks), answering "does the value
/// contain a match" in time linear in the value: no input can make a check backtrack (`(a+)+$`
/// against "aaaa…!" was exponential under NSRegularExpression and the old matcher).
///
/// The pattern (ICU syntax, as NSRegularExpression reads it) becomes a Thompson NFA; a DFA over it
/// is built ahead for ASCII bytes, so a value usually costs one table lookup per byte. Scalars
/// outside ASCII, states past the DFA's budget and a value that ends in a line break are simulated
/// on the NFA directly (a set of states per scalar: still linear). Constructs that have no linear
/// algorithm (backreferences, lookaround, possessive quantifiers, atomic groups) are refused.
struct RegexPattern: Sendable {
    let source: String
    private let program: RegexProgram
    private let dfa: RegexDFA

    /// nil when the pattern is invalid or unsupported; `init(validating:)` says why.
    init?(_ pattern: String) {
        guard let compiled = try? RegexPattern(validating: pattern) else { return nil }
        self = compiled
    }

    init(validating pattern: String) throws(RegexPatternError) {
        // ICU decides what is valid syntax, so a pattern means here what it means anywhere else.
        do { _ = try NSRegularExpression(pattern: pattern) } catch {
            throw RegexPatternError(message: "invalid regular expression")
        }
        var parser = RegexParser(pattern)
        let node = try parser.parse()
        source = pattern
        program = try RegexProgram(node, sets: parser.sets)
        dfa = RegexDFA(program, anchored: RegexProgram.startsWith(.textStart, node),
                       lineAnchored: RegexProgram.startsWith(.lineStart, node))
    }

    func matches(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { dfa.run($0, program) }
    }
}

/// The DFA over a `RegexProgram`'s ASCII steps, built when the pattern is compiled (immutable
/// afterwards, so one pattern is safely shared by threads).
///
/// A DFA state is the set of NFA `char` steps reached after the previous scalar (before following
/// ε-moves), plus the kind of that scalar when the pattern has assertions that look behind. From a
/// state, an ASCII byte's class gives the next state, or `matchFound` when a match ended before it.
struct RegexDFA: Sendable {
    static let matchFound: Int32 = -1
    static let notBuilt: Int32 = -2
    static let dead: Int32 = -3
    /// Caps the work and memory spent ahead; states past it are simulated on the NFA.
    static let maxStates = 2_000
    static let maxWork = 2_000_000

    struct StateKey: Hashable, Sendable {
        var pcs: [Int32]
        var prev: ScalarKind
    }

    private let anchored: Bool
    /// Every match starts with `(?m)^`: like ICU's start-of-line scan, no match starts inside a CRLF.
    private let lineAnchored: Bool
    private let usesPrev: Bool
    private let hasAssertions: Bool
    private let usesFinalBreak: Bool
    /// Each ASCII byte's class: bytes no step and no assertion can tell apart share one.
    private var classOf = [UInt8](repeating: 0, count: 128)
    private var classCount = 0
    private var transitions: [Int32] = []
    private var acceptsAtEnd: [Bool] = []
    private var states: [StateKey] = []
    private var index: [StateKey: Int32] = [:]

    init(_ program: RegexProgram, anchored: Bool, lineAnchored: Bool) {
        self.anchored = anchored
        self.lineAnchored = lineAnchored
        let assertions = program.assertions
        hasAssertions = !assertions.isEmpty
        usesPrev = !assertions.isDisjoint(with: [.textStart, .lineStart, .lineEnd, .textEndOrFinalBreak, .wordBoundary, .notWordBoundary])
        usesFinalBreak = assertions.contains(.textEndOrFinalBreak)

        var signatures: [[Bool]: UInt8] = [:]
        var representative: [UInt32] = []
        for b in UInt32(0)..<128 {
            var sig = program.sets.map { $0.contains(b) }
            if hasAssertions {
                let k = ScalarKind.of(b)
                sig += [k == .lf, k == .cr, k == .lineBreak, k == .word]
            }
            if let c = signatures[sig] { classOf[Int(b)] = c; continue }
            let c = UInt8(signatures.count)
            signatures[sig] = c
            classOf[Int(b)] = c
            representative.append(b)
        }
        classCount = representative.count

        var scratch = RegexScratch(count: program.insts.count)
        let start = StateKey(pcs: [0], prev: usesPrev ? .none : .other)
        states = [start]
        index = [start: 0]
        var work = 0
        var next = 0
        while next < states.count {
            let key = states[next]
            next += 1
            acceptsAtEnd.append(step(program, key, scalar: nil, finalBreak: false, &scratch).matched)
            for rep in representative {
                let r = step(program, key, scalar: rep, finalBreak: false, &scratch)
                work += program.insts.count
                if r.matched { transitions.append(Self.matchFound); continue }
                if anchored && r.next.pcs.isEmpty { transitions.append(Self.dead); continue }
                if let id = index[r.next] { transitions.append(id); continue }
                if states.count >= Self.maxStates || work >= Self.maxWork { transitions.append(Self.notBuilt); continue }
                index[r.next] = Int32(states.count)
                transitions.append(Int32(states.count))
                states.append(r.next)
            }
        }
    }

    /// One NFA step: the ε-closure of `key` at a position whose next scalar is `scalar` (nil at the
    /// end), whether it reaches the match, and the states reached by consuming `scalar`.
    func step(_ program: RegexProgram, _ key: StateKey, scalar: UInt32?, finalBreak: Bool,
              _ scratch: inout RegexScratch) -> (matched: Bool, next: StateKey) {
        let nextKind = scalar.map(ScalarKind.of) ?? .none
        scratch.generation &+= 1
        if scratch.generation == 0 { scratch.reset() }
        let gen = scratch.generation
        scratch.stack.removeAll(keepingCapacity: true)
        // Seeding the start at every position is the unanchored search; reversed so the first
        // alternative is explored first (any order gives the same answer).
        if (!anchored || key.prev == .none) && !(lineAnchored && key.prev == .cr && nextKind == .lf) {
            scratch.stack.append(0)
        }
        scratch.stack.append(contentsOf: key.pcs.reversed())
        var reached: [Int32] = []
        var matched = false
        let insts = program.insts
        while let pc = scratch.stack.popLast() {
            let at = Int(pc)
            if scratch.seen[at] == gen { continue }
            scratch.seen[at] = gen
            let inst = insts[at]
            switch inst.op {
            case .match: matched = true
            case .jump: scratch.stack.append(inst.a)
            case .split: scratch.stack.append(inst.b); scratch.stack.append(inst.a)
            case .assert:
                if ScalarKind.holds(RegexAssertion(rawValue: inst.a)!, prev: key.prev, next: nextKind, finalBreak: finalBreak) {
                    scratch.stack.append(pc + 1)
                }
            case .char:
                if let c = scalar, program.sets[Int(inst.a)].contains(c) { reached.append(pc + 1) }
            }
            if matched { break }
        }
        reached.sort()
        return (matched, StateKey(pcs: reached, prev: usesPrev ? nextKind : .other))
    }

    /// Whether the UTF-8 `bytes` contain a match.
    func run(_ bytes: UnsafeBufferPointer<UInt8>, _ program: RegexProgram) -> Bool {
        let n = bytes.count
        var state: Int32 = 0
        var slow = states[0]        // the NFA states while `state` is not a DFA state (-1)
        var scratch: RegexScratch? = nil
        var i = 0
        while i < n {
            let b = bytes[i]
            if b < 0x80 && state >= 0 && !(usesFinalBreak && n - i <= 3 && Self.isFinalBreak(bytes, i)) {
                let t = transitions[Int(state) * classCount + Int(classOf[Int(b)])]
                if t >= 0 { state = t; i += 1; continue }
                if t == Self.matchFound { return true }
                if t == Self.dead { return false }
            }
            // Off the DFA: step the NFA on one scalar.
            let (c, width) = Self.decode(bytes, i)
            if state >= 0 { slow = states[Int(state)] }
            if scratch == nil { scratch = RegexScratch(count: program.insts.count) }
            let r = step(program, slow, scalar: c, finalBreak: usesFinalBreak && Self.isFinalBreak(bytes, i), &scratch!)
            if r.matched { return true }
            if anchored && r.next.pcs.isEmpty { return false }
            slow = r.next
            state = index[slow] ?? -1
            i += width
        }
        if state >= 0 { return acceptsAtEnd[Int(state)] }
        if scratch == nil { scratch = RegexScratch(count: program.insts.count) }
        return step(program, slow, scalar: nil, finalBreak: false, &scratch!).matched
    }

    /// The rest of the value is exactly one line break (where ICU's `$` also holds).
    private static func isFinalBreak(_ bytes: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        let rest = bytes.count - i
        switch rest {
        case 1: return bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x0B || bytes[i] == 0x0C
        case 2: return (bytes[i] == 0x0D && bytes[i + 1] == 0x0A) || (bytes[i] == 0xC2 && bytes[i + 1] == 0x85)
        case 3: return bytes[i] == 0xE2 && bytes[i + 1] == 0x80 && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9)
        default: return false
        }
    }

    /// The scalar at `i` of valid UTF-8 (a Swift String's bytes), and its width in bytes.
    private static func decode(_ bytes: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, Int) {
        let b0 = UInt32(bytes[i])
        if b0 < 0x80 { return (b0, 1) }
        if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F), 2) }
        if b0 < 0xF0 {
            return ((b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F), 3)
        }
        return ((b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6
                | UInt32(bytes[i + 3] & 0x3F), 4)
    }
}

/// Work space of an NFA step: a visit mark per instruction (by generation, so it is never cleared).
struct RegexScratch {
    var seen: [UInt32]
    var stack: [Int32] = []
    var generation: UInt32 = 0
    init(count: Int) { seen = [UInt32](repeating: 0, count: count) }
    mutating func reset() { for k in seen.indices { seen[k] = 0 }; generation = 1 }
}

/// A set of ASCII bytes as two bit words (non-ASCII bytes are never members).
struct ASCIIByteSet: Sendable {
    var lo: UInt64 = 0, hi: UInt64 = 0
    mutating func insert(_ b: UInt8) {
        if b < 64 { lo |= 1 << UInt64(b) } else if b < 128 { hi |= 1 << UInt64(b - 64) }
    }
    func contains(_ b: UInt8) -> Bool {
        b < 64 ? (lo >> UInt64(b)) & 1 == 1 : b < 128 ? (hi >> UInt64(b - 64)) & 1 == 1 : false
    }
}
