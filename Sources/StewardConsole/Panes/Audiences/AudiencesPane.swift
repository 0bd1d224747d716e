import Foundation
import StewardActivation
import StewardCatalog
import StewardConfig

/// What the Audiences pane's own query reads: every audience, and the one open in the detail view.
public struct AudiencesData: Sendable, Equatable {
    public var audiences: [AudienceOverview]
    public var detail: AudienceDetail?
}

/// Audiences pane (issue 20): each audience's size, Δ since the run before, consent exclusions,
/// holdout, lift ± its 95 % interval and the last sync of each destination sent it (what it sent for
/// this audience). Enter opens one:
/// its definition, members (PII masked; `v` reveals the selected member, audited like the Customers
/// pane's reveal), entered/left per run and its destinations' sync history.
public struct AudiencesPane: Equatable, Sendable {
    public var filter = ""
    public var list = ListState()
    /// The audience open in the detail view, by name.
    public var open: String?
    /// The member list of the open audience.
    public var members = ListState()
    /// Members whose PII is shown (audited); moving the selection or leaving masks them again.
    public var revealed: Set<String> = []
    /// Shown at least once: until then its query is not part of every refresh.
    public var visited = false

    public init() {}

    /// Members read for the detail view (the count says how many there are in all).
    static let memberPage = 200

    // MARK: data

    func data(_ ctx: PaneContext) -> AudiencesData? { ctx.snapshot?.paneData(AudiencesData.self, for: .audiences) }

    func rows(_ ctx: PaneContext) -> [AudienceOverview] {
        (data(ctx)?.audiences ?? []).filter {
            Format.matches(filter, [$0.summary.name, $0.summary.description, $0.summary.channel, $0.summary.rule])
        }
    }

    func selected(_ ctx: PaneContext) -> AudienceOverview? { rows(ctx)[safe: list.selected] }

    /// The open audience's detail, once the query read it.
    func detail(_ ctx: PaneContext) -> AudienceDetail? {
        guard let open, let d = data(ctx)?.detail, d.overview.summary.name == open else { return nil }
        return d
    }

    func selectedMember(_ ctx: PaneContext) -> AudienceMemberRow? { detail(ctx)?.members[safe: members.selected] }

    public func selectedID(_ ctx: PaneContext) -> String? {
        if open != nil { return selectedMember(ctx)?.member.customerId ?? open }
        return selected(ctx)?.summary.name
    }

    // MARK: update

    public mutating func handle(_ action: Action, _ ctx: PaneContext, area: Rect) -> Bool {
        switch action {
        case .open:
            guard open == nil, let a = selected(ctx) else { return false }
            open = a.summary.name; members = ListState(); revealed = []
            return true
        case .back:
            if open != nil { open = nil; revealed = []; return true }
            guard !filter.isEmpty else { return false }
            filter = ""; return true
        default:
            if open != nil {
                let before = members.selected
                let moved = navigate(&members, action, count: detail(ctx)?.members.count ?? 0,
                                     height: Table.bodyHeight(Self.detailLayout(area).members))
                if members.selected != before { revealed = [] }
                return moved
            }
            return navigate(&list, action, count: rows(ctx).count, height: Table.bodyHeight(Self.listArea(area)))
        }
    }

    public mutating func clamp(_ ctx: PaneContext, area: Rect) {
        list.clamp(count: rows(ctx).count, height: Table.bodyHeight(Self.listArea(area)))
        members.clamp(count: detail(ctx)?.members.count ?? 0, height: Table.bodyHeight(Self.detailLayout(area).members))
    }

