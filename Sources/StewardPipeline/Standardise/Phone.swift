extension Standardiser {
    /// E.164 ("+14155550123"). "+" or "00" (or "011" in NANP regions) means international; otherwise a
    /// national number in `region ?? defaultRegion`: trunk prefix stripped, calling code prepended.
    /// Extensions ("x123", "ext. 123", "#123") are dropped. The national length is checked against
    /// iso3166.csv's national_lengths when known, else the whole number must have 8…15 digits.
    public func phone(_ s: String, region: String? = nil) -> Result<String, StandardiseError>? {
        var str = s
        let scan = str.withUTF8 { PhoneScan.scan($0) }
        switch scan {
        case .empty: return nil
        case .invalid: return .failure(.invalidPhone(s))
        case .digits(let d, let plus):
            // The default country is passed as it is stored, not copied into a local (a copy retains
            // each of its strings): most rows are in it.
            let number: String?
            if let region, !region.isEmpty, region != defaultRegion, let info = reference.info(region) {
                number = e164(d, plus: plus, country: info)
            } else {
                number = e164(d, plus: plus, country: defaultCountry)
            }
            if let number { return .success(number) }
            return .failure(.invalidPhone(s))
        }
    }

    private func e164(_ digits: [UInt8], plus: Bool, country: CountryInfo?) -> String? {
        var d = digits[...]
        var intl = plus
        if !intl && d.starts(with: [0, 0]) {
            intl = true
            d = d.dropFirst(2)
        } else if !intl && country?.callingCode == "1" && d.count > 11 && d.starts(with: [0, 1, 1]) {
            intl = true
            d = d.dropFirst(3)
        }
        if intl {
            // Calling codes are prefix-free: the first known prefix is the code.
            for len in 1...3 where d.count > len {
                let cc = Self.digitString(d.prefix(len))
                guard reference.knownCallingCodes.contains(cc) else { continue }
                let nsn = international(d.dropFirst(len), cc: cc)
                return nsn.map { Self.format(cc: cc, nsn: $0) }
            }
            return nil
        }
        guard let cc = country?.callingCode else { return nil }
        if cc == "1" {
            if d.count == 11 && d.first == 1 { d = d.dropFirst() }
            guard d.count == 10 else { return nil }
            return Self.format(cc: cc, nsn: d)
        }
        let lengths = country?.nationalLengths
        let trunk = country?.trunkPrefix.map { $0.utf8.map { $0 - 48 } } ?? []
        var national = d
        if !trunk.isEmpty && national.starts(with: trunk) { national = national.dropFirst(trunk.count) }
        if Self.validLength(national.count, cc: cc, lengths: lengths) {
            return Self.format(cc: cc, nsn: national)
        }
        // Written with the calling code but without "+": "44 20 7946 0958".
        let ccDigits = cc.utf8.map { $0 - 48 }
        if d.starts(with: ccDigits), let nsn = international(d.dropFirst(ccDigits.count), cc: cc) {
            return Self.format(cc: cc, nsn: nsn)
        }
        return nil
    }

    /// The national significant number after an international calling code, or nil if its length is wrong.
    private func international(_ rest: ArraySlice<UInt8>, cc: String) -> ArraySlice<UInt8>? {
        // NANP numbers are always 10 digits, whatever a member's national_lengths says (CA: 7-10).
        let lengths = cc == "1" ? 10...10 : reference.callingCodeLengths[cc]
        var nsn = rest
        // "+44 (0)20 …": a trunk prefix that should not be there. Where the trunk prefix is "0" a
        // national number never starts with it; otherwise strip only if that fixes the length.
        if let t = reference.callingCodeTrunk[cc] {
            let trunk = t.utf8.map { $0 - 48 }
            if nsn.starts(with: trunk) {
                let stripped = nsn.dropFirst(trunk.count)
                if t == "0" || (!Self.validLength(nsn.count, cc: cc, lengths: lengths)
                                && Self.validLength(stripped.count, cc: cc, lengths: lengths)) {
                    nsn = stripped
                }
            }
        }
        return Self.validLength(nsn.count, cc: cc, lengths: lengths) ? nsn : nil
    }

    private static func validLength(_ n: Int, cc: String, lengths: ClosedRange<Int>?) -> Bool {
        let total = n + cc.utf8.count
        guard n >= 1, total <= 15 else { return false }
        if let lengths { return lengths.contains(n) }
        return total >= 8
    }

    private static func digitString(_ d: ArraySlice<UInt8>) -> String {
        String(decoding: d.map { $0 + 48 }, as: UTF8.self)
    }

    private static func format(cc: String, nsn: ArraySlice<UInt8>) -> String {
        // Written straight into the string's storage: no intermediate array per number.
        String(unsafeUninitializedCapacity: 1 + cc.utf8.count + nsn.count) { out in
            out[0] = UInt8(ascii: "+")
            var i = 1
            for b in cc.utf8 { out[i] = b; i += 1 }
            for x in nsn { out[i] = x + 48; i += 1 }
            return i
        }
    }
}

