extension Standardiser {
    /// Trim, collapse whitespace, NFC; title-case when the value is ALL CAPS, all lower, or has a
    /// caps-lock word like "jOHN" (mixed case such as "McDonald" or "van der Berg" is kept); "" → nil.
    public func name(_ s: String) -> String? {
        // Most names are clean ASCII in a case that stays: returned as they are, with no copy.
        if TextNormalizer.isCleanASCII(s) {
            var s = s
            if !s.withUTF8({ NameCase.asciiNeedsTitle($0) }) { return s }
        }
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

    static func asciiNeedsTitle<Bytes: Collection<UInt8>>(_ b: Bytes) -> Bool {
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

    // The non-ASCII path works on scalars: Character properties cost ~10× more.
    static func needsTitle(_ s: String) -> Bool {
        var upper = false, lower = false, capsLock = false
        var firstLower: Bool? = nil, letters = 0, restUpper = true
        func endWord() {
            if firstLower == true && letters >= 3 && restUpper { capsLock = true }
            firstLower = nil; letters = 0; restUpper = true
        }
        for u in s.unicodeScalars {
            if u == " " { endWord(); continue }
            let p = u.properties
            let isU = p.isUppercase, isL = p.isLowercase
            guard isU || isL else { continue }
            if isU { upper = true } else { lower = true }
            if firstLower == nil { firstLower = isL } else if !isU { restUpper = false }
            letters += 1
        }
        endWord()
        return upper != lower || capsLock
    }

    static func title(_ s: String) -> String {
        var lowered = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            if u.isASCII { lowered.append(Unicode.Scalar(TextNormalizer.lower(UInt8(u.value)))) }
            else if u.properties.changesWhenLowercased { lowered.append(contentsOf: u.properties.lowercaseMapping.unicodeScalars) }
            else { lowered.append(u) }
        }
        let words = String(lowered).split(separator: " ")
        var out = String.UnicodeScalarView()
        for (wi, w) in words.enumerated() {
            if wi > 0 { out.append(" ") }
            let word = String(w)
            if wi > 0 && wi < words.count - 1 && particles.contains(word) { out.append(contentsOf: word.unicodeScalars); continue }
            if wi > 0 && upperSuffixes.contains(word) { out.append(contentsOf: word.uppercased().unicodeScalars); continue }
            var capNext = true, segLetters = 0
            let wordStart = out.endIndex
            var k = 0
            for u in word.unicodeScalars {
                let p = u.properties
                switch p.generalCategory {
                case .nonspacingMark, .spacingMark, .enclosingMark:
                    out.append(u)  // belongs to the previous letter
                    continue
                default: break
                }
                if p.isAlphabetic {
                    if capNext {
                        // Title case, not upper ("ǆ" → "ǅ"); a lone "ß" stays as it is.
                        let t = p.titlecaseMapping.unicodeScalars
                        if t.count == 1 { out.append(t.first!) } else { out.append(u) }
                    } else {
                        out.append(u)
                    }
                    capNext = false
                    segLetters += 1
                } else {
                    out.append(u)
                    if u == "-" || u == "." { capNext = true; segLetters = 0 }
                    else if u == "'" || u == "\u{2019}" { capNext = segLetters == 1; segLetters = 0 }
                }
                k += 1
            }
            // McDonald
            let wordScalars = out[wordStart...]
            if k >= 4, wordScalars.starts(with: "Mc".unicodeScalars) {
                let i = out.index(wordStart, offsetBy: 2)
                let c = out[i]
                if c.properties.isLowercase, c.properties.titlecaseMapping.unicodeScalars.count == 1 {
                    out.replaceSubrange(i...i, with: c.properties.titlecaseMapping.unicodeScalars)
                }
            }
        }
        return String(out)
    }
}
