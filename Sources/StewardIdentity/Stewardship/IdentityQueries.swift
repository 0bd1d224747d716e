import Foundation
import GRDB
import StewardCatalog
import StewardConfig

/// The `match report` summary (CONTRACTS.md) of the latest matching pass.
public struct MatchReport: Sendable {
    public var records: Int
    public var candidatePairs: Int
    public var matchedPairs: Int
    public var reviewPairs: Int
    public var refusedPairs: Int
    public var clusters: Int
    /// The customer match rate (`MatchRate`: the KPI's figure too).
    public var matchRate: Double
    /// Its counts, and its ceiling when the project has a truth file.
    public var matchRateDetail: MatchRate
    public var truth: PairwiseScore?
    public var junk: [(field: String, value: String, records: Int)]
    public var pairsPerRule: [String: Int]
    public var seconds: [String: Double]
    /// The latest pass's wall times (`matching_seconds`: staged records in → customers written;
    /// `whole_seconds`: with golden records, SCD2 history and the lookup index) and `peak_rss_mb`.
    public var pass: [String: Double]
    public var lambda: Double?
    public var emIterations: Int?
    public var runId: Int64?

    /// - parameter truth: `truth.csv` of the project, scored over the staged person records it names.
    public static func load(_ db: Database, truth: URL?) throws -> MatchReport {
        let records = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM staged_person WHERE is_deleted = 0") ?? 0
        let run = try Row.fetchOne(db, sql: "SELECT * FROM identity_run ORDER BY run_id DESC LIMIT 1")
        let clusters = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT customer_id) FROM identity_member") ?? 0
        var score: PairwiseScore?
        let truthMap = try truth.map(PairwiseScore.loadTruth)
        let rate = try MatchRate.measure(db, truth: truthMap)
        if let truthMap {
            var clustersById: [String: String] = [:]
            for r in try Row.fetchAll(db, sql: """
                SELECT m.source, m.record_key, m.customer_id FROM identity_member m
                JOIN staged_person p ON p.source = m.source AND p.record_key = m.record_key WHERE p.is_deleted = 0
                """) {
                clustersById["\(r[0] as String):\(r[1] as String)"] = r[2]
            }
            score = PairwiseScore.evaluate(clusters: clustersById, truth: truthMap)
        }
        let junk = try Row.fetchAll(db, sql: "SELECT field, vault_open(value) AS value, records FROM identity_junk ORDER BY records DESC, field, value")
            .map { (field: $0[0] as String, value: $0[1] as String, records: $0[2] as Int) }
        var perRule: [String: Int] = [:], seconds: [String: Double] = [:], pass: [String: Double] = [:]
        var lambda: Double?, iterations: Int?
        if let run,
           let detail = try? JSONSerialization.jsonObject(with: Data((run["detail_json"] as String).utf8)) as? [String: Any] {
            perRule = detail["pairs_per_rule"] as? [String: Int] ?? [:]
            seconds = detail["seconds"] as? [String: Double] ?? [:]
            pass = detail["pass"] as? [String: Double] ?? [:]
            if let model = try? JSONDecoder().decode(FSModel.self, from: Data((run["model_json"] as String).utf8)) {
                lambda = model.lambda
                iterations = model.iterations
            }
        }
        return MatchReport(records: records, candidatePairs: run?["candidate_pairs"] ?? 0, matchedPairs: run?["matched_pairs"] ?? 0,
                           reviewPairs: run?["review_pairs"] ?? 0, refusedPairs: run?["refused_pairs"] ?? 0, clusters: clusters,
                           matchRate: rate.rate, matchRateDetail: rate, truth: score, junk: junk,
                           pairsPerRule: perRule, seconds: seconds, pass: pass, lambda: lambda, emIterations: iterations, runId: run?["run_id"])
    }
}

/// Why two records do or do not match: each comparison's level and weight, the prior, the result.
public struct Explanation: Sendable {
    public struct Line: Sendable {
        public var field: String
        public var a: String
        public var b: String
        /// The values as shown before a reveal: email, phone, street, dob and national id masked.
        public var maskedA: String
        public var maskedB: String
        public var level: String
        public var weight: Double
        public var termFrequency: Double
    }
    public var a: String
    public var b: String
    public var prior: Double
    public var lines: [Line]
    public var weight: Double
    public var probability: Double
    public var threshold: Double
    public var swappedNames: Bool
    public var sameCustomer: Bool
    public var customers: (String?, String?)
    public var decision: String?

    public enum Failure: Error, CustomStringConvertible {
        case badReference(String), unknownRecord(String), notMatched
        public var description: String {
            switch self {
            case .badReference(let r): return "'\(r)': expected SOURCE:RECORD"
            case .unknownRecord(let r): return "no staged person record \(r)"
            case .notMatched: return "no matching pass yet: run `steward run` first"
            }
        }
    }