enum PhoneScan {
    enum Outcome {
        case empty, invalid
        case digits([UInt8], plus: Bool)  // digit values 0…9
    }

    static func scan(_ b: UnsafeBufferPointer<UInt8>) -> Outcome {
        var digits: [UInt8] = []
        digits.reserveCapacity(16)
        var plus = false
        var sawAnything = false
        var i = 0
        let n = b.count
        scanning: while i < n {
            let c = b[i]
            if TextNormalizer.isDigit(c) {
                digits.append(c - 48)
                if digits.count > 20 { return .invalid }
                sawAnything = true
                i += 1
                continue
            }
            switch c {
            case 32, 9, 10, 13, UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "("), UInt8(ascii: ")"),
                 UInt8(ascii: "/"):
                if c > 32 { sawAnything = true }
                i += 1
            case 0xC2 where i + 1 < n && b[i + 1] == 0xA0:  // NBSP
                i += 2
            case 0xE2 where i + 2 < n && b[i + 1] == 0x80 && (b[i + 2] == 0x93 || b[i + 2] == 0x94):
                i += 3  // en/em dash
            case UInt8(ascii: "+"):
                if plus || !digits.isEmpty { return .invalid }
                plus = true
                sawAnything = true
                i += 1
            case UInt8(ascii: "#"), UInt8(ascii: ";"), UInt8(ascii: ","):
                if digits.isEmpty { return .invalid }
                break scanning  // extension, tel: URI parameters, dial pauses
            default:
                guard TextNormalizer.isLetter(c) else { return .invalid }
                var j = i
                var word: UInt32 = 0  // up to 4 lowercase letters packed; longer words only "extension"
                var len = 0
                while j < n, TextNormalizer.isLetter(b[j]) {
                    if len < 4 { word = word << 8 | UInt32(TextNormalizer.lower(b[j])) }
                    len += 1
                    j += 1
                }
                sawAnything = true
                if digits.isEmpty {
                    // "tel:+1…", "Tel. 020…"
                    guard len == 3 && word == fourCC("tel") else { return .invalid }
                    i = j
                    if i < n && (b[i] == UInt8(ascii: ":") || b[i] == UInt8(ascii: ".")) { i += 1 }
                    continue
                }
                let isExt = (len == 1 && word == fourCC("x")) || (len == 2 && word == fourCC("ex"))
                    || (len == 3 && word == fourCC("ext")) || (len == 4 && word == fourCC("extn"))
                    || (len == 9 && word == fourCC("exte"))
                guard isExt else { return .invalid }
                break scanning
            }
        }
        if digits.isEmpty { return sawAnything ? .invalid : .empty }
        return .digits(digits, plus: plus)
    }

    private static func fourCC(_ s: StaticString) -> UInt32 {
        var v: UInt32 = 0
        s.withUTF8Buffer { for c in $0.prefix(4) { v = v << 8 | UInt32(c) } }
        return v
    }
}
