import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GRDB
import StewardCatalog
import StewardPipeline
import StewardConfig

/// Posts the health state to the `alerts:` webhooks when it changes (ok → warn/breach, back, or between
/// them), and when a breach appears that the webhook has not heard of (a source failing while a KPI is
/// already breached), never while it holds. The state and the problems each webhook last received are
/// kept in the catalog (`alert_state`), so separate `steward check` and `steward run --every` processes
/// agree. A failed delivery is logged and audited, never fatal, and retried at the next evaluation.
public struct AlertNotifier: Sendable {
    public let projectName: String
    public let webhooks: [String]
    public let catalog: Catalog
    public var timeout: TimeInterval = 5
    public let log: @Sendable (String) -> Void

    public init(config: ProjectConfig, catalog: Catalog, log: @escaping @Sendable (String) -> Void) {
        self.init(projectName: config.name, webhooks: config.alerts.map(\.webhook), catalog: catalog, log: log)
    }

    public init(projectName: String, webhooks: [String], catalog: Catalog, timeout: TimeInterval = 5,
                log: @escaping @Sendable (String) -> Void) {
        self.projectName = projectName
        self.webhooks = webhooks
        self.catalog = catalog
        self.timeout = timeout
        self.log = log
    }

    public struct Delivery: Sendable, Equatable {
        public var webhook: String
        public var delivered: Bool
        public var error: String?
    }

    /// Sends the report to each webhook whose last delivered state differs. Returns the attempts made.
    @discardableResult
    public func notify(_ report: HealthReport) -> [Delivery] {
        var attempts: [Delivery] = []
        for hook in webhooks {
            let previous: HealthState, heard: Set<String>?
            do { (previous, heard) = try lastDelivery(hook) } catch {
                log("alerts: cannot read alert state: \(error)")
                continue
            }
            let newBreaches = heard.map { heard in report.problems.filter { $0.severity == .breach && !heard.contains(Self.identity($0)) } } ?? []
            guard previous != report.status || !newBreaches.isEmpty else { continue }
            let body = Self.payload(project: projectName, report: report, previous: previous, new: newBreaches)
            let error = post(body, to: hook)
            attempts.append(Delivery(webhook: hook, delivered: error == nil, error: error))
            do {
                try catalog.pool.write { db in
                    let at = Timestamp.now()
                    if let error {
                        try db.execute(sql: """
                            INSERT INTO alert_state (webhook, status, changed_at, last_error, last_error_at) VALUES (?, ?, ?, ?, ?)
                            ON CONFLICT(webhook) DO UPDATE SET last_error = excluded.last_error, last_error_at = excluded.last_error_at
                            """, arguments: [hook, previous.rawValue, at, error, at])
                        try Catalog.audit(db, action: "alert_failed", subject: "webhook:\(hook)", detail: "\(report.status.rawValue): \(error)")
                    } else {
                        try db.execute(sql: """
                            INSERT INTO alert_state (webhook, status, problems_json, changed_at) VALUES (?, ?, ?, ?)
                            ON CONFLICT(webhook) DO UPDATE SET status = excluded.status, problems_json = excluded.problems_json,
                                changed_at = excluded.changed_at, last_error = NULL, last_error_at = NULL
                            """, arguments: [hook, report.status.rawValue, Self.problemsJSON(report.problems), at])
                        try Catalog.audit(db, action: "alert", subject: "webhook:\(hook)",
                                          detail: "\(previous.rawValue) → \(report.status.rawValue), \(report.problems.count) problems")
                    }
                }
            } catch {
                log("alerts: cannot record alert state: \(error)")
            }
            if let error { log("alerts: delivery to \(hook) failed: \(error)") }
        }
        return attempts
    }

    /// The state this webhook last received (`ok` before the first message).
    public func lastState(_ hook: String) throws -> HealthState { try lastDelivery(hook).status }

