import Foundation

/// One pass over the bytes: headings, task items, deliverables, tables, fences; then the heading
/// tree decides phases and sections, and ids and due dates are assigned.
struct RoadmapParser {
    private let b: [UInt8]
    private var headings: [Heading] = []
    private var headingParents: [Int?] = []
    private var tasks: [RoadmapTask] = []
    /// Innermost heading index of each task (nil before the first heading).
    private var taskHeading: [Int?] = []
    private var deliverables: [(heading: Int?, text: String)] = []
    private var tables: [(heading: Int?, rows: [(line: Int, cells: [String])])] = []
    private var timeline: [TimelineEntry] = []

    init(_ bytes: [UInt8]) { b = bytes }

    mutating func parse() -> RoadmapDocument {
        scanLines()
        return assemble()
    }

    // MARK: - Line scan

    private mutating func scanLines() {
        var lineNo = 0
        var start = 0
        var fence: (char: UInt8, count: Int)?
        var headingStack: [Int] = []
        var taskStack: [(indent: Int, task: Int)] = []
        var inDeliverables = false
        var inTimeline = false
        var tableRows: [(line: Int, cells: [String])] = []
        let n = b.count

        func flushTable(_ parser: inout RoadmapParser) {
            if tableRows.count >= 2 { parser.tables.append((headingStack.last, tableRows)) }
            tableRows.removeAll()
        }

        while start < n {
            lineNo += 1
            var end = start
            while end < n && b[end] != 10 { end += 1 }
            let next = end + 1
            var contentEnd = end
            if contentEnd > start && b[contentEnd - 1] == 13 { contentEnd -= 1 }
            defer { start = next }

            // Indentation: tabs advance to the next multiple of 4.
            var i = start, indent = 0
            while i < contentEnd && (b[i] == 32 || b[i] == 9) { indent = b[i] == 9 ? (indent / 4 + 1) * 4 : indent + 1; i += 1 }
            let blank = i == contentEnd

            // Code fences: nothing inside is a task or heading; a timeline block may live there.
            if i + 3 <= contentEnd, b[i] == 96 || b[i] == 126 {
                let c = b[i]
                var j = i
                while j < contentEnd && b[j] == c { j += 1 }
                if j - i >= 3 {
                    if let f = fence {
                        if c == f.char && j - i >= f.count && onlySpaces(j, contentEnd) { fence = nil }
                    } else {
                        fence = (c, j - i)
                        flushTable(&self); taskStack.removeAll(); inDeliverables = false
                    }
                    continue
                }
            }
            if fence != nil {
                if let entry = timelineEntry(i, contentEnd, line: lineNo) { timeline.append(entry) }
                continue
            }
            if blank { flushTable(&self); continue }

            // Tables.
            if b[i] == UInt8(ascii: "|") {
                tableRows.append((lineNo, cells(i, contentEnd)))
                continue
            }
            flushTable(&self)

            // ATX headings.
            if indent < 4, b[i] == UInt8(ascii: "#") {
                var j = i
                while j < contentEnd && b[j] == UInt8(ascii: "#") { j += 1 }
                let level = j - i
                if level <= 6 && (j == contentEnd || b[j] == 32 || b[j] == 9) {
                    var titleEnd = contentEnd
                    while titleEnd > j && (b[titleEnd - 1] == 32 || b[titleEnd - 1] == 9) { titleEnd -= 1 }
                    var k = titleEnd
                    while k > j && b[k - 1] == UInt8(ascii: "#") { k -= 1 }
                    if k < titleEnd && (k == j || b[k - 1] == 32 || b[k - 1] == 9) { titleEnd = k }
                    let title = Normalise.plain(text(j, titleEnd)).trimmingCharacters(in: .whitespaces)
                    while let last = headingStack.last, headings[last].level >= level { headingStack.removeLast() }
                    headingParents.append(headingStack.last)
                    headings.append(Heading(level: level, title: title, line: lineNo))
                    headingStack.append(headings.count - 1)
                    taskStack.removeAll()
                    inDeliverables = title.lowercased().hasPrefix("deliverables")
                    inTimeline = title.lowercased().contains("timeline")
                    continue
                }
            }

            if inTimeline, let entry = timelineEntry(i, contentEnd, line: lineNo) {
                timeline.append(entry)
                continue
            }

            // List items, with or without a checkbox.
            if let item = listItem(i, contentEnd) {
                while let last = taskStack.last, last.indent >= indent { taskStack.removeLast() }
                if let box = item.box {
                    let state: TaskState
                    switch b[box] {
                    case 32: state = .open
                    case UInt8(ascii: "x"), UInt8(ascii: "X"): state = .done
                    default: state = .inProgress
                    }
                    let parent = taskStack.last?.task
                    let idx = tasks.count
                    tasks.append(RoadmapTask(
                        id: "", text: text(item.textStart, trimEnd(item.textStart, contentEnd)), state: state,
                        line: lineNo, checkOffset: box, phaseIndex: nil, sectionIndex: nil, phase: "", section: "",
                        parent: parent, children: [], depth: parent.map { tasks[$0].depth + 1 } ?? 0, due: nil))
                    taskHeading.append(headingStack.last)
                    if let parent { tasks[parent].children.append(idx) }
                    taskStack.append((indent, idx))
                } else if inDeliverables {
                    let t = Normalise.plain(text(item.textStart, trimEnd(item.textStart, contentEnd)))
                    if !t.isEmpty { deliverables.append((headingStack.last, t)) }
                }
                continue
            }

            // Other text: a `**Deliverables:**` label opens a deliverables list; an unindented
            // paragraph ends the current task list.
            let plain = mentionsDeliverables(i, contentEnd) ? Normalise.plain(text(i, contentEnd)).trimmingCharacters(in: .whitespaces) : ""
            if plain.lowercased().hasPrefix("deliverables") {
                inDeliverables = true
                if let colon = plain.firstIndex(of: ":") {
                    let rest = plain[plain.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    if !rest.isEmpty { deliverables.append((headingStack.last, rest)) }
                }
                taskStack.removeAll()
                continue
            }
            if indent == 0 { taskStack.removeAll(); inDeliverables = false }
        }
        flushTable(&self)
    }

    /// Cheap pre-check: the line starts with `Deliverables` after emphasis markers.
    private func mentionsDeliverables(_ from: Int, _ end: Int) -> Bool {
        var i = from
        while i < end && (b[i] == UInt8(ascii: "*") || b[i] == UInt8(ascii: "_")) { i += 1 }
        return i < end && (b[i] == UInt8(ascii: "D") || b[i] == UInt8(ascii: "d"))
    }

    /// `- `, `* `, `+ `, `1. `, `1) ` then optionally `[c] `: the checkbox byte and the text start.
    private func listItem(_ from: Int, _ end: Int) -> (box: Int?, textStart: Int)? {
        var i = from
        let c = b[i]
        if c == UInt8(ascii: "-") || c == UInt8(ascii: "*") || c == UInt8(ascii: "+") {
            i += 1
        } else if c >= 48 && c <= 57 {
            var j = i
            while j < end && j - i < 9 && b[j] >= 48 && b[j] <= 57 { j += 1 }
            guard j < end, b[j] == UInt8(ascii: ".") || b[j] == UInt8(ascii: ")") else { return nil }
            i = j + 1
        } else { return nil }
        // A marker needs a space after it, or ends the line (empty item).
        guard i == end || b[i] == 32 || b[i] == 9 else { return nil }
        while i < end && (b[i] == 32 || b[i] == 9) { i += 1 }
        // Checkbox `[ ]`, `[x]`, `[X]`, `[-]`, `[~]` followed by a space or the end of the line.
        if i + 2 < end, b[i] == UInt8(ascii: "["), b[i + 2] == UInt8(ascii: "]") {
            let m = b[i + 1]
            if m == 32 || m == UInt8(ascii: "x") || m == UInt8(ascii: "X") || m == UInt8(ascii: "-") || m == UInt8(ascii: "~") {
                let after = i + 3
                if after == end || b[after] == 32 || b[after] == 9 {
                    var t = after
                    while t < end && (b[t] == 32 || b[t] == 9) { t += 1 }
                    return (i + 1, t)
                }
            }
        }
        return (nil, i)
    }

    /// `Q1 2024: Foundation & Planning` (optionally as a list item or in bold).
    private func timelineEntry(_ from: Int, _ end: Int, line: Int) -> TimelineEntry? {
        guard from < end else { return nil }
        var s = Normalise.plain(text(from, end)).trimmingCharacters(in: .whitespaces)
        if s.hasPrefix("- ") || s.hasPrefix("* ") || s.hasPrefix("+ ") { s.removeFirst(2) }
        guard let sep = s.firstIndex(where: { $0 == ":" || $0 == "–" || $0 == "—" }) else { return nil }
        let head = String(s[..<sep])
        guard head.count <= 14, let q = Quarter.find(in: head) else { return nil }
        let label = s[s.index(after: sep)...].trimmingCharacters(in: .whitespaces)
        return TimelineEntry(quarter: q, label: label, line: line)
    }

    private func cells(_ from: Int, _ end: Int) -> [String] {
        var parts = text(from, end).split(separator: "|", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        if parts.first == "" { parts.removeFirst() }
        if parts.last == "" { parts.removeLast() }
        return parts
    }

    private func onlySpaces(_ from: Int, _ end: Int) -> Bool {
        var i = from
        while i < end { if b[i] != 32 && b[i] != 9 { return false }; i += 1 }
        return true
    }

    private func trimEnd(_ from: Int, _ end: Int) -> Int {
        var e = end
        while e > from && (b[e - 1] == 32 || b[e - 1] == 9) { e -= 1 }
        return e
    }

    private func text(_ from: Int, _ end: Int) -> String {
        String(decoding: b[from..<max(from, end)], as: UTF8.self)
    }

    // MARK: - Assembly

    private mutating func assemble() -> RoadmapDocument {
        // Headings that hold tasks, directly or below.
        var bearing = [Bool](repeating: false, count: headings.count)
        var direct = [Bool](repeating: false, count: headings.count)
        for h in taskHeading {
            guard let h else { continue }
            direct[h] = true
            var cur: Int? = h
            while let c = cur, !bearing[c] { bearing[c] = true; cur = headingParents[c] }
        }
        var children = [[Int]](repeating: [], count: headings.count)
        var roots: [Int] = []
        for (i, p) in headingParents.enumerated() { if let p { children[p].append(i) } else { roots.append(i) } }

        // Phases: the shallowest task-bearing headings, skipping a lone title heading.
        var title: String?
        var phaseHeadings = roots.filter { bearing[$0] }
        var siblingsOfPhases = roots
        while phaseHeadings.count == 1, !direct[phaseHeadings[0]], children[phaseHeadings[0]].contains(where: { bearing[$0] }) {
            let only = phaseHeadings[0]
            if title == nil, headings[only].level == 1 { title = headings[only].title }
            siblingsOfPhases = children[only]
            phaseHeadings = children[only].filter { bearing[$0] }
        }
        if title == nil, let first = roots.first, headings[first].level == 1, roots.filter({ headings[$0].level == 1 }).count == 1,
           !phaseHeadings.contains(first) {
            title = headings[first].title
        }
        // Planned phases with no tasks yet ("## Phase 5: Scale (Q1 2025)") still show.
        let phaseSet = Set(phaseHeadings).union(siblingsOfPhases.filter {
            headings[$0].title.lowercased().hasPrefix("phase") && !phaseHeadings.isEmpty
        })
        let orderedPhaseHeadings = phaseSet.sorted()

        var phases: [Phase] = []
        var phaseOfHeading: [Int: Int] = [:]
        var sectionOfHeading: [Int: (phase: Int, section: Int)] = [:]
        if taskHeading.contains(where: { $0 == nil }) {
            phases.append(Phase(title: title ?? "Tasks", line: 1, quarter: nil, sections: [], taskIndexes: [], deliverables: []))
        }
        for h in orderedPhaseHeadings {
            let p = phases.count
            phaseOfHeading[h] = p
            var sections: [Section] = []
            for c in children[h] {
                sectionOfHeading[c] = (p, sections.count)
                sections.append(Section(title: headings[c].title, line: headings[c].line,
                                        monthNumber: Schedule.monthNumber(headings[c].title), due: nil, taskIndexes: []))
            }
            phases.append(Phase(title: headings[h].title, line: headings[h].line, quarter: Quarter.find(in: headings[h].title),
                                sections: sections, taskIndexes: [], deliverables: []))
        }
        assignTimelineQuarters(&phases)
        for p in phases.indices {
            let dues = Schedule.sectionDues(quarter: phases[p].quarter, titles: phases[p].sections.map(\.title))
            for s in phases[p].sections.indices { phases[p].sections[s].due = dues[s] }
        }

        // Where each heading sits: its phase, and its section inside that phase.
        func locate(_ heading: Int?) -> (phase: Int?, section: Int?, path: [Int]) {
            guard var cur = heading else { return (phases.isEmpty ? nil : 0, nil, []) }
            var path: [Int] = []
            var section: Int?
            while true {
                path.append(cur)
                if let s = sectionOfHeading[cur] { section = s.section }
                if let p = phaseOfHeading[cur] { return (p, section, path.reversed()) }
                guard let parent = headingParents[cur] else { return (nil, nil, path.reversed()) }
                cur = parent
            }
        }

        var seen: [String: Int] = [:]
        seen.reserveCapacity(tasks.count)
        var locCache: [Int: (phase: Int?, section: Int?, key: String)] = [:]
        for t in tasks.indices {
            let h = taskHeading[t]
            let loc: (phase: Int?, section: Int?, key: String)
            if let cached = locCache[h ?? -1] { loc = cached } else {
                let l = locate(h)
                let key = l.path.map { Normalise.key(headings[$0].title) }.joined(separator: "\u{1F}")
                loc = (l.phase, l.section, key)
                locCache[h ?? -1] = loc
            }
            var task = tasks[t]
            task.phaseIndex = loc.phase
            task.sectionIndex = loc.section
            if let p = loc.phase {
                task.phase = phases[p].title
                if let s = loc.section {
                    task.section = phases[p].sections[s].title
                    task.due = phases[p].sections[s].due
                } else {
                    task.due = phases[p].quarter?.lastDay
                }
                if task.parent == nil {
                    phases[p].taskIndexes.append(t)
                    if let s = loc.section { phases[p].sections[s].taskIndexes.append(t) }
                }
            } else if let h {
                task.section = headings[h].title
            }
            // Stable id: heading path + parent tasks + own text, hashed; duplicates numbered in order.
            var key = loc.key
            var parent = task.parent
            var parents: [String] = []
            while let p = parent { parents.append(Normalise.key(tasks[p].text)); parent = tasks[p].parent }
            key += "\u{1E}" + parents.reversed().joined(separator: "\u{1F}") + "\u{1E}" + Normalise.key(task.text)
            let base = Normalise.shortHash(key)
            let count = (seen[base] ?? 0) + 1
            seen[base] = count
            task.id = count == 1 ? base : "\(base)-\(count)"
            tasks[t] = task
        }

        for d in deliverables {
            if let p = locate(d.heading).phase ?? lastPhase(before: d.heading, phases: phases) {
                phases[p].deliverables.append(d.text)
            }
        }

        var metricRows: [MetricRow] = []
        for table in tables { metricRows.append(contentsOf: metricTable(table.heading, table.rows)) }

        return RoadmapDocument(bytes: b, title: title, headings: headings, phases: phases, tasks: tasks,
                               metricTables: metricRows, timeline: timeline)
    }

    private func lastPhase(before heading: Int?, phases: [Phase]) -> Int? {
        guard let heading else { return nil }
        let line = headings[heading].line
        return phases.lastIndex { $0.line <= line }
    }

    /// Phases without a quarter in their heading take one from the timeline block: by name, else by order.
    private func assignTimelineQuarters(_ phases: inout [Phase]) {
        guard !timeline.isEmpty else { return }
        let named = phases.indices.filter { !(phases[$0].title == "Tasks" && phases[$0].line == 1) }
        for p in named where phases[p].quarter == nil {
            let name = Normalise.key(Normalise.phaseName(phases[p].title))
            guard !name.isEmpty else { continue }
            if let entry = timeline.first(where: {
                let label = Normalise.key($0.label)
                return !label.isEmpty && (label == name || label.contains(name) || name.contains(label))
            }) {
                phases[p].quarter = entry.quarter
            }
        }
        if timeline.count == named.count {
            for (k, p) in named.enumerated() where phases[p].quarter == nil { phases[p].quarter = timeline[k].quarter }
        }
    }

    private func metricTable(_ heading: Int?, _ rows: [(line: Int, cells: [String])]) -> [MetricRow] {
        guard rows.count >= 2, rows[1].cells.allSatisfy({ $0.allSatisfy { "-:| ".contains($0) } && $0.contains("-") }) else { return [] }
        let header = rows[0].cells.map { Normalise.plain($0).lowercased() }
        guard let mi = header.firstIndex(where: { $0.hasPrefix("metric") || $0 == "kpi" || $0.hasPrefix("kpi ") }),
              let ti = header.firstIndex(where: { $0.contains("target") || $0 == "goal" }) else { return [] }
        let li = header.firstIndex { $0.contains("timeline") || $0.contains("due") || $0.contains("deadline") || $0 == "by" }
        let bi = header.firstIndex { $0.contains("baseline") || $0 == "current" }
        let section = heading.map { headings[$0].title } ?? ""
        return rows.dropFirst(2).compactMap { row in
            func cell(_ i: Int?) -> String? {
                guard let i, i < row.cells.count else { return nil }
                let v = Normalise.plain(row.cells[i]).trimmingCharacters(in: .whitespaces)
                return v.isEmpty ? nil : v
            }
            guard let metric = cell(mi), let target = cell(ti) else { return nil }
            var all: [String: String] = [:]
            for (i, h) in header.enumerated() { if let v = cell(i) { all[h] = v } }
            return MetricRow(metric: metric, target: target, timeline: cell(li), baseline: cell(bi),
                             cells: all, section: section, line: row.line)
        }
    }
}

/// Text normalisation for display, matching and ids.
public enum Normalise {
    /// Markdown emphasis, code ticks and link targets removed: `**Set up** [CI](x)` → `Set up CI`.
    public static func plain(_ s: String) -> String {
        var s = s
        return s.withUTF8 { u in
            let star = UInt8(ascii: "*"), under = UInt8(ascii: "_"), tick = UInt8(ascii: "`"), tilde = UInt8(ascii: "~")
            let open = UInt8(ascii: "["), close = UInt8(ascii: "]")
            guard u.contains(where: { $0 == star || $0 == under || $0 == tick || $0 == tilde || $0 == open }) else {
                return String(decoding: u, as: UTF8.self)
            }
            // A word byte: letters, digits and anything non-ASCII.
            func word(_ k: Int) -> Bool {
                guard k >= 0, k < u.count else { return false }
                let c = u[k]
                return c >= 0x80 || (c >= 48 && c <= 57) || (c | 0x20 >= 97 && c | 0x20 <= 122)
            }
            var out: [UInt8] = []
            out.reserveCapacity(u.count)
            var i = 0
            while i < u.count {
                let c = u[i]
                if c == star || c == tick || c == tilde { i += 1; continue }
                if c == under {
                    // Keep snake_case: drop underscores only at word edges.
                    if word(i - 1) && word(i + 1) { out.append(c) }
                    i += 1; continue
                }
                if c == open, let cl = u[i...].firstIndex(of: close), cl + 1 < u.count, u[cl + 1] == UInt8(ascii: "("),
                   let paren = u[(cl + 1)...].firstIndex(of: UInt8(ascii: ")")) {
                    // [text](url) → text
                    out.append(contentsOf: u[(i + 1)..<cl])
                    i = paren + 1; continue
                }
                out.append(c); i += 1
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Lower-case words separated by single spaces: for ids and matching.
    /// ASCII letters are lower-cased; any non-ASCII character counts as a letter.
    public static func key(_ s: String) -> String {
        var p = plain(s)
        return p.withUTF8 { u in
            var out: [UInt8] = []
            out.reserveCapacity(u.count)
            var pendingSpace = false
            for c in u {
                let lower = c >= 65 && c <= 90 ? c | 0x20 : c
                let isWord = c >= 0x80 || (c >= 48 && c <= 57) || (lower >= 97 && lower <= 122)
                if isWord {
                    if pendingSpace && !out.isEmpty { out.append(32) }
                    pendingSpace = false
                    out.append(lower)
                } else { pendingSpace = true }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// `Phase 2: Data Integration & Quality (Q2 2024)` → `Data Integration & Quality`.
    static func phaseName(_ title: String) -> String {
        var s = title
        if let paren = s.firstIndex(of: "(") { s = String(s[..<paren]) }
        if s.lowercased().hasPrefix("phase"), let colon = s.firstIndex(where: { $0 == ":" || $0 == "–" || $0 == "—" }) {
            s = String(s[s.index(after: colon)...])
        }
        return s.trimmingCharacters(in: .whitespaces)
    }

    /// 8 hex digits of FNV-1a 64 over the UTF-8 bytes.
    static func shortHash(_ s: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in s.utf8 { h ^= UInt64(byte); h = h &* 0x100_0000_01b3 }
        let folded = UInt32(truncatingIfNeeded: h ^ (h >> 32))
        let hex = String(folded, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}
