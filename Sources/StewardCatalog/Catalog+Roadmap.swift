import Foundation
import GRDB

/// Roadmap history: ticks and unticks are audit events; notes live in `roadmap_note`.
///
/// ```swift
/// try catalog.recordRoadmapChange(taskId: "3f9a0c12", text: "Implement SCD Type 2", done: true)
/// let ticks = try catalog.roadmapChanges(since: Date().addingTimeInterval(-28 * 86_400))
/// ```
extension Catalog {
    public static let roadmapTickAction = "roadmap_tick"
    public static let roadmapUntickAction = "roadmap_untick"

    /// Audits a tick (`done`) or untick of a task: actor the OS user, subject the id, detail the text.
    public func recordRoadmapChange(taskId: String, text: String, done: Bool, actor: String = Catalog.osUser) throws {
        try audit(action: done ? Self.roadmapTickAction : Self.roadmapUntickAction, subject: taskId, detail: text, actor: actor)
    }

    /// Ticks and unticks, oldest first (all of them, or since a time).
    public func roadmapChanges(since: Date? = nil) throws -> [RoadmapChangeRecord] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT at, actor, action, subject, detail FROM audit_event
                WHERE action IN (?, ?) AND at >= ? ORDER BY id
                """, arguments: [Self.roadmapTickAction, Self.roadmapUntickAction, since.map(Timestamp.string) ?? ""])
            .map { row in
                RoadmapChangeRecord(at: Timestamp.date(row["at"]) ?? Date(timeIntervalSince1970: 0), actor: row["actor"],
                                    taskId: row["subject"], text: row["detail"],
                                    done: (row["action"] as String) == Self.roadmapTickAction)
            }
        }
    }

    /// The latest tick or untick of each task, by task id: who and when.
    public func roadmapLastChanges() throws -> [String: RoadmapChangeRecord] {
        var last: [String: RoadmapChangeRecord] = [:]
        for change in try roadmapChanges() { last[change.taskId] = change }
        return last
    }

    /// Adds a note to a task (notes are kept as history; the newest is the task's note).
    public func addRoadmapNote(taskId: String, taskText: String, note: String, actor: String = Catalog.osUser) throws {
        try pool.write { db in
            try db.execute(sql: "INSERT INTO roadmap_note (task_id, task_text, note, actor, at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [taskId, taskText, note, actor, Timestamp.now()])
            try Catalog.audit(db, action: "roadmap_note", subject: taskId, detail: note, actor: actor)
        }
    }

    /// Every note of one task, oldest first.
    public func roadmapNotes(taskId: String) throws -> [RoadmapNote] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM roadmap_note WHERE task_id = ? ORDER BY id", arguments: [taskId]).map(RoadmapNote.init)
        }
    }

    /// The newest note of each task, by task id (an empty note clears it).
    public func roadmapLatestNotes() throws -> [String: RoadmapNote] {
        try pool.read { db in
            var out: [String: RoadmapNote] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT n.* FROM roadmap_note n
                JOIN (SELECT task_id, MAX(id) AS id FROM roadmap_note GROUP BY task_id) last ON last.id = n.id
                """) {
                let note = RoadmapNote(row)
                if !note.note.isEmpty { out[note.taskId] = note }
            }
            return out
        }
    }
}

public struct RoadmapChangeRecord: Sendable, Equatable {
    public var at: Date
    public var actor: String
    public var taskId: String
    public var text: String
    public var done: Bool
}

public struct RoadmapNote: Sendable, Equatable {
    public var taskId: String
    public var taskText: String
    public var note: String
    public var actor: String
    public var at: Date

    public init(taskId: String, taskText: String, note: String, actor: String, at: Date) {
        self.taskId = taskId; self.taskText = taskText; self.note = note; self.actor = actor; self.at = at
    }

    init(_ row: Row) {
        taskId = row["task_id"]; taskText = row["task_text"]; note = row["note"]; actor = row["actor"]
        at = Timestamp.date(row["at"]) ?? Date(timeIntervalSince1970: 0)
    }
}