    /// The state this webhook last received and the problems it was told of (`kind subject`); nil
    /// problems: a row written before problems were recorded by identity (then only a state change counts).
    func lastDelivery(_ hook: String) throws -> (status: HealthState, problems: Set<String>?) {
        try catalog.pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT status, problems_json FROM alert_state WHERE webhook = ?", arguments: [hook]) else {
                return (.ok, [])
            }
            let status = HealthState(rawValue: row[0] as String) ?? .ok
            let list = (try? JSONSerialization.jsonObject(with: Data((row[1] as String? ?? "[]").utf8))) as? [Any] ?? []
            let problems = list.compactMap { ($0 as? [String: Any]).flatMap { p in
                (p["kind"] as? String).flatMap { kind in (p["subject"] as? String).map { "\(kind) \($0)" } } } }
            if problems.count < list.count { return (status, nil) }   // older rows: the messages only
            return (status, Set(problems))
        }
    }

    /// What identifies a problem across evaluations (its message changes with the clock).
    static func identity(_ p: HealthProblem) -> String { "\(p.kind) \(p.subject)" }

    static func problemsJSON(_ problems: [HealthProblem]) -> String {
        let list = problems.map { ["kind": $0.kind, "subject": $0.subject, "severity": $0.severity.rawValue] }
        let data = (try? JSONSerialization.data(withJSONObject: list, options: [.sortedKeys])) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// Slack-compatible: `text` is what Slack shows; `status`, `previous`, `problems` and `new` (breaches
    /// this webhook had not heard of) are for machines.
    public static func payload(project: String, report: HealthReport, previous: HealthState, new: [HealthProblem] = []) -> [String: Any] {
        let header: String
        let count = "\(report.problems.count) problem\(report.problems.count == 1 ? "" : "s")"
        let newText = previous == report.status && !new.isEmpty ? " (new: \(new.map(identity).joined(separator: ", ")))" : ""
        switch report.status {
        case .ok: header = "✅ \(project): all clear (was \(previous.rawValue))"
        case .warn: header = "⚠️ \(project): WARN, \(count)"
        case .breach: header = "🚨 \(project): BREACH, \(count)\(newText)"
        case .unknown: header = "❔ \(project): UNKNOWN, \(count)"
        }
        let lines = report.problems.prefix(20).map { "• \($0.kind) \($0.subject): \($0.message)" }
        let more = report.problems.count > 20 ? ["… and \(report.problems.count - 20) more"] : []
        return [
            "text": ([header] + lines + more).joined(separator: "\n"),
            "project": project,
            "status": report.status.rawValue,
            "previous": previous.rawValue,
            "at": Timestamp.now(),
            "problems": report.problems.map { ["kind": $0.kind, "subject": $0.subject, "message": $0.message,
                                               "severity": $0.severity.rawValue] },
            "new": new.map { ["kind": $0.kind, "subject": $0.subject, "message": $0.message] },
        ]
    }

    /// POSTs JSON; returns nil on a 2xx answer, else what went wrong. Redirects are never followed (the
    /// payload must not travel to another origin, and a receiver that only redirects has not taken the
    /// alert): a 3xx, like any other non-2xx answer or a network error, is a failed delivery.
    public func post(_ body: [String: Any], to hook: String) -> String? {
        guard let data = try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]) else { return "invalid webhook payload" }
        return post(data: data, to: hook)
    }

    /// POSTs a JSON body already written (a sync batch's stored bytes), as `post` does.
    public func post(data: Data, to hook: String) -> String? {
        guard let url = URL(string: hook) else { return "invalid webhook URL" }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = data
        let delivery = WebhookDelivery()
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = timeout
        config.timeoutIntervalForResource = timeout
        // A task with a completion handler follows redirects without asking; a delegate is asked.
        let session = URLSession(configuration: config, delegate: delivery, delegateQueue: nil)
        let task = session.dataTask(with: request)
        task.resume()
        if delivery.done.wait(timeout: .now() + timeout + 1) == .timedOut {
            task.cancel()
            delivery.fail("timed out after \(Int(timeout))s")
        }
        session.finishTasksAndInvalidate()
        return delivery.error
    }
}

/// One webhook POST: refuses every redirect and records the outcome.
private final class WebhookDelivery: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let lock = NSLock()
    private var failure: String?
    let done = DispatchSemaphore(value: 0)

    func fail(_ e: String) { lock.lock(); if failure == nil { failure = e }; lock.unlock() }
    var error: String? { lock.lock(); defer { lock.unlock() }; return failure }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        fail("HTTP \(response.statusCode) (a redirect, not followed)")
        completionHandler(nil)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let error { fail(error.localizedDescription) }
        else if let http = task.response as? HTTPURLResponse {
            if !(200..<300).contains(http.statusCode) { fail("HTTP \(http.statusCode)") }
        } else {
            fail("no HTTP answer")
        }
        done.signal()
    }
}

/// Evaluates KPIs, anomalies and health after every pipeline run and sends alerts on a state change.
/// Pass it to `PipelineRunner(extensions:)`.
public struct KPIEvaluation: RunExtension {
    public let name = "kpi"
    public let log: @Sendable (String) -> Void
    public let onReport: @Sendable (HealthReport) -> Void

    public init(log: @escaping @Sendable (String) -> Void = { _ in }, onReport: @escaping @Sendable (HealthReport) -> Void = { _ in }) {
        self.log = log
        self.onReport = onReport
    }

    public func afterLoad(runId: Int64, summary: RunSummary, config: ProjectConfig, catalog: Catalog,
                          progress: ProgressReporter) throws -> String? {
        let report = try HealthCheck(config: config, catalog: catalog).report(currentRun: (runId, summary.status))
        AlertNotifier(config: config, catalog: catalog, log: log).notify(report)
        onReport(report)
        var counts: [KPIState: Int] = [:]
        for k in report.kpis { counts[k.status, default: 0] += 1 }
        let kpiText = KPIState.allCases.compactMap { s in counts[s].map { "\($0) \(s.rawValue)" } }.joined(separator: ", ")
        return "health \(report.status.rawValue)" + (kpiText.isEmpty ? "" : "; KPIs \(kpiText)")
            + (report.anomalies.isEmpty ? "" : "; \(report.anomalies.count) anomalies")
    }
}