    public mutating func click(x: Int, y: Int, _ ctx: PaneContext, area: Rect) -> Bool {
        if open != nil {
            let table = Self.detailLayout(area).members, count = detail(ctx)?.members.count ?? 0
            guard let row = Table.row(at: y, in: table, state: members, count: count) else { return false }
            if row != members.selected { revealed = [] }
            members.select(row, count: count, height: Table.bodyHeight(table))
            return true
        }
        let table = Self.listArea(area)
        guard let row = Table.row(at: y, in: table, state: list, count: rows(ctx).count) else { return false }
        list.select(row, count: rows(ctx).count, height: Table.bodyHeight(table))
        return true
    }

    // MARK: text

    /// "+48% (22…79%)": the lift and its 95 % interval; why not, when it cannot be measured yet.
    static func liftText(_ lift: StoredLift?) -> String {
        guard let lift else { return "not measured" }
        guard let value = lift.lift else {
            return lift.holdout == 0 ? "no holdout" : "no conversions yet"
        }
        func pct(_ v: Double) -> String { String(format: "%+.0f%%", v * 100) }
        guard let low = lift.low, let high = lift.high else { return pct(value) }
        return "\(pct(value)) (\(String(format: "%.0f", low * 100))…\(String(format: "%.0f", high * 100))%)"
    }

    /// "file_drop ✓ +12 ~3 −1": a destination's sync with what it sent for this audience (a sync
    /// recorded before those counts were kept shows its outcome only).
    static func syncText(_ a: AudienceSyncRecord) -> String {
        let r = a.sync
        guard r.status == "ok" else { return "\(r.destination) ✗ failed\(r.pending > 0 ? " (\(r.pending) pending)" : "")" }
        guard let n = a.sent else { return "\(r.destination) ✓" }
        return "\(r.destination) ✓ +\(n.adds) ~\(n.updates) −\(n.removes)"
    }

    static func deltaText(_ a: AudienceOverview) -> String {
        guard a.previousSize != nil else { return "new" }
        return a.delta == 0 ? "0" : String(format: "%+d", a.delta)
    }

    // MARK: view

    static func listArea(_ area: Rect) -> Rect {
        let inner = area.inset(1)
        return Rect(x: inner.x, y: inner.y, width: inner.width, height: max(0, inner.height - 1))
    }

    struct DetailAreas { var definition: Rect; var membersTitle: Rect; var members: Rect; var history: Rect }

    static func detailLayout(_ area: Rect) -> DetailAreas {
        let inner = area.inset(1)
        let p = Layout.rows(inner, [.fixed(5), .fixed(1), .percentage(50), .fill()])
        return DetailAreas(definition: p[0], membersTitle: p[1], members: p[2], history: p[3])
    }

    public func render(_ area: Rect, _ ctx: PaneContext, into buffer: inout ScreenBuffer) {
        if let open {
            renderDetail(open, area, ctx, into: &buffer)
            return
        }
        let theme = ctx.theme
        let audiences = rows(ctx)
        let filterTitle: Line = filter.isEmpty ? [] : [Span(" filter: ", theme.muted), Span(filter, theme.accent)]
        Block(title: [Span("Audiences ", theme.title), Span("(\(audiences.count))", theme.muted)] + filterTitle,
              style: theme.borderFocused, titleStyle: theme.title).render(area, into: &buffer)
        let table = Self.listArea(area)
        var t = Columns.table(Self.columns(ctx), rows: audiences, width: table.width, sort: SortState(), theme: theme)
        t.showSelection = true
        t.render(table, state: list, into: &buffer)
        if audiences.isEmpty {
            let hint = data(ctx) == nil ? ctx.loadingLine("audiences").0
                : filter.isEmpty ? "No audiences yet: declare audiences: in steward.yml, then run (r)."
                : "No audience matches “\(filter)” — Esc clears the filter"
            buffer.write(hint, x: table.x, y: table.y + 1, style: theme.muted, maxWidth: table.width)
        }
        let inner = area.inset(1)
        buffer.write("Δ: members gained since the run before · lift: treated vs holdout conversion, 95 % interval",
                     x: inner.x, y: inner.y + inner.height - 1, style: theme.muted, maxWidth: inner.width)
    }

