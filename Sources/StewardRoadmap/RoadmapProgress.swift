import Foundation

/// Progress per phase, section (month) and in total, with a forecast completion date.
///
/// ```swift
/// let progress = RoadmapProgress(doc, ticks: try catalog.roadmapTickEvents(), today: Day.today())
/// print(progress.total.percent, progress.forecast?.completion)
/// ```
///
/// Each top-level task weighs one: a ticked task counts 1, an unticked task with subtasks the mean
/// of its subtasks (recursively), any other 0. Subtasks roll up; they are not counted on their own.
public struct RoadmapProgress: Sendable, Equatable {
    public var total: Figures
    public var phases: [PhaseProgress]
    public var forecast: Forecast?

    public struct Figures: Sendable, Equatable {
        /// Top-level tasks ticked, in progress (`[-]`/`[~]`), and in all.
        public var done: Int
        public var inProgress: Int
        public var total: Int
        /// Not done and past due.
        public var overdue: Int
        /// Completion 0...1 with subtasks rolled up.
        public var fraction: Double
        public var percent: Int { Int((fraction * 100).rounded(.down)) }
    }

    public struct PhaseProgress: Sendable, Equatable {
        public var title: String
        public var due: Day?
        public var figures: Figures
        public var sections: [SectionProgress]
    }

    public struct SectionProgress: Sendable, Equatable {
        public var title: String
        public var due: Day?
        public var figures: Figures
    }

    public init(_ doc: RoadmapDocument, ticks: [TickEvent] = [], today: Day = .today(), now: Date = Date(),
                windowDays: Int = 28) {
        let completion = Self.completions(doc)
        func figures(_ indexes: [Int]) -> Figures {
            var f = Figures(done: 0, inProgress: 0, total: indexes.count, overdue: 0, fraction: 0)
            var sum = 0.0
            for i in indexes {
                let t = doc.tasks[i]
                if t.state == .done { f.done += 1 } else if t.state == .inProgress { f.inProgress += 1 }
                if t.state != .done, let due = t.due, due < today { f.overdue += 1 }
                sum += completion[i]
            }
            f.fraction = indexes.isEmpty ? 0 : sum / Double(indexes.count)
            return f
        }
        phases = doc.phases.map { p in
            PhaseProgress(title: p.title, due: p.quarter?.lastDay, figures: figures(p.taskIndexes),
                          sections: p.sections.map { SectionProgress(title: $0.title, due: $0.due, figures: figures($0.taskIndexes)) })
        }
        let roots = doc.tasks.indices.filter { doc.tasks[$0].parent == nil }
        total = figures(roots)
        let remaining = roots.reduce(0.0) { $0 + (1 - completion[$1]) }
        forecast = Forecast(remaining: remaining, ticks: ticks, today: today, now: now, windowDays: windowDays)
    }

    /// Completion 0...1 of every task, subtasks rolled up.
    public static func completions(_ doc: RoadmapDocument) -> [Double] {
        var c = [Double](repeating: 0, count: doc.tasks.count)
        // Children come after their parent: walk backwards so children are final first.
        for i in doc.tasks.indices.reversed() {
            let t = doc.tasks[i]
            if t.state == .done { c[i] = 1 }
            else if !t.children.isEmpty { c[i] = t.children.reduce(0.0) { $0 + c[$1] } / Double(t.children.count) }
        }
        return c
    }
}

/// A tick or untick from the audit log.
public struct TickEvent: Sendable, Equatable {
    public var at: Date
    public var taskId: String
    public var done: Bool
    public init(at: Date, taskId: String, done: Bool) { self.at = at; self.taskId = taskId; self.done = done }
}

/// When the rest will be done at the recent rate: net ticks (ticks minus unticks) over the last
/// `windowDays` (or since the first tick, if more recent, but at least a week), extrapolated.
public struct Forecast: Sendable, Equatable {
    /// Tasks (fractional, subtasks rolled up) still to do.
    public var remaining: Double
    /// Net tasks completed per week over the window.
    public var perWeek: Double
    public var windowDays: Int
    /// nil when nothing was completed recently (no rate to extrapolate).
    public var completion: Day?

    public init(remaining: Double, ticks: [TickEvent], today: Day, now: Date, windowDays: Int = 28) {
        self.remaining = remaining
        let windowStart = now.addingTimeInterval(-Double(windowDays) * 86_400)
        let recent = ticks.filter { $0.at >= windowStart && $0.at <= now }
        let net = recent.reduce(0) { $0 + ($1.done ? 1 : -1) }
        let first = ticks.map(\.at).min()
        let spanDays = max(7, min(Double(windowDays), first.map { now.timeIntervalSince($0) / 86_400 } ?? Double(windowDays)))
        self.windowDays = Int(spanDays.rounded(.up))
        let perDay = Double(max(net, 0)) / spanDays
        perWeek = perDay * 7
        if remaining <= 0.000_1 {
            completion = today
        } else if perDay > 0 {
            completion = Day(ordinal: today.ordinal + Int((remaining / perDay).rounded(.up)))
        } else {
            completion = nil
        }
    }
}
