import ArgumentParser
import Foundation
import StewardCatalog
import StewardConsole
import StewardMetrics
import StewardRoadmap

/// `steward roadmap report [--format md|html] [--out FILE] [--send] [--mark-sent]`: the PM's status update.
struct PlanReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "The status report a PM sends: progress, changes since the last report, KPIs, risks, dependencies, budget.",
        discussion: """
        Every figure comes from the roadmap file and the catalog. --out writes only a regular file (mode 0600; \
        - is stdout). --send posts the Markdown as Slack-compatible {"text": …} to the alerts: webhooks of \
        steward.yml and records the report as sent for the stakeholder cadence; --mark-sent records it as \
        sent without posting (a report mailed by hand).
        """)
    enum Format: String, ExpressibleByArgument, CaseIterable { case md, html }

    @OptionGroup var projectOptions: ProjectOptions
    @Option(help: "md or html (one self-contained page).") var format: Format = .md
    @Option(help: ArgumentHelp("Write to this regular file (mode 0600) instead of stdout; - is stdout.", valueName: "file")) var out: String?
    @Flag(help: "Post it to the alerts: webhooks and record it as sent.") var send = false
    @Flag(help: "Record it as sent (for the cadence) without posting it.") var markSent = false

    func run() throws {
        let file = out.flatMap { $0 == "-" ? nil : URL(fileURLWithPath: $0) }
        if let file { try ExportClusters.writing(to: file) { try PrivateFiles.checkOutputPath(file.path) } }
        let ctx = try PlanContext(projectOptions, writing: send || markSent)
        let now = Date()
        let report = try Self.build(ctx, now: now)
        let text = format == .html ? report.html : report.markdown

        if let file, let out {
            try ExportClusters.writing(to: file) { try PrivateFiles.writeRegularFile(Array(text.utf8), to: file) }
            CLI.note("wrote \(out)")
        } else if !send || out == "-" {
            FileHandle.standardOutput.write(Data(text.utf8))
        }

        if send {
            let hooks = ctx.roadmap.config.alerts.map(\.webhook)
            guard !hooks.isEmpty, let catalog = ctx.catalog else {
                CLI.fail("\(ctx.roadmap.config.file.path): alerts: no webhook to send the report to; add `alerts: [{webhook: URL}]` or use --out", code: 2)
            }
            let notifier = AlertNotifier(projectName: ctx.roadmap.config.name, webhooks: hooks, catalog: catalog, log: { CLI.note($0) })
            var delivered = 0
            for hook in hooks {
                if let error = notifier.post(["text": report.markdown, "project": ctx.roadmap.config.name, "kind": "status_report"], to: hook) {
                    CLI.note("report: delivery to \(hook) failed: \(error)")
                } else {
                    delivered += 1
                }
            }
            guard delivered > 0 else { throw ExitCode(1) }
            try catalog.recordPlan(.reportSent, subject: "report", detail: PlanDetail(note: "\(delivered) of \(hooks.count) webhooks", channel: "webhook"))
            CLI.note("sent to \(delivered) of \(hooks.count) webhooks")
            if delivered < hooks.count { throw ExitCode(1) }
        } else if markSent, let catalog = ctx.catalog {
            try catalog.recordPlan(.reportSent, subject: "report", detail: PlanDetail(channel: "manual"))
            CLI.note("recorded as sent")
        }
    }

    static func build(_ ctx: PlanContext, now: Date) throws -> PlanReport {
        let last = ctx.state.reports.last?.at
        let changes = (try? ctx.catalog?.roadmapChanges(since: last.map { $0.addingTimeInterval(0.001) })) ?? []
        let facts = PlanFacts.measure(config: ctx.roadmap.config, catalog: ctx.catalog, now: now)
        let today = Day.today(now)
        let ticks = (try? ctx.catalog?.roadmapTickEvents()) ?? []
        let progress = RoadmapProgress(ctx.roadmap.document, ticks: ticks, today: today, now: now)
        let status = PlanStatus(document: ctx.roadmap.document, progress: progress, state: ctx.state, facts: facts, today: today, now: now)
        return PlanReport(project: ctx.roadmap.config.name, planTitle: ctx.roadmap.document.title, status: status, progress: progress,
                          facts: facts, changes: changes, since: last)
    }
}
