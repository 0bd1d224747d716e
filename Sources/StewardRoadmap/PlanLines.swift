import Foundation

/// The lines of a plan as the section parsers see them: headings (ATX, and whole-line bold labels
/// such as `**Critical Dependencies:**`), list items, table rows and paragraphs, outside code fences.
/// One linear pass; any bytes are accepted (invalid UTF-8 is replaced), nothing is ever rewritten.
struct PlanLine: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// `level` 1...6 for `#` headings; a bold label line sits one level below the heading above it.
        case heading(level: Int, title: String)
        /// `ordered`: `1.` / `1)` items. Checkbox items are tasks and are not listed here.
        case item(indent: Int, text: String)
        case tableRow([String])
        case paragraph(indent: Int, text: String)
    }
    var kind: Kind
    /// 1-based line number.
    var line: Int
}

enum PlanLines {
    /// Lines longer than this are cut for the section parsers (a hostile file cannot make them slow).
    static let maxLineBytes = 4_096

    static func scan(_ b: [UInt8]) -> [PlanLine] {
        var out: [PlanLine] = []
        var lineNo = 0, start = 0
        var fence: (char: UInt8, count: Int)?
        var lastHeadingLevel = 0
        let n = b.count
        while start < n {
            lineNo += 1
            var end = start
            while end < n && b[end] != 10 { end += 1 }
            defer { start = end + 1 }
            var contentEnd = end
            if contentEnd > start && b[contentEnd - 1] == 13 { contentEnd -= 1 }
            var i = start, indent = 0
            while i < contentEnd && (b[i] == 32 || b[i] == 9) { indent = b[i] == 9 ? (indent / 4 + 1) * 4 : indent + 1; i += 1 }
            if i == contentEnd { continue }
            contentEnd = min(contentEnd, i + maxLineBytes)

            if i + 3 <= contentEnd, b[i] == 96 || b[i] == 126 {
                let c = b[i]
                var j = i
                while j < contentEnd && b[j] == c { j += 1 }
                if j - i >= 3 {
                    if let f = fence {
                        if c == f.char && j - i >= f.count { fence = nil }
                    } else {
                        fence = (c, j - i)
                    }
                    continue
                }
            }
            if fence != nil { continue }

            if b[i] == UInt8(ascii: "|") {
                out.append(PlanLine(kind: .tableRow(cells(b, i, contentEnd)), line: lineNo))
                continue
            }
            if indent < 4, b[i] == UInt8(ascii: "#") {
                var j = i
                while j < contentEnd && b[j] == UInt8(ascii: "#") { j += 1 }
                let level = j - i
                if level <= 6 && (j == contentEnd || b[j] == 32 || b[j] == 9) {
                    var title = Normalise.plain(text(b, j, contentEnd)).trimmingCharacters(in: .whitespaces)
                    while title.hasSuffix("#") { title.removeLast() }
                    lastHeadingLevel = level
                    out.append(PlanLine(kind: .heading(level: level, title: title.trimmingCharacters(in: .whitespaces)), line: lineNo))
                    continue
                }
            }
            if let item = listItem(b, i, contentEnd) {
                if item.checkbox { continue }
                out.append(PlanLine(kind: .item(indent: indent, text: text(b, item.textStart, contentEnd)), line: lineNo))
                continue
            }
            let raw = text(b, i, contentEnd)
            if indent < 4, let label = boldLabel(raw) {
                // `**Critical Dependencies:**` alone on a line reads as a sub-heading.
                out.append(PlanLine(kind: .heading(level: min(7, lastHeadingLevel + 1), title: label), line: lineNo))
                continue
            }
            out.append(PlanLine(kind: .paragraph(indent: indent, text: raw), line: lineNo))
        }
        return out
    }

    /// `**Label:**`, `__Label__`, `**Label**:` alone on a line → `Label`.
    static func boldLabel(_ raw: String) -> String? {
        let t = raw.trimmingCharacters(in: .whitespaces)
        guard t.count >= 5, t.count <= 120, t.hasPrefix("**") || t.hasPrefix("__") else { return nil }
        let marker = t.prefix(2)
        var body = t.dropFirst(2)
        if body.hasSuffix(":") { body = body.dropLast() }
        guard body.hasSuffix(marker) else { return nil }
        body = body.dropLast(2)
        guard !body.contains("*"), !body.contains("__") else { return nil }
        var label = body.trimmingCharacters(in: .whitespaces)
        if label.hasSuffix(":") { label.removeLast() }
        return label.isEmpty ? nil : label
    }

    /// `- `, `* `, `+ `, `1. `, `1) ` → where the text starts; `checkbox` when a `[ ]` box follows.
    private static func listItem(_ b: [UInt8], _ i: Int, _ end: Int) -> (textStart: Int, checkbox: Bool)? {
        var j = i
        if b[j] == UInt8(ascii: "-") || b[j] == UInt8(ascii: "*") || b[j] == UInt8(ascii: "+") {
            j += 1
        } else {
            var digits = 0
            while j < end, b[j] >= 48, b[j] <= 57, digits < 10 { j += 1; digits += 1 }
            guard digits > 0, j < end, b[j] == UInt8(ascii: ".") || b[j] == UInt8(ascii: ")") else { return nil }
            j += 1
        }
        guard j == end || b[j] == 32 || b[j] == 9 else { return nil }
        // `---` and `***` are rules, not items.
        if j < end, b[i] != UInt8(ascii: "+"), b[i] < 48 || b[i] > 57 {
            var k = j
            while k < end && (b[k] == b[i] || b[k] == 32) { k += 1 }
            if k == end { return nil }
        }
        while j < end && (b[j] == 32 || b[j] == 9) { j += 1 }
        let box = j + 2 < end && b[j] == UInt8(ascii: "[") && b[j + 2] == UInt8(ascii: "]")
            && [32, UInt8(ascii: "x"), UInt8(ascii: "X"), UInt8(ascii: "-"), UInt8(ascii: "~")].contains(b[j + 1])
            && (j + 3 == end || b[j + 3] == 32 || b[j + 3] == 9)
        return (j, box)
    }

    private static func cells(_ b: [UInt8], _ from: Int, _ end: Int) -> [String] {
        var parts = text(b, from, end).split(separator: "|", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        if parts.first == "" { parts.removeFirst() }
        if parts.last == "" { parts.removeLast() }
        return parts
    }

    private static func text(_ b: [UInt8], _ from: Int, _ end: Int) -> String {
        var e = max(from, end)
        while e > from && (b[e - 1] == 32 || b[e - 1] == 9) { e -= 1 }
        return String(decoding: b[from..<e], as: UTF8.self)
    }
}

extension PlanLine {
    /// A table's header and body rows (the `|---|` rule dropped), when `rows` form one.
    static func table(_ rows: [(line: Int, cells: [String])]) -> (header: [String], body: [(line: Int, cells: [String])])? {
        guard rows.count >= 2, !rows[1].cells.isEmpty,
              rows[1].cells.allSatisfy({ cell in cell.contains("-") && cell.allSatisfy { "-:| ".contains($0) } }) else { return nil }
        return (rows[0].cells.map { Normalise.plain($0).lowercased().trimmingCharacters(in: .whitespaces) }, Array(rows.dropFirst(2)))
    }
}
