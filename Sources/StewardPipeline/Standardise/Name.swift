extension Standardiser {
    /// Trim, collapse whitespace, NFC; title-case when the value is ALL CAPS, all lower, or has a
    /// caps-lock word like "jOHN" (mixed case such as "McDonald" or "van der Berg" is kept); "" → nil.
    public func name(_ s: String) -> String? {
        switch TextNormalizer.clean(s) {
        case .none: return nil
        case .ascii(var b):
            if NameCase.asciiNeedsTitle(b) { NameCase.titleASCII(&b) }
            return String(decoding: b, as: UTF8.self)
        case .unicode(let u):
            return NameCase.needsTitle(u) ? NameCase.title(u) : u
        }
    }
}

enum NameCase {
    /// Lowercase inside a name (not as its first word).
    static let particles: Set<String> = [
        "van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "dos", "das", "ter", "ten", "zu",
    ]
    static let upperSuffixes: Set<String> = ["ii", "iii", "iv"]

    static func asciiNeedsTitle(_ b: [UInt8]) -> Bool {
        var upper = false, lower = false
        // Caps-lock word: first letter lower, then at least two letters, all upper.
        var wordFirst: UInt8 = 0, wordLetters = 0, wordRestUpper = true, capsLock = false
        for c in b {
            if c == 32 {
                if wordFirst != 0 && TextNormalizer.isLower(wordFirst) && wordLetters >= 3 && wordRestUpper { capsLock = true }
                wordFirst = 0; wordLetters = 0; wordRestUpper = true
                continue
            }
            if TextNormalizer.isUpper(c) { upper = true } else if TextNormalizer.isLower(c) { lower = true } else { continue }
            if wordFirst == 0 { wordFirst = c } else if TextNormalizer.isLower(c) { wordRestUpper = false }
            wordLetters += 1
        }
        if wordFirst != 0 && TextNormalizer.isLower(wordFirst) && wordLetters >= 3 && wordRestUpper { capsLock = true }
        return upper != lower || capsLock
    }

    static func titleASCII(_ b: inout [UInt8]) {
        for i in b.indices { b[i] = TextNormalizer.lower(b[i]) }
        var wordCount = 1
        for c in b where c == 32 { wordCount += 1 }
        var start = 0, wi = 0
        while start < b.count {
            var end = start
            while end < b.count && b[end] != 32 { end += 1 }
            let word = b[start..<end]
            let wordStr = String(decoding: word, as: UTF8.self)
            if wi > 0 && wi < wordCount - 1 && particles.contains(wordStr) {
                // keep lowercase
            } else if wi > 0 && upperSuffixes.contains(wordStr) {
                for i in start..<end { b[i] = TextNormalizer.upper(b[i]) }
            } else {
                var capNext = true, segLetters = 0
                for i in start..<end {
                    let c = b[i]
                    if TextNormalizer.isLetter(c) {
                        if capNext { b[i] = TextNormalizer.upper(c) }
                        capNext = false
                        segLetters += 1
                    } else if c == UInt8(ascii: "-") || c == UInt8(ascii: ".") {
                        capNext = true; segLetters = 0
                    } else if c == UInt8(ascii: "'") {
                        capNext = segLetters == 1  // O'Brien, D'Angelo
                        segLetters = 0
                    }
                }
                // McDonald
                if end - start >= 4, b[start + 1] == UInt8(ascii: "c"), b[start] == UInt8(ascii: "M"),
                   TextNormalizer.isLower(b[start + 2]) {
                    b[start + 2] = TextNormalizer.upper(b[start + 2])
                }
            }
            start = end + 1
            wi += 1
        }
    }

    static func needsTitle(_ s: String) -> Bool {
        var upper = false, lower = false, capsLock = false
        for word in s.split(separator: " ") {
            var first: Character? = nil, letters = 0, restUpper = true
            for ch in word where ch.isLetter {
                if ch.isUppercase { upper = true } else if ch.isLowercase { lower = true }
                if first == nil { first = ch } else if !ch.isUppercase { restUpper = false }
                letters += 1
            }
            if let f = first, f.isLowercase, letters >= 3, restUpper { capsLock = true }
        }
        return upper != lower || capsLock
    }

    static func title(_ s: String) -> String {
        let words = s.lowercased().split(separator: " ")
        var out: [String] = []
        out.reserveCapacity(words.count)
        for (wi, w) in words.enumerated() {
            let word = String(w)
            if wi > 0 && wi < words.count - 1 && particles.contains(word) { out.append(word); continue }
            if wi > 0 && upperSuffixes.contains(word) { out.append(word.uppercased()); continue }
            var res = ""
            var capNext = true, segLetters = 0
            for ch in word {
                if ch.isLetter {
                    if capNext {
                        // Title case, not upper: "ǆ" → "ǅ"; a lone "ß" stays as is.
                        let t = ch.unicodeScalars.count == 1
                            ? String(ch.unicodeScalars.first!.properties.titlecaseMapping) : ch.uppercased()
                        res += t.unicodeScalars.count > 1 && ch.unicodeScalars.count == 1 ? String(ch) : t
                    } else {
                        res.append(ch)
                    }
                    capNext = false
                    segLetters += 1
                } else {
                    res.append(ch)
                    if ch == "-" || ch == "." { capNext = true; segLetters = 0 }
                    else if ch == "'" || ch == "\u{2019}" { capNext = segLetters == 1; segLetters = 0 }
                }
            }
            if res.hasPrefix("Mc"), res.count >= 4 {
                let i = res.index(res.startIndex, offsetBy: 2)
                if res[i].isLowercase { res.replaceSubrange(i...i, with: res[i].uppercased()) }
            }
            out.append(res)
        }
        return out.joined(separator: " ")
    }
}
