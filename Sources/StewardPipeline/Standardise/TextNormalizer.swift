import Foundation

/// Byte-level helpers shared by the standardisers. ASCII input (the vast majority of rows) never
/// touches Foundation; anything else goes through Unicode scalar properties and Foundation's NFC/NFD.
enum TextNormalizer {
    enum Cleaned {
        case ascii([UInt8])
        case unicode(String)
    }

    @inline(__always) static func isSpace(_ b: UInt8) -> Bool { b == 32 || (b >= 9 && b <= 13) }
    @inline(__always) static func isUpper(_ b: UInt8) -> Bool { b >= 65 && b <= 90 }
    @inline(__always) static func isLower(_ b: UInt8) -> Bool { b >= 97 && b <= 122 }
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
    @inline(__always) static func isLetter(_ b: UInt8) -> Bool { isUpper(b) || isLower(b) }
    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { isUpper(b) ? b + 32 : b }
    @inline(__always) static func upper(_ b: UInt8) -> UInt8 { isLower(b) ? b - 32 : b }

    /// Invisible characters dropped outright (a BOM often sticks to the first CSV field).
    @inline(__always) static func isInvisible(_ u: Unicode.Scalar) -> Bool {
        u.value == 0xFEFF || u.value == 0x200B
    }

    /// Whether `clean` would return the string unchanged: ASCII, no space at either end, no whitespace
    /// but single spaces. Most cells are, and need no copy (BENCHMARKS.md).
    static func isCleanASCII(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { buf in
            guard let first = buf.first, let last = buf.last, !isSpace(first), !isSpace(last) else { return false }
            var previousSpace = false
            for b in buf {
                if b >= 0x80 || (isSpace(b) && (b != 32 || previousSpace)) { return false }
                previousSpace = b == 32
            }
            return true
        }
    }

    /// Trimmed, whitespace runs (tabs, NBSP, …) collapsed to one space, NFC. nil when nothing is left.
    static func clean(_ s: String) -> Cleaned? {
        var s = s
        let ascii: [UInt8]?? = s.withUTF8 { buf in
            var out: [UInt8] = []
            out.reserveCapacity(buf.count)
            var pendingSpace = false
            for b in buf {
                if b >= 0x80 { return .some(nil) }
                if isSpace(b) {
                    pendingSpace = !out.isEmpty
                } else {
                    if pendingSpace { out.append(32); pendingSpace = false }
                    out.append(b)
                }
            }
            return out.isEmpty ? nil : .some(out)
        }
        switch ascii {
        case .none: return nil
        case .some(.some(let bytes)): return .ascii(bytes)
        case .some(.none): break
        }
        // Written as UTF-8 bytes, and only non-ASCII scalars asked for their properties: the
        // scalar-view appends and property lookups cost more than the rest of the row (BENCHMARKS.md).
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        var pendingSpace = false
        // Below U+0300 (Latin-1, Latin Extended-A/B) and in General Punctuation (’ – …) every
        // character is already NFC: skip Foundation's costly normalisation for such names.
        var maybeNotNFC = false
        for u in s.unicodeScalars {
            if u.value < 0x80 {
                let b = UInt8(truncatingIfNeeded: u.value)
                if isSpace(b) { pendingSpace = !out.isEmpty; continue }
                if pendingSpace { out.append(32); pendingSpace = false }
                out.append(b)
                continue
            }
            if u.value >= 0x300 && !(0x2010...0x206F).contains(u.value) { maybeNotNFC = true }
            if isInvisible(u) { continue }
            if u.properties.isWhitespace {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(32); pendingSpace = false }
                UTF8.encode(u) { out.append($0) }
            }
        }
        if out.isEmpty { return nil }
        let str = String(decoding: out, as: UTF8.self)
        return .unicode(maybeNotNFC ? str.precomposedStringWithCanonicalMapping : str)
    }

    static func cleanString(_ s: String) -> String? {
        if isCleanASCII(s) { return s }
        switch clean(s) {
        case .none: return nil
        case .ascii(let b): return String(decoding: b, as: UTF8.self)
        case .unicode(let u): return u
        }
    }

    /// Trimmed only (leading/trailing whitespace incl. NBSP and BOM); nil when empty.
    static func trim(_ s: String) -> String? {
        var s = s
        // (lo, hi) of the trimmed ASCII-bounded range; (-1, 0) empty; nil: check Unicode spaces.
        let r: (Int, Int)? = s.withUTF8 { buf in
            var lo = 0, hi = buf.count
            while lo < hi, buf[lo] < 0x80, isSpace(buf[lo]) { lo += 1 }
            while hi > lo, buf[hi - 1] < 0x80, isSpace(buf[hi - 1]) { hi -= 1 }
            if lo == hi { return (-1, 0) }
            if buf[lo] >= 0x80 || buf[hi - 1] >= 0x80 { return nil }
            return (lo, hi)
        }
        if let (lo, hi) = r {
            if lo < 0 { return nil }
            if lo == 0 && hi == s.utf8.count { return s }
            let u = s.utf8
            return String(u[u.index(u.startIndex, offsetBy: lo)..<u.index(u.startIndex, offsetBy: hi)])!
        }
        let sc = s.unicodeScalars
        guard let first = sc.firstIndex(where: { !$0.properties.isWhitespace && !isInvisible($0) }) else {
            return nil
        }
        let last = sc.lastIndex(where: { !$0.properties.isWhitespace && !isInvisible($0) })!
        return String(sc[first...last])
    }

    // MARK: matching key

    static let foldSpecials: [UInt32: String] = [
        0xDF: "ss", 0x1E9E: "ss", 0xF8: "o", 0xD8: "o", 0xE6: "ae", 0xC6: "ae", 0x153: "oe", 0x152: "oe",
        0x142: "l", 0x141: "l", 0x111: "d", 0x110: "d", 0xF0: "d", 0xD0: "d", 0xFE: "th", 0xDE: "th",
        0x131: "i", 0x127: "h", 0x126: "h", 0x167: "t", 0x166: "t",
    ]

    /// Lowercase, diacritics stripped (é→e, ß→ss, ø→o), letters and digits only.
    static func matchingKey(_ s: String) -> String {
        var s = s
        let ascii: String? = s.withUTF8 { buf in
            var out = [UInt8]()
            out.reserveCapacity(buf.count)
            for b in buf {
                if b >= 0x80 { return nil }
                if isUpper(b) { out.append(b + 32) } else if isLower(b) || isDigit(b) { out.append(b) }
            }
            return String(decoding: out, as: UTF8.self)
        }
        if let ascii { return ascii }
        var out = String.UnicodeScalarView()
        for u in s.decomposedStringWithCanonicalMapping.unicodeScalars {
            if u.isASCII {
                let b = UInt8(u.value)
                if isUpper(b) { out.append(Unicode.Scalar(b + 32)) } else if isLower(b) || isDigit(b) { out.append(u) }
                continue
            }
            if let sp = foldSpecials[u.value] { out.append(contentsOf: sp.unicodeScalars); continue }
            let p = u.properties
            switch p.generalCategory {
            case .nonspacingMark, .spacingMark, .enclosingMark: continue
            case .decimalNumber: out.append(u)
            default:
                if p.isAlphabetic { out.append(contentsOf: p.lowercaseMapping.unicodeScalars) }
            }
        }
        return String(out)
    }
}
