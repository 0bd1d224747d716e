import ArgumentParser
import Foundation
import GRDB
import StewardCatalog
import StewardIdentity
import StewardPipeline

/// `customer merge` / `customer split`: the steward's change, then a matching pass that obeys it,
/// then what changed.
enum Stewardship {
    static func apply(_ projectOptions: ProjectOptions, json: Bool,
                      _ change: (_ db: Database, _ runId: Int64, _ maxClusterSize: Int) throws -> CustomerStewardship.Change) throws {
        let config = try projectOptions.load()
        let catalog = try Catalog.open(at: config.catalogURL)
        let settings = try IdentityEngine.settings(config)
        let runId: Int64 = try catalog.pool.read { try Int64.fetchOne($0, sql: "SELECT MAX(id) FROM run") } ?? 0
        let c: CustomerStewardship.Change
        do {
            c = try catalog.pool.write { try change($0, runId, settings.maxClusterSize) }
        } catch let f as CustomerStewardship.Failure {
            CLI.fail(f.description, code: 2)
        }
        // Forced: the change already moved records between ids, which the pass's fingerprint does not see.
        let outcome = try IdentityEngine(config: config, catalog: catalog).resolve(runId: runId, force: true)
        _ = try CustomerFacts(catalog: catalog).update(runId: runId)
        let states = try catalog.pool.read { db in
            try [c.customerId, c.otherId].compactMap { try CustomerStewardship.state(db, $0) }
        }
        // The matching pass must have kept the change; say so loudly if it did not.
        let target = c.kind == "merge" ? c.customerId : c.otherId
        let held = states.first { $0.customerId == target }.map { s in c.moved.allSatisfy(s.records.contains) } ?? false
        if json {
            CLI.printJSON([
                "kind": c.kind, "customer_id": c.customerId, "other_customer_id": c.otherId, "moved": c.moved,
                "decisions": c.decisions, "held": held, "identity": outcome.summary,
                "customers": states.map { ["customer_id": $0.customerId, "status": $0.status, "merged_into": CLI.orNull($0.mergedInto),
                                           "records": $0.records] },
            ])
        } else {
            if c.kind == "merge" {
                print("merged \(c.otherId) into \(c.customerId): \(c.moved.count) records moved, \(c.decisions) steward decisions recorded")
            } else {
                print("split \(c.moved.count) records off \(c.customerId) into new customer \(c.otherId): \(c.decisions) steward decisions recorded")
            }
            for s in states {
                let what = s.status == "merged" ? "merged into \(s.mergedInto ?? "?")" : s.status
                print("  \(s.customerId)  \(what)  \(s.records.count) records\(s.records.isEmpty ? "" : ": " + s.records.joined(separator: ", "))")
            }
            print("identity: \(outcome.summary)")
        }
        if !held {
            CLI.fail("the matching pass did not keep this \(c.kind); check `steward customer show \(target)`", code: 1)
        }
    }
}

struct CustomerMerge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge", abstract: "Merge customer OTHER into SURVIVOR, which keeps its id (audited; later runs keep it).")
    @OptionGroup var projectOptions: ProjectOptions
    @Argument(help: "The customer that keeps its id.") var survivor: String
    @Argument(help: "The customer merged into it.") var other: String
    @OptionGroup var output: JSONOption

    func run() throws {
        try Stewardship.apply(projectOptions, json: output.json) { db, runId, max in
            try CustomerStewardship.merge(db, survivor: survivor, other: other, runId: runId, maxClusterSize: max)
        }
    }
}

struct CustomerSplit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "split", abstract: "Move records of a customer into a new customer id (audited; later runs keep it).")
    @OptionGroup var projectOptions: ProjectOptions
    @Argument(help: "The customer to split.") var id: String
    @Argument(help: "SOURCE:RECORD of each record that leaves.") var records: [String]
    @OptionGroup var output: JSONOption

    func validate() throws {
        if records.isEmpty { throw ValidationError("name the records that leave, as SOURCE:RECORD") }
    }

    func run() throws {
        try Stewardship.apply(projectOptions, json: output.json) { db, runId, _ in
            try CustomerStewardship.split(db, customer: id, records: records, runId: runId)
        }
    }
}

struct Forget: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Erase a person's PII from the catalog (raw, staging, golden, history, search, messages quoting it); keeps a tombstone and an audit event. Run it again to finish an interrupted erasure.")
    @OptionGroup var projectOptions: ProjectOptions
    @Argument(help: "Customer id (C…).") var id: String
    @Flag(help: "Do not ask for confirmation.") var yes = false
    @OptionGroup var output: JSONOption

    func run() throws {
        let config = try projectOptions.load()
        let catalog = try Catalog.open(at: config.catalogURL)
        if !yes {
            guard isatty(STDIN_FILENO) != 0 else {
                CLI.fail("refusing to erase \(id) without confirmation: pass --yes (no terminal to ask on)", code: 2)
            }
            FileHandle.standardError.write(Data("This erases every record of \(id) from the catalog for good. Type \(id) to confirm: ".utf8))
            guard readLine()?.trimmingCharacters(in: .whitespaces) == id else { CLI.fail("not confirmed; nothing erased", code: 2) }
        }
        let o: Erasure.Outcome
        do {
            o = try Erasure.forget(catalog: catalog, config: config, customerId: id)
        } catch let f as Erasure.Failure {
            CLI.fail(f.description, code: 2)
        }
        if output.json {
            CLI.printJSON([
                "customer_id": o.customerId, "customer_ids": o.customerIds, "request_id": o.requestId,
                "person_records": o.personRecords, "activity_records": o.activityRecords, "raw_rows": o.rawRows,
                "quarantine_rows": o.quarantineRows, "history_versions": o.historyVersions, "scrubbed_history_cells": o.scrubbedCells,
                "tombstones": o.tombstones, "kept_other_customers": o.keptOtherCustomers,
                "scrubbed_text_cells": o.scrubbedTextCells, "scrubbed_rows": o.scrubbedRows,
                "wal_truncated": o.walTruncated, "resumed": o.resumed,
            ])
        } else {
            if o.requestedId != o.customerId { print("\(o.requestedId) was merged into \(o.customerId)") }
            if o.resumed { print("finished erasure request \(o.requestId), which an interrupted forget had left pending") }
            print("erased \(o.customerId)\(o.customerIds.count > 1 ? " (and merged ids \(o.customerIds.dropFirst().joined(separator: ", ")))" : ""):")
            print("  \(o.personRecords) person records, \(o.activityRecords) transactions/events, \(o.rawRows) raw rows, \(o.quarantineRows) quarantined rows")
            print("  \(o.historyVersions) history versions deleted, \(o.scrubbedCells) values scrubbed from other customers' history")
            print("  \(o.tombstones) tombstones keep unchanged rows from reloading; erasure request \(o.requestId) is audited")
            if !o.keptOtherCustomers.isEmpty {
                print("  kept (another customer's records holding one of the emails): \(o.keptOtherCustomers.joined(separator: ", "))")
            }
            if o.scrubbedTextCells + o.scrubbedRows > 0 {
                print("  \(o.scrubbedTextCells) messages or details quoting the person now say [erased]\(o.scrubbedRows > 0 ? "; \(o.scrubbedRows) rows keyed by their values deleted" : "")")
            }
            print("  the source files still hold the person: erase them at the source too")
        }
        if !o.walTruncated {
            CLI.fail("another process holds the catalog open: the WAL could not be truncated, so erased pages may remain; run `steward forget \(o.customerId)` again after it closes", code: 1)
        }
    }
}
