import ArgumentParser
import Foundation
import StewardActivation
import StewardCatalog
import StewardConfig
import StewardConsole
import StewardIdentity
import StewardPipeline
import StewardServer

struct MatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "match", abstract: "Identity resolution: report, or re-run matching.",
                                                    subcommands: [MatchReportCommand.self, MatchRunCommand.self, MatchReview.self, MatchAccept.self, MatchReject.self])
}

struct MatchReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "Identity-resolution summary; with truth: precision/recall/F1.")
    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func run() throws {
        let config = try projectOptions.load()
        let catalog = try CLI.requireReadCatalog(config)
        let r = try catalog.pool.read { try MatchReport.load($0, truth: config.truth) }
        if output.json {
            CLI.printJSON([
                "records": r.records, "candidate_pairs": r.candidatePairs, "matched_pairs": r.matchedPairs,
                "review_pairs": r.reviewPairs, "refused_pairs": r.refusedPairs, "clusters": r.clusters, "match_rate": r.matchRate,
                "truth": r.truth.map { t -> Any in ["precision": t.precision, "recall": t.recall, "f1": t.f1, "records": t.records,
                                                   "true_pairs": t.truePairs, "predicted_pairs": t.predictedPairs, "correct_pairs": t.correctPairs] } ?? NSNull(),
                "junk": r.junk.map { ["field": $0.field, "value": $0.value, "records": $0.records] },
                "pairs_per_rule": r.pairsPerRule, "seconds": r.seconds, "pass": r.pass,
                "lambda": CLI.orNull(r.lambda), "em_iterations": CLI.orNull(r.emIterations),
                "match_rate_detail": Self.json(r.matchRateDetail),
            ])
            return
        }
        guard r.runId != nil else { print("no matching pass yet: `steward run` loads the sources and matches them"); return }
        print("records \(CLI.count(r.records)) → customers \(CLI.count(r.clusters))   match rate \(CLI.percent(r.matchRate))")
        print("match rate: \(r.matchRateDetail.explanation())")
        print("candidate pairs \(CLI.count(r.candidatePairs))   matched \(CLI.count(r.matchedPairs))   review \(CLI.count(r.reviewPairs))   kept apart by the chaining guard \(CLI.count(r.refusedPairs))")
        if let t = r.truth {
            print(String(format: "truth (%@ records): precision %.4f  recall %.4f  F1 %.4f", CLI.count(t.records), t.precision, t.recall, t.f1))
        } else {
            print("truth: not configured (add `truth:` to steward.yml to score the clusters)")
        }
        if let l = r.lambda, let i = r.emIterations { print(String(format: "model: λ %.4f after %d EM iterations", l, i)) }
        if !r.pairsPerRule.isEmpty {
            print("blocking rules (pairs before deduplication):")
            for (rule, n) in r.pairsPerRule.sorted(by: { $0.key < $1.key }) { print("  \(rule.padding(toLength: 40, withPad: " ", startingAt: 0)) \(CLI.count(n))") }
        }
        if r.junk.isEmpty { print("placeholder identifiers: none found") } else {
            print("placeholder identifiers (ignored as evidence):")
            for j in r.junk { print("  \(j.field) \(j.value)  (\(CLI.count(j.records)) records)") }
        }
        if let matching = r.pass["matching_seconds"], let whole = r.pass["whole_seconds"] {
            let memory = r.pass["peak_rss_mb"].map { String(format: "   peak memory %.0f MB", $0) } ?? ""
            print(String(format: "pass: matching %.1fs (records in → customers written)   whole %.1fs (with golden records, history, lookup index)", matching, whole) + memory)
        }
        if !r.seconds.isEmpty {
            print("timings: " + r.seconds.sorted { $0.key < $1.key }.map { String(format: "%@ %.2fs", $0.key, $0.value) }.joined(separator: "  "))
        }
    }

    /// The match rate's counts (`MatchRate`) and its ceiling from the truth file.
    static func json(_ m: MatchRate) -> [String: Any] {
        [
            "definition": MatchRate.definition, "records": m.records, "linked": m.linked, "rate": m.rate,
            "ceiling": m.ceiling.map { c -> Any in ["rate": c.rate, "labelled_records": c.labelled, "records_with_partner": c.withPartner] } ?? NSNull(),
        ]
    }
}

struct MatchRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Re-run identity resolution on the staged records (no load).")
    @OptionGroup var projectOptions: ProjectOptions
    @Flag(help: "Match even when nothing changed since the last pass.") var force = false

    func run() throws {
        let config = try projectOptions.load()
        let catalog = try Catalog.open(at: config.catalogURL)
        let runId: Int64 = try catalog.pool.read { try Int64.fetchOne($0, sql: "SELECT MAX(id) FROM run") } ?? 0
        let outcome = try IdentityEngine(config: config, catalog: catalog).resolve(runId: runId, force: force)
        print("identity: \(outcome.summary)")
        print("facts: \(try CustomerFacts(catalog: catalog).update(runId: runId).summary)")
    }
}

