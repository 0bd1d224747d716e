import Foundation
import StewardCatalog
import StewardConfig
import StewardRoadmap
import StewardMetrics

/// Everything a frame shows, read from the catalog in one go off the main actor. Views read only this.
public struct ConsoleSnapshot: Sendable, Equatable {
    public var sources: [SourceOverview]
    /// Nil only in hand-built snapshots (tests); the loader always fills it.
    public var quality: QualityOverview?
    public var runs: [RunInfo]
    public var audit: [AuditEvent]
    /// The source open in the Sources pane, when one is.
    public var sourceDetail: SourceDetail?
    /// The check open in the Quality pane, when one is.
    public var checkDetail: CheckDetail?
    /// The roadmap file with evidence and notes, when the project has one.
    public var roadmap: RoadmapSnapshot?
    /// Why the roadmap could not be read.
    public var roadmapError: String?
    /// KPIs measured now (never stored: the console does not write) and the last run's anomalies.
    public var kpis: [KPIStatus] = []
    public var anomalies: [Anomaly] = []
    /// Stored measurements of the KPI open in the SLA/KPI pane, oldest first.
    public var kpiHistory: [KPIMeasurement]?
    public var loadedAt: Date
    /// How long the queries took, in milliseconds (shown in help, logged, benchmarked).
    public var loadMilliseconds: Double
    /// Which stored values are personal (steward.yml's mappings and `pii:` lists): panes mask by it.
    /// The default, no project known, masks every value.
    public var pii = PIIPolicy()
    /// `steward check`'s verdict on this catalog (the same `HealthCheck.report`); nil when the console
    /// has no project config to judge by (canned data).
    public var health: HealthReport?
    /// The page of the open source's quarantine the Sources pane shows (counted and filtered in SQL).
    public var sourceQuarantine: QuarantinePage?
    /// The overall score per run, newest first (the Quality pane's table).
    public var qualityRuns: [QualityRunPoint] = []
    /// What panes' own queries read (`SnapshotRequest.panes`), by pane.
    public var panes: [PaneID: PaneData] = [:]
    /// What `health` was computed from and when: the next refresh reuses it while the catalog is unchanged.
    public var healthMemo: HealthMemo?
    /// `steward serve` answering on this catalog (another process), for the header; nil when none is.
    public var server: ServePresence?
    /// The panes' data without the verdict yet (`SnapshotRequest.deferVerdict`): `health`, the KPIs and
    /// the roadmap's evidence come with the next snapshot, which the console asks for at once.
    public var verdictPending = false

    public init(sources: [SourceOverview] = [], quality: QualityOverview? = nil,
                runs: [RunInfo] = [], audit: [AuditEvent] = [], sourceDetail: SourceDetail? = nil, checkDetail: CheckDetail? = nil,
                loadedAt: Date = Date(), loadMilliseconds: Double = 0) {
        self.sources = sources; self.quality = quality; self.runs = runs; self.audit = audit
        self.sourceDetail = sourceDetail; self.checkDetail = checkDetail; self.loadedAt = loadedAt; self.loadMilliseconds = loadMilliseconds
    }
}

/// A check opened from the Quality pane: its latest result, history and failing records.
public struct CheckDetail: Sendable, Equatable {
    public var check: CheckStatus
    public var history: [CheckHistoryPoint]
    public var failing: [QuarantinedRow]
    /// The page of the check's quarantined rows the pane shows; `failing` is used without one (canned data).
    public var page: QuarantinePage?
    public init(check: CheckStatus, history: [CheckHistoryPoint], failing: [QuarantinedRow], page: QuarantinePage? = nil) {
        self.check = check; self.history = history; self.failing = failing; self.page = page
    }
}

