import Foundation

/// The parts of a plan beyond its checkboxes: deliverables, risks, dependencies, team, budget and the
/// stakeholder communication cadence, read from the PM's own markdown (never written back).
///
/// ```swift
/// let plan = RoadmapPlan(document)
/// for risk in plan.risks { print(risk.id, risk.title, risk.mitigation ?? "–", risk.owner ?? "–") }
/// print(plan.budgetTotals)          // per year and one-off, per currency
/// ```
///
/// Sections are found by their heading's words at any level and in any order (`## Risk Management`,
/// `### Critical Dependencies`, `**Budget Allocation:**`); items may be numbered or bulleted, bold or
/// not, with labelled sub-lines (`Mitigation:`, `Owner:`) in any order; tables work too. Ids are
/// hashes of the section kind and the normalised text, so edits elsewhere in the file keep them.
public struct RoadmapPlan: Sendable, Equatable {
    public var deliverables: [PlanDeliverable]
    public var risks: [PlanRisk]
    public var dependencies: [PlanDependency]
    public var team: [TeamRole]
    public var budget: [BudgetItem]
    public var cadence: [StakeholderUpdate]
    /// Communication channels (`Slack channels`, `Email digest`).
    public var channels: [String]

    public init(_ document: RoadmapDocument) {
        var p = PlanParser(PlanLines.scan(document.bytes))
        p.parse()
        deliverables = PlanParser.deliverables(document)
        risks = p.risks; dependencies = p.dependencies; team = p.team; budget = p.budget
        cadence = p.cadence; channels = p.channels
        Self.assignIds(&risks, kind: "risk", key: { $0.title })
        Self.assignIds(&dependencies, kind: "dependency", key: { $0.text })
        Self.assignIds(&budget, kind: "budget", key: { $0.item })
        Self.assignIds(&cadence, kind: "cadence", key: { $0.audience })
    }

    public var totalFTE: Double { team.reduce(0) { $0 + ($1.fte ?? 0) } }

    /// Totals by currency: recurring items as their yearly amount, and one-off items.
    public var budgetTotals: [BudgetTotal] {
        var order: [String] = []
        var byCurrency: [String: BudgetTotal] = [:]
        for item in budget {
            if byCurrency[item.currency] == nil { order.append(item.currency); byCurrency[item.currency] = BudgetTotal(currency: item.currency, perYear: 0, once: 0) }
            if item.period == .once { byCurrency[item.currency]!.once += item.amount } else { byCurrency[item.currency]!.perYear += item.yearlyAmount }
        }
        return order.map { byCurrency[$0]! }
    }

    static func assignIds<T: PlanIdentified>(_ items: inout [T], kind: String, key: (T) -> String) {
        var seen: [String: Int] = [:]
        for i in items.indices {
            let base = Normalise.shortHash(kind + "\u{1E}" + key(items[i]).split(separator: "\u{1E}").map { Normalise.key(String($0)) }.joined(separator: "\u{1E}"))
            let n = (seen[base] ?? 0) + 1
            seen[base] = n
            items[i].id = n == 1 ? base : "\(base)-\(n)"
        }
    }
}

protocol PlanIdentified { var id: String { get set } }

/// A deliverable of a phase (`**Deliverables:**` lists or a `Deliverables` heading).
public struct PlanDeliverable: Sendable, Equatable, PlanIdentified {
    public var id: String
    public var phaseIndex: Int
    public var phase: String
    public var text: String
}

public struct PlanRisk: Sendable, Equatable, PlanIdentified {
    public var id: String
    public var title: String
    public var description: String?
    public var mitigation: String?
    public var owner: String?
    /// `high`, `medium`, `low`: from the heading (`High-Risk Items`), an `Impact:` line or table column.
    public var severity: String?
    public var likelihood: String?
    /// Other labelled lines (`Contingency: …`, `Trigger: …`) by lower-cased label.
    public var fields: [String: String]
    public var line: Int
}

public struct PlanDependency: Sendable, Equatable, PlanIdentified {
    public enum Kind: String, Sendable, CaseIterable { case critical, external }
    public var id: String
    public var text: String
    public var kind: Kind
    public var owner: String?
    public var line: Int
}

public struct TeamRole: Sendable, Equatable {
    public var role: String
    /// Full-time equivalents, when the line gives a number (`1 FTE`, `0.5 FTE`, `2 x Data Engineer`).
    public var fte: Double?
    public var line: Int
}

