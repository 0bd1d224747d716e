import Foundation
import StewardCatalog

/// How a task's tick compares with what the catalog shows.
public enum EvidenceMark: String, Sendable, CaseIterable {
    /// Ticked, and the condition holds.
    case verified
    /// Ticked, but the condition does not hold.
    case tickedWithoutEvidence = "ticked_without_evidence"
    /// Not ticked, though the condition holds.
    case evidenceNotTicked = "evidence_not_ticked"
    /// Not ticked, and the condition does not hold yet.
    case pending
    /// The catalog cannot tell yet.
    case unknown
}

public struct TaskEvidence: Sendable, Equatable {
    public var condition: EvidenceCondition
    public var result: EvidenceResult
    public var mark: EvidenceMark
}

/// Matches `evidence:` rules to tasks (by id, else by text without emphasis or case) and
/// evaluates them on the catalog.
///
/// ```swift
/// let evidence = RoadmapEvidence(doc, rules: config.evidence, catalog: catalog)
/// evidence.byTask[task.id]?.mark   // .verified, .tickedWithoutEvidence, …
/// ```
public struct RoadmapEvidence: Sendable {
    public var byTask: [String: TaskEvidence]
    /// Rules that name no task of the roadmap.
    public var unmatched: [EvidenceRule]

    public init(_ doc: RoadmapDocument, rules: [EvidenceRule], catalog: Catalog?) {
        byTask = [:]
        unmatched = []
        guard !rules.isEmpty else { return }
        var results: [EvidenceCondition: EvidenceResult] = [:]
        if let catalog {
            do { results = try catalog.evaluate(rules.map(\.condition)) }
            catch { for r in rules { results[r.condition] = .unknown("catalog unreadable: \(error)") } }
        }
        var byKey: [String: [Int]] = [:]
        for (i, t) in doc.tasks.enumerated() { byKey[Normalise.key(t.text), default: []].append(i) }
        for rule in rules {
            var matched: [Int] = doc.tasks.firstIndex { $0.id == rule.task }.map { [$0] } ?? []
            if matched.isEmpty { matched = byKey[Normalise.key(rule.task)] ?? [] }
            if matched.isEmpty { unmatched.append(rule); continue }
            let result = results[rule.condition] ?? .unknown("no catalog yet")
            for i in matched {
                let done = doc.tasks[i].isDone
                let mark: EvidenceMark
                switch result {
                case .present: mark = done ? .verified : .evidenceNotTicked
                case .absent: mark = done ? .tickedWithoutEvidence : .pending
                case .unknown: mark = .unknown
                }
                byTask[doc.tasks[i].id] = TaskEvidence(condition: rule.condition, result: result, mark: mark)
            }
        }
    }
}

extension RoadmapFile {
    /// `set(_:to:)`, then an audit event (`roadmap_tick` / `roadmap_untick`) when the file changed.
    public mutating func set(_ id: String, to state: TaskState, auditingIn catalog: Catalog?) throws -> Change {
        let change = try set(id, to: state)
        if change.written, let catalog, (state == .done) != (change.previous == .done) {
            try catalog.recordRoadmapChange(taskId: change.task.id, text: change.task.plainText, done: state == .done)
        }
        return change
    }
}

extension Catalog {
    /// Ticks and unticks as the forecast wants them.
    public func roadmapTickEvents(since: Date? = nil) throws -> [TickEvent] {
        try roadmapChanges(since: since).map { TickEvent(at: $0.at, taskId: $0.taskId, done: $0.done) }
    }
}
