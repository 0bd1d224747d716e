extension Standardiser {
    /// Uppercase, trimmed, spaces collapsed, then repaired per country (`country` resolved through
    /// `ReferenceData.country`, default `defaultRegion`): US 4-digit ZIPs left-padded, 9 digits → ZIP+4;
    /// the inward-code space inserted for GB/CA/IE/NL/SE; the hyphen for PL/PT/JP/BR. Validated
    /// against postcodes.csv when the country has a pattern; otherwise the normalised value is kept.
    public func postcode(_ s: String, country: String?) -> Result<String, StandardiseError>? {
        guard let cleaned = TextNormalizer.cleanString(s) else { return nil }
        var a2 = defaultRegion
        // The row's country is most often the default one, known already: no lookup for it.
        if let country, !country.isEmpty, !(country == defaultRegion && knowsDefaultCountry) {
            // An unrecognised country is the country column's problem, not the postcode's.
            a2 = reference.countries[country] != nil ? country : (reference.country(country) ?? "")
        }
        // Already upper-case ASCII (the usual postcode) is kept without a copy.
        let needsUppercasing: Bool = cleaned.utf8.withContiguousStorageIfAvailable({ bytes in
            bytes.contains { TextNormalizer.isLower($0) || $0 >= 0x80 }
        }) ?? true
        var p = needsUppercasing ? cleaned.uppercased() : cleaned
        // One pass for the shape; the digits themselves are copied out only where a repair needs them.
        var compactCount = 0, digitCount = 0
        for b in p.utf8 where b != 32 && b != UInt8(ascii: "-") {
            compactCount += 1
            if TextNormalizer.isDigit(b) { digitCount += 1 }
        }
        let allDigits = compactCount > 0 && digitCount == compactCount
        switch a2 {
        case "US":
            if allDigits && compactCount == 4 { p = "0" + String(decoding: Self.compact(p), as: UTF8.self) }
            else if allDigits && compactCount == 9 {
                let digits = Self.compact(p)
                p = String(decoding: digits[0..<5], as: UTF8.self) + "-" + String(decoding: digits[5...], as: UTF8.self)
            } else if allDigits && compactCount == 8 && p.utf8.count == 9 && p.utf8.dropFirst(4).first == 45 {
                p = "0" + p  // "2139-1234": ZIP+4 that lost its leading zero
            }
        case "GB", "CA": p = Self.spaced(p, inward: 3)
        case "IE": p = Self.spaced(p, inward: 4)
        case "NL", "SE": p = Self.spaced(p, inward: 2)
        case "PL" where allDigits && compactCount == 5: p = Self.hyphenated(Self.compact(p), at: 2)
        case "PT" where allDigits && compactCount == 7: p = Self.hyphenated(Self.compact(p), at: 4)
        case "JP" where allDigits && compactCount == 7: p = Self.hyphenated(Self.compact(p), at: 3)
        case "BR" where allDigits && compactCount == 8: p = Self.hyphenated(Self.compact(p), at: 5)
        case "DE", "FR", "ES", "IT", "FI", "MX":
            // Spreadsheets drop the leading zero of "01067" (Dresden), "00184" (Rome).
            if allDigits && compactCount == 4 && p.utf8.count == 4 { p = "0" + p }
        default: break
        }
        // Called through the optionals, not bound to a local: binding copies the pattern.
        let valid = a2 == defaultRegion ? defaultPostcodePattern?.matches(p) : reference.postcodePatterns[a2]?.matches(p)
        if valid == false {
            return .failure(.invalidPostcode(s))
        }
        return .success(p)
    }

    /// The postcode without spaces and hyphens.
    private static func compact(_ p: String) -> [UInt8] { p.utf8.filter { $0 != 32 && $0 != UInt8(ascii: "-") } }

    /// One space before the last `inward` characters (existing spaces removed).
    private static func spaced(_ p: String, inward: Int) -> String {
        let compact = p.utf8.filter { $0 != 32 }
        guard compact.count > inward else { return p }
        let cut = compact.count - inward
        return String(decoding: compact[..<cut], as: UTF8.self) + " " + String(decoding: compact[cut...], as: UTF8.self)
    }

    private static func hyphenated(_ digits: [UInt8], at cut: Int) -> String {
        String(decoding: digits[..<cut], as: UTF8.self) + "-" + String(decoding: digits[cut...], as: UTF8.self)
    }
}
