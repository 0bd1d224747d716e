import Foundation
import StewardCatalog
import StewardConfig

/// A long list of quarantined rows the catalog pages through: the list's selection counts every
/// matching row, and the snapshot holds the page around what is visible.
enum QuarantineRows {
    /// Rows per page read; pages start at multiples of half of it, so the visible rows (never more than
    /// half a page) always sit inside the page that starts at or before them.
    static let pageSize = 200

    /// The first row of the page that holds a list scrolled to `listOffset`.
    static func pageStart(listOffset: Int) -> Int { (Swift.max(0, listOffset) / (pageSize / 2)) * (pageSize / 2) }

    /// The page `query` asks for, when the snapshot holds exactly it.
    static func page(_ query: QuarantineQuery?, in candidate: QuarantinePage?) -> QuarantinePage? {
        guard let query, let candidate, candidate.query == query else { return nil }
        return candidate
    }

    /// The page with the same rows selected (source, check, filter), whatever its offset: its total is right.
    static func sameSelection(_ query: QuarantineQuery?, _ candidate: QuarantinePage?) -> QuarantinePage? {
        guard let query, let candidate, candidate.query.source == query.source, candidate.query.check == query.check,
              candidate.query.filter == query.filter else { return nil }
        return candidate
    }

    /// The visible part of the list: the page's rows from the list's first visible row, and the
    /// list state relative to them (the table draws only these).
    static func window(_ page: QuarantinePage, list: ListState, height: Int) -> (rows: [QuarantinedRow], state: ListState) {
        let offset = list.visibleOffset(count: page.total, height: height)
        let rows = (offset..<Swift.min(page.total, offset + height)).compactMap { page.row(at: $0) }
        return (rows, ListState(selected: list.selected - offset, offset: 0))
    }

    /// `Reason; reason` as shown (a value an older version quoted is masked).
    static func reasons(_ row: QuarantinedRow) -> String { row.shownReasons.joined(separator: "; ") }
}

/// Enter on a quarantined row: every reason, where it came from, and its values as `field: value`
/// lines that fit the width, masked by the project's PII policy unless revealed (audited).
public struct RowDetail: Equatable, Sendable {
    public var row: QuarantinedRow
    public var revealed = false
    public var scroll = 0
    public init(row: QuarantinedRow) { self.row = row }

    /// The lines of the detail box, for `pii`.
    func lines(_ pii: PIIPolicy, theme: Theme) -> [Line] {
        let readable = !row.checks.contains(CheckConfig.readable.name)
        let reasons = PIIPolicy.displayReasons(row.reasons, raw: row.raw, reveal: revealed)
        var lines: [Line] = [
            [Span("\(row.file):\(row.line)", theme.accent), Span("  source ", theme.muted), Span(row.source),
             Span("  key ", theme.muted), Span(row.recordKey ?? "—"), Span("  run ", theme.muted), Span("#\(row.runId)")],
            [],
            [Span("Why (\(reasons.count))", theme.title)],
        ]
        lines += reasons.map { [Span("  ✗ ", theme.error), Span($0, theme.warn)] }
        lines += [[Span("  checks: ", theme.muted), Span(row.checks.joined(separator: ", "), theme.warn)], []]
        guard let fields = pii.displayRaw(row.raw, source: row.source, readable: readable, reveal: revealed) else {
            let text = revealed ? row.raw : PIIPolicy.maskFreeText(row.raw)
            return lines + [[Span(revealed ? "Raw line (revealed, audited)" : "Raw line (masked; v reveals, audited)", theme.title)],
                            [Span("  " + text)]]
        }
        lines.append([Span(revealed ? "Values (revealed, audited)" : "Values (masked per steward.yml; v reveals, audited)", theme.title)])
        let width = fields.map { $0.column.displayWidth }.max() ?? 0
        for field in fields {
            // A value is marked when a reason names its column: that is the value that failed.
            let failing = row.reasons.contains { Self.names($0, column: field.column) }
            lines.append([Span(failing ? "▸ " : "  ", theme.error), Span(field.column.padded(to: width), failing ? theme.warn : theme.muted),
                          Span("  "), Self.value(field.value, failing: failing, theme: theme)])
        }
        return lines
    }

    /// A value as shown; an empty or missing one says so (it is often what failed).
    static func value(_ value: String?, failing: Bool, theme: Theme) -> Span {
        guard let value else { return Span("(null)", theme.muted) }
        if value.isEmpty { return Span("(empty)", failing ? theme.warn : theme.muted) }
        return Span(value, failing ? theme.warn : theme.text)
    }

    /// Whether `reason` names `column` as a word, in any case (`email: not an email address`, `not_null(Email)`).
    static func names(_ reason: String, column: String) -> Bool {
        var rest = Substring(reason)
        while let r = rest.range(of: column, options: .caseInsensitive) {
            let before = r.lowerBound == reason.startIndex ? nil : reason[reason.index(before: r.lowerBound)]
            let after = r.upperBound == reason.endIndex ? nil : reason[r.upperBound]
            func boundary(_ c: Character?) -> Bool { c.map { !($0.isLetter || $0.isNumber || $0 == "_") } ?? true }
            if boundary(before) && boundary(after) { return true }
            rest = reason[r.upperBound...]
        }
        return false
    }
}