    public static func explain(_ db: Database, _ refA: String, _ refB: String, threshold: Double) throws -> Explanation {
        try Explainer(db, threshold: threshold).explain(db, refA, refB)
    }
}

/// Explains pairs against the latest matching pass. The model, the placeholder values and the name
/// frequencies are read once, so a console moving a selection over pairs explains each in
/// milliseconds instead of re-reading every staged record.
public struct Explainer: Sendable {
    /// The matching pass explained (a new pass needs a new explainer).
    public let runId: Int64
    public let threshold: Double
    let model: FSModel
    let scorer: Scorer

    public init(_ db: Database, threshold: Double) throws {
        guard let run = try Row.fetchOne(db, sql: "SELECT run_id, model_json FROM identity_run ORDER BY run_id DESC LIMIT 1") else {
            throw Explanation.Failure.notMatched
        }
        runId = run[0]
        self.threshold = threshold
        model = try JSONDecoder().decode(FSModel.self, from: Data((run[1] as String).utf8))
        var junk = Set<JunkValue>()
        for r in try Row.fetchAll(db, sql: "SELECT field, vault_open(value) FROM identity_junk") {
            if let f = Field.allCases.first(where: { $0.name == (r[0] as String) }) { junk.insert(JunkValue(field: f, value: Array((r[1] as String).utf8))) }
        }
        let nick = IdentityEngine.nicknames
        let frequencies = TermFrequencies(try PersonRecord.loadAll(db, nicknames: nick))
        scorer = Scorer(model: model, comparator: Comparator(nicknames: nick, junk: junk), frequencies: frequencies)
    }

    /// The latest matching pass's id, to tell whether an explainer is still current.
    public static func latestRun(_ db: Database) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT MAX(run_id) FROM identity_run")
    }

    public func explain(_ db: Database, _ refA: String, _ refB: String) throws -> Explanation {
        typealias Failure = Explanation.Failure
        func split(_ r: String) throws -> (String, String) {
            guard let i = r.firstIndex(of: ":"), i != r.startIndex, r.index(after: i) != r.endIndex else { throw Failure.badReference(r) }
            return (String(r[..<i]), String(r[r.index(after: i)...]))
        }
        let (sa, ka) = try split(refA), (sb, kb) = try split(refB)
        let nick = IdentityEngine.nicknames
        guard let a = try PersonRecord.load(db, source: sa, key: ka, nicknames: nick) else { throw Failure.unknownRecord(refA) }
        guard let b = try PersonRecord.load(db, source: sb, key: kb, nicknames: nick) else { throw Failure.unknownRecord(refB) }
        let s = scorer.score(a, b)
        func text(_ f: Field, _ r: PersonRecord, masked: Bool = false) -> String {
            func str(_ v: [UInt8]) -> String { String(decoding: v, as: UTF8.self) }
            func hide(_ v: [UInt8], _ mask: (String?) -> String?) -> String { v.isEmpty ? "" : masked ? mask(str(v)) ?? "" : str(v) }
            switch f {
            case .firstName: return str(r.first)
            case .lastName: return str(r.last)
            case .email: return hide(r.email, Mask.email)
            case .phone: return hide(r.phone, Mask.phone)
            case .dob: return hide(r.dob, Mask.other)
            case .nationalId: return hide(r.nationalId, Mask.other)
            case .address:
                // Masked, the street goes and the postcode and city stay.
                return [hide(r.street, Mask.other), str(r.postcode), str(r.city)].filter { !$0.isEmpty }.joined(separator: " ")
            }
        }
        let lines = s.fields.map { fs -> Explanation.Line in
            let level: String
            if fs.level >= 0 { level = fs.field.levels[fs.level] }
            else {
                let va = text(fs.field, a), vb = text(fs.field, b)
                level = va.isEmpty || vb.isEmpty ? "missing (neutral)" : "placeholder value (neutral)"
            }
            return Explanation.Line(field: fs.field.name, a: text(fs.field, a), b: text(fs.field, b),
                                    maskedA: text(fs.field, a, masked: true), maskedB: text(fs.field, b, masked: true),
                                    level: level, weight: fs.weight, termFrequency: fs.termFrequency)
        }
        let ca = try String.fetchOne(db, sql: "SELECT customer_id FROM identity_member WHERE source = ? AND record_key = ?", arguments: [sa, ka])
        let cb = try String.fetchOne(db, sql: "SELECT customer_id FROM identity_member WHERE source = ? AND record_key = ?", arguments: [sb, kb])
        let decision = try String.fetchOne(db, sql: """
            SELECT decision FROM identity_decision WHERE (a_source = ? AND a_key = ? AND b_source = ? AND b_key = ?)
                OR (a_source = ? AND a_key = ? AND b_source = ? AND b_key = ?)
            """, arguments: [sa, ka, sb, kb, sb, kb, sa, ka])
        return Explanation(a: refA, b: refB, prior: model.priorWeight, lines: lines, weight: s.weight, probability: s.probability,
                           threshold: threshold, swappedNames: s.vector.swappedNames, sameCustomer: ca != nil && ca == cb,
                           customers: (ca, cb), decision: decision)
    }
}