struct MatchReview: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "review", abstract: "The review queue: pairs in the review band or kept apart by the chaining guard.")
    @OptionGroup var projectOptions: ProjectOptions
    @Option(help: "At most this many pairs.") var limit = 50
    @OptionGroup var output: JSONOption

    func run() throws {
        let config = try projectOptions.load()
        let catalog = try CLI.requireReadCatalog(config)
        let items = try catalog.pool.read { try ReviewQueue.items($0, limit: limit) }
        if output.json {
            CLI.printJSON(items.map { ["a": $0.a, "b": $0.b, "probability": $0.probability, "status": $0.status] })
            return
        }
        if items.isEmpty { print("review queue is empty"); return }
        var table = TextTable(headers: ["record", "record", "probability", "why"], rightAligned: [2])
        for i in items {
            table.rows.append([i.a, i.b, String(format: "%.3f", i.probability), i.status == "review" ? "review band" : "chaining guard"])
        }
        print(table.render())
        print("decide with `steward match accept A B` or `steward match reject A B`; `steward explain A B` shows why")
    }
}

/// `match accept A B` / `match reject A B`: a steward's decision, audited, applied at once.
struct PairArguments: ParsableArguments {
    @Argument(help: "SOURCE:RECORD") var first: String
    @Argument(help: "SOURCE:RECORD") var second: String

    func decide(_ projectOptions: ProjectOptions, accept: Bool) throws {
        let config = try projectOptions.load()
        let catalog = try Catalog.open(at: config.catalogURL)
        do {
            try catalog.pool.write { try ReviewQueue.decide($0, first, second, accept: accept) }
        } catch let f as ReviewQueue.Failure {
            CLI.fail(f.description, code: 2)
        }
        let runId: Int64 = try catalog.pool.read { try Int64.fetchOne($0, sql: "SELECT MAX(id) FROM run") } ?? 0
        let outcome = try IdentityEngine(config: config, catalog: catalog).resolve(runId: runId)
        let facts = try CustomerFacts(catalog: catalog).update(runId: runId)
        print("\(accept ? "accepted" : "rejected") \(first) – \(second); identity: \(outcome.summary); facts: \(facts.summary)")
    }
}

struct MatchAccept: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "accept", abstract: "Accept a pair as one customer (overrides the model; audited).")
    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var pair: PairArguments
    func run() throws { try pair.decide(projectOptions, accept: true) }
}