public struct BudgetItem: Sendable, Equatable, PlanIdentified {
    public enum Period: String, Sendable, CaseIterable { case year, once }
    public var id: String
    public var item: String
    /// In units of the currency (`$200K` → 200000).
    public var amount: Double
    /// ISO code: USD, EUR, GBP, JPY, or the code written.
    public var currency: String
    public var period: Period
    /// A monthly or quarterly figure is kept per year; this says how it was written (`month`, `quarter`, `year`).
    public var writtenPer: String?
    /// The amount as written (`$200K/year`).
    public var written: String
    public var line: Int
    public var yearlyAmount: Double { period == .year ? amount : 0 }
}

public struct BudgetTotal: Sendable, Equatable {
    public var currency: String
    public var perYear: Double
    public var once: Double
}

/// A stakeholder update on a cadence (`Executive steering: Monthly`).
public struct StakeholderUpdate: Sendable, Equatable, PlanIdentified {
    public var id: String
    public var audience: String
    public var every: Cadence
    public var line: Int
}

public enum Cadence: String, Sendable, CaseIterable {
    case daily, weekly, biweekly = "bi-weekly", monthly, bimonthly = "bi-monthly", quarterly, semiannual = "semi-annual", annual

    /// The first cadence word in a text: `Bi-weekly`, `every two weeks`, `Monthly`, `fortnightly`, `Quarterly`.
    public static func find(in text: String) -> Cadence? {
        let s = " " + Normalise.key(text) + " "
        let table: [(String, Cadence)] = [
            (" bi weekly ", .biweekly), (" biweekly ", .biweekly), (" fortnightly ", .biweekly), (" every two weeks ", .biweekly),
            (" every 2 weeks ", .biweekly), (" bi monthly ", .bimonthly), (" bimonthly ", .bimonthly), (" every two months ", .bimonthly),
            (" semi annual ", .semiannual), (" semi annually ", .semiannual), (" twice a year ", .semiannual), (" half yearly ", .semiannual),
            (" daily ", .daily), (" every day ", .daily), (" weekly ", .weekly), (" every week ", .weekly),
            (" monthly ", .monthly), (" every month ", .monthly), (" quarterly ", .quarterly), (" every quarter ", .quarterly),
            (" annually ", .annual), (" annual ", .annual), (" yearly ", .annual), (" every year ", .annual),
        ]
        var best: (at: String.Index, cadence: Cadence)?
        for (word, cadence) in table {
            if let r = s.range(of: word), best.map({ r.lowerBound < $0.at }) ?? true { best = (r.lowerBound, cadence) }
        }
        return best?.cadence
    }

    /// The due dates are the ends of its periods: every day; Fridays (every other Friday from
    /// 1970-01-02 for bi-weekly); month, two-month, quarter, half-year and year ends.
    public func lastDue(onOrBefore day: Day) -> Day {
        switch self {
        case .daily: return day
        case .weekly, .biweekly:
            let step = self == .weekly ? 7 : 14
            let friday = Day(year: 1970, month: 1, day: 2).ordinal
            let d = day.ordinal - friday
            let k = d >= 0 ? d / step : (d - step + 1) / step
            return Day(ordinal: friday + k * step)
        case .monthly, .bimonthly, .quarterly, .semiannual, .annual:
            let months = [Cadence.monthly: 1, .bimonthly: 2, .quarterly: 3, .semiannual: 6, .annual: 12][self]!
            var endMonth = ((day.month - 1) / months + 1) * months
            var end = Day.monthEnd(year: day.year, month: endMonth)
            if end > day {
                endMonth -= months
                end = endMonth < 1 ? Day(year: day.year - 1, month: 12, day: 31) : Day.monthEnd(year: day.year, month: endMonth)
            }
            return end
        }
    }

    /// The first due date after `day`.
    public func nextDue(after day: Day) -> Day {
        // A period later, the due date on or before that day is past `day`; then step back to the earliest such.
        let length = [Cadence.daily: 1, .weekly: 7, .biweekly: 14, .monthly: 31, .bimonthly: 62, .quarterly: 92, .semiannual: 184, .annual: 366][self]!
        var probe = Day(ordinal: day.ordinal + length)
        var due = lastDue(onOrBefore: probe)
        while due <= day { probe = Day(ordinal: probe.ordinal + length); due = lastDue(onOrBefore: probe) }
        // Step back to the earliest due date still after `day`.
        while true {
            let earlier = lastDue(onOrBefore: Day(ordinal: due.ordinal - 1))
            if earlier > day { due = earlier } else { return due }
        }
    }
}

