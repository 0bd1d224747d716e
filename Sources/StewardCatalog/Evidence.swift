import Foundation
import GRDB

/// A condition on the catalog that backs a roadmap task (`evidence:` in steward.yml).
///
/// ```yaml
/// evidence:
///   "Implement data quality checks": checks_ran
///   "Connect the CRM contact export": {source_loaded: crm_contacts}
/// ```
///
/// Conditions on tables another module has not created yet evaluate to `.unknown`, never fail.
public enum EvidenceCondition: Sendable, Hashable, CustomStringConvertible {
    /// At least one check ran in the latest finished run that loaded something.
    case checksRan
    /// The latest finished run that loaded something (or failed trying) succeeded.
    case runsSucceeded
    /// No rows are held in quarantine.
    case quarantineEmpty
    /// The source has loaded at least once.
    case sourceLoaded(String)
    /// Golden customers exist (identity resolution).
    case customersExist
    /// The customer history (SCD Type 2) holds versions.
    case scd2Versions
    /// Customers carry an RFM segment from linked orders (customer facts).
    case segmentsScored
    /// A churn model was trained and its held-out accuracy stored.
    case churnModelTrained

    /// The names accepted in steward.yml.
    public static let names = ["checks_ran", "runs_succeeded", "quarantine_empty", "source_loaded", "customers_exist", "scd2_versions",
                                "segments_scored", "churn_model_trained"]

    /// A condition written without an argument; `source_loaded` needs one.
    public init?(name: String) {
        switch name {
        case "checks_ran": self = .checksRan
        case "runs_succeeded": self = .runsSucceeded
        case "quarantine_empty": self = .quarantineEmpty
        case "customers_exist": self = .customersExist
        case "scd2_versions": self = .scd2Versions
        case "segments_scored": self = .segmentsScored
        case "churn_model_trained": self = .churnModelTrained
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .checksRan: return "checks_ran"
        case .runsSucceeded: return "runs_succeeded"
        case .quarantineEmpty: return "quarantine_empty"
        case .sourceLoaded(let s): return "source_loaded: \(s)"
        case .customersExist: return "customers_exist"
        case .scd2Versions: return "scd2_versions"
        case .segmentsScored: return "segments_scored"
        case .churnModelTrained: return "churn_model_trained"
        }
    }
}

/// One `evidence:` entry: a task (its id, or its text) and the condition that backs it.
public struct EvidenceRule: Sendable, Equatable {
    public var task: String
    public var condition: EvidenceCondition
    /// Line in steward.yml, for messages.
    public var line: Int
    public init(task: String, condition: EvidenceCondition, line: Int) {
        self.task = task; self.condition = condition; self.line = line
    }
}

public enum EvidenceResult: Sendable, Equatable {
    case present(String)
    case absent(String)
    /// The catalog cannot tell yet (the tables do not exist); the reason says why.
    case unknown(String)

    public var reason: String {
        switch self { case .present(let r), .absent(let r), .unknown(let r): return r }
    }
}

extension Catalog {
    /// Evaluates each condition once against the catalog.
    public func evaluate(_ conditions: [EvidenceCondition]) throws -> [EvidenceCondition: EvidenceResult] {
        try pool.read { db in
            var out: [EvidenceCondition: EvidenceResult] = [:]
            for c in conditions where out[c] == nil { out[c] = try Self.evaluate(c, db) }
            return out
        }
    }

    static func evaluate(_ condition: EvidenceCondition, _ db: Database) throws -> EvidenceResult {
        switch condition {
        case .checksRan:
            guard let run = try Int64.fetchOne(db, sql: "SELECT id FROM run \(latestWorkingRun) LIMIT 1") else {
                return .absent("no run has loaded anything yet")
            }
            let n = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM check_result WHERE run_id = ?", arguments: [run]) ?? 0
            return n > 0 ? .present("\(n) check results in run \(run)") : .absent("no checks ran in run \(run)")
        case .runsSucceeded:
            guard let row = try Row.fetchOne(db, sql: "SELECT id, status FROM run \(latestWorkingRun) LIMIT 1") else {
                return .absent("no run has loaded anything yet")
            }
            let status: String = row["status"], id: Int64 = row["id"]
            return status == "success" ? .present("run \(id) succeeded") : .absent("run \(id) ended \(status)")
        case .quarantineEmpty:
            let n = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM quarantine WHERE released_run IS NULL") ?? 0
            return n == 0 ? .present("quarantine is empty") : .absent("\(n) rows in quarantine")
        case .sourceLoaded(let name):
            let at = try String.fetchOne(db, sql: "SELECT last_loaded_at FROM source_stats WHERE source = ?", arguments: [name])
            return at.map { .present("\(name) loaded at \($0)") } ?? .absent("\(name) never loaded")
        case .customersExist:
            guard let table = try firstTable(db, ["golden_customer"]) else {
                return .unknown("no customer table yet (identity resolution has not run)")
            }
            let n = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM (SELECT 1 FROM \(table) LIMIT 1)") ?? 0
            return n > 0 ? .present("customers in \(table)") : .absent("\(table) is empty")
        case .scd2Versions:
            guard let table = try firstTable(db, ["customer_dim"]) else { return .unknown("no customer history table yet") }
            let n = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM (SELECT 1 FROM \(table) LIMIT 1)") ?? 0
            return n > 0 ? .present("versions in \(table)") : .absent("\(table) has no versions")
        case .segmentsScored:
            guard try db.tableExists("customer_score") else { return .unknown("no customer score table yet") }
            let n = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM customer_score WHERE r_score IS NOT NULL") ?? 0
            return n > 0 ? .present("\(n) customers in RFM segments") : .absent("no customer has a scored order yet")
        case .churnModelTrained:
            guard try db.tableExists("churn_model") else { return .unknown("no churn model table yet") }
            guard let accuracy = try Double.fetchOne(db, sql: "SELECT accuracy FROM churn_model ORDER BY id DESC LIMIT 1") else {
                return .absent("no churn model trained yet")
            }
            return .present(String(format: "churn model with held-out accuracy %.3f", accuracy))
        }
    }

    /// The finished runs that did work, newest first: a run whose every step found its files
    /// `unchanged` loaded and checked nothing, so it says nothing about checks or success and must not
    /// hide the run that did (a run with no steps at all did nothing either).
    static let latestWorkingRun = """
        WHERE status != 'running'
          AND EXISTS (SELECT 1 FROM run_step s WHERE s.run_id = run.id AND s.status != 'unchanged')
        ORDER BY id DESC
        """

    private static func firstTable(_ db: Database, _ names: [String]) throws -> String? {
        for name in names where try db.tableExists(name) { return name }
        return nil
    }
}
