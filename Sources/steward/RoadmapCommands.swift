import ArgumentParser
import Foundation
import StewardCatalog
import StewardPipeline
import StewardRoadmap
import StewardServer
import StewardConfig

/// `steward roadmap list|tick|untick|progress`: the project's markdown plan as a checklist; the plan's
/// other sections (deliverables, risks, deps, budget, cadence, report) are in PlanCommands.swift.
struct RoadmapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roadmap", abstract: "The project's roadmap checklist (the `roadmap:` file of steward.yml).",
        subcommands: [List.self, Tick.self, Untick.self, ProgressCommand.self] + PlanCommands.subcommands, defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Tasks with ids, due dates, evidence and notes.")
        @OptionGroup var projectOptions: ProjectOptions
        @OptionGroup var output: JSONOption

        func run() throws {
            let ctx = try RoadmapContext(projectOptions)
            let today = Day.today()
            let evidence = RoadmapEvidence(ctx.document, rules: ctx.config.evidence, catalog: ctx.catalog)
            let notes = (try? ctx.catalog?.roadmapLatestNotes()) ?? [:]
            let changes = (try? ctx.catalog?.roadmapLastChanges()) ?? [:]
            if output.json {
                // The same body as GET /v1/roadmap.
                CLI.printJSON(APIBodies.roadmapTasks(ctx.document, evidence: evidence, notes: notes, changes: changes, today: today))
                return
            }
            print(RoadmapText.list(ctx.document, today: today, evidence: evidence, notes: notes))
            for rule in evidence.unmatched {
                CLI.note("warning: steward.yml:\(rule.line): evidence rule for '\(rule.task)' matches no task of the roadmap")
            }
        }
    }

    struct Tick: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Tick a task (its id or a unique prefix) in the roadmap file.")
        @OptionGroup var projectOptions: ProjectOptions
        @Argument(help: "Task id, as `steward roadmap list` shows it.") var id: String
        func run() throws { try RoadmapCommand.set(id, to: .done, projectOptions) }
    }

    struct Untick: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Untick a task in the roadmap file.")
        @OptionGroup var projectOptions: ProjectOptions
        @Argument(help: "Task id, as `steward roadmap list` shows it.") var id: String
        func run() throws { try RoadmapCommand.set(id, to: .open, projectOptions) }
    }

    struct ProgressCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "progress", abstract: "Progress per phase, month and in total, with a forecast completion date.")
        @OptionGroup var projectOptions: ProjectOptions
        @OptionGroup var output: JSONOption

        func run() throws {
            let ctx = try RoadmapContext(projectOptions)
            let ticks = (try? ctx.catalog?.roadmapTickEvents()) ?? []
            let progress = RoadmapProgress(ctx.document, ticks: ticks)
            // The plan's decisions: a blocked critical dependency puts phases at risk and pushes the forecast.
            let plan = PlanStatus(document: ctx.document, progress: progress, state: PlanState((try? ctx.catalog?.planEvents()) ?? []),
                                  today: Day.today())
            if output.json {
                func figures(_ f: RoadmapProgress.Figures) -> [String: Any] {
                    ["done": f.done, "in_progress": f.inProgress, "total": f.total, "overdue": f.overdue,
                     "fraction": (f.fraction * 10_000).rounded() / 10_000]
                }
                CLI.printJSON([
                    "total": figures(progress.total),
                    "phases": progress.phases.enumerated().map { index, p -> [String: Any] in
                        var o = figures(p.figures)
                        o["title"] = p.title
                        o["due"] = CLI.orNull(p.due?.description)
                        o["at_risk"] = plan.phase(index)?.atRisk ?? []
                        o["awaiting_sign_off"] = plan.phase(index)?.awaitingSignOff ?? false
                        o["sections"] = p.sections.map { s -> [String: Any] in
                            var so = figures(s.figures)
                            so["title"] = s.title
                            so["due"] = CLI.orNull(s.due?.description)
                            return so
                        }
                        return o
                    },
                    "forecast": CLI.orNull(progress.forecast.map { f -> [String: Any] in
                        ["completion": CLI.orNull(plan.forecast.completion?.description), "remaining": (f.remaining * 100).rounded() / 100,
                         "per_week": (f.perWeek * 100).rounded() / 100, "window_days": f.windowDays,
                         "base_completion": CLI.orNull(f.completion?.description), "pushed_days": plan.forecast.pushedDays,
                         "pushed_by": plan.forecast.reasons]
                    }),
                ] as [String: Any])
                return
            }
            print(RoadmapText.progress(progress))
            if plan.forecast.pushedDays > 0 {
                print((plan.forecast.completion.map { "Forecast pushed \(plan.forecast.pushedDays) days to \($0): " } ?? "Forecast at risk: ")
                      + plan.forecast.reasons.joined(separator: "; ") + "; unfinished phases at risk.")
            }
        }
    }

    static func set(_ id: String, to state: TaskState, _ options: ProjectOptions) throws {
        let ctx = try RoadmapContext(options, writing: true)
        var file = ctx.file
        do {
            let change = try file.set(id, to: state, auditingIn: ctx.catalog)
            let verb = state == .done ? "ticked" : "unticked"
            if change.reloaded { CLI.note("note: \(ctx.file.url.lastPathComponent) had changed on disk; re-read it first") }
            if change.written {
                print("\(verb) \(change.task.id)  \(change.task.plainText)  (\(ctx.file.url.lastPathComponent):\(change.task.line))")
            } else {
                print("\(change.task.id) was already \(state == .done ? "ticked" : "unticked"): nothing to do")
            }
        } catch let error as RoadmapError {
            CLI.fail(error.description, code: 2)
        }
    }
}