/// `export clusters`: every live staged person record with its customer id.
public enum ClusterExport {
    public static func rows(_ db: Database) throws -> [(source: String, recordId: String, customerId: String)] {
        try Row.fetchAll(db, sql: """
            SELECT p.source, p.record_key, m.customer_id FROM staged_person p
            JOIN identity_member m ON m.source = p.source AND m.record_key = p.record_key
            WHERE p.is_deleted = 0 ORDER BY p.source, p.record_key
            """).map { (source: $0[0], recordId: $0[1], customerId: $0[2]) }
    }
}

/// The review queue (pairs scored inside the review band, or kept apart by the chaining guard) and
/// a steward's accept/reject decisions, which override the model from the next matching pass on.
public enum ReviewQueue {
    public struct Item: Sendable, Equatable {
        public var a: String
        public var b: String
        public var probability: Double
        /// `review` (inside the review band) or `refused` (above the threshold, kept apart by the chaining guard).
        public var status: String
        /// The customers the two records belong to now.
        public var customerA: String?
        public var customerB: String?
        /// A steward's decision on the pair (`accept`/`reject`), applied from the next matching pass.
        public var decision: String?
    }

    public static func items(_ db: Database, limit: Int = 50) throws -> [Item] {
        try Row.fetchAll(db, sql: """
            SELECT e.a_source || ':' || e.a_key, e.b_source || ':' || e.b_key, e.probability, e.status, ma.customer_id, mb.customer_id,
                   (SELECT d.decision FROM identity_decision d WHERE (d.a_source, d.a_key, d.b_source, d.b_key) = (e.a_source, e.a_key, e.b_source, e.b_key)
                        OR (d.a_source, d.a_key, d.b_source, d.b_key) = (e.b_source, e.b_key, e.a_source, e.a_key))
            FROM identity_edge e
            LEFT JOIN identity_member ma ON ma.source = e.a_source AND ma.record_key = e.a_key
            LEFT JOIN identity_member mb ON mb.source = e.b_source AND mb.record_key = e.b_key
            WHERE e.status IN ('review', 'refused') ORDER BY e.probability DESC, e.a_source, e.a_key, e.b_source, e.b_key LIMIT ?
            """, arguments: [limit]).map {
                Item(a: $0[0], b: $0[1], probability: $0[2], status: $0[3], customerA: $0[4], customerB: $0[5], decision: $0[6])
            }
    }

    /// Pairs waiting in the queue.
    public static func count(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM identity_edge WHERE status IN ('review', 'refused')") ?? 0
    }

    public enum Failure: Error, CustomStringConvertible {
        case unknownRecord(String), sameRecord
        public var description: String {
            switch self {
            case .unknownRecord(let r): return "no staged person record \(r) (expected SOURCE:RECORD)"
            case .sameRecord: return "a record cannot be decided against itself"
            }
        }
    }

    /// Records (or replaces) a decision on a pair, audited; it applies from the next matching pass.
    public static func decide(_ db: Database, _ a: String, _ b: String, accept: Bool, actor: String = Catalog.osUser) throws {
        func split(_ r: String) throws -> (String, String) {
            guard let i = r.firstIndex(of: ":") else { throw Failure.unknownRecord(r) }
            let s = String(r[..<i]), k = String(r[r.index(after: i)...])
            guard try Int.fetchOne(db, sql: "SELECT 1 FROM staged_person WHERE source = ? AND record_key = ?", arguments: [s, k]) != nil else {
                throw Failure.unknownRecord(r)
            }
            return (s, k)
        }
        var x = try split(a), y = try split(b)
        if x == y { throw Failure.sameRecord }
        if (y.0, y.1) < (x.0, x.1) { swap(&x, &y) }
        let decision = accept ? "accept" : "reject"
        try record(db, x, y, accept: accept, actor: actor, at: Timestamp.now())
        try Catalog.audit(db, action: "match.\(decision)", subject: "\(x.0):\(x.1)|\(y.0):\(y.1)", detail: "steward decision", actor: actor)
    }

    /// Writes (or replaces) the decision on one pair of records, stored in key order.
    static func record(_ db: Database, _ x: (String, String), _ y: (String, String), accept: Bool, actor: String, at: String) throws {
        let (a, b) = (y.0, y.1) < (x.0, x.1) ? (y, x) : (x, y)
        try db.execute(sql: """
            INSERT INTO identity_decision (a_source, a_key, b_source, b_key, decision, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(a_source, a_key, b_source, b_key) DO UPDATE SET decision = excluded.decision, actor = excluded.actor, at = excluded.at
            """, arguments: [a.0, a.1, b.0, b.1, accept ? "accept" : "reject", actor, at])
    }
}
