import Foundation
import GRDB
import StewardCatalog
import StewardConfig
import StewardDemo
import StewardIdentity
import StewardPipeline

/// `steward-bench match --suite [--seed N] [--scale X] [--families 1,2,3,4,5]`: the families of
/// labelled person data (`MatchFamilies`, StewardDemo), each written as a Steward project, run with the
/// `steward` next to the bench and scored on its clusters (pairwise precision/recall/F1 against
/// truth.csv).
typealias MatchSuite = MatchFamilies

extension MatchSuite {
    /// Generates, runs and scores one family. Household families also count the wrongly merged pairs
    /// of different members of one household, and of twins.
    @MainActor
    func run(family: Int, steward: String, work: URL) throws -> [String: Any] {
        guard let (name, sources, people) = self.family(family) else {
            throw SuiteError(message: "match --suite: no family \(family) (families: 1 to 6)")
        }
        let generated = (sources: sources, people: people)
        let dir = work.appendingPathComponent("suite-\(family)-\(name)")
        try write(generated.sources, name: name, to: dir)
        // --in-process: staging and matching only, in this process (what MatchFamiliesTests runs), for
        // studying the matcher without a `steward` binary of the same build.
        let run = args.contains("--in-process") ? try inProcess(dir) : measure(steward, ["run", "--project", dir.path])
        var out: [String: Any] = [
            "family": family, "name": name, "seed": seed, "scale": scale, "people": generated.people.count,
            "records": generated.sources.values.reduce(0) { $0 + $1.count },
            "run_seconds": run.seconds, "run_max_rss_mb": run.maxRSSMB, "exit_status": run.status,
        ]
        guard run.status == 0 else { return out }
        let config = try ConfigLoader.load(dir.appendingPathComponent("steward.yml"))
        let catalog = try Catalog.open(at: config.catalogURL)
        let report = try catalog.pool.read { try MatchReport.load($0, truth: config.truth) }
        // Fewer staged than written means rows were quarantined: the score then covers only the rest.
        out["staged_records"] = report.records
        out["clusters"] = report.clusters
        out["candidate_pairs"] = report.candidatePairs
        // Synthetic values only (the suite's own junk list and generated people): no real PII here.
        out["junk_identifiers"] = Dictionary(report.junk.map { ($0.field, 1) }, uniquingKeysWith: +)
        if let t = report.truth { out["cluster_pairwise"] = ["precision": t.precision, "recall": t.recall, "f1": t.f1] }
        // No giant customers: the largest, against the largest true person (records of one person).
        let largest = try catalog.pool.read {
            try Int.fetchOne($0, sql: "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM identity_member GROUP BY customer_id)")
        } ?? 0
        var perPerson: [Int: Int] = [:]
        for records in generated.sources.values { for r in records { perPerson[r.person, default: 0] += 1 } }
        let largestPerson = perPerson.values.max() ?? 0
        out["largest_customer_records"] = largest
        out["largest_person_records"] = largestPerson
        // Wrongly merged pairs (records of different people in one customer), by what the people share.
        var recordOf: [String: SuiteRecord] = [:]
        for (source, records) in generated.sources { for r in records { recordOf["\(source):\(r.key)"] = r } }
        var members: [String: [SuiteRecord]] = [:]
        for r in try catalog.pool.read({ try Row.fetchAll($0, sql: "SELECT source, record_key, customer_id FROM identity_member") }) {
            if let record = recordOf["\(r[0] as String):\(r[1] as String)"] { members[r[2] as String, default: []].append(record) }
        }
        var householdPairs = 0, twinPairs = 0, junkPairs = 0
        for rs in members.values where rs.count > 1 {
            for i in rs.indices { for j in rs.indices where j > i && rs[i].person != rs[j].person {
                let a = generated.people[rs[i].person], b = generated.people[rs[j].person]
                if a.household != nil, a.household == b.household { householdPairs += 1; if a.twin && b.twin { twinPairs += 1 } }
                if rs[i].junk != nil, rs[i].junk == rs[j].junk { junkPairs += 1 }
            } }
        }
        if family == 3 {
            out["household_members_merged_pairs"] = householdPairs
            out["twins_merged_pairs"] = twinPairs
            out["twin_pairs"] = generated.people.filter(\.twin).count / 2
        }
        if family == 4 {
            out["records_with_junk"] = generated.sources.values.reduce(0) { $0 + $1.filter { $0.junk != nil }.count }
            out["merged_pairs_sharing_junk"] = junkPairs
        }
        if let t = report.truth {
            out["goal"] = Self.goal(family: family, precision: t.precision, f1: t.f1, junkPairs: junkPairs,
                                    largest: largest, largestPerson: largestPerson)
        }
        if let n = stringOption("--misses").flatMap(Int.init), n > 0 {
            out["errors"] = try catalog.pool.read { try Self.errors($0, generated.sources, limit: n) }
        }
        return out
    }
}

extension MatchSuite {
    func inProcess(_ dir: URL) throws -> Measured {
        let start = Date()
        let config = try ConfigLoader.load(dir.appendingPathComponent("steward.yml"))
        let catalog = try Catalog.open(at: config.catalogURL)
        let summary = try PipelineRunner(config: config, catalog: catalog, extensions: [IdentityResolution()]).run()
        return Measured(seconds: Date().timeIntervalSince(start), maxRSSMB: 0, status: summary.status == "success" ? 0 : 1)
    }