struct MatchReject: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reject", abstract: "Keep a pair apart for good (overrides the model; audited).")
    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var pair: PairArguments
    func run() throws { try pair.decide(projectOptions, accept: false) }
}

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Why two records do or do not match: a waterfall of each comparison's weight.")
    @OptionGroup var projectOptions: ProjectOptions
    @Argument(help: "SOURCE:RECORD") var first: String
    @Argument(help: "SOURCE:RECORD") var second: String
    @Flag(help: "Show PII unmasked (audited).") var reveal = false
    @OptionGroup var output: JSONOption

    func run() throws {
        let config = try projectOptions.load()
        let catalog = reveal ? try Catalog.open(at: config.catalogURL) : try CLI.requireReadCatalog(config)   // a reveal is audited
        let e: Explanation
        do {
            e = try catalog.pool.read { try Explanation.explain($0, first, second, threshold: config.matching.threshold) }
        } catch let f as Explanation.Failure {
            CLI.fail(f.description, code: 2)
        }
        if reveal {
            try catalog.pool.write { db in
                for id in Set([e.customers.0, e.customers.1].compactMap { $0 }).sorted() {
                    try Customer360.auditReveal(db, customerId: id, via: "explain --reveal \(e.a) \(e.b)")
                }
            }
        }
        if output.json {
            CLI.printJSON([
                "a": e.a, "b": e.b, "prior_weight": e.prior, "weight": e.weight, "probability": e.probability,
                "threshold": e.threshold, "match": e.probability >= e.threshold, "same_customer": e.sameCustomer,
                "customers": [CLI.orNull(e.customers.0), CLI.orNull(e.customers.1)], "names_swapped": e.swappedNames,
                "decision": CLI.orNull(e.decision), "masked": !reveal,
                "comparisons": e.lines.map { ["field": $0.field, "a": reveal ? $0.a : $0.maskedA, "b": reveal ? $0.b : $0.maskedB,
                                              "level": $0.level, "weight": $0.weight, "term_frequency_adjustment": $0.termFrequency] },
            ])
            return
        }
        print("\(e.a)  vs  \(e.b)\(reveal ? "" : "   (PII masked; --reveal shows it, audited)")")
        // The console's Explain views draw the same waterfall.
        for line in ExplainWaterfall.lines(e, width: 132, revealA: reveal, revealB: reveal, theme: .builtinMonochrome) {
            print("  " + line.plainText.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
        }
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Export identity data.", subcommands: [ExportClusters.self])
}

struct ExportClusters: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clusters", abstract: "CSV source,record_id,customer_id, one row per staged person record.",
        discussion: """
        --out writes only a regular file: a new one, or an existing one replaced atomically; either way \
        mode 0600 (the export links people to records). A folder, symbolic link, FIFO, socket or device at \
        the path is refused (exit 2) and left as it is. --out - writes to standard output.
        """)
    @OptionGroup var projectOptions: ProjectOptions
    @Option(help: ArgumentHelp("Write to this regular file (mode 0600) instead of stdout; - is stdout.", valueName: "file"))
    var out: String?

    func run() throws {
        let file = out.flatMap { $0 == "-" ? nil : URL(fileURLWithPath: $0) }
        // Refused before the catalog is read; checked again just before the file is put in place.
        if let file { try Self.writing(to: file) { try PrivateFiles.checkOutputPath(file.path) } }
        let config = try projectOptions.load()
        let catalog = try CLI.requireReadCatalog(config)
        var text = "source,record_id,customer_id\n"
        try catalog.pool.read { db in
            for r in try ClusterExport.rows(db) { text += "\(CSVText.field(r.source)),\(CSVText.field(r.recordId)),\(r.customerId)\n" }
        }
        if let file, let out {
            try Self.writing(to: file) { try PrivateFiles.writeRegularFile(Array(text.utf8), to: file) }
            CLI.note("wrote \(out)")
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    /// A path --out cannot use: one sentence naming it and what is there (exit 2).
    static func writing(to file: URL, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as PrivateFileError {
            if let kind = error.notRegularKind {
                throw EnvironmentError(description: "\(file.path) is \(kind), not a regular file: --out writes only regular files (- for standard output), so it was left as it is")
            }
            throw EnvironmentError(description: error.description)
        }
    }
}

enum CSVText {
    static func field(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}

struct CustomerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "customer", abstract: "Find and show customers.",
                                                    subcommands: [CustomerSearchCommand.self, CustomerShow.self, CustomerMerge.self, CustomerSplit.self])
}

struct CustomerSearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "search", abstract: "Lookup by name, email, phone (any format), postcode or id.")
    @OptionGroup var projectOptions: ProjectOptions
    @Argument(parsing: .remaining, help: "What to look for.") var query: [String]
    @Option(help: "At most this many results.") var limit = 20
    @Flag(help: "Show PII unmasked (audited).") var reveal = false
    @OptionGroup var output: JSONOption

    func validate() throws {
        if query.isEmpty { throw ValidationError("give a name, email, phone, postcode or id to search for") }
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        let config = try projectOptions.load()
        let q = query.joined(separator: " ")
        // A read command: read-only and untimed (the console's lookups feed the query-performance KPI).
        let catalog = try CLI.readCatalog(config)
        let hits = try catalog?.pool.read { try CustomerSearch.search($0, query: q, limit: limit) } ?? []
        if case .locked(let keyId)? = catalog?.vault.state {
            // Emails, phones and ids are indexed as keyed tokens: without the key they cannot be looked up.
            CLI.note("the privacy vault's key \(keyId) is not here: PII shows as [sealed] and emails, phones and ids cannot be looked up")
        }
        // A reveal is audited first, so it needs a writable catalog.
        // The query is not recorded: a search by email or phone would copy it into the audit trail.
        if reveal {
            try Catalog.open(at: config.catalogURL).audit(action: "reveal", subject: "search",
                                                          detail: "customer search --reveal: \(hits.count) customers: " + hits.map(\.customerId).joined(separator: ","))
        }
        let email = { (e: String?) in reveal ? e : Mask.email(e) }
        let phone = { (p: String?) in reveal ? p : Mask.phone(p) }
        if output.json {
            CLI.printJSON(hits.map { ["customer_id": $0.customerId, "name": $0.name, "email": CLI.orNull(email($0.email)),
                                      "phone": CLI.orNull(phone($0.phone)), "city": CLI.orNull($0.city), "rank": $0.rank] })
            return
        }
        if hits.isEmpty { print("no customer matches '\(q)'"); return }
        var table = TextTable(headers: ["#", "customer", "name", "email", "phone", "city"], rightAligned: [0])
        for h in hits { table.rows.append([String(h.rank), h.customerId, h.name, email(h.email) ?? "", phone(h.phone) ?? "", h.city ?? ""]) }
        print(table.render())
    }
}

