import Foundation

extension PaneID { public static let sources = PaneID(SourcesPane.self) }

extension AppState {
    public var sources: SourcesPane {
        get { self[SourcesPane.self] }
        set { self[SourcesPane.self] = newValue }
    }
}

/// Pane 1: sources worst-first, a source's batches, steps, quarantine and checks.
extension SourcesPane: ListPane {
    public static let title = "Sources"
    public static var sortable: Bool { true }

    public static func update(_ app: inout AppState, _ action: Action) -> [Command] {
        // Enter on a quarantined row opens its detail.
        if action == .open, let row = app.sources.selectedQuarantineRow(app.context) { app.openRow(row); return [] }
        return listUpdate(&app, action)
    }

    public mutating func resetSelection() {
        if openSource != nil { sectionLists[section.rawValue] = ListState() } else { list = ListState() }
    }

    public func refresh(_ request: inout SnapshotRequest) {
        request.source = openSource
        request.sourceQuarantine = quarantineQuery
    }

    public func awaitingData(_ app: AppState) -> Bool {
        guard let open = openSource, let snapshot = app.snapshot, app.catalogError == nil else { return false }
        return snapshot.sourceDetail?.overview.name != open || quarantinePageMissing(app.context, area: app.bodyArea)
    }
}
