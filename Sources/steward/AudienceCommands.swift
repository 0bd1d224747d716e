import ArgumentParser
import Foundation
import StewardActivation
import StewardCatalog
import StewardConfig

struct AudienceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audience", abstract: "Audiences: segments of golden customers defined by rules in steward.yml.",
        subcommands: [AudienceList.self, AudienceShow.self, AudienceMembers.self])
}

struct AudienceList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Each audience's size, holdout, consent exclusions and changes since the previous run.")
    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func run() throws {
        let config = try projectOptions.load()
        let catalog = try CLI.requireReadCatalog(config)
        let stored = Dictionary(uniqueKeysWithValues: try catalog.audienceList().map { ($0.name, $0) })
        // Declared audiences in steward.yml order; one not materialised yet shows as such.
        let rows = config.audiences.map { ($0, stored[$0.name]) }
        if output.json {
            CLI.printJSON(rows.map { a, s -> [String: Any] in
                ["name": a.name, "size": s?.size ?? 0, "holdout": s?.holdout ?? 0, "excluded_no_consent": s?.excludedNoConsent ?? 0,
                 "entered": s?.entered ?? 0, "left": s?.left ?? 0, "holdout_share": a.holdout, "channel": CLI.orNull(a.channel),
                 "run_id": CLI.orNull(s?.runId), "materialised_at": CLI.orNull(s?.materialisedAt)]
            })
            return
        }
        if rows.isEmpty { print("no audiences: declare them in steward.yml (audiences: [{name, where, channel, holdout}])"); return }
        var table = TextTable(headers: ["audience", "size", "holdout", "no consent", "entered", "left", "channel", "run"], rightAligned: [1, 2, 3, 4, 5, 7])
        for (a, s) in rows {
            guard let s else { table.rows.append([a.name, "–", "–", "–", "–", "–", a.channel ?? "", "not run"]); continue }
            table.rows.append([a.name, CLI.count(s.size), CLI.count(s.holdout), CLI.count(s.excludedNoConsent), "+\(CLI.count(s.entered))",
                               "−\(CLI.count(s.left))", a.channel ?? "", String(s.runId)])
        }
        print(table.render())
    }
}

struct AudienceShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "An audience's definition and its entered/left per run.")
    @OptionGroup var projectOptions: ProjectOptions
    @Argument(help: "Audience name.") var name: String

    func run() throws {
        let config = try projectOptions.load()
        guard let a = config.audiences.first(where: { $0.name == name }) else {
            CLI.fail("no audience '\(name)' in \(config.file.path); audiences: \(config.audiences.map(\.name).joined(separator: ", "))", code: 2)
        }
        let catalog = try CLI.requireReadCatalog(config)
        print("audience \(a.name)\(a.description.isEmpty ? "" : " — \(a.description)")")
        print("  where    \(a.rule)")
        print("  traits   \(a.expr.traits.joined(separator: ", "))")
        print("  channel  \(a.channel.map { "\($0) (members must consent)" } ?? "none")")
        print("  holdout  \(String(format: "%g", a.holdout * 100))%")
        if let w = a.window { print("  window   \(Duration.describe(w))") }
        let runs = try catalog.audienceRuns(name)
        guard !runs.isEmpty else { print("not materialised yet: `steward run`"); return }
        let s = runs[0]
        print("members: \(CLI.count(s.size)) (\(CLI.count(s.holdout)) held out), \(CLI.count(s.excludedNoConsent)) matched without consent")
        var table = TextTable(headers: ["run", "at", "size", "holdout", "no consent", "entered", "left", "seconds"], rightAligned: [0, 2, 3, 4, 5, 6, 7])
        for r in runs {
            table.rows.append([String(r.runId), String(r.at.prefix(19)), CLI.count(r.size), CLI.count(r.holdout), CLI.count(r.excludedNoConsent),
                               "+\(CLI.count(r.entered))", "−\(CLI.count(r.left))", String(format: "%.2f", r.seconds)])
        }
        print(table.render())
    }
}

struct AudienceMembers: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "members", abstract: "An audience's members with their traits (PII masked unless --reveal, audited).")
    @OptionGroup var projectOptions: ProjectOptions
    @Argument(help: "Audience name.") var name: String
    @Option(help: "At most this many members (0: all).") var limit = 0
    @Flag(help: "Show PII unmasked (audited).") var reveal = false
    @OptionGroup var output: JSONOption

    func validate() throws { if limit < 0 { throw ValidationError("--limit must be 0 (all) or more") } }

    func run() throws {
        let config = try projectOptions.load()
        guard let audience = config.audiences.first(where: { $0.name == name }) else {
            CLI.fail("no audience '\(name)' in \(config.file.path); audiences: \(config.audiences.map(\.name).joined(separator: ", "))", code: 2)
        }
        let catalog = reveal ? try Catalog.open(at: config.catalogURL) : try CLI.requireReadCatalog(config)   // a reveal is audited
        var members = try catalog.audienceMembers(name)
        if limit > 0 { members = Array(members.prefix(limit)) }
        // The traits shown: the golden name and contact fields, then those the rule reads, then custom and consent.
        var shown = ["first_name", "last_name", "email", "phone", "city"]
        for t in audience.expr.traits + CustomerTraits.names(config).filter({ !Traits.builtIn.map(\.name).contains($0) }) where !shown.contains(t) && t != "customer_id" {
            shown.append(t)
        }
        let traits = try CustomerTraits.load(catalog, ids: members.map(\.customerId), config: config, traits: shown)
        if reveal {
            if case .locked(let keyId) = catalog.vault.state {
                CLI.note("the privacy vault's key \(keyId) is not here: PII stays [sealed]")
            } else {
                try catalog.audit(action: "reveal", subject: "audience:\(name)",
                                  detail: "audience members --reveal: \(members.count) customers: " + members.map(\.customerId).joined(separator: ","))
            }
        }
        func value(_ id: String, _ t: String) -> String? { CustomerTraits.display(traits[id]?[t], trait: t, config: config, reveal: reveal) }
        if output.json {
            CLI.printJSON(members.map { m -> [String: Any] in
                var row: [String: Any] = ["customer_id": m.customerId, "holdout": m.holdout, "entered_run": m.enteredRun, "entered_at": m.enteredAt]
                for t in shown {
                    guard let v = traits[m.customerId]?[t] else { row[t] = NSNull(); continue }
                    // Masked values are text; unmasked ones keep their JSON type.
                    row[t] = Traits.piiKind(t, sources: config.sources) != nil && !reveal ? (value(m.customerId, t) as Any) : v.json
                }
                return row
            })
            return
        }
        if members.isEmpty { print("audience \(name) has no members (`steward audience show \(name)`)"); return }
        var table = TextTable(headers: ["customer", "holdout"] + shown)
        for m in members { table.rows.append([m.customerId, m.holdout ? "yes" : ""] + shown.map { value(m.customerId, $0) ?? "" }) }
        print(table.render())
        if !reveal { print("(PII masked; --reveal shows it, audited)") }
    }
}
