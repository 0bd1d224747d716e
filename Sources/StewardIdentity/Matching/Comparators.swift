import Foundation
import StewardPipeline

/// String, date and number comparators for record linkage. All work on bytes of values already
/// normalised by `Standardiser.normalizedKey` (lowercase ASCII, no diacritics).
public enum Compare {
    /// Jaro-Winkler similarity in 0...1 (prefix scale 0.1, prefix up to 4).
    ///
    /// ```swift
    /// Compare.jaroWinkler("martha", "marhta")  // 0.961
    /// ```
    public static func jaroWinkler(_ a: String, _ b: String) -> Double {
        jaroWinkler(Array(a.utf8), Array(b.utf8))
    }

    public static func jaroWinkler(_ a: [UInt8], _ b: [UInt8]) -> Double {
        let j = jaro(a, b)
        var prefix = 0
        while prefix < min(4, a.count, b.count) && a[prefix] == b[prefix] { prefix += 1 }
        return j + Double(prefix) * 0.1 * (1 - j)
    }

    public static func jaro(_ a: [UInt8], _ b: [UInt8]) -> Double {
        if a.isEmpty && b.isEmpty { return 1 }
        if a.isEmpty || b.isEmpty { return 0 }
        if a == b { return 1 }
        let window = max(0, max(a.count, b.count) / 2 - 1)
        return a.count <= 64 && b.count <= 64 ? shortJaro(a, b, window: window) : longJaro(a, b, window: window)
    }

    /// `jaro` of any length: the flags on the stack, no heap allocation.
    static func longJaro(_ a: [UInt8], _ b: [UInt8], window: Int) -> Double {
        withUnsafeTemporaryAllocation(of: Bool.self, capacity: a.count + b.count) { flags in
            flags.initialize(repeating: false)
            var matches = 0
            for i in 0..<a.count {
                let lo = max(0, i - window), hi = min(b.count - 1, i + window)
                if lo > hi { continue }
                for j in lo...hi where !flags[a.count + j] && a[i] == b[j] {
                    flags[i] = true; flags[a.count + j] = true; matches += 1
                    break
                }
            }
            if matches == 0 { return 0 }
            var transpositions = 0, k = 0
            for i in 0..<a.count where flags[i] {
                while !flags[a.count + k] { k += 1 }
                if a[i] != b[k] { transpositions += 1 }
                k += 1
            }
            let m = Double(matches)
            return (m / Double(a.count) + m / Double(b.count) + (m - Double(transpositions / 2)) / m) / 3
        }
    }

