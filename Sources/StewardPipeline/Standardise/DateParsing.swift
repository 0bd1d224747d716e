import StewardCatalog

/// Byte-level date/time parsing shared by `Standardiser.date` and `.timestamp` (no Foundation:
/// DateFormatter costs ~10 µs a call and guesses).
struct DateTimeFields {
    var year = 0, month = 0, day = 0
    var hour = 0, minute = 0, second = 0
    var hasTime = false
    /// Seconds east of UTC; nil when the input named no zone (taken as UTC).
    var offset: Int? = nil
}

enum DateParse {
    enum Outcome {
        case ok(DateTimeFields)
        case invalid
        case ambiguous
    }

    typealias Buf = UnsafeBufferPointer<UInt8>

    // MARK: primitives

    /// 1…12 for an English month name or abbreviation ("mar", "march", "sept"), case-insensitive.
    static func month(_ b: Buf, _ start: Int, _ end: Int) -> Int? {
        let len = end - start
        guard len >= 3 else { return nil }
        for (idx, name) in monthNames.enumerated() {
            if len == 3 || len == name.count || (idx == 8 && len == 4) {
                guard len <= name.count else { continue }
                var ok = true
                for k in 0..<len where TextNormalizer.lower(b[start + k]) != name[k] { ok = false; break }
                if ok { return idx + 1 }
            }
        }
        return nil
    }

    static func isWeekday(_ b: Buf, _ start: Int, _ end: Int) -> Bool {
        let len = end - start
        guard len >= 3 else { return false }
        for name in weekdayNames where len == 3 || len == name.count {
            var ok = true
            for k in 0..<len where TextNormalizer.lower(b[start + k]) != name[k] { ok = false; break }
            if ok { return true }
        }
        return false
    }

