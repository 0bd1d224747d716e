import Foundation

extension PaneID { public static let runs = PaneID(RunsPane.self) }

extension AppState {
    public var runs: RunsPane {
        get { self[RunsPane.self] }
        set { self[RunsPane.self] = newValue }
    }
}

/// Pane 3: runs, the selected run's steps, the audit log.
extension RunsPane: ListPane {
    public static let title = "Runs"
    public static var sortable: Bool { true }

    public mutating func resetSelection() {
        runsList = ListState(); stepsList = ListState(); auditList = ListState()
    }
}
