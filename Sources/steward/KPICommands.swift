import ArgumentParser
import Foundation
import StewardCatalog
import StewardMetrics
import StewardPipeline
import StewardConfig

/// `steward kpi [--json]` and `steward kpi record NAME VALUE [--at ISO8601]`.
struct KPI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kpi", abstract: "SLA/KPI status (kpis: in steward.yml and the roadmap's metric tables).",
        subcommands: [KPIList.self, KPIRecord.self], defaultSubcommand: KPIList.self)
}

struct KPIList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Measure every KPI now and show its status.")
    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func run() throws {
        let config = try projectOptions.load()
        let catalog = try Catalog.open(at: config.catalogURL)
        let now = Date()
        let kpis = try KPIEvaluator(config: config, catalog: catalog, now: now).evaluate()
        if output.json {
            CLI.printJSON(kpis.map { Self.json($0) })
            return
        }
        if kpis.isEmpty {
            print("no KPIs: add `kpis:` to steward.yml or a Metric/Target table to the roadmap")
            return
        }
        var table = TextTable(headers: ["", "kpi", "target", "actual", "baseline", "status", "trend", "due", "why"])
        for k in kpis {
            let baseline = k.definition.baseline.map { $0.unit.format($0.value) } ?? k.definition.baselineText ?? ""
            table.rows.append([KPIMarks.mark(k.status), k.name, k.definition.targetText, k.formatted(k.value), baseline,
                               k.status.rawValue, Sparkline.render(k.trend.suffix(12)), Self.due(k.definition) ?? "", k.reason])
        }
        print(table.render())
        if let uptime = kpis.first(where: { $0.result.budget != nil }), let b = uptime.result.budget {
            print("\(uptime.name): error budget \(Duration.describe(b.allowed)) per \(Duration.describe(b.window)), "
                  + "used \(Duration.describe(b.used)), left \(b.left >= 0 ? Duration.describe(b.left) : "none (overspent by \(Duration.describe(-b.left)))")")
        }
    }

    static func due(_ d: KPIDefinition) -> String? {
        d.due.map { String(Timestamp.string($0).prefix(10)) } ?? d.dueText
    }

    static func json(_ k: KPIStatus) -> [String: Any] {
        var o: [String: Any] = [
            "name": k.name, "target": k.definition.targetText, "actual": CLI.orNull(k.value),
            "actual_text": k.value.map { k.unit.format($0) } ?? NSNull(), "unit": k.unit.rawValue,
            "status": k.status.rawValue, "due": CLI.orNull(due(k.definition)), "reason": k.reason,
            "measure": k.definition.measure.rawValue, "origin": k.definition.origin.rawValue,
            "baseline": CLI.orNull(k.definition.baseline?.value), "trend": k.trend,
            "comparison": CLI.orNull(k.definition.target?.comparison.rawValue),
            "target_value": CLI.orNull(k.definition.target?.value),
        ]
        if !k.result.parts.isEmpty {
            o["parts"] = k.result.parts.map { ["name": $0.label, "value": CLI.orNull($0.value), "note": $0.note] as [String: Any] }
        }
        if let b = k.result.budget {
            o["error_budget"] = ["window_seconds": b.window, "allowed_seconds": b.allowed, "used_seconds": b.used,
                                 "left_seconds": b.left, "fraction_left": b.fractionLeft]
        }
        return o
    }
}

struct KPIRecord: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "record", abstract: "Record a value of a manual KPI (marketing ROI, user adoption…).")
    @OptionGroup var projectOptions: ProjectOptions
    @Argument(help: "The KPI's name as in steward.yml or the roadmap (case does not matter).") var name: String
    @Argument(help: "The value, in the target's terms: 3.2:1, 42%, 1200, 45 minutes.") var value: String
    @Option(help: "When the value was true (ISO 8601, default now).") var at: String?

    func run() throws {
        let config = try projectOptions.load()
        let definitions = KPIDefinition.all(config: config, roadmap: RoadmapKPIs.load(config: config))
        guard let d = definitions.first(where: { $0.key == KPIDefinition.key(name) }) else {
            CLI.fail("no KPI named '\(name)' in steward.yml or the roadmap (known: \(definitions.map(\.name).joined(separator: ", ")))", code: 2)
        }
        guard d.measure.acceptsRecordedValues else {
            CLI.fail("'\(d.name)' is measured by Steward (\(d.measure.rawValue)); only manual KPIs take recorded values", code: 2)
        }
        guard let target = d.target else { CLI.fail("'\(d.name)': \(d.targetError ?? "no target")", code: 2) }
        let quantity: KPIQuantity
        do {
            guard let q = try KPITarget.parseQuantity(value, unit: target.unit.rawValue) else { CLI.fail("'\(value)' is not a value", code: 2) }
            quantity = q
        } catch { CLI.fail("value \(error)", code: 2) }
        guard quantity.unit == target.unit else {
            CLI.fail("'\(value)' is a \(quantity.unit.rawValue) but '\(d.name)' targets a \(target.unit.rawValue) (\(d.targetText))", code: 2)
        }
        var when = Date()
        if let at {
            let text = at.count == 10 ? at + "T00:00:00Z" : at
            guard let date = Timestamp.date(text) else { CLI.fail("--at '\(at)' is not an ISO 8601 time (2024-05-01 or 2024-05-01T09:30:00Z)", code: 2) }
            when = date
        }
        // Opened only once the input is valid: opening for writing already writes to the catalog.
        let catalog = try Catalog.open(at: config.catalogURL)
        try catalog.recordKPI(name: d.name, value: quantity.value, text: value, at: when)
        print("\(d.name): recorded \(target.unit.format(quantity.value)) at \(Timestamp.string(when))")
    }
}

