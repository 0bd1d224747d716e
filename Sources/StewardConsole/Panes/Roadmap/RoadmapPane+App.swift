import Foundation
import StewardRoadmap

extension PaneID { public static let roadmap = PaneID(RoadmapPane.self) }

extension AppState {
    public var roadmap: RoadmapPane {
        get { self[RoadmapPane.self] }
        set { self[RoadmapPane.self] = newValue }
    }
}

/// Pane 5: the roadmap file's phases and tasks with evidence, the plan's risks, dependencies, budget
/// and updates. Space ticks a task (the file is written) or signs a deliverable off (audited);
/// `n` edits a task's note. Writes run off the main actor; keys typed meanwhile wait for them.
extension RoadmapPane: ListPane {
    public static let title = "Roadmap"

    public static var keys: [KeyBinding] {
        [KeyBinding(.toggleTask, [.char(" ")], "tick or untick the task (writes the roadmap file); fold a phase or month",
                    panes: [.roadmap], footer: true),
         KeyBinding(.note, [.char("n")], "add a note to the task", panes: [.roadmap], footer: true),
         KeyBinding(.cycleStatus, [.char("s")], "next status of the risk (open, mitigating, closed) or dependency (pending, met, blocked); audited",
                    panes: [.roadmap], footer: true)]
    }

    public static func update(_ app: inout AppState, _ action: Action) -> [Command] {
        switch action {
        case .toggleTask: return app.toggleRoadmapTask()
        case .note: return app.startRoadmapNote()
        case .cycleStatus: return app.cycleRoadmapStatus()
        default: return listUpdate(&app, action)
        }
    }

    public static func key(_ app: inout AppState, _ key: Key) -> [Command]? {
        app.mode == .note ? app.handleNoteKey(key) : nil
    }

    public mutating func resetSelection() { list = ListState() }

    /// Read-only refuses ticking and notes, so the footer does not offer them.
    public func offers(_ action: Action, _ app: AppState) -> Bool {
        !(app.readOnly && (action == .toggleTask || action == .note || action == .cycleStatus))
    }

    /// A tick, note or sign-off being written: the next Space must see its result, not the old state.
    public func awaitingData(_ app: AppState) -> Bool { writing }
}

extension AppState {
    /// Space in the Roadmap pane: ticks or unticks the selected task, signs off or reopens the selected
    /// deliverable, or folds a phase or month row.
    mutating func toggleRoadmapTask() -> [Command] {
        guard pane == .roadmap else { return [] }
        let ctx = context
        if let signOff = roadmap.signOffCommand(ctx) {
            guard !readOnly else {
                status = StatusMessage(text: "read-only: sign-off is disabled (started with --read-only)", isError: true, at: now)
                return []
            }
            roadmap.writing = true
            return [signOff]
        }
        guard let task = roadmap.selectedTask(ctx) else {
            _ = roadmap.toggleCollapse(ctx)
            clampPanes()
            return []
        }
        if readOnly {
            status = StatusMessage(text: "read-only: ticking is disabled (started with --read-only)", isError: true, at: now)
            return []
        }
        roadmap.writing = true
        return [.setRoadmapTask(id: task.id, state: task.isDone ? .open : .done)]
    }

    /// `s` in the Roadmap pane: the selected risk or dependency moves to its next status (audited).
    mutating func cycleRoadmapStatus() -> [Command] {
        guard pane == .roadmap else { return [] }
        guard let command = roadmap.statusCommand(context) else {
            status = .refused("select a risk or a dependency to change its status", at: now)
            return []
        }
        guard !readOnly else {
            status = StatusMessage(text: "read-only: status changes are disabled (started with --read-only)", isError: true, at: now)
            return []
        }
        roadmap.writing = true
        return [command]
    }

    /// `n` in the Roadmap pane: the status line becomes a note editor for the selected task.
    mutating func startRoadmapNote() -> [Command] {
        guard pane == .roadmap, let task = roadmap.selectedTask(context) else {
            status = .refused("select a task to add a note", at: now)
            return []
        }
        if readOnly {
            status = StatusMessage(text: "read-only: notes are disabled (started with --read-only)", isError: true, at: now)
            return []
        }
        roadmap.noteTarget = task.id
        mode = .note
        let note = snapshot?.roadmap?.notes[task.id]?.note ?? ""
        // A note saved before lines had a limit is never cut by editing it.
        input = InputLine(text: note, limit: max(InputLine.defaultLimit, note.count))
        return []
    }

    mutating func handleNoteKey(_ key: Key) -> [Command] {
        switch key {
        case .escape:
            mode = .normal; roadmap.noteTarget = nil
            return []
        case .enter:
            mode = .normal
            defer { roadmap.noteTarget = nil }
            guard let id = roadmap.noteTarget else { return [] }
            roadmap.writing = true
            return [.addRoadmapNote(id: id, note: input.text.trimmingCharacters(in: .whitespaces))]
        default:
            input.handle(key)
            return []
        }
    }

    /// `:progress`: the Roadmap pane with its progress popup.
    mutating func showRoadmapProgress() {
        pane = .roadmap
        roadmap.showProgress = true
        clampPanes()
    }

    /// A write finished (`document`: the roadmap file as it is now on disk, when it was the file).
    mutating func roadmapWritten(_ text: String, _ document: RoadmapDocument?) -> [Command] {
        roadmap.writing = false
        if let document { snapshot?.roadmap?.document = document }
        status = StatusMessage(text: text, isError: false, at: now)
        return requestSnapshot() + [.log(text)]
    }

    mutating func roadmapWriteFailed(_ error: String) -> [Command] {
        roadmap.writing = false
        status = StatusMessage(text: error, isError: true, at: now)
        return requestSnapshot() + [.log("roadmap write failed: \(error)")]
    }
}
