import StewardIdentity

/// Masks personal data in free text shown on screen (a quarantined row's raw line): emails as the
/// identity module's `Mask.email` writes them (`j***@example.com`), and digit groups of five or more
/// digits (phones, ids, cards) keep only their last four digits (`*******0958`). Known fields of a
/// customer are masked by `Mask` itself.
public enum PIIMask {
    public static func mask(_ text: String) -> String {
        maskDigits(maskEmails(text))
    }

    static func maskEmails(_ text: String) -> String {
        let chars = Array(text)
        var out = "", i = 0
        func isLocal(_ c: Character) -> Bool { c.isLetter || c.isNumber || "._%+-".contains(c) }
        func isDomain(_ c: Character) -> Bool { c.isLetter || c.isNumber || ".-".contains(c) }
        while i < chars.count {
            guard chars[i] == "@" else { out.append(chars[i]); i += 1; continue }
            // Walk back over the local part already copied, and forward over the domain.
            var start = out.endIndex
            while start > out.startIndex, isLocal(out[out.index(before: start)]) { start = out.index(before: start) }
            var end = i + 1
            while end < chars.count, isDomain(chars[end]) { end += 1 }
            let local = out[start...]
            let domain = String(chars[(i + 1)..<end])
            guard !local.isEmpty, domain.contains(".") else { out.append("@"); i += 1; continue }
            let masked = Mask.email("\(local)@\(domain)")!
            out.removeSubrange(start...)
            out += masked
            i = end
        }
        return out
    }

    static func maskDigits(_ text: String) -> String {
        let chars = Array(text)
        var out = "", i = 0
        func inGroup(_ c: Character) -> Bool { c.isASCII && (c.isNumber || " +-().".contains(c)) }
        while i < chars.count {
            guard chars[i].isASCII, chars[i].isNumber || chars[i] == "+" || chars[i] == "(" else { out.append(chars[i]); i += 1; continue }
            var end = i
            while end < chars.count, inGroup(chars[end]) { end += 1 }
            // Trailing separators are not part of the number.
            while end > i, !chars[end - 1].isNumber { end -= 1 }
            let group = chars[i..<max(end, i + 1)]
            let digits = group.filter(\.isNumber).count
            if digits >= 5 {
                var keep = 4
                var masked: [Character] = []
                for c in group.reversed() {
                    if c.isNumber { masked.append(keep > 0 ? c : "*"); keep -= 1 } else { masked.append(c) }
                }
                out += String(masked.reversed())
            } else {
                out += String(group)
            }
            i = max(end, i + 1)
        }
        return out
    }
}