// MARK: - Parsing

/// Which plan section a heading opens, from its words.
enum PlanArea: Equatable {
    case risks, dependencies(PlanDependency.Kind), team, budget, resources, cadence, channels
    /// A heading of the task plan or the metrics (`Phase 2`, `Month 3: Reporting`, `Deliverables`):
    /// what is below it belongs to no plan section, whatever the headings above say.
    case other

    /// The section this area lists, or nil for `.other`.
    var section: PlanArea? { self == .other ? nil : self }

    static func of(_ title: String) -> PlanArea? {
        let k = " " + Normalise.key(title) + " "
        func has(_ words: String...) -> Bool { words.contains { k.contains($0) } }
        if has(" phase", " month", " sprint", " milestone", " deliverable", " timeline", " success metric", " kpi", " week ") { return .other }
        if has(" channel") { return .channels }
        if has(" risk") { return .risks }
        if has(" dependenc", " prerequisite") { return .dependencies(has(" external", " third party", " vendor") ? .external : .critical) }
        if has(" budget", " cost", " financ", " spend", " funding") { return .budget }
        if has(" team", " staffing", " roles", " people", " headcount") { return .team }
        if has(" resource") { return .resources }
        if has(" communication", " stakeholder update", " cadence", " reporting", " status report", " meetings", " governance") { return .cadence }
        return nil
    }
}

struct PlanParser {
    let lines: [PlanLine]
    var risks: [PlanRisk] = []
    var dependencies: [PlanDependency] = []
    var team: [TeamRole] = []
    var budget: [BudgetItem] = []
    var cadence: [StakeholderUpdate] = []
    var channels: [String] = []
    /// Roles read from budget lines that name FTEs (`Engineering (2 FTE) | $240,000`): the team only
    /// when the plan lists no team of its own, so one person is not counted twice.
    var teamFromBudget: [TeamRole] = []

    init(_ lines: [PlanLine]) { self.lines = lines }

    static func deliverables(_ doc: RoadmapDocument) -> [PlanDeliverable] {
        var out: [PlanDeliverable] = []
        for (p, phase) in doc.phases.enumerated() {
            for text in phase.deliverables {
                out.append(PlanDeliverable(id: "", phaseIndex: p, phase: phase.title, text: text))
            }
        }
        // The phase's name (not its quarter) is part of the key: moving a phase in time keeps the ids.
        RoadmapPlan.assignIds(&out, kind: "deliverable") { Normalise.phaseName($0.phase) + "\u{1E}" + $0.text }
        return out
    }

    /// Labels of a risk's sub-lines, lower-cased, to the field they fill.
    static let riskLabels: [String: String] = [
        "mitigation": "mitigation", "mitigations": "mitigation", "mitigation strategy": "mitigation", "mitigation plan": "mitigation",
        "response": "mitigation", "owner": "owner", "owners": "owner", "risk owner": "owner", "responsible": "owner",
        "accountable": "owner", "impact": "impact", "severity": "impact", "likelihood": "likelihood", "probability": "likelihood",
        "description": "description", "contingency": "contingency", "trigger": "trigger", "triggers": "trigger", "status": "status",
    ]

