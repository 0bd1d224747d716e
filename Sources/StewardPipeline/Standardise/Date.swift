extension Standardiser {
    /// ISO 8601 "YYYY-MM-DD": the configured `dateFormats` first, in order, then common unambiguous
    /// forms. A numeric day/month pair both ≤ 12 (and different) with no configured format that
    /// matches is `.ambiguousDate`. A trailing time is accepted and ignored (date as written, no
    /// zone conversion).
    public func date(_ s: String) -> Result<String, StandardiseError>? {
        switch parseDateTime(s, epoch: false) {
        case .none: return nil
        case .ok(let f): return .success(DateParse.isoDate(f))
        case .invalid: return .failure(.invalidDate(s))
        case .ambiguous: return .failure(.ambiguousDate(s))
        }
    }

    /// ISO 8601 UTC "YYYY-MM-DDTHH:MM:SSZ". Date-only → midnight; a zone offset is converted to UTC;
    /// no zone means UTC; all digits with 9-10 digits are epoch seconds (13: milliseconds).
    public func timestamp(_ s: String) -> Result<String, StandardiseError>? {
        switch parseDateTime(s, epoch: true) {
        case .none: return nil
        case .ok(let f):
            let utc = DateParse.toUTC(f)
            guard (1900...2100).contains(utc.year) else { return .failure(.invalidDate(s)) }
            return .success(DateParse.isoTimestamp(utc))
        case .invalid: return .failure(.invalidDate(s))
        case .ambiguous: return .failure(.ambiguousDate(s))
        }
    }

    /// nil for empty input.
    func parseDateTime(_ s: String, epoch: Bool) -> DateParse.Outcome? {
        guard var t = TextNormalizer.trim(s) else { return nil }
        return t.withUTF8 { b -> DateParse.Outcome in
            if epoch, b.count == 9 || b.count == 10 || b.count == 13, b.allSatisfy(TextNormalizer.isDigit) {
                var v = 0
                for c in b { v = v * 10 + Int(c - 48) }
                if b.count == 13 { v /= 1000 }
                return .ok(DateParse.fromEpoch(v))
            }
            for fmt in compiledFormats {
                if let f = fmt.parse(b) { return .ok(f) }
            }
            return DateParse.common(b)
        }
    }

    /// nil when `format` is a usable date format, else a message naming the problem
    /// (for config validation: "unknown directive %Q in '%Y-%Q'").
    public static func validateDateFormat(_ format: String) -> String? {
        DateFormat(format).error
    }
}

/// A compiled strftime-like format: %Y %y %m %d %e %b %B %a %A %H %I %M %S %f %p %z %Z %T %%;
/// a space matches any run of whitespace; letters match case-insensitively.
struct DateFormat: Sendable {
    enum Token: Sendable, Equatable {
        case year4, year2, month, day, monthName, weekday, hour, hour12, minute, second, fraction, ampm, zone
        case literal(UInt8)
        case space

        var isNumeric: Bool {
            switch self {
            case .year4, .year2, .month, .day, .hour, .hour12, .minute, .second, .fraction: return true
            default: return false
            }
        }
    }

    let tokens: [Token]
    let error: String?

    init(_ format: String) {
        var toks: [Token] = []
        var err: String? = nil
        var it = Array(format.utf8)[...]
        while let c = it.popFirst() {
            if c == UInt8(ascii: "%") {
                guard let d = it.popFirst() else { err = "format '\(format)' ends with a lone %"; break }
                switch d {
                case UInt8(ascii: "Y"): toks.append(.year4)
                case UInt8(ascii: "y"): toks.append(.year2)
                case UInt8(ascii: "m"): toks.append(.month)
                case UInt8(ascii: "d"), UInt8(ascii: "e"): toks.append(.day)
                case UInt8(ascii: "b"), UInt8(ascii: "B"), UInt8(ascii: "h"): toks.append(.monthName)
                case UInt8(ascii: "a"), UInt8(ascii: "A"): toks.append(.weekday)
                case UInt8(ascii: "H"): toks.append(.hour)
                case UInt8(ascii: "I"): toks.append(.hour12)
                case UInt8(ascii: "M"): toks.append(.minute)
                case UInt8(ascii: "S"): toks.append(.second)
                case UInt8(ascii: "f"): toks.append(.fraction)
                case UInt8(ascii: "p"): toks.append(.ampm)
                case UInt8(ascii: "z"), UInt8(ascii: "Z"): toks.append(.zone)
                case UInt8(ascii: "T"): toks += [.hour, .literal(58), .minute, .literal(58), .second]
                case UInt8(ascii: "%"): toks.append(.literal(d))
                default:
                    err = "unknown directive %\(Character(Unicode.Scalar(d))) in '\(format)'"
                }
            } else if TextNormalizer.isSpace(c) {
                if toks.last != .space { toks.append(.space) }
            } else {
                toks.append(.literal(TextNormalizer.lower(c)))
            }
        }
        if err == nil {
            let has = { (t: Token) in toks.contains(t) }
            if !(has(.year4) || has(.year2)) || !(has(.month) || has(.monthName)) || !has(.day) {
                err = "format '\(format)' needs a year (%Y or %y), a month (%m or %b) and a day (%d)"
            }
        }
        tokens = err == nil ? toks : []
        error = err
    }

    /// The fields when the whole input matches (a time after a date-only format is accepted too)
    /// and forms a valid date; nil otherwise.
    func parse(_ b: DateParse.Buf) -> DateTimeFields? {
        guard error == nil else { return nil }
        var f = DateTimeFields()
        var i = 0
        var ap: Int? = nil
        let n = b.count
        for (k, tok) in tokens.enumerated() {
            let nextNumeric = k + 1 < tokens.count && tokens[k + 1].isNumeric
            switch tok {
            case .year4:
                guard let v = DateParse.readNumber(b, &i, min: 4, max: 4) else { return nil }
                f.year = v
            case .year2:
                guard let v = DateParse.readNumber(b, &i, min: 2, max: 2) else { return nil }
                f.year = DateParse.pivot(v)
            case .month, .day, .hour, .hour12, .minute, .second:
                guard let v = DateParse.readNumber(b, &i, min: nextNumeric ? 2 : 1, max: 2) else { return nil }
                switch tok {
                case .month: f.month = v
                case .day: f.day = v
                case .minute: f.minute = v; f.hasTime = true
                case .second: f.second = v
                default: f.hour = v; f.hasTime = true
                }
            case .fraction:
                guard DateParse.readNumber(b, &i, min: 1, max: 9) != nil else { return nil }
            case .monthName:
                let e = DateParse.wordEnd(b, i)
                guard let m = DateParse.month(b, i, e) else { return nil }
                f.month = m
                i = e
            case .weekday:
                let e = DateParse.wordEnd(b, i)
                guard DateParse.isWeekday(b, i, e) else { return nil }
                i = e
            case .ampm:
                guard let v = DateParse.ampm(b, &i) else { return nil }
                ap = v
            case .zone:
                guard let off = DateParse.zone(b, &i) else { return nil }
                f.offset = off
            case .space:
                guard i < n, TextNormalizer.isSpace(b[i]) else { return nil }
                DateParse.skipSpaces(b, &i)
            case .literal(let c):
                guard i < n, TextNormalizer.lower(b[i]) == c else { return nil }
                i += 1
            }
        }
        if let ap, !DateParse.applyAmPm(&f, ap) { return nil }
        if i < n {
            guard !f.hasTime, DateParse.timeTail(b, i, &f) else { return nil }
        }
        return DateParse.validDate(f) ? f : nil
    }
}
