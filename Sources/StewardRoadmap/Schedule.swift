import Foundation

/// A calendar day (no time zone): due dates compare by day.
///
/// ```swift
/// Quarter(year: 2024, number: 1).lastDay        // 2024-03-31
/// Day.today() > task.due!                        // overdue
/// ```
public struct Day: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) { self.year = year; self.month = month; self.day = day }

    /// Days since 1970-01-01.
    public var ordinal: Int { Day.daysFromCivil(year, month, day) }

    public init(ordinal: Int) {
        let z = ordinal + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(year: yoe + era * 400 + (m <= 2 ? 1 : 0), month: m, day: d)
    }

    /// The last day of a month.
    public static func monthEnd(year: Int, month: Int) -> Day {
        let next = month == 12 ? Day(year: year + 1, month: 1, day: 1) : Day(year: year, month: month + 1, day: 1)
        return Day(ordinal: next.ordinal - 1)
    }

    /// Today in the local time zone.
    public static func today(_ now: Date = Date(), timeZone: TimeZone = .current) -> Day {
        let seconds = Int((now.timeIntervalSince1970 + Double(timeZone.secondsFromGMT(for: now))).rounded(.down))
        return Day(ordinal: seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
    }

    /// `2024-03-31`.
    public static func parse(_ text: String) -> Day? {
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1...12).contains(m), d >= 1, d <= monthEnd(year: y, month: m).day else { return nil }
        return Day(year: y, month: m, day: d)
    }

    /// A due date written in a timeline cell: an ISO date, or a quarter (its last day).
    public static func parseDue(_ text: String) -> Day? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let d = parse(trimmed) { return d }
        return Quarter.find(in: trimmed)?.lastDay
    }

    public var description: String {
        func pad(_ v: Int, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public static func < (a: Day, b: Day) -> Bool { a.ordinal < b.ordinal }

    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

/// A calendar quarter such as Q1 2024.
public struct Quarter: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var number: Int

    public init(year: Int, number: Int) { self.year = year; self.number = number }

    public var firstMonth: Int { (number - 1) * 3 + 1 }
    public var lastDay: Day { Day.monthEnd(year: year, month: firstMonth + 2) }
    public var description: String { "Q\(number) \(year)" }
    public static func < (a: Quarter, b: Quarter) -> Bool { (a.year, a.number) < (b.year, b.number) }

    /// The first quarter named in a text: `Q1 2024`, `Q1-2024`, `Q1/2024`, `Q1'24`, `2024 Q1`, `2024-Q1`.
    public static func find(in text: String) -> Quarter? {
        let c = Array(text.utf8)
        func digits(_ from: Int, _ n: Int) -> Int? {
            guard from >= 0, from + n <= c.count else { return nil }
            var v = 0
            for i in from..<(from + n) { guard c[i] >= 48 && c[i] <= 57 else { return nil }; v = v * 10 + Int(c[i] - 48) }
            // Not part of a longer number.
            if from + n < c.count, c[from + n] >= 48 && c[from + n] <= 57 { return nil }
            return v
        }
        for i in c.indices where c[i] == UInt8(ascii: "Q") || c[i] == UInt8(ascii: "q") {
            guard i + 1 < c.count, c[i + 1] >= 49 && c[i + 1] <= 52 else { continue }
            if i > 0, isWordByte(c[i - 1]) { continue }
            let q = Int(c[i + 1] - 48)
            // Q1 2024 / Q1-2024 / Q1/2024
            var j = i + 2
            while j < c.count, c[j] == 32 || c[j] == UInt8(ascii: "-") || c[j] == UInt8(ascii: "/") || c[j] == 9 { j += 1 }
            if j > i + 2, let y = digits(j, 4) { return Quarter(year: y, number: q) }
            if j < c.count, c[j] == UInt8(ascii: "'"), let y = digits(j + 1, 2) { return Quarter(year: 2000 + y, number: q) }
            // 2024 Q1 / 2024-Q1
            var k = i - 1
            while k >= 0, c[k] == 32 || c[k] == UInt8(ascii: "-") { k -= 1 }
            if k < i - 1, k >= 3, let y = digits(k - 3, 4), k - 4 < 0 || !(c[k - 4] >= 48 && c[k - 4] <= 57) {
                return Quarter(year: y, number: q)
            }
        }
        return nil
    }

    private static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b == UInt8(ascii: "_")
    }
}

/// Turns quarters and month headings into due dates (issue: months inside a quarter phase get
/// month-end dates in order; everything else the end of its phase's quarter).
enum Schedule {
    static let monthNames = ["january", "february", "march", "april", "may", "june", "july", "august",
                             "september", "october", "november", "december"]

    /// `Month 4` → 4.
    static func monthNumber(_ title: String) -> Int? {
        let lower = title.lowercased()
        guard let r = lower.range(of: "month") else { return nil }
        let rest = lower[r.upperBound...].drop { $0 == " " || $0 == "\t" }
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        return Int(digits)
    }

    /// `January`, `Feb 2024` at the start of a section title → month of the year.
    static func calendarMonth(_ title: String) -> Int? {
        let word = title.lowercased().prefix { $0.isLetter }
        guard word.count >= 3 else { return nil }
        return monthNames.firstIndex { $0 == word || ($0.hasPrefix(word) && word.count == 3) }.map { $0 + 1 }
    }

    /// Due dates of a phase's sections: the k-th month-like section of a quarter phase ends the
    /// k-th month of the quarter; other sections and months beyond the quarter get the quarter end.
    static func sectionDues(quarter: Quarter?, titles: [String]) -> [Day?] {
        guard let quarter else { return titles.map { _ in nil } }
        var k = 0
        return titles.map { title in
            if let m = calendarMonth(title), (quarter.firstMonth...(quarter.firstMonth + 2)).contains(m) {
                return Day.monthEnd(year: quarter.year, month: m)
            }
            guard monthNumber(title) != nil else { return quarter.lastDay }
            k += 1
            guard k <= 3 else { return quarter.lastDay }
            return Day.monthEnd(year: quarter.year, month: quarter.firstMonth + k - 1)
        }
    }
}