    mutating func parse() {
        var stack: [(level: Int, area: PlanArea?, title: String)] = []
        var tableRows: [(line: Int, cells: [String])] = []
        var tableArea: PlanArea?
        var currentRisk: (index: Int, indent: Int)?
        var currentDep: (index: Int, indent: Int)?
        var lastKindWasTable = false

        func area() -> PlanArea? { stack.reversed().lazy.compactMap(\.area).first?.section }
        func severityFromHeadings() -> String? {
            for h in stack.reversed() {
                let k = " " + Normalise.key(h.title) + " "
                for s in ["critical", "high", "medium", "low"] where k.contains(" \(s) ") { return s == "critical" ? "high" : s }
            }
            return nil
        }

        for line in lines {
            if case .tableRow = line.kind {} else if lastKindWasTable {
                flushTable(tableRows, tableArea); tableRows = []; lastKindWasTable = false
            }
            switch line.kind {
            case .heading(let level, let title):
                while let last = stack.last, last.level >= level { stack.removeLast() }
                var a = PlanArea.of(title)
                // `### External` under `## Dependencies`, `### Critical` under it.
                if a == nil, case .dependencies? = area() {
                    let k = " " + Normalise.key(title) + " "
                    if k.contains(" external ") || k.contains(" third party ") || k.contains(" vendor") { a = .dependencies(.external) }
                    else if k.contains(" critical ") || k.contains(" internal ") { a = .dependencies(.critical) }
                }
                stack.append((level, a, title))
                currentRisk = nil; currentDep = nil
            case .tableRow(let cells):
                if !lastKindWasTable { tableArea = area() }
                tableRows.append((line.line, cells)); lastKindWasTable = true
            case .item(let indent, let raw), .paragraph(let indent, let raw):
                let isItem: Bool
                if case .item = line.kind { isItem = true } else { isItem = false }
                guard let here = area() else { continue }
                let text = Normalise.plain(raw).trimmingCharacters(in: .whitespaces)
                guard !text.isEmpty else { continue }
                switch here {
                case .risks:
                    if let (label, value) = Self.label(raw), let field = Self.riskLabels[label] {
                        if let r = currentRisk { Self.set(field, value, on: &risks[r.index]) }
                    } else if isItem, currentRisk.map({ indent <= $0.indent }) ?? true {
                        var risk = Self.risk(from: raw, line: line.line)
                        if risk.severity == nil { risk.severity = severityFromHeadings() }
                        risks.append(risk)
                        currentRisk = (risks.count - 1, indent)
                    } else if let r = currentRisk, risks[r.index].mitigation == nil, isItem {
                        // An unlabelled sub-item under a risk reads as its mitigation.
                        risks[r.index].mitigation = text
                    }
                case .dependencies(let kind):
                    if let (label, value) = Self.label(raw), ["owner", "responsible", "owners", "status", "due", "note"].contains(label) {
                        if let d = currentDep, label.hasPrefix("owner") || label == "responsible" { dependencies[d.index].owner = value }
                        continue
                    }
                    guard isItem, currentDep.map({ indent <= $0.indent }) ?? true else { continue }
                    dependencies.append(PlanDependency(id: "", text: text, kind: kind, owner: nil, line: line.line))
                    currentDep = (dependencies.count - 1, indent)
                case .team, .budget, .resources:
                    guard isItem || Self.label(raw) != nil else { continue }
                    let money = here != .team ? Money.find(in: text) : nil
                    if let money {
                        budget.append(BudgetItem(id: "", item: Self.itemName(text, around: money.range), amount: money.amount,
                                                 currency: money.currency, period: money.period, writtenPer: money.writtenPer,
                                                 written: String(text[money.range]), line: line.line))
                    }
                    if here != .budget, let role = Self.teamRole(text, line: line.line, money: money?.range) {
                        team.append(role)
                    } else if here == .budget, Self.mentionsFTE(text), let role = Self.teamRole(text, line: line.line, money: money?.range) {
                        teamFromBudget.append(role)
                    }
                case .cadence:
                    if let every = Cadence.find(in: text) {
                        cadence.append(StakeholderUpdate(id: "", audience: Self.audience(text), every: every, line: line.line))
                    } else if let (label, value) = Self.label(raw), label.hasPrefix("channel") {
                        channels += value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                    }
                case .channels:
                    if isItem { channels.append(text) }
                case .other:
                    continue
                }
            }
        }
        if lastKindWasTable { flushTable(tableRows, tableArea) }
        if team.isEmpty { team = teamFromBudget }
    }

    // MARK: tables

