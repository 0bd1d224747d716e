import Foundation

/// Turns raw source values into canonical forms. One per source (its region and date formats);
/// cheap to copy, safe to share across tasks.
public struct Standardiser: Sendable {
    public let reference: ReferenceData
    /// Alpha-2 of the default region (resolved through `ReferenceData.country`; kept as given,
    /// uppercased, when unknown).
    public let defaultRegion: String
    public let dateFormats: [String]
    let compiledFormats: [DateFormat]
    let defaultCountry: CountryInfo?
    /// `defaultCountry != nil`, kept as a flag: comparing the optional struct with nil copies it.
    let knowsDefaultCountry: Bool
    /// The default region's postcode pattern, looked up once: most postcodes are in that region.
    let defaultPostcodePattern: RegexPattern?

    public init(reference: ReferenceData, defaultRegion: String, dateFormats: [String] = []) {
        self.reference = reference
        let region = reference.country(defaultRegion) ?? defaultRegion.uppercased()
        self.defaultRegion = region
        self.defaultCountry = reference.countries[region]
        self.knowsDefaultCountry = reference.countries[region] != nil
        self.defaultPostcodePattern = reference.postcodePatterns[region]
        self.dateFormats = dateFormats
        self.compiledFormats = dateFormats.map { DateFormat($0) }
    }

    /// Generic text: trim, collapse whitespace runs to one space, NFC; "" → nil.
    public func text(_ s: String) -> String? {
        TextNormalizer.cleanString(s)
    }

    /// Matching key for identity resolution: lowercase, diacritics stripped, letters and digits only.
    public func normalizedKey(_ s: String) -> String {
        TextNormalizer.matchingKey(s)
    }

    /// ISO alpha-2 via `ReferenceData.country`; nil when empty.
    public func country(_ s: String) -> Result<String, StandardiseError>? {
        guard let t = TextNormalizer.trim(s) else { return nil }
        if let a2 = reference.country(t) { return .success(a2) }
        return .failure(.unknownCountry(s))
    }

    /// Lowercased `local@domain.tld`; nil when empty.
    public func email(_ s: String) -> Result<String, StandardiseError>? {
        enum Fast { case empty, invalid, slow, ok(String) }
        var str = s
        // One pass over the bytes for the common all-ASCII case.
        let fast: Fast = str.withUTF8 { buf in
            var lo = 0, hi = buf.count
            while lo < hi, TextNormalizer.isSpace(buf[lo]) { lo += 1 }
            while hi > lo, TextNormalizer.isSpace(buf[hi - 1]) { hi -= 1 }
            if lo == hi { return .empty }
            if buf[lo] >= 0x80 || buf[hi - 1] >= 0x80 { return .slow }
            if hi - lo >= 2, buf[lo] == UInt8(ascii: "<"), buf[hi - 1] == UInt8(ascii: ">") { lo += 1; hi -= 1 }
            let sub = UnsafeBufferPointer(rebasing: buf[lo..<hi])
            if Self.hasMailto(sub) { return .slow }
            guard Self.validEmail(sub) else { return .invalid }
            if sub.contains(where: { $0 >= 0x80 }) { return .slow }
            return .ok(String(unsafeUninitializedCapacity: sub.count) { out in
                for i in 0..<sub.count { out[i] = TextNormalizer.lower(sub[i]) }
                return sub.count
            })
        }
        switch fast {
        case .empty: return nil
        case .invalid: return .failure(.invalidEmail(s))
        case .ok(let v): return .success(v)
        case .slow: break
        }
        guard var t = TextNormalizer.trim(s) else { return nil }
        // Tolerate the wrappers mail exports add.
        if t.utf8.first == UInt8(ascii: "<"), t.utf8.last == UInt8(ascii: ">") {
            t = String(t.dropFirst().dropLast())
        }
        if t.withUTF8({ Self.hasMailto($0) }) { t = String(t.dropFirst(7)) }
        var tt = t
        let valid = tt.withUTF8 { Self.validEmail($0) }
        if valid { return .success(tt.lowercased()) }
        return .failure(.invalidEmail(s))
    }

    private static func hasMailto(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        b.count > 7 && b[6] == UInt8(ascii: ":") && b.prefix(7).map(TextNormalizer.lower).elementsEqual("mailto:".utf8)
    }

    /// local@domain.tld: one "@", no whitespace, no consecutive dots, dotted domain with a
    /// TLD of 2+ letters. Non-ASCII bytes are allowed (internationalised addresses).
    static func validEmail(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let at = b.firstIndex(of: UInt8(ascii: "@")) else { return false }
        let n = b.count
        guard at > 0, at < n - 1, at <= 64 else { return false }
        // Local part.
        if b[0] == UInt8(ascii: ".") || b[at - 1] == UInt8(ascii: ".") { return false }
        var prev: UInt8 = 0
        for i in 0..<at {
            let c = b[i]
            if c >= 0x80 { prev = c; continue }
            if c == UInt8(ascii: ".") && prev == c { return false }
            if !(TextNormalizer.isLetter(c) || TextNormalizer.isDigit(c) || localSpecials.contains(c)) { return false }
            prev = c
        }
        // Domain: labels of letters/digits/hyphens, no leading/trailing hyphen, at least one dot.
        var labelStart = at + 1
        var dots = 0
        for i in (at + 1)...n {
            let end = i == n
            let c: UInt8 = end ? UInt8(ascii: ".") : b[i]
            if c == UInt8(ascii: ".") {
                let len = i - labelStart
                if len == 0 || len > 63 { return false }
                if b[labelStart] == UInt8(ascii: "-") || b[i - 1] == UInt8(ascii: "-") { return false }
                if !end { dots += 1; labelStart = i + 1 }
                continue
            }
            if c >= 0x80 { continue }
            if TextNormalizer.isLetter(c) { continue }
            if TextNormalizer.isDigit(c) || c == UInt8(ascii: "-") { continue }
            return false
        }
        guard dots >= 1 else { return false }
        // TLD: 2+ characters and not all digits ("x@1.2.3.4" is not a mailbox we keep).
        let tldLen = n - labelStart
        if tldLen < 2 { return false }
        var tldHasLetter = false
        for i in labelStart..<n where b[i] >= 0x80 || TextNormalizer.isLetter(b[i]) { tldHasLetter = true; break }
        return tldHasLetter
    }

    private static let localSpecials: ASCIIByteSet = {
        var set = ASCIIByteSet()
        for c in "!#$%&'*+/=?^_`{|}~.-".utf8 { set.insert(c) }
        return set
    }()
}
