import Foundation

/// A markdown plan parsed into phases, sections and checkbox tasks, keeping the file's exact bytes.
///
/// ```swift
/// let doc = try RoadmapDocument(contentsOf: config.roadmap!)
/// for task in doc.tasks where !task.isDone { print(task.id, task.text) }
/// let kpis = doc.metricTables          // rows of tables with Metric and Target columns
/// ```
///
/// Headings give the hierarchy: the shallowest headings holding tasks are phases (a lone title
/// heading above them is skipped), the headings below a phase are its sections (months).
/// `- [ ]`, `* [x]`, `+ [X]`, `1. [ ]` items are tasks; `[-]` and `[~]` mean in progress; indented
/// task items are subtasks. Code fences, tables and other text hold no tasks.
public struct RoadmapDocument: Sendable, Equatable {
    /// The file's bytes exactly as read.
    public let bytes: [UInt8]
    /// The document title: a single level-1 heading above the phases, if any.
    public let title: String?
    /// Every heading in document order.
    public let headings: [Heading]
    /// Phases in document order; each lists its sections and tasks.
    public let phases: [Phase]
    /// Every task (subtasks included) in document order; `Task.parent`/`children` index into this array.
    public let tasks: [RoadmapTask]
    /// Rows of every table that has Metric and Target columns (Success Metrics, KPI tables).
    public let metricTables: [MetricRow]
    /// Entries of a timeline block (`Q1 2024: Foundation & Planning`), in order.
    public let timeline: [TimelineEntry]

    public init(bytes: [UInt8]) {
        var parser = RoadmapParser(bytes)
        self = parser.parse()
    }

    public init(text: String) { self.init(bytes: Array(text.utf8)) }

    public init(contentsOf url: URL) throws {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw RoadmapError.unreadable(url.path)
        }
        self.init(bytes: [UInt8](data))
    }

    init(bytes: [UInt8], title: String?, headings: [Heading], phases: [Phase], tasks: [RoadmapTask],
         metricTables: [MetricRow], timeline: [TimelineEntry]) {
        self.bytes = bytes; self.title = title; self.headings = headings; self.phases = phases
        self.tasks = tasks; self.metricTables = metricTables; self.timeline = timeline
        var map: [String: Int] = [:]
        map.reserveCapacity(tasks.count)
        for (i, t) in tasks.enumerated() { map[t.id] = i }
        indexById = map
    }

    /// This document after one checkbox byte changed: same structure, one task's state.
    func changing(task index: Int, to state: TaskState, bytes newBytes: [UInt8]) -> RoadmapDocument {
        var tasks = self.tasks
        tasks[index].state = state
        return RoadmapDocument(bytes: newBytes, title: title, headings: headings, phases: phases, tasks: tasks,
                               metricTables: metricTables, timeline: timeline, indexById: indexById)
    }

    private init(bytes: [UInt8], title: String?, headings: [Heading], phases: [Phase], tasks: [RoadmapTask],
                 metricTables: [MetricRow], timeline: [TimelineEntry], indexById: [String: Int]) {
        self.bytes = bytes; self.title = title; self.headings = headings; self.phases = phases
        self.tasks = tasks; self.metricTables = metricTables; self.timeline = timeline; self.indexById = indexById
    }

    func index(of id: String) -> Int? { indexById[id] }

    /// Everything in a document derives from its bytes.
    public static func == (a: RoadmapDocument, b: RoadmapDocument) -> Bool { a.bytes == b.bytes }

    /// The task with this id, or the only task whose id starts with it (so ids can be shortened).
    public func task(id: String) -> RoadmapTask? {
        if let i = indexById[id] { return tasks[i] }
        let matches = tasks.filter { $0.id.hasPrefix(id) }
        return matches.count == 1 ? matches[0] : nil
    }

    /// Top-level tasks (no parent task).
    public var rootTasks: [RoadmapTask] { tasks.filter { $0.parent == nil } }

    private let indexById: [String: Int]
}

public struct Heading: Sendable, Equatable {
    public var level: Int
    public var title: String
    /// 1-based line number.
    public var line: Int
}

public struct Phase: Sendable {
    public var title: String
    public var line: Int
    /// The quarter named in the heading, or given to it by the timeline block.
    public var quarter: Quarter?
    public var sections: [Section]
    /// Indexes into `RoadmapDocument.tasks` of this phase's top-level tasks (sections included).
    public var taskIndexes: [Int]
    /// Items of the `**Deliverables:**` lists of this phase.
    public var deliverables: [String]
}

/// A heading below a phase (typically `### Month 1: Assessment & Planning`).
public struct Section: Sendable {
    public var title: String
    public var line: Int
    /// `Month N` in the title, if present.
    public var monthNumber: Int?
    /// The due date: the month's end inside a quarter phase, else the phase's quarter end.
    public var due: Day?
    /// Indexes into `RoadmapDocument.tasks` of this section's top-level tasks.
    public var taskIndexes: [Int]
}

public enum TaskState: String, Sendable, Equatable, CaseIterable {
    case open, inProgress = "in_progress", done
}

public struct RoadmapTask: Sendable, Equatable {
    /// Stable id: a hash of the heading path, the parent task and the normalised text, plus `-N`
    /// for the N-th duplicate. Edits elsewhere in the file do not change it.
    public var id: String
    /// The task text as written (emphasis kept).
    public var text: String
    public var state: TaskState
    /// 1-based line number.
    public var line: Int
    /// Byte offset of the character between the brackets.
    public var checkOffset: Int
    /// Indexes of the phase in `RoadmapDocument.phases` and of the section in that phase, if any.
    public var phaseIndex: Int?
    public var sectionIndex: Int?
    /// Titles of the phase and of the innermost heading above the task.
    public var phase: String
    public var section: String
    public var parent: Int?
    public var children: [Int]
    public var depth: Int
    public var due: Day?

    public var isDone: Bool { state == .done }
    /// The text without markdown emphasis, for display and matching.
    public var plainText: String { Normalise.plain(text) }
}

/// A row of a metric table: `| Metric | Baseline | Target | Timeline |`.
public struct MetricRow: Sendable, Equatable {
    public var metric: String
    public var target: String
    public var timeline: String?
    public var baseline: String?
    /// Every cell by lower-cased column name, for columns beyond the four above.
    public var cells: [String: String]
    /// The heading the table sits under, and the row's 1-based line.
    public var section: String
    public var line: Int
    /// End of the quarter named in `timeline` (`Q2 2024` → 2024-06-30), or a date written there.
    public var due: Day? { timeline.flatMap(Day.parseDue) }
}

public struct TimelineEntry: Sendable, Equatable {
    public var quarter: Quarter
    public var label: String
    public var line: Int
}

public enum RoadmapError: Error, CustomStringConvertible, Equatable {
    case unreadable(String)
    case unknownTask(String)
    case ambiguousTask(String, [String])
    case taskGone(id: String, text: String, path: String)
    case writeFailed(String, String)

    public var description: String {
        switch self {
        case .unreadable(let path): return "cannot read the roadmap \(path)"
        case .unknownTask(let id): return "no task with id '\(id)'; `steward roadmap list` shows the ids"
        case .ambiguousTask(let id, let ids):
            return "'\(id)' matches several tasks (\(ids.prefix(5).joined(separator: ", "))); give more of the id"
        case .taskGone(let id, let text, let path):
            return "\(path) changed on disk and task \(id) (\"\(text)\") is no longer in it; nothing was written — reload and try again"
        case .writeFailed(let path, let why): return "cannot write \(path): \(why)"
        }
    }
}