    mutating func flushTable(_ rows: [(line: Int, cells: [String])], _ area: PlanArea?) {
        guard let area, let area = area.section, let (header, body) = PlanLine.table(rows) else { return }
        func column(_ words: String...) -> Int? { header.firstIndex { h in words.contains { h.contains($0) } } }
        func cell(_ row: [String], _ i: Int?) -> String? {
            guard let i, i < row.count else { return nil }
            let v = Normalise.plain(row[i]).trimmingCharacters(in: .whitespaces)
            return v.isEmpty ? nil : v
        }
        switch area {
        case .risks:
            let title = column("risk", "item", "issue", "threat") ?? 0
            let mitigation = column("mitigation", "response", "action"), owner = column("owner", "responsible")
            let impact = column("impact", "severity"), likelihood = column("likelihood", "probability")
            for (line, row) in body {
                guard let t = cell(row, title) else { continue }
                risks.append(PlanRisk(id: "", title: t, description: nil, mitigation: cell(row, mitigation), owner: cell(row, owner),
                                      severity: cell(row, impact)?.lowercased(), likelihood: cell(row, likelihood)?.lowercased(),
                                      fields: [:], line: line))
            }
        case .dependencies(let kind):
            let text = column("dependency", "item", "what") ?? 0
            let kindColumn = column("type", "kind"), owner = column("owner", "responsible")
            for (line, row) in body {
                guard let t = cell(row, text) else { continue }
                let k: PlanDependency.Kind = cell(row, kindColumn).map { $0.lowercased().contains("extern") ? .external : .critical } ?? kind
                dependencies.append(PlanDependency(id: "", text: t, kind: k, owner: cell(row, owner), line: line))
            }
        case .team, .budget, .resources:
            let item = column("item", "category", "role", "line", "area", "cost") ?? 0
            let total = column("total", "amount", "budget", "cost", "annual", "per year")
            let fte = column("fte", "headcount", "people")
            for (line, row) in body {
                guard let name = cell(row, item), Normalise.key(name) != "total" else { continue }
                if let f = fte, let v = cell(row, f).flatMap(Money.number) {
                    team.append(TeamRole(role: name, fte: v, line: line))
                } else if area != .budget, let role = Self.teamRole(name, line: line, money: nil), role.fte != nil {
                    team.append(role)
                } else if Self.mentionsFTE(name), let role = Self.teamRole(name, line: line, money: nil), role.fte != nil {
                    teamFromBudget.append(role)
                }
                guard area != .team else { continue }
                var money: Money.Found?
                var written = ""
                if let t = total, t != item, let c = cell(row, t), let m = Money.find(in: c) { money = m; written = String(c[m.range]) }
                if money == nil {
                    // No total column: the row's money cells added up (`| Item | Q1 | Q2 | … |`).
                    var sum = 0.0, first: Money.Found?
                    for (i, c) in row.enumerated() where i != item {
                        if let m = Money.find(in: Normalise.plain(c)) { sum += m.amount; if first == nil { first = m } }
                    }
                    if var f = first { f.amount = sum; money = f; written = Money.format(sum, currency: f.currency) }
                }
                if let m = money {
                    budget.append(BudgetItem(id: "", item: name, amount: m.amount, currency: m.currency, period: m.period,
                                             writtenPer: m.writtenPer, written: written, line: line))
                }
            }
        case .cadence:
            let who = column("audience", "stakeholder", "meeting", "who", "report") ?? 0
            let when = column("frequen", "cadence", "when", "how often", "schedule")
            for (line, row) in body {
                guard let a = cell(row, who) else { continue }
                let every = cell(row, when).flatMap(Cadence.find) ?? Cadence.find(in: row.joined(separator: " "))
                if let every { cadence.append(StakeholderUpdate(id: "", audience: a, every: every, line: line)) }
            }
        case .channels:
            for (_, row) in body { if let c = cell(row, 0) { channels.append(c) } }
        case .other:
            return
        }
    }

    // MARK: items