/// Which drill-in details the next snapshot should include.
public struct SnapshotRequest: Sendable, Hashable {
    public var source: String?
    public var check: CheckRef?
    public var kpi: String?
    /// The page of the open source's quarantine to read, when its Quarantine section is shown.
    public var sourceQuarantine: QuarantineQuery?
    /// The page of the open check's failing (quarantined) rows to read.
    public var checkFailing: QuarantineQuery?
    /// Panes' own reads (see `Pane.refresh`).
    public var panes: [PaneID: PaneQuery] = [:]
    /// Leave the verdict out unless a memo of it is fresh: the console's first load, so that the
    /// sources, runs and quality show in milliseconds while `steward check`'s report, which reads
    /// every KPI (a second or more at a million customers), follows in a second snapshot.
    public var deferVerdict = false
    public init(source: String? = nil, check: CheckRef? = nil, kpi: String? = nil,
                sourceQuarantine: QuarantineQuery? = nil, checkFailing: QuarantineQuery? = nil) {
        self.source = source; self.check = check; self.kpi = kpi
        self.sourceQuarantine = sourceQuarantine; self.checkFailing = checkFailing
    }
}

public struct CheckRef: Sendable, Hashable {
    public var source: String
    public var name: String
    public init(source: String, name: String) { self.source = source; self.name = name }
}

