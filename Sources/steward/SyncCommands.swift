import ArgumentParser
import Foundation
import StewardActivation
import StewardCatalog
import StewardConfig
import StewardPipeline

/// `steward sync [DESTINATION]`, `sync status [--json]`, `sync conflicts [--json] [--reveal]`.
struct SyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: "Send the audiences' changes to the destinations (destinations: in steward.yml).",
        subcommands: [SyncNow.self, SyncStatus.self, SyncConflicts.self], defaultSubcommand: SyncNow.self)
}

struct SyncNow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "now", abstract: "Sync every destination, or the one named (exit 1 when a delivery failed).", shouldDisplay: false)
    @OptionGroup var projectOptions: ProjectOptions
    @Argument(help: "A destination's name (default: all).") var destination: String?

    func run() throws {
        let config = try projectOptions.load()
        if let destination, config.destinations.first(where: { $0.name == destination }) == nil {
            let known = config.destinations.map(\.name)
            CLI.fail("no destination named '\(destination)' in \(config.file.path)"
                     + (known.isEmpty ? " (it declares none)" : "; expected one of: \(known.joined(separator: ", "))"), code: 2)
        }
        guard !config.destinations.isEmpty else {
            print("no destinations: add `destinations:` to steward.yml (docs/CONTRACTS.md)")
            return
        }
        let catalog = try Catalog.open(at: config.catalogURL)
        try catalog.prepareVault(wanted: config.privacy.vault)
        let outcomes = SyncService(config: config, catalog: catalog).syncAll(only: destination)
        var table = TextTable(headers: ["", "destination", "status", "add", "update", "remove", "batches", "pending", "message"])
        table.rightAligned = [3, 4, 5, 6, 7]
        for o in outcomes {
            let r = o.record
            let ok = r?.status == "ok"
            table.rows.append([ok ? "✓" : "✗", o.destination, r?.status ?? "failed", String(r?.adds ?? 0), String(r?.updates ?? 0),
                               String(r?.removes ?? 0), String(r?.batches ?? 0), String(r?.pending ?? 0), r?.error ?? o.error ?? ""])
        }
        print(table.render())
        if outcomes.contains(where: { $0.record?.status != "ok" }) {
            print("\nfailed batches keep their ids and are re-sent first at the next sync")
            throw ExitCode(1)
        }
    }
}

struct SyncStatus: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Each destination's last sync.")
    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func run() throws {
        let config = try projectOptions.load()
        let health = try CLI.readCatalog(config)?.destinationSyncHealth() ?? [:]
        let rows = config.destinations.map { d -> (DestinationConfig, DestinationSyncHealth?) in (d, health[d.name]) }
        if output.json {
            CLI.printJSON(rows.map { d, h -> [String: Any] in
                [
                    "destination": d.name, "type": d.kind.rawValue, "mode": d.mode.rawValue, "status": h?.last.status ?? "never",
                    "last_sync_at": CLI.iso(h?.last.finishedAt),
                    "sent": ["add": h?.last.adds ?? 0, "update": h?.last.updates ?? 0, "remove": h?.last.removes ?? 0],
                    "pending": h?.last.pending ?? 0, "error": CLI.orNull(h?.last.error), "failing_since": CLI.iso(h?.failingSince),
                    "audiences": d.audiences,
                ]
            })
            return
        }
        if rows.isEmpty {
            print("no destinations: add `destinations:` to steward.yml (docs/CONTRACTS.md)")
            return
        }
        var table = TextTable(headers: ["", "destination", "type", "mode", "status", "last sync", "add", "update", "remove", "pending", "message"])
        table.rightAligned = [6, 7, 8, 9]
        for (d, h) in rows {
            let status = h?.last.status ?? "never"
            let since = h?.failingSince.map { "failing for \(Duration.describe(Date().timeIntervalSince($0))): " } ?? ""
            table.rows.append([status == "ok" ? "✓" : status == "never" ? "·" : "✗", d.name, d.kind.rawValue, d.mode.rawValue, status,
                               CLI.age(h?.last.finishedAt), String(h?.last.adds ?? 0), String(h?.last.updates ?? 0),
                               String(h?.last.removes ?? 0), String(h?.last.pending ?? 0), h?.last.error.map { since + $0 } ?? ""])
        }
        print(table.render())
    }
}

struct SyncConflicts: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts", abstract: "Fields the CRM changed after the last sync that Steward's survivorship would set otherwise.")
    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption
    @Flag(help: "Show both values unmasked (audited).") var reveal = false

    func run() throws {
        let config = try projectOptions.load()
        let crm = config.destinations.filter { $0.kind == .crm }
        // A reveal is audited, so it needs a writable catalog; otherwise reading never writes.
        guard let catalog = reveal ? try Catalog.open(at: config.catalogURL) : try CLI.readCatalog(config) else {
            if output.json { CLI.printJSON([Any]()) } else { print("no catalog yet: run `steward run` first") }
            return
        }
        var conflicts: [CRMConflict] = []
        for d in crm { conflicts += try CRMWriteBack(config: config, catalog: catalog, destination: d).conflicts() }
        if reveal && !conflicts.isEmpty {
            try catalog.audit(action: "reveal", subject: "sync conflicts",
                              detail: "\(conflicts.count) conflicts shown unmasked (steward sync conflicts --reveal)")
        }
        func show(_ value: String?, _ field: String) -> String? { PIIPolicy.display(value, field: field, reveal: reveal) }
        if output.json {
            CLI.printJSON(conflicts.map { c -> [String: Any] in
                ["destination": c.destination, "record_id": c.recordId, "customer_id": c.customerId, "field": c.field,
                 "crm_value": CLI.orNull(show(c.crmValue, c.field)), "steward_value": CLI.orNull(show(c.stewardValue, c.field)),
                 "since": c.since, "winner": c.winner, "masked": !reveal]
            })
            return
        }
        if crm.isEmpty {
            print("no crm destinations: conflicts arise only where Steward writes back to a CRM (type: crm)")
            return
        }
        if conflicts.isEmpty {
            print("no conflicts: the CRM changed no field Steward would set otherwise")
            return
        }
        var table = TextTable(headers: ["destination", "record", "customer", "field", "crm value", "steward value", "since", "wins"])
        for c in conflicts {
            table.rows.append([c.destination, c.recordId, c.customerId, c.field, show(c.crmValue, c.field) ?? "–",
                               show(c.stewardValue, c.field) ?? "–", String(c.since.prefix(16)), c.winner])
        }
        print(table.render())
        if !reveal { print("\n(PII masked; --reveal shows it, audited)") }
    }
}
