import Foundation
import GRDB
import StewardCatalog
import StewardConfig
import StewardDemo
import StewardIdentity

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
            throw SuiteError(message: "match --suite: no family \(family) (families: 1 to 5)")
        }
        let generated = (sources: sources, people: people)
        let dir = work.appendingPathComponent("suite-\(family)-\(name)")
        try write(generated.sources, name: name, to: dir)
        let run = measure(steward, ["run", "--project", dir.path])
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
        if let t = report.truth { out["goal"] = Self.goal(family: family, precision: t.precision, f1: t.f1, junkPairs: junkPairs) }
        return out
    }
}

extension MatchSuite {
    /// The goals issue 17 sets with default settings: what the family must reach, and whether it did.
    static func goal(family: Int, precision: Double, f1: Double, junkPairs: Int) -> [String: Any] {
        switch family {
        case 3: return ["measure": "precision >= 0.99", "met": precision >= 0.99]
        case 4: return ["measure": "no merged pair joined by a shared junk value, precision >= 0.99", "met": junkPairs == 0 && precision >= 0.99]
        default: return ["measure": "cluster F1 >= 0.997", "met": f1 >= 0.997]
        }
    }

    /// The families as a Markdown table (the shape of BENCHMARKS.md's tables).
    static func table(_ families: [[String: Any]]) -> [String] {
        var lines = ["| family | people | records | precision | recall | F1 | goal | met | run s |", "|---|---:|---:|---:|---:|---:|---|---|---:|"]
        for f in families {
            let c = f["cluster_pairwise"] as? [String: Double] ?? [:], g = f["goal"] as? [String: Any] ?? [:]
            lines.append(String(format: "| %d %@ | %d | %d | %.4f | %.4f | %.4f | %@ | %@ | %.1f |",
                                f["family"] as? Int ?? 0, f["name"] as? String ?? "", f["people"] as? Int ?? 0, f["records"] as? Int ?? 0,
                                c["precision"] ?? 0, c["recall"] ?? 0, c["f1"] ?? 0, g["measure"] as? String ?? "run failed",
                                (g["met"] as? Bool).map { $0 ? "yes" : "no" } ?? "no", f["run_seconds"] as? Double ?? 0))
        }
        return lines
    }
}

struct SuiteError: Error, CustomStringConvertible { var message: String; var description: String { message } }