    /// `Mitigation: text`, `**Owner:** text`, `*Owner*: text` → (`owner`, `text`).
    static func label(_ raw: String) -> (String, String)? {
        let plain = Normalise.plain(raw)
        guard let colon = plain.firstIndex(of: ":") else { return nil }
        let label = plain[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        guard !label.isEmpty, label.count <= 30, label.split(separator: " ").count <= 3 else { return nil }
        let value = plain[plain.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        return (label, value)
    }

    static func set(_ field: String, _ value: String, on risk: inout PlanRisk) {
        switch field {
        // Several mitigation lines join (up to a length: a hostile file cannot make this quadratic).
        case "mitigation": risk.mitigation = risk.mitigation.map { $0.count < 2_000 ? $0 + "; " + value : $0 } ?? value
        case "owner": risk.owner = value
        case "impact": risk.severity = value.lowercased()
        case "likelihood": risk.likelihood = value.lowercased()
        case "description": risk.description = value
        default: risk.fields[field] = value
        }
    }

    /// `**Data Quality Issues**: poor source data` → title and description; `Data Quality Issues` → title.
    static func risk(from raw: String, line: Int) -> PlanRisk {
        let t = raw.trimmingCharacters(in: .whitespaces)
        var title = Normalise.plain(t).trimmingCharacters(in: .whitespaces)
        var description: String?
        for marker in ["**", "__"] where t.hasPrefix(marker) {
            let body = t.dropFirst(2)
            if let close = body.range(of: marker) {
                title = Normalise.plain(String(body[..<close.lowerBound])).trimmingCharacters(in: .whitespaces)
                var rest = Normalise.plain(String(body[close.upperBound...])).trimmingCharacters(in: .whitespaces)
                if let first = rest.first, ":–—-".contains(first) { rest = String(rest.dropFirst()).trimmingCharacters(in: .whitespaces) }
                if !rest.isEmpty { description = rest }
                if title.hasSuffix(":") { title.removeLast() }
            }
            break
        }
        // A label's colon is followed by a space or ends the text; `https://` or `10:30` is no label.
        let labelColon = title.indices.first { i in
            title[i] == ":" && (title.index(after: i) == title.endIndex || title[title.index(after: i)].isWhitespace)
        }
        if description == nil, let colon = labelColon, title.distance(from: title.startIndex, to: colon) <= 60 {
            let rest = title[title.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if !rest.isEmpty { description = rest; title = title[..<colon].trimmingCharacters(in: .whitespaces) }
        }
        return PlanRisk(id: "", title: title, description: description, mitigation: nil, owner: nil, severity: nil,
                        likelihood: nil, fields: [:], line: line)
    }

    static func mentionsFTE(_ text: String) -> Bool { text.range(of: "fte", options: .caseInsensitive) != nil }

    /// `Consulting: $100K` → `Consulting`; `Licences €50k per year` → `Licences`; `$100K for consulting` → `for consulting`.
    static func itemName(_ text: String, around money: Range<String.Index>) -> String {
        let trim = CharacterSet(charactersIn: " \t:–—-/(),=")
        var before = text[..<money.lowerBound]
        if let colon = before.lastIndex(of: ":") { before = before[..<colon] }
        let name = before.trimmingCharacters(in: trim)
        if !name.isEmpty { return name }
        let after = text[money.upperBound...].trimmingCharacters(in: trim)
        return after.isEmpty ? text : after
    }

    /// `Project Manager: 1 FTE`, `Data Engineers (2 FTE)`, `2 x Data Engineer`, `Business Analyst: 0.5` → a role.
    static func teamRole(_ text: String, line: Int, money: Range<String.Index>?) -> TeamRole? {
        var t = text
        if let money { t.removeSubrange(money) }
        var fte: Double?
        var roleText = t
        if let r = t.range(of: "fte", options: .caseInsensitive) {
            // The number next to FTE: before it (`1 FTE`, `1.5 FTEs`) or after it (`FTE: 2`).
            let before = t[..<r.lowerBound].reversed().drop { " (:=".contains($0) }
            let digits = String(before.prefix { ($0.isASCII && $0.isNumber) || $0 == "." }.reversed())
            fte = Money.number(digits)
            if fte == nil {
                let after = t[r.upperBound...].drop { " sS:=)".contains($0) }
                fte = Money.number(String(after.prefix { ($0.isASCII && $0.isNumber) || $0 == "." }))
            }
            // The role is what comes before the number: `Data Engineers (2 FTE)` → `Data Engineers`.
            var head = t[..<r.lowerBound]
            while let last = head.last, " (:=.\t".contains(last) || (last.isASCII && last.isNumber) { head.removeLast() }
            roleText = String(head)
        } else if let colon = t.firstIndex(of: ":") {
            let value = t[t.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if let v = Money.number(String(value.prefix { ($0.isASCII && $0.isNumber) || $0 == "." })), !value.isEmpty { fte = v }
            roleText = String(t[..<colon])
        } else {
            // `2 x Data Engineer`, `2 Data Engineers`
            let digits = t.prefix { ($0.isASCII && $0.isNumber) || $0 == "." }
            if !digits.isEmpty, let v = Money.number(String(digits)) {
                fte = v
                roleText = String(t.dropFirst(digits.count)).trimmingCharacters(in: .whitespaces)
                if roleText.lowercased().hasPrefix("x ") || roleText.hasPrefix("× ") { roleText = String(roleText.dropFirst(2)) }
            }
        }
        var role = roleText.trimmingCharacters(in: CharacterSet(charactersIn: " :–—-(),=\t"))
        if let colon = role.firstIndex(of: ":") { role = role[..<colon].trimmingCharacters(in: .whitespaces) }
        guard !role.isEmpty else { return nil }
        return TeamRole(role: role, fte: fte, line: line)
    }

    /// `Executive steering: Monthly` → `Executive steering`; `Monthly executive steering` → `executive steering`.
    static func audience(_ text: String) -> String {
        if let colon = text.firstIndex(of: ":") {
            let head = text[..<colon].trimmingCharacters(in: .whitespaces)
            let tail = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if Cadence.find(in: head) == nil, !head.isEmpty { return head }
            if !tail.isEmpty, Cadence.find(in: tail) == nil { return tail }
        }
        var words = text.split(separator: " ").map(String.init)
        words.removeAll { Cadence.find(in: $0) != nil || ["every", "two", "2", "-", "–"].contains($0.lowercased()) }
        let s = words.joined(separator: " ").trimmingCharacters(in: CharacterSet(charactersIn: " :–—-()"))
        return s.isEmpty ? text : s
    }
}

/// Money written in a plan: `$200K/year`, `$100K`, `€50k`, `£1.2M per month`, `USD 50,000`, `50 000 EUR`.
enum Money {
    struct Found {
        var amount: Double
        var currency: String
        var period: BudgetItem.Period
        var writtenPer: String?
        var range: Range<String.Index>
    }

    static let symbols: [Character: String] = ["$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"]
    static let codes = ["USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "SEK", "NOK", "DKK", "INR"]

    /// The first amount with a currency in `text`, and the period the line gives it.
    static func find(in text: String) -> Found? {
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            var currency: String?
            var numberStart = i
            var start = i
            if let code = symbols[c] {
                currency = code; numberStart = i + 1
            } else if c.isUppercase, i + 3 <= chars.count, codes.contains(String(chars[i..<(i + 3)])),
                      i == 0 || !chars[i - 1].isLetter, i + 3 == chars.count || !chars[i + 3].isLetter {
                currency = String(chars[i..<(i + 3)]); numberStart = i + 3
            } else if c.isASCII, c.isNumber, i == 0 || !(chars[i - 1].isLetter || chars[i - 1].isNumber) {
                // A number followed by a currency: `50,000 EUR`, `50k €`.
                guard let (value, after) = number(chars, from: i) else { i += 1; continue }
                var j = after
                while j < chars.count, chars[j] == " " { j += 1 }
                if j < chars.count, let code = symbols[chars[j]] {
                    return finish(value, code, start: i, end: j + 1, chars, text)
                }
                if j + 3 <= chars.count, codes.contains(String(chars[j..<(j + 3)])), j + 3 == chars.count || !chars[j + 3].isLetter {
                    return finish(value, String(chars[j..<(j + 3)]), start: i, end: j + 3, chars, text)
                }
                i = max(after, i + 1); continue
            }
            guard let code = currency else { i += 1; continue }
            var j = numberStart
            while j < chars.count, chars[j] == " " { j += 1 }
            if let (value, after) = number(chars, from: j) {
                start = i
                return finish(value, code, start: start, end: after, chars, text)
            }
            i += 1
        }
        return nil
    }

    private static func finish(_ value: Double, _ currency: String, start: Int, end: Int, _ chars: [Character], _ text: String) -> Found {
        // The period: right after the amount (`/year`, ` per month`) or anywhere on the line (`annual`).
        var endIndex = end
        let tail = String(chars[end...]).lowercased()
        let slashes: [(String, String)] = [("/year", "year"), ("/yr", "year"), ("/y", "year"), ("/annum", "year"), ("/month", "month"),
                                           ("/mo", "month"), ("/quarter", "quarter"), ("/qtr", "quarter")]
        var per: String?
        for (s, p) in slashes where tail.hasPrefix(s) || tail.hasPrefix(" " + s) {
            per = p; endIndex = end + (tail.hasPrefix(" ") ? 1 : 0) + s.count
            // `/years` or `/month`: swallow the rest of the word.
            while endIndex < chars.count, chars[endIndex].isLetter { endIndex += 1 }
            break
        }
        if per == nil {
            let k = " " + Normalise.key(String(chars)) + " "
            if [" per year ", " a year ", " annually ", " annual ", " yearly ", " per annum ", " each year ", " p a "].contains(where: k.contains) { per = "year" }
            else if [" per month ", " a month ", " monthly ", " each month "].contains(where: k.contains) { per = "month" }
            else if [" per quarter ", " quarterly ", " each quarter "].contains(where: k.contains) { per = "quarter" }
        }
        let multiplier: Double = per == "month" ? 12 : per == "quarter" ? 4 : 1
        let lower = text.index(text.startIndex, offsetBy: start)
        let upper = text.index(text.startIndex, offsetBy: min(endIndex, chars.count))
        return Found(amount: value * multiplier, currency: currency, period: per == nil ? .once : .year,
                     writtenPer: per, range: lower..<upper)
    }

    /// `200K`, `1.2M`, `60,000`, `50 000`, `2bn` from `from`: the value in units and where it ends.
    static func number(_ chars: [Character], from: Int) -> (Double, Int)? {
        var j = from
        var digits = ""
        while j < chars.count, digits.count < 24 {
            let c = chars[j]
            if c.isASCII && c.isNumber { digits.append(c); j += 1; continue }
            // Group separators: `,` or a space before exactly three digits; `.` as the decimal point.
            func digit(_ k: Int) -> Bool { k < chars.count && chars[k].isASCII && chars[k].isNumber }
            if c == "," || c == " " || c == "\u{00A0}" || c == "'", !digits.isEmpty, !digits.contains("."),
               digit(j + 1), digit(j + 2), digit(j + 3), !digit(j + 4) { j += 1; continue }
            if c == ".", !digits.contains("."), j + 1 < chars.count, chars[j + 1].isASCII, chars[j + 1].isNumber { digits.append("."); j += 1; continue }
            break
        }
        guard !digits.isEmpty, var value = Double(digits) else { return nil }
        var k = j
        if k < chars.count, chars[k] == " ", k + 1 < chars.count, "kKmMbB".contains(chars[k + 1]) { k += 1 }
        if k < chars.count {
            let rest = String(chars[k..<min(k + 8, chars.count)]).lowercased()
            let suffixes: [(String, Double)] = [("bn", 1e9), ("billion", 1e9), ("million", 1e6), ("mm", 1e6), ("m", 1e6), ("k", 1e3), ("thousand", 1e3), ("b", 1e9)]
            for (s, m) in suffixes where rest.hasPrefix(s) {
                let after = k + s.count
                if after == chars.count || !chars[after].isLetter { value *= m; j = after }
                break
            }
        }
        return (value, j)
    }

    /// A plain number: `2`, `0.5`, `1,5` → 1.5.
    static func number(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: ".")
        guard !t.isEmpty, t.count <= 24, let v = Double(t), v.isFinite, v >= 0 else { return nil }
        return v
    }

    /// `$240K`, `€1.2M`, `$3,500`: short, for tables and reports.
    public static func format(_ amount: Double, currency: String) -> String {
        let symbol = symbols.first { $0.value == currency }.map { String($0.key) }
        let a = abs(amount)
        let body: String
        if a >= 1e6 { body = trim(String(format: "%.2f", amount / 1e6)) + "M" }
        else if a >= 1e3 { body = trim(String(format: "%.1f", amount / 1e3)) + "K" }
        else { body = trim(String(format: "%.2f", amount)) }
        return symbol.map { $0 + body } ?? body + " " + currency
    }

    private static func trim(_ s: String) -> String {
        guard s.contains(".") else { return s }
        var t = s
        while t.hasSuffix("0") { t.removeLast() }
        if t.hasSuffix(".") { t.removeLast() }
        return t
    }
}

extension BudgetTotal {
    public var perYearText: String { Money.format(perYear, currency: currency) }
    public var onceText: String { Money.format(once, currency: currency) }
}

extension BudgetItem {
    public var amountText: String { Money.format(amount, currency: currency) + (period == .year ? "/year" : "") }
    public static func format(_ amount: Double, currency: String) -> String { Money.format(amount, currency: currency) }
}