    static let monthNames: [[UInt8]] = ["january", "february", "march", "april", "may", "june", "july",
                                        "august", "september", "october", "november", "december"].map { Array($0.utf8) }
    static let weekdayNames: [[UInt8]] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                                          "sunday"].map { Array($0.utf8) }

    @inline(__always) static func readNumber(_ b: Buf, _ i: inout Int, min: Int, max: Int) -> Int? {
        var v = 0, k = 0
        while k < max, i + k < b.count, TextNormalizer.isDigit(b[i + k]) {
            v = v * 10 + Int(b[i + k] - 48)
            k += 1
        }
        guard k >= min else { return nil }
        i += k
        return v
    }

    @inline(__always) static func digitRun(_ b: Buf, _ i: Int) -> Int {
        var k = i
        while k < b.count, TextNormalizer.isDigit(b[k]) { k += 1 }
        return k - i
    }

    @inline(__always) static func wordEnd(_ b: Buf, _ i: Int) -> Int {
        var k = i
        while k < b.count, TextNormalizer.isLetter(b[k]) { k += 1 }
        return k
    }

    @inline(__always) static func skipSpaces(_ b: Buf, _ i: inout Int) {
        while i < b.count, TextNormalizer.isSpace(b[i]) { i += 1 }
    }

    static func pivot(_ yy: Int) -> Int { yy < 50 ? 2000 + yy : 1900 + yy }

    static func daysInMonth(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 2: return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func validDate(_ f: DateTimeFields) -> Bool {
        (1900...2100).contains(f.year) && (1...12).contains(f.month) && f.day >= 1
            && f.day <= daysInMonth(f.year, f.month)
            && (0...23).contains(f.hour) && (0...59).contains(f.minute) && (0...59).contains(f.second)
    }

    /// "am"/"pm"/"a.m."/"p.m." at i: 1 = am, 2 = pm.
    static func ampm(_ b: Buf, _ i: inout Int) -> Int? {
        guard i < b.count else { return nil }
        let c = TextNormalizer.lower(b[i])
        guard c == UInt8(ascii: "a") || c == UInt8(ascii: "p") else { return nil }
        var k = i + 1
        if k < b.count, b[k] == UInt8(ascii: ".") { k += 1 }
        guard k < b.count, TextNormalizer.lower(b[k]) == UInt8(ascii: "m") else { return nil }
        k += 1
        if k < b.count, b[k] == UInt8(ascii: ".") { k += 1 }
        guard k == b.count || !TextNormalizer.isLetter(b[k]) else { return nil }
        i = k
        return c == UInt8(ascii: "a") ? 1 : 2
    }

    static func applyAmPm(_ f: inout DateTimeFields, _ ap: Int) -> Bool {
        guard (1...12).contains(f.hour) else { return false }
        if ap == 1 && f.hour == 12 { f.hour = 0 } else if ap == 2 && f.hour != 12 { f.hour += 12 }
        return true
    }

    /// Z, UTC, GMT, ±HH, ±HHMM, ±HH:MM → seconds east of UTC.
    static func zone(_ b: Buf, _ i: inout Int) -> Int? {
        guard i < b.count else { return nil }
        let c = b[i]
        if c == UInt8(ascii: "Z") || c == UInt8(ascii: "z") { i += 1; return 0 }
        if c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
            var k = i + 1
            guard let hh = readNumber(b, &k, min: 2, max: 2), hh <= 14 else { return nil }
            var mm = 0
            if k < b.count, b[k] == UInt8(ascii: ":") {
                k += 1
                guard let m = readNumber(b, &k, min: 2, max: 2) else { return nil }
                mm = m
            } else if let m = readNumber(b, &k, min: 2, max: 2) {
                mm = m
            }
            guard mm < 60 else { return nil }
            i = k
            return (c == UInt8(ascii: "-") ? -1 : 1) * (hh * 3600 + mm * 60)
        }
        let end = wordEnd(b, i)
        if end - i == 3 {
            let w = (TextNormalizer.lower(b[i]), TextNormalizer.lower(b[i + 1]), TextNormalizer.lower(b[i + 2]))
            if w == (117, 116, 99) || w == (103, 109, 116) {  // utc, gmt
                i = end
                if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { return zone(b, &i) }
                return 0
            }
        }
        return nil
    }

    /// The optional time after a date: ("T" | spaces | ", ") HH:MM[:SS[.frac]] [am/pm] [zone], to the end.
    /// A bare zone is accepted too ("2021-03-12Z"). false when something unparseable follows.
    static func timeTail(_ b: Buf, _ i: Int, _ f: inout DateTimeFields) -> Bool {
        var i = i
        let n = b.count
        if i == n { return true }
        var z = i
        if let off = zone(b, &z), z == n { f.offset = off; return true }
        if b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: "t") {
            i += 1
        } else if b[i] == UInt8(ascii: ",") || TextNormalizer.isSpace(b[i]) {
            i += 1
            skipSpaces(b, &i)
        } else {
            return false
        }
        let run = digitRun(b, i)
        if run == 4 || run == 6 {  // basic ISO "T100000"
            f.hour = readNumber(b, &i, min: 2, max: 2)!
            f.minute = readNumber(b, &i, min: 2, max: 2)!
            if run == 6 { f.second = readNumber(b, &i, min: 2, max: 2)! }
        } else {
            guard let h = readNumber(b, &i, min: 1, max: 2), i < n, b[i] == UInt8(ascii: ":") else { return false }
            i += 1
            guard let m = readNumber(b, &i, min: 2, max: 2) else { return false }
            f.hour = h
            f.minute = m
            if i < n, b[i] == UInt8(ascii: ":") {
                i += 1
                guard let s = readNumber(b, &i, min: 2, max: 2) else { return false }
                f.second = s
            }
        }
        if i < n, b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: ","), i + 1 < n, TextNormalizer.isDigit(b[i + 1]) {
            i += 1
            while i < n, TextNormalizer.isDigit(b[i]) { i += 1 }  // fractions dropped
        }
        f.hasTime = true
        skipSpaces(b, &i)
        if let ap = ampm(b, &i) {
            guard applyAmPm(&f, ap) else { return false }
            skipSpaces(b, &i)
        }
        if i < n {
            guard let off = zone(b, &i) else { return false }
            f.offset = off
        }
        return i == n
    }

    // MARK: common unambiguous forms

    /// ISO (YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, YYYYMMDD, with an optional time), numeric
    /// D/M/Y or M/D/Y when one part is > 12 (or both are equal), and English month names
    /// ("12 Mar 2021", "March 12, 2021", "Fri, 12 Mar 2021 10:00:00 +0000").
    static func common(_ b: Buf) -> Outcome {
        var f = DateTimeFields()
        var i = 0
        let n = b.count
        guard n > 0 else { return .invalid }
        // Leading weekday: "Friday, March 12, 2021".
        if TextNormalizer.isLetter(b[0]) {
            let e = wordEnd(b, 0)
            if isWeekday(b, 0, e) {
                i = e
                if i < n, b[i] == UInt8(ascii: ".") { i += 1 }
                if i < n, b[i] == UInt8(ascii: ",") { i += 1 }
                skipSpaces(b, &i)
            }
        }
        guard i < n else { return .invalid }
        var ambiguous = false
        if TextNormalizer.isDigit(b[i]) {
            let run = digitRun(b, i)
            if run == 4 {
                f.year = readNumber(b, &i, min: 4, max: 4)!
                guard i < n else { return .invalid }
                let sep = b[i]
                if sep == UInt8(ascii: "-") || sep == UInt8(ascii: "/") || sep == UInt8(ascii: ".") {
                    i += 1
                    guard let m = readNumber(b, &i, min: 1, max: 2), i < n, b[i] == sep else { return .invalid }
                    i += 1
                    guard let d = readNumber(b, &i, min: 1, max: 2) else { return .invalid }
                    f.month = m; f.day = d
                } else if TextNormalizer.isSpace(sep) {  // "2021 Mar 12"
                    skipSpaces(b, &i)
                    let e = wordEnd(b, i)
                    guard let m = month(b, i, e) else { return .invalid }
                    i = e
                    skipSpaces(b, &i)
                    guard let d = readNumber(b, &i, min: 1, max: 2) else { return .invalid }
                    f.month = m; f.day = d
                } else {
                    return .invalid
                }
            } else if run == 8 {
                f.year = readNumber(b, &i, min: 4, max: 4)!
                f.month = readNumber(b, &i, min: 2, max: 2)!
                f.day = readNumber(b, &i, min: 2, max: 2)!
            } else if run <= 2 {
                let a = readNumber(b, &i, min: 1, max: 2)!
                guard i < n else { return .invalid }
                let sep = b[i]
                let afterSep = i + 1 < n ? b[i + 1] : 0
                if (sep == UInt8(ascii: "-") || sep == UInt8(ascii: "/") || sep == UInt8(ascii: "."))
                    && TextNormalizer.isDigit(afterSep) {
                    i += 1
                    guard let bb = readNumber(b, &i, min: 1, max: 2), i < n, b[i] == sep else { return .invalid }
                    i += 1
                    let yRun = digitRun(b, i)
                    guard yRun == 4 || yRun == 2 else { return .invalid }
                    let y = readNumber(b, &i, min: yRun, max: yRun)!
                    f.year = yRun == 2 ? pivot(y) : y
                    if a > 12 && bb <= 12 { f.day = a; f.month = bb }
                    else if bb > 12 && a <= 12 { f.month = a; f.day = bb }
                    else if a > 12 && bb > 12 { return .invalid }
                    else if a == bb { f.month = a; f.day = bb }
                    else { f.month = a; f.day = bb; ambiguous = true }
                } else {
                    // "12 Mar 2021", "12-Mar-2021", "12th March 2021", "12 Mar 21"
                    f.day = a
                    if i + 1 < n, TextNormalizer.isLetter(b[i]) {
                        let e = wordEnd(b, i)
                        if e - i == 2, isOrdinal(b, i) { i = e }
                    }
                    skipDateSeparators(b, &i)
                    let e = wordEnd(b, i)
                    if e - i == 2, TextNormalizer.lower(b[i]) == 111, TextNormalizer.lower(b[i + 1]) == 102 {  // "of"
                        i = e
                        skipSpaces(b, &i)
                    }
                    let e2 = wordEnd(b, i)
                    guard let m = month(b, i, e2) else { return .invalid }
                    f.month = m
                    i = e2
                    skipDateSeparators(b, &i)
                    guard let y = year(b, &i) else { return .invalid }
                    f.year = y
                }
            } else {
                return .invalid
            }
        } else if TextNormalizer.isLetter(b[i]) {
            // "March 12, 2021", "Mar 12 2021", "Mar. 12th, 2021"
            let e = wordEnd(b, i)
            guard let m = month(b, i, e) else { return .invalid }
            f.month = m
            i = e
            skipDateSeparators(b, &i)
            guard let d = readNumber(b, &i, min: 1, max: 2) else { return .invalid }
            f.day = d
            if i + 1 < n, TextNormalizer.isLetter(b[i]), wordEnd(b, i) - i == 2, isOrdinal(b, i) { i += 2 }
            skipDateSeparators(b, &i)
            guard let y = year(b, &i) else { return .invalid }
            f.year = y
        } else {
            return .invalid
        }
        guard timeTail(b, i, &f), validDate(f) else { return .invalid }
        return ambiguous ? .ambiguous : .ok(f)
    }

    /// 4 digits, or 2 digits pivoted at 50.
    private static func year(_ b: Buf, _ i: inout Int) -> Int? {
        let run = digitRun(b, i)
        guard run == 4 || run == 2 else { return nil }
        let y = readNumber(b, &i, min: run, max: run)!
        return run == 2 ? pivot(y) : y
    }

    private static func skipDateSeparators(_ b: Buf, _ i: inout Int) {
        while i < b.count {
            let c = b[i]
            guard TextNormalizer.isSpace(c) || c == UInt8(ascii: ",") || c == UInt8(ascii: ".")
                    || c == UInt8(ascii: "-") || c == UInt8(ascii: "/") else { return }
            i += 1
        }
    }

    private static func isOrdinal(_ b: Buf, _ i: Int) -> Bool {
        let w = (TextNormalizer.lower(b[i]), TextNormalizer.lower(b[i + 1]))
        return w == (115, 116) || w == (110, 100) || w == (114, 100) || w == (116, 104)  // st nd rd th
    }

    // MARK: epoch and civil calendar

    static func daysFromCivil(_ y: Int, _ m: Int, _ d: Int) -> Int { Timestamp.daysFromCivil(y, m, d) }

    static func civilFromDays(_ z: Int) -> (Int, Int, Int) {
        let c = Timestamp.civil(fromDays: z)
        return (c.year, c.month, c.day)
    }

    /// Fields moved to UTC.
    static func toUTC(_ f: DateTimeFields) -> DateTimeFields {
        guard let off = f.offset, off != 0 else { return f }
        let secs = daysFromCivil(f.year, f.month, f.day) * 86400 + f.hour * 3600 + f.minute * 60 + f.second - off
        return fromEpoch(secs)
    }

    static func fromEpoch(_ secs: Int) -> DateTimeFields {
        var days = secs / 86400
        var rem = secs % 86400
        if rem < 0 { rem += 86400; days -= 1 }
        let (y, m, d) = civilFromDays(days)
        return DateTimeFields(year: y, month: m, day: d, hour: rem / 3600, minute: rem % 3600 / 60,
                              second: rem % 60, hasTime: true, offset: 0)
    }

    // MARK: output

    @inline(__always) static func put(_ v: Int, _ width: Int, _ out: inout [UInt8]) {
        var div = 1
        for _ in 1..<width { div *= 10 }
        var v = v
        while div > 0 { out.append(UInt8(48 + v / div)); v %= div; div /= 10 }
    }

    static func isoDate(_ f: DateTimeFields) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(10)
        put(f.year, 4, &out); out.append(45); put(f.month, 2, &out); out.append(45); put(f.day, 2, &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func isoTimestamp(_ f: DateTimeFields) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(20)
        put(f.year, 4, &out); out.append(45); put(f.month, 2, &out); out.append(45); put(f.day, 2, &out)
        out.append(84)
        put(f.hour, 2, &out); out.append(58); put(f.minute, 2, &out); out.append(58); put(f.second, 2, &out)
        out.append(90)
        return String(decoding: out, as: UTF8.self)
    }
}