/// The project, its roadmap file and its catalog.
struct RoadmapContext {
    var config: ProjectConfig
    var file: RoadmapFile
    /// Nil for a read (`list`, `progress`) before any run: nothing to show from it, nothing created.
    var catalog: Catalog?
    var document: RoadmapDocument { file.document }

    /// - parameter writing: `tick`/`untick` audit in the catalog; `list` and `progress` only read it,
    ///   read-only, so they never write (nor create) the catalog.
    init(_ options: ProjectOptions, writing: Bool = false) throws {
        config = try options.load()
        guard let url = config.roadmap else {
            CLI.fail("\(config.file.path): roadmap: no roadmap file configured; add `roadmap: roadmap.md` to steward.yml", code: 2)
        }
        do { file = try RoadmapFile(url: url) } catch let error as RoadmapError { CLI.fail(error.description, code: 2) }
        catalog = writing ? try Catalog.open(at: config.catalogURL) : try CLI.readCatalog(config)
    }
}

/// Plain-text renderings of the roadmap for the terminal.
enum RoadmapText {
    static func mark(_ state: TaskState) -> String {
        switch state { case .done: return "[x]"; case .inProgress: return "[~]"; case .open: return "[ ]" }
    }

    static func evidenceMark(_ mark: EvidenceMark?) -> String {
        switch mark {
        case .verified: return "✓ verified"
        case .tickedWithoutEvidence: return "⚠ ticked without evidence"
        case .evidenceNotTicked: return "● evidence present, not ticked"
        case .pending: return "· no evidence yet"
        case .unknown: return "? evidence unknown"
        case nil: return ""
        }
    }

    static func list(_ doc: RoadmapDocument, today: Day, evidence: RoadmapEvidence, notes: [String: RoadmapNote]) -> String {
        var lines: [String] = []
        var lastPhase: Int? = -1, lastSection: Int? = -1
        for t in doc.tasks {
            if t.phaseIndex != lastPhase {
                let p = t.phaseIndex.map { doc.phases[$0] }
                lines.append("")
                lines.append(p.map { "\($0.title)" + ($0.quarter.map { "  — due \($0.lastDay)" } ?? "") } ?? "(no phase)")
                lastPhase = t.phaseIndex; lastSection = -1
            }
            if t.sectionIndex != lastSection, let p = t.phaseIndex, let s = t.sectionIndex {
                let section = doc.phases[p].sections[s]
                lines.append("  \(section.title)" + (section.due.map { "  — due \($0)" } ?? ""))
                lastSection = t.sectionIndex
            }
            let indent = String(repeating: "  ", count: t.depth + 2)
            var line = "\(indent)\(mark(t.state)) \(t.id)  \(t.plainText)"
            if !t.isDone, let due = t.due, due < today { line += "  ! overdue (\(due))" }
            if let e = evidence.byTask[t.id] { line += "  " + evidenceMark(e.mark) }
            if let n = notes[t.id] { line += "  ✎ \(n.note)" }
            lines.append(line)
        }
        if lines.first == "" { lines.removeFirst() }
        return lines.joined(separator: "\n")
    }

    static func bar(_ fraction: Double, width: Int = 20) -> String {
        let filled = Int((fraction * Double(width)).rounded())
        return String(repeating: "█", count: filled) + String(repeating: "░", count: max(0, width - filled))
    }

    static func progress(_ p: RoadmapProgress) -> String {
        func row(_ title: String, _ f: RoadmapProgress.Figures, _ due: Day?) -> [String] {
            [title, bar(f.fraction), "\(f.percent)%", "\(f.done)/\(f.total)", f.overdue > 0 ? "\(f.overdue)" : "", due?.description ?? ""]
        }
        var table = TextTable(headers: ["phase / month", "progress", "%", "done", "overdue", "due"], rightAligned: [2, 3, 4])
        for phase in p.phases {
            table.rows.append(row(phase.title, phase.figures, phase.due))
            for s in phase.sections { table.rows.append(row("  " + s.title, s.figures, s.due)) }
        }
        table.rows.append(row("Total", p.total, nil))
        var out = table.render()
        if let f = p.forecast {
            if let c = f.completion {
                out += f.remaining <= 0.0001 ? "\n\nAll tasks done." :
                    "\n\nForecast: done by \(c) at \(String(format: "%.1f", f.perWeek)) tasks/week (last \(f.windowDays) days), \(String(format: "%.1f", f.remaining)) tasks left."
            } else {
                out += "\n\nForecast: none — no tasks ticked in the last \(f.windowDays) days."
            }
        }
        return out
    }
}