/// Opens the catalog read-only (lazily, retrying until it exists) and loads snapshots from it.
public actor SnapshotSource {
    public let url: URL?
    public let roadmap: URL?
    public let evidence: [EvidenceRule]
    public let kpiDefinitions: [KPIDefinition]
    public let pii: PIIPolicy
    /// steward.yml: with it, every snapshot carries `steward check`'s verdict.
    public let config: ProjectConfig?
    private var catalog: Catalog?
    /// The last verdict: `steward check`'s report takes most of a second at a million customers.
    private var healthMemo: HealthMemo?

    public init(url: URL?, roadmap: URL? = nil, evidence: [EvidenceRule] = [], kpiDefinitions: [KPIDefinition] = [],
                pii: PIIPolicy = PIIPolicy(), config: ProjectConfig? = nil) {
        self.url = url; self.roadmap = roadmap; self.evidence = evidence; self.kpiDefinitions = kpiDefinitions; self.pii = pii
        self.config = config
    }

    public func load(_ request: SnapshotRequest, runLimit: Int = 50, auditLimit: Int = 100) throws -> ConsoleSnapshot {
        let catalog = try open()
        var snapshot = try SnapshotSource.load(from: catalog, request, runLimit: runLimit, auditLimit: auditLimit, kpis: kpiDefinitions,
                                               config: config, healthMemo: healthMemo)
        healthMemo = snapshot.healthMemo
        snapshot.pii = pii
        // The roadmap's evidence reads the KPIs, which come with the verdict.
        if let roadmap, !snapshot.verdictPending {
            do { snapshot.roadmap = try RoadmapSnapshot.load(url: roadmap, rules: evidence, catalog: catalog, kpis: snapshot.kpis) }
            catch { snapshot.roadmapError = "\(error)" }
        }
        return snapshot
    }

    private func open() throws -> Catalog {
        if let catalog { return catalog }
        guard let url else { throw ConsoleError.noProject }
        // The console never writes: read-only also keeps it from creating an empty catalog.
        let opened = try Catalog.open(at: url, readOnly: true)
        catalog = opened
        return opened
    }

    /// The summary queries of one frame (each reads summary tables or bounded recent history).
    public static func load(from catalog: Catalog, _ request: SnapshotRequest, runLimit: Int = 50, auditLimit: Int = 100,
                            kpis definitions: [KPIDefinition] = [], config: ProjectConfig? = nil,
                            healthMemo: HealthMemo? = nil) throws -> ConsoleSnapshot {
        let start = Date()
        var snapshot = ConsoleSnapshot()
        snapshot.sources = try catalog.sourceOverviews(now: start)
        snapshot.quality = try catalog.qualityOverview()
        snapshot.qualityRuns = try catalog.qualityRuns(limit: 20)
        snapshot.runs = try catalog.runs(limit: runLimit)
        snapshot.audit = try catalog.auditTail(limit: auditLimit)
        if let source = request.source { snapshot.sourceDetail = try catalog.sourceDetail(source, now: start) }
        if let source = request.source {
            // Outside its Quarantine section a source's open rows are still counted (one row read).
            snapshot.sourceQuarantine = try catalog.quarantinePage(request.sourceQuarantine ?? QuarantineQuery(source: source, limit: 1))
        }
        if let ref = request.check,
           let check = snapshot.quality?.sources.first(where: { $0.source == ref.source })?.checks.first(where: { $0.name == ref.name }) {
            let page = try catalog.quarantinePage(request.checkFailing ?? QuarantineQuery(source: ref.source, check: ref.name))
            snapshot.checkDetail = CheckDetail(
                check: check, history: try catalog.checkHistory(source: ref.source, check: ref.name), failing: page.rows, page: page)
        }
        if let config {
            // The check's own function, storing nothing: the header can never say OK where `steward check` does not.
            // Reused while no run, load or decision changed the catalog, for up to a minute (time-based KPIs).
            let stamp = HealthMemo.stamp(snapshot)
            let report: HealthReport
            if let memo = healthMemo, memo.stamp == stamp, start.timeIntervalSince(memo.at) < HealthMemo.maxAge {
                report = memo.report
                snapshot.healthMemo = memo
            } else if request.deferVerdict {
                snapshot.verdictPending = true
                snapshot.healthMemo = healthMemo
                return try finish(snapshot, catalog, request, start: start)
            } else {
                report = try HealthCheck(config: config, catalog: catalog, now: start).report(storeMeasurements: false)
                snapshot.healthMemo = HealthMemo(stamp: stamp, report: report, at: start)
            }
            snapshot.health = report
            snapshot.kpis = report.kpis
            snapshot.anomalies = report.anomalies
            snapshot.sources = Verdict.sources(snapshot.sources, report: report)
        } else {
            snapshot.kpis = try KPIEvaluator(definitions: definitions, catalog: catalog, now: start).evaluate(store: false)
            snapshot.anomalies = try AnomalyDetector().detect(catalog: catalog, now: start)
        }
        return try finish(snapshot, catalog, request, start: start)
    }

    /// The reads that do not depend on the verdict.
    private static func finish(_ snapshot: ConsoleSnapshot, _ catalog: Catalog, _ request: SnapshotRequest, start: Date) throws -> ConsoleSnapshot {
        var snapshot = snapshot
        if let name = request.kpi { snapshot.kpiHistory = try catalog.kpiHistory(name) }
        for (id, query) in request.panes { snapshot.panes[id] = try query.read(catalog) }
        snapshot.server = ServePresence.current(catalogURL: catalog.url, now: start)
        snapshot.loadedAt = Date()
        snapshot.loadMilliseconds = snapshot.loadedAt.timeIntervalSince(start) * 1000
        return snapshot
    }
}

/// A verdict and what it was computed from: the newest run, audit event and each source's counts and
/// last load. Any run, load, quarantine release or decision (by this console or another process)
/// changes the stamp; `maxAge` bounds how late a verdict that depends on the clock alone (freshness) is.
public struct HealthMemo: Sendable, Equatable {
    public static let maxAge: TimeInterval = 60
    public var stamp: String
    public var report: HealthReport
    public var at: Date

    static func stamp(_ s: ConsoleSnapshot) -> String {
        let run = s.runs.first.map { "\($0.id):\($0.status):\($0.finishedAt?.timeIntervalSince1970 ?? 0)" } ?? "-"
        let sources = s.sources.map { "\($0.name):\($0.rowsStaged):\($0.rowsQuarantined):\($0.lastLoadedAt?.timeIntervalSince1970 ?? 0)" }
        return ([run, "\(s.audit.first?.id ?? 0)"] + sources).joined(separator: "|")
    }
}

public enum ConsoleError: Error, CustomStringConvertible {
    case noProject

    public var description: String {
        switch self {
        case .noProject: return "no Steward project here: run `steward init --demo` to create a demo project, or start steward inside a project folder"
        }
    }
}
