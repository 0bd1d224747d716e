import Foundation

extension PaneID { public static let quality = PaneID(QualityPane.self) }

extension AppState {
    public var quality: QualityPane {
        get { self[QualityPane.self] }
        set { self[QualityPane.self] = newValue }
    }
}

/// Pane 2: checks per source, the failing checks, a check's history and failing records.
extension QualityPane: ListPane {
    public static let title = "Quality"
    public static var sortable: Bool { true }

    public static func update(_ app: inout AppState, _ action: Action) -> [Command] {
        // Enter on a failing record opens its detail.
        if action == .open, let row = app.quality.selectedFailingRow(app.context) { app.openRow(row); return [] }
        return listUpdate(&app, action)
    }

    public mutating func resetSelection() {
        if openCheck != nil { samplesList = ListState() }
        else if openSource != nil { sourceChecksList = ListState() }
        else { matrixList = ListState(); failingList = ListState() }
    }

    public func refresh(_ request: inout SnapshotRequest) {
        request.check = openCheck
        request.checkFailing = failingQuery
    }

    public func awaitingData(_ app: AppState) -> Bool {
        guard let ref = openCheck, let snapshot = app.snapshot, app.catalogError == nil else { return false }
        if snapshot.checkDetail?.check.source != ref.source || snapshot.checkDetail?.check.name != ref.name {
            return snapshot.quality?.sources.contains { $0.source == ref.source } == true
        }
        return failingPageMissing(app.context, area: app.bodyArea)
    }
}