    static func columns(_ ctx: PaneContext) -> [Column<AudienceOverview>] {
        let theme = ctx.theme
        return [
            Column("name", "Audience", .fixed(14)) { [Span($0.summary.name, theme.title)] },
            Column("size", "Size", .fixed(7), .right) { [Span(Format.count($0.summary.size))] },
            Column("delta", "Δ", .fixed(6), .right) { a in [Span(deltaText(a), a.delta < 0 ? theme.warn : theme.text)] },
            Column("consent", "No consent", .fixed(10), .right, priority: 2) { a in
                [Span(a.summary.channel == nil ? "–" : Format.count(a.summary.excludedNoConsent), theme.muted)]
            },
            Column("holdout", "Holdout", .fixed(7), .right, priority: 1) { [Span(Format.count($0.summary.holdout))] },
            Column("lift", "Lift (95 %)", .fixed(16)) { a in [Span(liftText(a.lift), a.lift?.lift == nil ? theme.muted : theme.text)] },
            Column("sync", "Last sync", .fill(14)) { a in
                a.destinations.isEmpty ? [Span("not sent anywhere", theme.muted)]
                    : a.destinations.enumerated().flatMap { i, r -> Line in
                        (i == 0 ? [] : [Span(", ", theme.muted)]) + [Span(syncText(r), r.sync.status == "ok" ? theme.ok : theme.error)]
                    }
            },
        ]
    }