    /// `jaro` for values of up to 64 bytes (every name, city and street): the matched flags as bits
    /// and the bytes read through pointers; the same matches and transpositions, the same formula.
    private static func shortJaro(_ a: [UInt8], _ b: [UInt8], window: Int) -> Double {
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                var matchedA: UInt64 = 0, matchedB: UInt64 = 0
                var matches = 0
                for i in 0..<a.count {
                    let lo = max(0, i - window), hi = min(b.count - 1, i + window)
                    if lo > hi { continue }
                    let c = a[i]
                    var j = lo
                    while j <= hi {
                        if matchedB & (1 << UInt64(j)) == 0 && b[j] == c {
                            matchedA |= 1 << UInt64(i); matchedB |= 1 << UInt64(j); matches += 1
                            break
                        }
                        j += 1
                    }
                }
                if matches == 0 { return 0 }
                // The k-th matched byte of a against the k-th matched byte of b.
                var transpositions = 0
                while matchedA != 0 {
                    if a[matchedA.trailingZeroBitCount] != b[matchedB.trailingZeroBitCount] { transpositions += 1 }
                    matchedA &= matchedA - 1
                    matchedB &= matchedB - 1
                }
                let m = Double(matches)
                return (m / Double(a.count) + m / Double(b.count) + (m - Double(transpositions / 2)) / m) / 3
            }
        }
    }

    /// True when the Damerau-Levenshtein distance is at most 1 (linear, no allocation).
    public static func withinOneEdit(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        let n = a.count, m = b.count
        if abs(n - m) > 1 { return false }
        var i = 0
        while i < n && i < m && a[i] == b[i] { i += 1 }
        if i == n && i == m { return true }
        if n == m {
            // One substitution, or one adjacent swap.
            if i + 1 < n && a[i] == b[i + 1] && a[i + 1] == b[i] && a[(i + 2)...] == b[(i + 2)...] { return true }
            return a[(i + 1)...] == b[(i + 1)...]
        }
        return n > m ? a[(i + 1)...] == b[i...] : a[i...] == b[(i + 1)...]
    }

    /// True when the two values hold the same letters in the same order once everything else
    /// (digits, dots, underscores, the @) is removed: "john.smith2@x" ~ "johnsmith13@x".
    public static func sameLetters(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        func letter(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c >= 128 }
        var i = 0, j = 0
        while true {
            while i < a.count && !letter(a[i]) { i += 1 }
            while j < b.count && !letter(b[j]) { j += 1 }
            if i == a.count || j == b.count { return i == a.count && j == b.count }
            if a[i] != b[j] { return false }
            i += 1; j += 1
        }
    }

    /// Damerau-Levenshtein distance (optimal string alignment: insert, delete, substitute, swap adjacent).
    ///
    /// ```swift
    /// Compare.damerauLevenshtein("smith", "smtih")  // 1
    /// ```
    public static func damerauLevenshtein(_ a: String, _ b: String) -> Int {
        damerauLevenshtein(Array(a.utf8), Array(b.utf8))
    }

    public static func damerauLevenshtein(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        let w = b.count + 1
        var prev2 = [Int](repeating: 0, count: w)
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: w)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] { v = min(v, prev2[j - 2] + 1) }
                cur[j] = v
            }
            (prev2, prev, cur) = (prev, cur, prev2)
        }
        return prev[b.count]
    }

    /// NYSIIS phonetic code (the original algorithm, not truncated).
    ///
    /// ```swift
    /// Compare.nysiis("macintosh")  // "MCANT"
    /// ```
    public static func nysiis(_ s: String) -> String {
        var w: [UInt8] = []
        for c in s.utf8 {
            if c >= 97 && c <= 122 { w.append(c - 32) } else if c >= 65 && c <= 90 { w.append(c) }
        }
        if w.isEmpty { return "" }
        func starts(_ p: String) -> Bool { w.starts(with: Array(p.utf8)) }
        func ends(_ p: String) -> Bool { w.count >= p.utf8.count && Array(w.suffix(p.utf8.count)) == Array(p.utf8) }
        if starts("MAC") { w.replaceSubrange(0..<3, with: Array("MCC".utf8)) }
        else if starts("KN") { w.replaceSubrange(0..<2, with: Array("NN".utf8)) }
        else if starts("K") { w[0] = 67 }
        else if starts("PH") || starts("PF") { w.replaceSubrange(0..<2, with: Array("FF".utf8)) }
        else if starts("SCH") { w.replaceSubrange(0..<3, with: Array("SSS".utf8)) }
        if ends("EE") || ends("IE") { w.replaceSubrange((w.count - 2)..., with: [89]) }
        else if ends("DT") || ends("RT") || ends("RD") || ends("NT") || ends("ND") { w.replaceSubrange((w.count - 2)..., with: [68]) }
        func vowel(_ c: UInt8) -> Bool { c == 65 || c == 69 || c == 73 || c == 79 || c == 85 }
        var key: [UInt8] = [w[0]]
        var i = 1
        while i < w.count {
            var rep: [UInt8]
            let c = w[i]
            if c == 69 && i + 1 < w.count && w[i + 1] == 86 { rep = [65, 70]; w[i + 1] = 70 }
            else if vowel(c) { rep = [65] }
            else if c == 81 { rep = [71] }
            else if c == 90 { rep = [83] }
            else if c == 77 { rep = [78] }
            else if c == 75 { rep = (i + 1 < w.count && w[i + 1] == 78) ? [78] : [67] }
            else if c == 83 && i + 2 < w.count && w[i + 1] == 67 && w[i + 2] == 72 { rep = [83]; w[i + 1] = 83; w[i + 2] = 83 }
            else if c == 80 && i + 1 < w.count && w[i + 1] == 72 { rep = [70]; w[i + 1] = 70 }
            else if c == 72 && (!vowel(w[i - 1]) || (i + 1 < w.count && !vowel(w[i + 1])) || i + 1 == w.count) { rep = [w[i - 1]] }
            else if c == 87 && vowel(w[i - 1]) { rep = [w[i - 1]] }
            else { rep = [c] }
            w[i] = rep[0]
            for r in rep where key.last != r { key.append(r) }
            i += 1
        }
        if key.count > 1 && key.last == 83 { key.removeLast() }
        if key.count > 2 && key.suffix(2) == [65, 89] { key.removeLast(2); key.append(89) }
        if key.count > 1 && key.last == 65 { key.removeLast() }
        return String(decoding: key, as: UTF8.self)
    }

    /// How two ISO dates (`YYYY-MM-DD`) agree.
    public enum DateAgreement: Int, Sendable { case different = 0, yearOnly, oneEdit, transposed, exact }

    /// ```swift
    /// Compare.dates("1980-03-07", "1980-07-03")  // .transposed
    /// ```
    public static func dates(_ a: String, _ b: String) -> DateAgreement {
        dates(Array(a.utf8), Array(b.utf8))
    }

    public static func dates(_ a: [UInt8], _ b: [UInt8]) -> DateAgreement {
        if a == b { return .exact }
        guard a.count == 10, b.count == 10 else { return .different }
        let sameYear = a[0..<4] == b[0..<4]
        if sameYear && a[5..<7] == b[8..<10] && a[8..<10] == b[5..<7] { return .transposed }
        if withinOneEdit(a, b) { return .oneEdit }
        return sameYear ? .yearOnly : .different
    }

    /// True when both values are numbers within `tolerance` of each other (postcodes, house numbers).
    ///
    /// ```swift
    /// Compare.numericNear("10115", "10117", tolerance: 2)  // true
    /// ```
    public static func numericNear(_ a: String, _ b: String, tolerance: Int) -> Bool {
        numericNear(Array(a.utf8), Array(b.utf8), tolerance: tolerance)
    }

    /// The values as bytes (postcodes of a pair: no strings made per pair).
    static func numericNear(_ a: [UInt8], _ b: [UInt8], tolerance: Int) -> Bool {
        guard let x = integer(a), let y = integer(b) else { return false }
        return abs(x - y) <= tolerance
    }

    /// The number the bytes spell as `Int(String)` reads it: an optional sign, then ASCII digits,
    /// nil for anything else or on overflow.
    static func integer(_ s: [UInt8]) -> Int? {
        var i = 0, negative = false
        if let c = s.first, c == UInt8(ascii: "+") || c == UInt8(ascii: "-") { negative = c == UInt8(ascii: "-"); i = 1 }
        guard i < s.count else { return nil }
        var v = 0
        while i < s.count {
            let c = s[i]
            guard c >= 48 && c <= 57 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (n, o2) = negative ? m.subtractingReportingOverflow(Int(c - 48)) : m.addingReportingOverflow(Int(c - 48))
            if o1 || o2 { return nil }
            v = n
            i += 1
        }
        return v
    }

    /// The leading run of digits of a street line ("12b Oak Road" → 12), or nil.
    public static func houseNumber(_ street: [UInt8]) -> Int? {
        var v = 0, digits = 0
        for c in street {
            guard c >= 48 && c <= 57 else { break }
            v = v * 10 + Int(c - 48); digits += 1
            if digits > 8 { return nil }
        }
        return digits > 0 ? v : nil
    }
}

