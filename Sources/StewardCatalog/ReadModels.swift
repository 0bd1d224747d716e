import Foundation

/// Read models: what the CLI and the console show. Produced by `Catalog` queries, never by views.

public enum SourceHealth: String, Codable, Sendable, CaseIterable {
    case ok, warn, error, stale, never, running
}

public enum FreshnessStatus: String, Codable, Sendable {
    case ok, warn, error, never
}

public struct SourceOverview: Sendable, Equatable {
    public var name: String
    public var system: String
    public var entity: String
    public var format: String
    public var status: SourceHealth
    public var statusReason: String
    public var lastLoadedAt: Date?
    public var freshnessAge: TimeInterval?
    public var freshnessStatus: FreshnessStatus
    public var warnAfter: TimeInterval?
    public var errorAfter: TimeInterval?
    public var rowsRaw: Int
    public var rowsStaged: Int
    public var rowsQuarantined: Int
    public var rowsFlagged: Int
    public var qualityScore: Double?
    /// Rows read per recent run, oldest first (for a sparkline).
    public var recentRows: [Int]
    public var lastStepStatus: String?
    public var lastStepMessage: String?

    /// A declared source before the catalog exists (read commands show it without creating a catalog).
    public static func neverLoaded(name: String, system: String, entity: String, format: String,
                                   warnAfter: TimeInterval?, errorAfter: TimeInterval?) -> SourceOverview {
        SourceOverview(name: name, system: system, entity: entity, format: format, status: .never, statusReason: "never loaded",
                       lastLoadedAt: nil, freshnessAge: nil, freshnessStatus: .never, warnAfter: warnAfter, errorAfter: errorAfter,
                       rowsRaw: 0, rowsStaged: 0, rowsQuarantined: 0, rowsFlagged: 0, qualityScore: nil, recentRows: [],
                       lastStepStatus: nil, lastStepMessage: nil)
    }
}

public struct BatchInfo: Sendable, Equatable {
    public var id: Int64
    public var runId: Int64
    public var file: String
    public var sha256: String
    public var size: Int64
    public var rows: Int
    public var rowsLoaded: Int
    public var rowsQuarantined: Int
    public var loadedAt: Date?
}

public struct StepInfo: Sendable, Equatable {
    public var runId: Int64
    public var source: String
    public var status: String
    public var startedAt: Date?
    public var durationMs: Double?
    public var batches: Int
    public var rowsRead: Int
    public var rowsLoaded: Int
    public var rowsQuarantined: Int
    public var message: String?
}

public struct QuarantinedRow: Sendable, Equatable {
    public var id: Int64
    public var runId: Int64
    public var source: String
    public var file: String
    public var line: Int
    public var recordKey: String?
    public var checks: [String]
    public var reasons: [String]
    public var raw: String
    public var quarantinedAt: Date?
}

public struct CheckStatus: Sendable, Equatable {
    public var source: String
    public var name: String
    public var type: String
    public var column: String?
    public var dimension: String
    public var severity: String
    public var params: String
    public var runId: Int64?
    public var evaluated: Int
    public var passed: Int
    public var failed: Int
    public var score: Double?
    public var samples: [String]
    /// `pass`, `fail` or `not_run`.
    public var status: String { score == nil ? "not_run" : (failed == 0 ? "pass" : "fail") }
}

public struct CheckHistoryPoint: Sendable, Equatable {
    public var runId: Int64
    public var evaluated: Int
    public var passed: Int
    public var failed: Int
    public var evaluatedAt: Date?
}

public struct SourceDetail: Sendable, Equatable {
    public var overview: SourceOverview
    public var batches: [BatchInfo]
    public var steps: [StepInfo]
    public var quarantine: [QuarantinedRow]
    public var checks: [CheckStatus]
}

public enum QualityDimension: String, CaseIterable, Codable, Sendable {
    case completeness, validity, uniqueness, consistency, timeliness
}

public struct SourceQuality: Sendable, Equatable {
    public var source: String
    public var score: Double?
    public var weight: Int
    public var dimensions: [QualityDimension: Double]
    public var checks: [CheckStatus]
}

public struct QualityOverview: Sendable, Equatable {
    public var score: Double?
    public var dimensions: [QualityDimension: Double]
    public var sources: [SourceQuality]
    /// Overall score after each recent run, oldest first.
    public var trend: [Double]
    public var failingChecks: [CheckStatus] { sources.flatMap(\.checks).filter { $0.failed > 0 }.sorted { $0.failed > $1.failed } }
}

public struct RunInfo: Sendable, Equatable {
    public var id: Int64
    public var trigger: String
    public var status: String
    public var startedAt: Date?
    public var finishedAt: Date?
    public var actor: String
    public var rowsRead: Int
    public var rowsLoaded: Int
    public var rowsQuarantined: Int
    public var message: String?
    public var steps: [StepInfo]
    public var duration: TimeInterval? {
        guard let s = startedAt, let f = finishedAt else { return nil }
        return f.timeIntervalSince(s)
    }
}

public struct AuditEvent: Sendable, Equatable {
    public var id: Int64
    public var at: Date?
    public var actor: String
    public var action: String
    public var subject: String
    public var detail: String
}
