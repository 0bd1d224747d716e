import Foundation
import StewardCatalog
import StewardConfig

/// The on-call verdict, as monitoring plugins report it: `ok`, `warn`, `breach` or `unknown` (exit codes
/// 0, 1, 2, 3 of `steward check`). `unknown`: the project, its config or its catalog cannot be read, so
/// nothing can be said about the data; cron and monitors can tell "broken" from "breached".
public enum HealthState: String, Sendable, Codable, Comparable, CaseIterable {
    case ok, warn, breach, unknown

    public var exitCode: Int32 { Int32(rank) }
    private var rank: Int {
        switch self {
        case .ok: return 0
        case .warn: return 1
        case .breach: return 2
        case .unknown: return 3
        }
    }
    public static func < (a: HealthState, b: HealthState) -> Bool { a.rank < b.rank }
}

/// One line of `steward check`.
public struct HealthProblem: Sendable, Equatable, Codable {
    /// `stale_source`, `late_source`, `never_loaded`, `never_run`, `failed_source`, `mass_delete` (deletions
    /// held), `unreadable_rows`, `skipped_files`, `failed_run`, `failing_checks`, `kpi_breached`, `kpi_at_risk`, `anomaly`, `destination_failing`; with severity `unknown`: `project`,
    /// `config`, `catalog` (what could not be read).
    public var kind: String
    public var subject: String
    public var message: String
    public var severity: HealthState
}

public struct HealthReport: Sendable, Equatable {
    public var status: HealthState
    public var problems: [HealthProblem]
    public var kpis: [KPIStatus]
    public var anomalies: [Anomaly]

    public init(status: HealthState, problems: [HealthProblem], kpis: [KPIStatus], anomalies: [Anomaly]) {
        self.status = status
        self.problems = problems
        self.kpis = kpis
        self.anomalies = anomalies
    }

    /// The verdict when the project cannot be judged: `kind` is `project`, `config` or `catalog`.
    public static func unknown(kind: String, subject: String, message: String) -> HealthReport {
        HealthReport(status: .unknown, problems: [HealthProblem(kind: kind, subject: subject, message: message, severity: .unknown)],
                     kpis: [], anomalies: [])
    }
}

/// Gathers every problem on-call cares about: sources, the last run, error checks, KPIs, anomalies.
public struct HealthCheck: Sendable {
    public let config: ProjectConfig
    public let catalog: Catalog
    public let now: Date
    public var anomalyDetector = AnomalyDetector()

    public init(config: ProjectConfig, catalog: Catalog, now: Date = Date()) {
        self.config = config
        self.catalog = catalog
        self.now = now
    }