/// Nickname equivalence from `data/nicknames.csv` (`name,nickname`): Bob ~ Robert, Liz ~ Elizabeth.
public struct Nicknames: Sendable {
    /// Each normalised name → the formal names it can stand for (itself included).
    private var formal: [String: Set<String>] = [:]

    public init(pairs: [(name: String, nickname: String)]) {
        for (n, k) in pairs {
            formal[n, default: []].insert(n)
            formal[k, default: []].insert(n)
        }
    }

    /// Loads `nicknames.csv` from the reference data directory; empty when it is missing.
    public static func load(from dataDirectory: URL?) -> Nicknames {
        guard let dir = dataDirectory,
              let text = try? String(contentsOf: dir.appendingPathComponent("nicknames.csv"), encoding: .utf8) else {
            return Nicknames(pairs: [])
        }
        var pairs: [(String, String)] = []
        for (i, line) in text.split(whereSeparator: \.isNewline).enumerated() where i > 0 {
            let parts = line.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count >= 2 else { continue }
            let n = TextKey.key(String(parts[0])), k = TextKey.key(String(parts[1]))
            if !n.isEmpty && !k.isEmpty { pairs.append((n, k)) }
        }
        return Nicknames(pairs: pairs)
    }

    /// True when the two normalised first names can name the same person.
    ///
    /// ```swift
    /// nicknames.equivalent("bob", "robert")  // true
    /// ```
    public func equivalent(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        guard let fa = formal[a], let fb = formal[b] else { return false }
        return !fa.isDisjoint(with: fb)
    }

    /// A canonical formal name for blocking ("bob" → "robert"); the name itself when unknown.
    public func canonical(_ a: String) -> String {
        guard let f = formal[a] else { return a }
        return f.min()!
    }

    public var isEmpty: Bool { formal.isEmpty }

    /// The formal names `a` can stand for, sorted; empty when the name is not in the list.
    public func formalNames(_ a: String) -> [String] { formal[a].map { $0.sorted() } ?? [] }
}

/// Normalised matching keys (lowercase, no diacritics, letters and digits only), shared by loading,
/// blocking and explain.
enum TextKey {
    static let standardiser = Standardiser(reference: .shared, defaultRegion: "US")

    static func key(_ s: String) -> String { standardiser.normalizedKey(s) }
}