struct CustomerShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "The Customer 360 record.")
    @OptionGroup var projectOptions: ProjectOptions
    @Argument(help: "Customer id (C…).") var id: String
    @Flag(help: "Show PII unmasked (audited).") var reveal = false
    @OptionGroup var output: JSONOption

    func run() throws {
        let config = try projectOptions.load()
        let catalog = reveal ? try Catalog.open(at: config.catalogURL) : try CLI.requireReadCatalog(config)   // a reveal is audited
        guard let c = try catalog.pool.read({ try Customer360.load($0, id: id) }) else {
            if let erased = try catalog.pool.read({ try Erasure.request($0, customerId: id) }) {
                CLI.fail("customer \(id) was erased on request (\(erased.at), by \(erased.actor))", code: 2)
            }
            CLI.fail("no customer \(id)", code: 2)
        }
        if reveal, case .locked(let keyId) = catalog.vault.state {
            // Nothing can be revealed without the vault's key: the values read [sealed], no reveal is audited.
            CLI.note("the privacy vault's key \(keyId) is not here: PII stays [sealed]")
        } else if reveal {
            try catalog.pool.write { try Customer360.auditReveal($0, customerId: c.customerId, via: "customer show --reveal") }
        }
        let golden = reveal ? c.golden : c.maskedGolden
        let history = reveal ? c.history : c.maskedHistory
        // Custom traits, consent per channel and audiences (StewardActivation).
        let activation = try catalog.pool.read { try CustomerActivationProfile.load($0, customerId: c.customerId, config: config) }
        let traitValue = { (t: CustomerActivationProfile.Trait) in PIIPolicy.display(t.value, kind: t.pii, reveal: reveal) ?? "" }
        if output.json {
            // The API's GET /v1/customers/{id} body, shared so the two cannot drift apart.
            CLI.printJSON(APIBodies.customer(c, activation: activation, reveal: reveal))
            return
        }
        if c.requestedId != c.customerId { print("\(c.requestedId) was merged into \(c.customerId)") }
        print("customer \(c.customerId)\(reveal ? "" : "   (PII masked; --reveal shows it, audited)")")
        for a in Survivorship.attributes { if let v = golden[a] { print("  \(a.padding(toLength: 12, withPad: " ", startingAt: 0)) \(v)   ← \(c.provenance[a] ?? "")") } }
        print("source records:")
        for s in c.sources { print("  \(s.source):\(s.recordId)  \(s.matchProbability.map { String(format: "p=%.3f", $0) } ?? "")") }
        print("history: \(c.history.count) versions")
        for h in history { print("  \(h["valid_from"].flatMap { $0 } ?? "") → \(h["valid_to"].flatMap { $0 } ?? "current")  \(h["reason"].flatMap { $0 } ?? "")") }
        print("addresses: \(c.addresses.count)")
        for a in c.addresses {
            let street = reveal ? a.street : Mask.other(a.street)
            let text = [street, a.postcode, a.city, a.country].compactMap { $0 }.joined(separator: ", ")
            print("  \(a.isCurrent ? "current" : a.sources > 0 ? "also   " : "former ")  \(text)   (\(a.sources) records)")
        }
        print(String(format: "activity: %d orders, revenue %.2f, last order %@, %d tickets, %d events", c.orders, c.revenue,
                     (c.lastOrderAt ?? "–") as NSString, c.tickets, c.events))
        if let s = c.score {
            let rfm = s.r.map { r in "  RFM \(r)\(s.f ?? 0)\(s.m ?? 0)" } ?? ""
            print("segment: \(s.segment)\(rfm)   churn score: \(s.churnScore.map { String(format: "%.3f", $0) } ?? "–")")
        } else {
            print("segment: –   churn score: –   (no facts pass yet: `steward run`)")
        }
        if !activation.traits.isEmpty {
            print("traits:")
            for t in activation.traits { print("  \(t.name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(traitValue(t))   ← \(t.source):\(t.recordKey)") }
        }
        if !activation.consent.isEmpty {
            print("consent: " + activation.consent.map { c in
                "\(c.channel) " + (c.granted.map { $0 ? "granted" : "withdrawn" } ?? "no statement") + (c.at.map { " \($0)" } ?? "")
            }.joined(separator: ", "))
        }
        if !activation.audiences.isEmpty {
            print("audiences: " + activation.audiences.map { $0.holdout ? "\($0.name) (holdout)" : $0.name }.joined(separator: ", "))
        }
    }
}
