import Foundation
import GRDB
import StewardCatalog

/// What the PM decided about the plan, kept in the catalog's append-only audit log (actor the OS
/// user, time, subject the item's id, detail JSON): sign-offs, risk and dependency statuses, spend
/// and sent reports. The plan file itself is never written for these.
///
/// ```swift
/// try catalog.recordPlan(.signOff, subject: deliverable.id, detail: PlanDetail(text: deliverable.text, note: "ok"))
/// let state = try PlanState(catalog.planEvents())
/// state.signOffs[deliverable.id]?.actor
/// ```
public enum PlanAction: String, Sendable, CaseIterable {
    case signOff = "roadmap_signoff", reopen = "roadmap_reopen", riskStatus = "roadmap_risk_status"
    case dependencyStatus = "roadmap_dep_status", spend = "roadmap_spend", reportSent = "roadmap_report_sent"
}

public enum RiskStatus: String, Sendable, CaseIterable { case open, mitigating, closed }
public enum DependencyStatus: String, Sendable, CaseIterable { case pending, met, blocked }

/// The detail of a plan event, stored as JSON text.
public struct PlanDetail: Sendable, Equatable, Codable {
    /// The item's text when it was recorded (the id is a hash of it).
    public var text: String?
    public var status: String?
    public var note: String?
    public var amount: Double?
    public var currency: String?
    /// For spend: the day it applies to (`--at`), `YYYY-MM-DD`.
    public var on: String?
    /// For a sent report: where it went (`webhook`, `manual`) and the cadence ids it counts for.
    public var channel: String?
    public var cadences: [String]?

    public init(text: String? = nil, status: String? = nil, note: String? = nil, amount: Double? = nil, currency: String? = nil,
                on: String? = nil, channel: String? = nil, cadences: [String]? = nil) {
        self.text = text; self.status = status; self.note = note; self.amount = amount; self.currency = currency
        self.on = on; self.channel = channel; self.cadences = cadences
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func parse(_ text: String) -> PlanDetail {
        (try? JSONDecoder().decode(PlanDetail.self, from: Data(text.utf8))) ?? PlanDetail(note: text.isEmpty ? nil : text)
    }
}

public struct PlanEvent: Sendable, Equatable {
    public var at: Date
    public var actor: String
    public var action: PlanAction
    public var subject: String
    public var detail: PlanDetail
}

extension Catalog {
    /// Appends one plan decision to the audit log.
    public func recordPlan(_ action: PlanAction, subject: String, detail: PlanDetail, actor: String = Catalog.osUser) throws {
        try audit(action: action.rawValue, subject: subject, detail: detail.json, actor: actor)
    }

    /// Every plan decision, oldest first.
    public func planEvents() throws -> [PlanEvent] {
        let actions = PlanAction.allCases.map(\.rawValue)
        return try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT at, actor, action, subject, detail FROM audit_event
                WHERE action IN (\(actions.map { _ in "?" }.joined(separator: ","))) ORDER BY id
                """, arguments: StatementArguments(actions))
            .compactMap { row in
                guard let action = PlanAction(rawValue: row["action"]) else { return nil }
                return PlanEvent(at: Timestamp.date(row["at"]) ?? Date(timeIntervalSince1970: 0), actor: row["actor"],
                                 action: action, subject: row["subject"], detail: PlanDetail.parse(row["detail"]))
            }
        }
    }
}

/// The latest decisions, folded from the events.
public struct PlanState: Sendable, Equatable {
    public struct Decision: Sendable, Equatable {
        public var status: String
        public var actor: String
        public var at: Date
        public var note: String?
    }
    public struct Spend: Sendable, Equatable {
        public var amount: Double
        public var currency: String?
        public var on: Day
        public var actor: String
        public var note: String?
    }
    public struct Report: Sendable, Equatable {
        public var at: Date
        public var actor: String
        public var channel: String
        /// Cadence ids it counts for; empty means all.
        public var cadences: [String]
    }

    /// Signed-off deliverables by id (a reopen removes the entry).
    public var signOffs: [String: Decision] = [:]
    /// Reopened deliverables by id: the latest reopen, kept for the history line.
    public var reopened: [String: Decision] = [:]
    public var risks: [String: Decision] = [:]
    public var dependencies: [String: Decision] = [:]
    /// Spend by budget item id, oldest first.
    public var spend: [String: [Spend]] = [:]
    public var reports: [Report] = []
    public var events: [PlanEvent] = []

    public init() {}

    public init(_ events: [PlanEvent]) {
        self.events = events
        for e in events {
            let decision = Decision(status: e.detail.status ?? "", actor: e.actor, at: e.at, note: e.detail.note)
            switch e.action {
            case .signOff: signOffs[e.subject] = decision; reopened[e.subject] = nil
            case .reopen: signOffs[e.subject] = nil; reopened[e.subject] = decision
            case .riskStatus: risks[e.subject] = decision
            case .dependencyStatus: dependencies[e.subject] = decision
            case .spend:
                guard let amount = e.detail.amount else { continue }
                let on = e.detail.on.flatMap(Day.parse) ?? Day.today(e.at)
                spend[e.subject, default: []].append(Spend(amount: amount, currency: e.detail.currency, on: on, actor: e.actor, note: e.detail.note))
            case .reportSent:
                reports.append(Report(at: e.at, actor: e.actor, channel: e.detail.channel ?? "manual", cadences: e.detail.cadences ?? []))
            }
        }
    }

    /// A deliverable's sign-offs and reopens, oldest first: who, when and the note of each.
    public func signOffHistory(of deliverableId: String) -> [PlanEvent] {
        events.filter { ($0.action == .signOff || $0.action == .reopen) && $0.subject == deliverableId }
    }

    /// The last report that counts for a cadence (one sent for all, or for it).
    public func lastReport(for cadenceId: String) -> Report? {
        reports.last { $0.cadences.isEmpty || $0.cadences.contains(cadenceId) }
    }
}