    /// `--misses N`: up to N false splits (one person in two customers: the best-scoring pair across
    /// them) and N false merges (a match edge between two people's records), each explained field by
    /// field, to see which comparisons the errors come from. Synthetic people only.
    static func errors(_ db: Database, _ sources: [String: [SuiteRecord]], limit: Int) throws -> [String] {
        let explainer = try Explainer(db, threshold: 0.9)
        var personOf: [String: Int] = [:]
        for (source, records) in sources { for r in records { personOf["\(source):\(r.key)"] = r.person } }
        var customerOf: [String: String] = [:]
        for r in try Row.fetchAll(db, sql: "SELECT source, record_key, customer_id FROM identity_member") {
            customerOf["\(r[0] as String):\(r[1] as String)"] = r[2]
        }
        var edgeStatus: [String: String] = [:]
        for r in try Row.fetchAll(db, sql: "SELECT a_source, a_key, b_source, b_key, status FROM identity_edge") {
            let a = "\(r[0] as String):\(r[1] as String)", b = "\(r[2] as String):\(r[3] as String)"
            edgeStatus[a < b ? a + "|" + b : b + "|" + a] = r[4]
        }
        func line(_ a: String, _ b: String, _ kind: String) throws -> String {
            let e = try explainer.explain(db, a, b)
            let fields = e.lines.map { "\($0.field)[\($0.a)|\($0.b)] \($0.level) \(String(format: "%+.1f", $0.weight))" }
            let status = edgeStatus[a < b ? a + "|" + b : b + "|" + a] ?? "no edge"
            return "\(kind) \(a) \(b) p=\(String(format: "%.3f", e.probability)) \(status)\(e.swappedNames ? " swapped" : ""): " + fields.joined(separator: "; ")
        }
        var byPerson: [Int: [String: [String]]] = [:]
        for (ref, p) in personOf { if let c = customerOf[ref] { byPerson[p, default: [:]][c, default: []].append(ref) } }
        var out: [String] = []
        var splits = 0
        for (_, customers) in byPerson.sorted(by: { $0.key < $1.key }) where customers.count > 1 {
            let groups = customers.values.map { $0.sorted() }.sorted { $0[0] < $1[0] }
            for i in groups.indices { for j in groups.indices where j > i {
                guard splits < limit else { break }
                var best: (String, String, Double)?
                for a in groups[i] { for b in groups[j] {
                    let p = try explainer.explain(db, a, b).probability
                    if best == nil || p > best!.2 { best = (a, b, p) }
                } }
                if let (a, b, _) = best { out.append(try line(a, b, "split(\(groups[i].count)+\(groups[j].count))")); splits += 1 }
            } }
        }
        var merges = 0
        for (key, status) in edgeStatus.sorted(by: { $0.key < $1.key }) where status == "match" && merges < limit {
            let parts = key.split(separator: "|").map(String.init)
            if personOf[parts[0]] != personOf[parts[1]] { out.append(try line(parts[0], parts[1], "merge")); merges += 1 }
        }
        return out
    }

    /// The goals issue 17 sets with default settings: what the family must reach, and whether it did.
    static func goal(family: Int, precision: Double, f1: Double, junkPairs: Int, largest: Int, largestPerson: Int) -> [String: Any] {
        switch family {
        case 6: return ["measure": "cluster F1 >= 0.99, no customer larger than the largest person", "met": f1 >= 0.99 && largest <= largestPerson]
        case 3: return ["measure": "precision >= 0.99", "met": precision >= 0.99]
        case 4: return ["measure": "no merged pair joined by a shared junk value, precision >= 0.99", "met": junkPairs == 0 && precision >= 0.99]
        default: return ["measure": "cluster F1 >= 0.997", "met": f1 >= 0.997]
        }
    }

    /// The families as a Markdown table (the shape of BENCHMARKS.md's tables).
    static func table(_ families: [[String: Any]]) -> [String] {
        var lines = ["| family | people | records | precision | recall | F1 | largest customer / person | goal | met | run s |",
                     "|---|---:|---:|---:|---:|---:|---:|---|---|---:|"]
        for f in families {
            let c = f["cluster_pairwise"] as? [String: Double] ?? [:], g = f["goal"] as? [String: Any] ?? [:]
            lines.append(String(format: "| %d %@ | %d | %d | %.4f | %.4f | %.4f | %d / %d | %@ | %@ | %.1f |",
                                f["family"] as? Int ?? 0, f["name"] as? String ?? "", f["people"] as? Int ?? 0, f["records"] as? Int ?? 0,
                                c["precision"] ?? 0, c["recall"] ?? 0, c["f1"] ?? 0, f["largest_customer_records"] as? Int ?? 0,
                                f["largest_person_records"] as? Int ?? 0, g["measure"] as? String ?? "run failed",
                                (g["met"] as? Bool).map { $0 ? "yes" : "no" } ?? "no", f["run_seconds"] as? Double ?? 0))
        }
        return lines
    }
}

struct SuiteError: Error, CustomStringConvertible { var message: String; var description: String { message } }