    /// Evaluates KPIs (storing a measurement each), anomalies and source health.
    /// - parameter currentRun: the run being finished by the pipeline (its row still says `running`).
    public func report(kpis: [KPIStatus]? = nil, currentRun: (id: Int64, status: String)? = nil,
                       storeMeasurements: Bool = true) throws -> HealthReport {
        var problems: [HealthProblem] = []
        let overviews = try catalog.sourceOverviews(now: now)
        // Sources in steward.yml the catalog has not seen yet (added since the last run, or no run at all).
        let known = Set(overviews.map(\.name))
        for s in config.sources where !known.contains(s.name) {
            problems.append(HealthProblem(kind: "never_loaded", subject: s.name, message: "never loaded (not in the catalog yet)", severity: .warn))
        }
        let unreadable = try catalog.openUnreadableRows()
        for s in overviews {
            switch s.freshnessStatus {
            case .error:
                problems.append(HealthProblem(kind: "stale_source", subject: s.name,
                    message: "no new data for \(Duration.describe(s.freshnessAge ?? 0)) (error after \(Duration.describe(s.errorAfter ?? 0)))",
                    severity: .breach))
            case .warn:
                problems.append(HealthProblem(kind: "late_source", subject: s.name,
                    message: "no new data for \(Duration.describe(s.freshnessAge ?? 0)) (warn after \(Duration.describe(s.warnAfter ?? 0)))",
                    severity: .warn))
            case .never:
                problems.append(HealthProblem(kind: "never_loaded", subject: s.name, message: "never loaded", severity: .warn))
            case .ok: break
            }
            if s.lastStepStatus == "held" {
                problems.append(HealthProblem(kind: "mass_delete", subject: s.name,
                                              message: s.lastStepMessage ?? "deletions held by the deletion guard", severity: .breach))
            }
            if let count = unreadable[s.name], count > 0 {
                problems.append(HealthProblem(kind: "unreadable_rows", subject: s.name,
                    message: "\(count) unreadable row\(count == 1 ? "" : "s") in quarantine (steward quarantine --source \(s.name))",
                    severity: .warn))
            }
            if s.lastStepStatus == "warn", s.lastStepMessage?.contains("not a regular file") == true {
                problems.append(HealthProblem(kind: "skipped_files", subject: s.name,
                                              message: "last load: \(s.lastStepMessage ?? "files skipped")", severity: .warn))
            }
            if s.lastStepStatus == "failed" {
                problems.append(HealthProblem(kind: "failed_source", subject: s.name,
                                              message: "last load failed: \(s.lastStepMessage ?? "no message")", severity: .breach))
            }
        }
        let last = try catalog.lastRun()
        let runId = currentRun?.id ?? last?.id
        let runStatus = currentRun?.status ?? last?.status
        if runId == nil {
            problems.append(HealthProblem(kind: "never_run", subject: "pipeline", message: "the pipeline has never run (steward run)", severity: .warn))
        }
        if let runId, let runStatus {
            switch runStatus {
            case "failed":
                problems.append(HealthProblem(kind: "failed_run", subject: "run:\(runId)", message: "run \(runId) failed", severity: .breach))
            case "partial", "interrupted":
                problems.append(HealthProblem(kind: "failed_run", subject: "run:\(runId)",
                                              message: "run \(runId) \(runStatus)\(last?.id == runId ? last?.message.map { ": \($0)" } ?? "" : "")",
                                              severity: .warn))
            default: break
            }
        }
        // Destinations (issue 20): failing for longer than their `error_after` is a breach; failing at all, a warning.
        let syncs = try catalog.destinationSyncHealth()
        for d in config.destinations {
            guard let h = syncs[d.name], let since = h.failingSince else { continue }
            let failingFor = now.timeIntervalSince(since)
            let late = d.errorAfter.map { failingFor > $0 } ?? false
            problems.append(HealthProblem(kind: "destination_failing", subject: d.name,
                message: "sync failing for \(Duration.describe(failingFor))" + (d.errorAfter.map { " (error after \(Duration.describe($0)))" } ?? "")
                    + ": \(h.last.error ?? "no message"); \(h.last.pending) changes waiting",
                severity: late ? .breach : .warn))
        }
        let quality = try catalog.qualityOverview(trendLength: 1)
        for source in quality.sources {
            let failing = source.checks.filter { $0.severity == "error" && $0.failed > 0 }
            guard !failing.isEmpty else { continue }
            let rows = failing.reduce(0) { $0 + $1.failed }
            problems.append(HealthProblem(kind: "failing_checks", subject: source.source,
                message: "\(failing.count) error check\(failing.count == 1 ? "" : "s") failing (\(failing.map(\.name).joined(separator: ", "))), \(rows) rows quarantined",
                severity: .warn))
        }
        let kpis = try kpis ?? KPIEvaluator(config: config, catalog: catalog, now: now).evaluate(store: storeMeasurements, runId: currentRun?.id)
        for k in kpis {
            switch k.status {
            case .breached:
                problems.append(HealthProblem(kind: "kpi_breached", subject: k.name, message: "KPI breached: \(k.reason)", severity: .breach))
            case .atRisk:
                problems.append(HealthProblem(kind: "kpi_at_risk", subject: k.name, message: "KPI at risk: \(k.reason)", severity: .warn))
            case .met, .noData: break
            }
        }
        let anomalies = try anomalyDetector.detect(catalog: catalog, runId: currentRun?.id, now: now,
                                                   currentQuality: currentRun == nil ? nil : quality.score)
        for a in anomalies {
            problems.append(HealthProblem(kind: "anomaly", subject: a.metric == .rowsLoaded ? a.subject : a.metric.rawValue,
                                          message: a.message, severity: .warn))
        }
        let status = problems.map(\.severity).max() ?? .ok
        return HealthReport(status: status, problems: problems, kpis: kpis, anomalies: anomalies)
    }
}
