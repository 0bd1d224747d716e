import Foundation
import StewardActivation

extension PaneID { public static let audiences = PaneID(AudiencesPane.self) }

extension AppState {
    public var audiences: AudiencesPane {
        get { self[AudiencesPane.self] }
        set { self[AudiencesPane.self] = newValue }
    }
}

/// Pane 7: audiences, their lift and syncs; Enter: one audience's definition, members, runs and syncs.
extension AudiencesPane: ListPane {
    public static let title = "Audiences"

    public static var keys: [KeyBinding] {
        [KeyBinding(.reveal, [.char("v")], "reveal the selected member's PII (audited); again masks it", panes: [.audiences], footer: true)]
    }

    public static func helpNotes(_ theme: Theme) -> [Line] {
        [[Span("Δ", theme.title), Span(" members gained (or lost) since the audience's previous run", theme.muted)],
         [Span("No consent", theme.title), Span(" matched the rule but did not consent to the audience's channel: not members", theme.muted)],
         [Span("Lift", theme.title), Span(" treated ÷ holdout conversion − 1 (an order within the window after entering), Katz 95 % interval", theme.muted)],
         [Span("Last sync", theme.title), Span(" per destination: ✓ ok with the adds (+), updates (~) and removes (−) sent for this audience; ✗ failed", theme.muted)]]
    }

    public mutating func resetSelection() { list = ListState(); members = ListState() }

    public func offers(_ action: Action, _ app: AppState) -> Bool {
        action == .reveal ? open != nil && selectedMember(app.context) != nil : true
    }

    public static func update(_ app: inout AppState, _ action: Action) -> [Command] {
        guard action == .reveal else { return listUpdate(&app, action) }
        guard let name = app.audiences.open, let member = app.audiences.selectedMember(app.context) else {
            app.status = .refused("open an audience (Enter) and select a member to reveal", at: app.now)
            return []
        }
        let id = member.member.customerId
        if app.audiences.revealed.contains(id) {
            app.audiences.revealed.remove(id)
            app.status = StatusMessage(text: "PII masked again", isError: false, at: app.now)
            return []
        }
        if app.readOnly {
            app.status = StatusMessage(text: "read-only: revealing is disabled, as its audit event would be a write (started with --read-only)",
                                       isError: true, at: app.now)
            return []
        }
        // The Customers pane's reveal: the erasure check and the audit event in one write, then `revealArrived`.
        return [.customers(.reveal([id], via: "console: audience \(name) members"))]
    }

    /// The reveal was audited: show those members' PII while they stay selected.
    mutating func revealArrived(_ ids: [String], _ ctx: PaneContext) {
        guard open != nil, let selected = selectedMember(ctx)?.member.customerId, ids.contains(selected) else { return }
        revealed.insert(selected)
    }

    /// PII shows only while the pane is shown and the member selected.
    public static func settle(_ app: inout AppState) {
        guard !app.audiences.revealed.isEmpty else { return }
        if app.pane != .audiences || app.audiences.open == nil {
            app.audiences.revealed = []
        } else if let selected = app.audiences.selectedMember(app.context)?.member.customerId {
            app.audiences.revealed.formIntersection([selected])
        } else {
            app.audiences.revealed = []
        }
    }

    /// The first visit asks for the audiences at once.
    public static func shown(_ app: inout AppState) -> [Command] {
        guard !app.audiences.visited else { return [] }
        app.audiences.visited = true
        return app.requestSnapshot()
    }

    /// Once visited, every refresh reads the audiences (and the open one's detail) through the activation engine.
    public func refresh(_ request: inout SnapshotRequest) {
        guard visited else { return }
        let open = self.open, page = Self.memberPage
        request.panes[.audiences] = PaneQuery(key: "audiences|\(open ?? "")") { catalog in
            PaneData(AudiencesData(audiences: try catalog.audienceOverviews(),
                                   detail: try open.flatMap { try catalog.audienceDetail($0, memberLimit: page) }))
        }
    }

    public func awaitingData(_ app: AppState) -> Bool {
        guard let open, app.snapshot != nil, detail(app.context) == nil, app.catalogError == nil else { return false }
        // An audience gone from steward.yml never loads: keys are not held for it.
        return data(app.context)?.audiences.contains { $0.summary.name == open } != false
    }
}