    func renderDetail(_ name: String, _ area: Rect, _ ctx: PaneContext, into buffer: inout ScreenBuffer) {
        let theme = ctx.theme
        guard let d = detail(ctx) else {
            let inner = Block(title: name, style: theme.borderFocused, titleStyle: theme.title).render(area, into: &buffer).inset(horizontal: 1, vertical: 0)
            let (text, style) = data(ctx) != nil && data(ctx)?.audiences.contains(where: { $0.summary.name == name }) == false
                ? ("No audience \(name) any more (steward.yml changed?) — Esc back", theme.muted) : ctx.loadingLine(name)
            buffer.write(text, x: inner.x, y: inner.y, style: style, maxWidth: inner.width)
            return
        }
        let s = d.overview.summary
        Block(title: [Span("\(s.name) ", theme.title), Span("— Esc back ", theme.muted)], style: theme.borderFocused,
              titleStyle: theme.title).render(area, into: &buffer)
        let layout = Self.detailLayout(area)
        let lift = d.overview.lift
        var definition: [Line] = [
            [Span("where    ", theme.muted), Span(s.rule)],
            [Span("about    ", theme.muted), Span(s.description.isEmpty ? "–" : s.description)],
            [Span("channel  ", theme.muted), Span(s.channel.map { "\($0) (members must consent; \(Format.count(s.excludedNoConsent)) matched without)" } ?? "none"),
             Span("   holdout ", theme.muted), Span(String(format: "%.0f%%", s.holdoutShare * 100)),
             Span("   window ", theme.muted), Span(String(format: "%.0fd", (s.windowSeconds ?? AudienceLift.defaultWindow) / 86_400))],
        ]
        if let lift {
            definition.append([Span("lift     ", theme.muted), Span(Self.liftText(lift)),
                               Span("   treated \(lift.treatedConverted)/\(lift.treated) vs holdout \(lift.holdoutConverted)/\(lift.holdout) converted",
                                    theme.muted),
                               Span(lift.incrementalRevenue.map { String(format: "   incremental revenue %.2f", $0) } ?? "", theme.muted)])
        } else {
            definition.append([Span("lift     ", theme.muted), Span("not measured yet", theme.muted)])
        }
        definition.append([Span("members  ", theme.muted), Span("\(Format.count(s.size)) (\(Format.count(s.holdout)) held out)"),
                           Span("   materialised \(s.materialisedAt.prefix(16)) by run #\(s.runId)", theme.muted)])
        TextBlock.render(definition, layout.definition, base: theme.text, into: &buffer)

        // Members: PII masked unless revealed (audited).
        buffer.fill(layout.membersTitle, symbol: "─", style: theme.border)
        let shownCount = d.members.count < d.memberCount ? " (first \(d.members.count) of \(Format.count(d.memberCount)))" : ""
        let reveal: Line = selectedMember(ctx).map { revealed.contains($0.member.customerId) }.map {
            $0 ? [Span(" ◉ PII revealed (audited) — v masks it ", theme.warn)] : [Span(" ◌ PII masked — v reveals (audited) ", theme.muted)]
        } ?? []
        buffer.write([Span("Members", theme.accent), Span(shownCount + " ", theme.muted)] + reveal,
                     x: layout.membersTitle.x + 1, y: layout.membersTitle.y, maxWidth: layout.membersTitle.width - 2, base: theme.text)
        var members = Columns.table(Self.memberColumns(ctx, revealed: revealed), rows: d.members, width: layout.members.width,
                                    sort: SortState(), theme: theme)
        members.showSelection = true
        members.render(layout.members, state: self.members, into: &buffer)
        if d.members.isEmpty {
            buffer.write("No members now.", x: layout.members.x, y: layout.members.y + 1, style: theme.muted, maxWidth: layout.members.width)
        }

        // Entered/left per run beside the destinations' sync history.
        let halves = Layout.columns(layout.history, [.percentage(45), .fill()], spacing: 2)
        var runs: [Line] = [[Span("Runs ", theme.title), Span("size  entered  left  no consent", theme.muted)]]
        runs += d.runs.map { r in
            [Span("#\(r.runId)".padded(to: 6)), Span(Format.count(r.size).padded(to: 6)), Span("+\(Format.count(r.entered))".padded(to: 9), theme.ok),
             Span("−\(Format.count(r.left))".padded(to: 6), r.left > 0 ? theme.warn : theme.text), Span(Format.count(r.excludedNoConsent), theme.muted)]
        }
        TextBlock.render(runs, halves[0], base: theme.text, into: &buffer)
        var syncs: [Line] = [[Span("Sync history ", theme.title), Span("newest first", theme.muted)]]
        if d.syncHistory.isEmpty { syncs.append([Span("not sent to any destination yet", theme.muted)]) }
        syncs += d.syncHistory.map { a in
            [Span(Format.dateTime(a.sync.startedAt) + " ", theme.muted), Span(Self.syncText(a), a.sync.status == "ok" ? theme.ok : theme.error),
             Span(a.sync.error.map { "  \($0)" } ?? "", theme.muted)]
        }
        TextBlock.render(syncs, halves[1], base: theme.text, into: &buffer)
    }

    static func memberColumns(_ ctx: PaneContext, revealed: Set<String>) -> [Column<AudienceMemberRow>] {
        let theme = ctx.theme
        func shown(_ value: String?, _ field: String, _ id: String) -> Span {
            let open = revealed.contains(id), personal = PIIPolicy.fields[field] != nil
            return Span(PIIPolicy.display(value, field: field, reveal: open) ?? "–", !personal ? theme.text : open ? theme.warn : theme.muted)
        }
        return [
            Column("customer", "Customer", .fixed(11)) { [Span($0.member.customerId, theme.title)] },
            Column("group", "Group", .fixed(8)) { m in [Span(m.member.holdout ? "holdout" : "treated", m.member.holdout ? theme.muted : theme.text)] },
            Column("entered", "Entered", .fixed(16), priority: 2) { m in [Span("#\(m.member.enteredRun) \(m.member.enteredAt.prefix(10))", theme.muted)] },
            Column("name", "Name", .fixed(20)) { m in [shown(m.name, "last_name", m.member.customerId)] },
            Column("email", "Email", .fill(16)) { m in [shown(m.email, "email", m.member.customerId)] },
        ]
    }
}
