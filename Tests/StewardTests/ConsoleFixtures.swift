import Foundation
@testable import StewardCatalog
@testable import StewardConsole

/// Hand-built read models for console tests: no database involved.
enum ConsoleFixtures {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func source(_ name: String, system: String = "crm", entity: String = "person", status: SourceHealth = .ok,
                       reason: String = "healthy", loadedAgo: TimeInterval? = 300, freshness: FreshnessStatus = .ok,
                       raw: Int = 1200, staged: Int = 1180, quarantined: Int = 20, score: Double? = 0.981,
                       recent: [Int] = [100, 300, 200, 1200]) -> SourceOverview {
        SourceOverview(
            name: name, system: system, entity: entity, format: "csv", status: status, statusReason: reason,
            lastLoadedAt: loadedAgo.map { now.addingTimeInterval(-$0) }, freshnessAge: loadedAgo, freshnessStatus: freshness,
            warnAfter: 6 * 3600, errorAfter: 24 * 3600, rowsRaw: raw, rowsStaged: staged, rowsQuarantined: quarantined,
            rowsFlagged: 3, qualityScore: score, recentRows: recent, lastStepStatus: "succeeded", lastStepMessage: nil)
    }

    static func check(_ source: String, _ name: String, dimension: String = "validity", failed: Int = 0, evaluated: Int = 1000,
                      score: Double? = nil, samples: [String] = []) -> CheckStatus {
        CheckStatus(source: source, name: name, type: "regex", column: "email", dimension: dimension, severity: "error",
                    params: #"{"pattern":".+@.+"}"#, runId: 3, evaluated: evaluated, passed: evaluated - failed, failed: failed,
                    score: score ?? (evaluated == 0 ? nil : Double(evaluated - failed) / Double(evaluated)), samples: samples)
    }

    static func run(_ id: Int64, status: String = "succeeded", trigger: String = "manual", rows: Int = 2400) -> RunInfo {
        let start = now.addingTimeInterval(-Double(10 - id) * 3600)
        return RunInfo(id: id, trigger: trigger, status: status, startedAt: start, finishedAt: start.addingTimeInterval(12.5),
                       actor: "alice", rowsRead: rows, rowsLoaded: rows - 20, rowsQuarantined: 20, message: status == "failed" ? "crm_contacts: file missing" : nil,
                       steps: [
                        StepInfo(runId: id, source: "crm_contacts", status: "succeeded", startedAt: start, durationMs: 5200, batches: 1,
                                 rowsRead: 1200, rowsLoaded: 1180, rowsQuarantined: 20, message: nil),
                        StepInfo(runId: id, source: "shop_orders", status: status == "failed" ? "failed" : "succeeded", startedAt: start,
                                 durationMs: 7300, batches: 2, rowsRead: 1200, rowsLoaded: 1200, rowsQuarantined: 0,
                                 message: status == "failed" ? "file missing" : nil),
                       ])
    }

    static var snapshot: ConsoleSnapshot {
        let sources = [
            source("crm_contacts"),
            source("shop_orders", system: "shop", entity: "order", status: .warn, reason: "late: no new data for 7h",
                   loadedAgo: 7 * 3600, freshness: .warn, raw: 250_000, staged: 249_000, quarantined: 0, score: 0.93),
            source("東京_顧客", system: "erp", entity: "person", status: .never, reason: "never loaded", loadedAgo: nil,
                   freshness: .never, raw: 0, staged: 0, quarantined: 0, score: nil, recent: [0, 0, 0, 0]),
        ]
        let crmChecks = [check("crm_contacts", "email_format", failed: 20, samples: ["C-1017"]),  // samples are record keys
                         check("crm_contacts", "id_unique", dimension: "uniqueness")]
        let shopChecks = [check("shop_orders", "amount_positive", failed: 70, evaluated: 1000)]
        let quality = QualityOverview(
            score: 0.955, dimensions: [.validity: 0.95, .uniqueness: 1.0, .completeness: 0.99],
            sources: [
                SourceQuality(source: "crm_contacts", score: 0.98, weight: 1200, dimensions: [.validity: 0.98, .uniqueness: 1.0], checks: crmChecks),
                SourceQuality(source: "shop_orders", score: 0.93, weight: 250_000, dimensions: [.validity: 0.93], checks: shopChecks),
            ],
            trend: [0.90, 0.93, 0.95, 0.955])
        let audit = [AuditEvent(id: 2, at: now.addingTimeInterval(-60), actor: "alice", action: "run.finished", subject: "run 3", detail: "succeeded"),
                     AuditEvent(id: 1, at: now.addingTimeInterval(-120), actor: "alice", action: "run.started", subject: "run 3", detail: "manual")]
        return ConsoleSnapshot(sources: sources, quality: quality, runs: [run(3), run(2, status: "failed"), run(1)], audit: audit,
                               loadedAt: now.addingTimeInterval(-1), loadMilliseconds: 3.2)
    }

    static var sourceDetail: SourceDetail {
        let overview = snapshot.sources[0]
        return SourceDetail(
            overview: overview,
            batches: [BatchInfo(id: 1, runId: 3, file: "sources/crm_contacts.csv", sha256: "ab12cd34ef56ab12cd34ef56", size: 90_000,
                                rows: 1200, rowsLoaded: 1180, rowsQuarantined: 20, loadedAt: now.addingTimeInterval(-300))],
            steps: snapshot.runs[0].steps.filter { $0.source == "crm_contacts" },
            quarantine: [QuarantinedRow(id: 41, runId: 3, source: "crm_contacts", file: "crm_contacts.csv", line: 17, recordKey: "C-1017",
                                        checks: ["email_format"], reasons: ["email: not an email address"],
                                        raw: #"{"contact_id":"C-1017","Name":"Jane Doe","Email":"jane.doe@example.com","Phone":"+44 20 7946 0958"}"#,
                                        quarantinedAt: now)],
            checks: snapshot.quality!.sources[0].checks)
    }

    static func state(width: Int = 100, height: Int = 30) -> AppState {
        var s = AppState(projectName: "demo", catalogPath: ".steward/catalog.sqlite", width: width, height: height, now: now)
        s.snapshot = snapshot
        s.theme = .builtinDark
        return s
    }

    @MainActor
    static func screen(_ state: AppState) -> TestBackend {
        let backend = TestBackend(width: state.width, height: state.height)
        var buffer = ScreenBuffer(width: state.width, height: state.height)
        ConsoleApp.render(state, into: &buffer)
        backend.draw(buffer)
        return backend
    }

    /// Applies messages in order, dropping commands.
    static func send(_ state: AppState, _ messages: [Message]) -> AppState {
        messages.reduce(state) { ConsoleApp.update($0, $1).0 }
    }

    static func keys(_ text: String) -> [Message] { text.map { .key(.char($0)) } }
}
