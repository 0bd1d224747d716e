import Foundation

extension PaneID { public static let sla = PaneID(SLAPane.self) }

extension AppState {
    public var sla: SLAPane {
        get { self[SLAPane.self] }
        set { self[SLAPane.self] = newValue }
    }
}

/// Pane 4: KPIs, the error budget, anomalies; a KPI's history.
extension SLAPane: ListPane {
    public static let title = "SLA/KPI"

    public mutating func resetSelection() { list = ListState() }

    public func refresh(_ request: inout SnapshotRequest) { request.kpi = openKPI }

    public func awaitingData(_ app: AppState) -> Bool {
        openKPI != nil && app.snapshot != nil && app.snapshot?.kpiHistory == nil && app.catalogError == nil
    }
}