/// `steward check [--json]`: the on-call health gate, with the monitoring-plugin exit codes: 0 ok,
/// 1 warn, 2 breach, 3 unknown (the project, its config or its catalog cannot be read).
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "On-call health gate: exit 0 ok, 1 warnings, 2 breaches, 3 unknown; one line per problem.",
        discussion: """
            Exit 3 (unknown) when the project, its steward.yml or its catalog cannot be read. \
            Also posts to the alerts: webhooks when the state changed since their last message, or a new breach appeared. \
            Formats: docs/CONTRACTS.md.
            """)
    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption
    @Flag(name: .customLong("no-alerts"), help: "Do not post to the alerts: webhooks.") var noAlerts = false
    @Option(name: .customLong("anomaly-window"), help: "Runs the anomaly baseline looks back over.") var anomalyWindow = 20

    func validate() throws {
        if anomalyWindow < 3 { throw ValidationError("--anomaly-window must be at least 3") }
    }

    func run() throws {
        let report = evaluate()
        if output.json {
            CLI.printJSON([
                "status": report.status.rawValue,
                "problems": report.problems.map { ["kind": $0.kind, "subject": $0.subject, "message": $0.message,
                                                   "severity": $0.severity.rawValue] },
                "kpis": report.kpis.map { KPIList.json($0) },
                "anomalies": report.anomalies.map { a in [
                    "metric": a.metric.rawValue, "subject": a.subject, "run_id": a.runId, "value": a.value,
                    "median": a.median, "expected_low": a.expectedLow, "expected_high": a.expectedHigh, "z": a.z,
                ] as [String: Any] },
            ] as [String: Any])
        } else {
            let marks: [HealthState: String] = [.ok: "✓", .warn: "▲", .breach: "✗", .unknown: "?"]
            for p in report.problems {
                print("\(marks[p.severity] ?? "?") \(p.severity.rawValue) \(p.kind) \(p.subject): \(p.message)")
            }
            print("\(report.status.rawValue.uppercased()): \(report.problems.count) problem\(report.problems.count == 1 ? "" : "s")")
        }
        if report.status != .ok { throw ExitCode(report.status.exitCode) }
    }

    /// The report, or an `unknown` one naming what could not be read: this command never exits 2 for a
    /// broken project (2 means a breach).
    private func evaluate() -> HealthReport {
        let config: ProjectConfig
        do { config = try projectOptions.load() } catch let error as ConfigError {
            return .unknown(kind: error.key == "--project" ? "project" : "config", subject: error.file, message: error.description)
        } catch {
            return .unknown(kind: "project", subject: projectOptions.project ?? ".", message: "\(error)")
        }
        do {
            let catalog: Catalog, writable: Bool
            do {
                catalog = try Catalog.open(at: config.catalogURL)
                writable = true
            } catch {
                // A catalog this user cannot write can still be judged: read it, store no measurement,
                // send no alert (the webhooks' state lives in the catalog).
                guard let readOnly = try? Catalog.open(at: config.catalogURL, readOnly: true) else { throw error }
                catalog = readOnly
                writable = false
                CLI.note("the catalog cannot be written here: KPI measurements are not stored and no alert is sent")
            }
            var check = HealthCheck(config: config, catalog: catalog)
            check.anomalyDetector.window = anomalyWindow
            let report = try check.report(storeMeasurements: writable)
            if !noAlerts && writable {
                AlertNotifier(config: config, catalog: catalog, log: { CLI.note($0) }).notify(report)
            }
            return report
        } catch {
            return .unknown(kind: "catalog", subject: config.catalogURL.path, message: "cannot read the catalog: \(error)")
        }
    }
}

enum KPIMarks {
    static func mark(_ s: KPIState) -> String {
        switch s {
        case .met: return "✓"
        case .atRisk: return "▲"
        case .breached: return "✗"
        case .noData: return "○"
        }
    }
}

enum Sparkline {
    static func render<C: Collection>(_ values: C) -> String where C.Element == Double {
        let bars = Array("▁▂▃▄▅▆▇█")
        guard let lo = values.min(), let hi = values.max() else { return "" }
        return String(values.map { v in hi > lo ? bars[Int(((v - lo) / (hi - lo) * 7).rounded())] : bars[3] })
    }
}
