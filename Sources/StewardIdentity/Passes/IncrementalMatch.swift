import Foundation
import GRDB
import StewardCatalog
import StewardConfig
import StewardPipeline

/// Matches a few new or changed person records into the existing customers without a full pass:
/// each record's candidates are the customers the lookup index finds by its email, its phone and its
/// name; the record is scored against their records with the latest pass's model (`Scorer`) and joins
/// the best customer at or above the threshold, else becomes a customer of its own. Only the customers
/// touched get their golden record, history and lookup entry rewritten (`ChangedCustomers.only`).
/// `steward serve` runs it seconds after records are pushed; the next `steward run` re-matches all.
///
/// What it leaves to the full pass: merging two existing customers a new record links, the review
/// queue's pairs, and term-frequency weights (a common name counts as much as a rare one here).
///
/// ```swift
/// let outcome = try IncrementalMatch(config: config, catalog: catalog).match([("web_signups", "u-17")], runId: 42)
/// ```
public struct IncrementalMatch: Sendable {
    public let config: ProjectConfig
    public let catalog: Catalog

    public init(config: ProjectConfig, catalog: Catalog) {
        self.config = config
        self.catalog = catalog
    }

    public struct Outcome: Sendable, Equatable {
        /// Records that joined an existing customer, records that became a new customer, records
        /// already members (changed versions: their customer is rewritten).
        public var joined = 0
        public var created = 0
        public var updated = 0
        /// No matching pass has run yet (there is no model and no customer to match into), or the
        /// latest pass's model has comparison levels older than this build's: the records wait for the
        /// next `steward run`, which matches them all.
        public var skipped = false
        public var customers: Int { changedCustomers.count }
        public var changedCustomers: [String] = []
    }

    /// Candidate customers looked up per query (email, phone, name).
    static let candidatesPerQuery = 20

    /// - parameter records: staged person records as (source, record key); gone or deleted ones are ignored.
    /// - parameter runId: the run the rewritten golden versions and identity events belong to.
    @discardableResult
    public func match(_ records: [(source: String, key: String)], runId: Int64) throws -> Outcome {
        guard !records.isEmpty else { return Outcome() }
        let settings = try IdentityEngine.settings(config)
        let survivorship = Survivorship(config: config.survivorship, primarySystem: config.matching.primarySystem)
        let nicknames = IdentityEngine.nicknames
        return try catalog.pool.write { db -> Outcome in
            var outcome = Outcome()
            guard let modelJSON = try String.fetchOne(db, sql: "SELECT model_json FROM identity_run ORDER BY run_id DESC LIMIT 1"),
                  // A model stored before the comparison levels changed would misread today's vectors:
                  // none until the next full pass fits one (`FSModel.current`).
                  let model = try? FSModel.current(modelJSON) else {
                outcome.skipped = true
                return outcome
            }
            var junk = Set<JunkValue>()
            for r in try Row.fetchAll(db, sql: "SELECT field, vault_open(value) FROM identity_junk") {
                if let f = Field.allCases.first(where: { $0.name == (r[0] as String) }), let v = r[1] as String? {
                    junk.insert(JunkValue(field: f, value: Array(v.utf8)))
                }
            }
            let scorer = Scorer(model: model, comparator: Comparator(nicknames: nicknames, junk: junk), frequencies: TermFrequencies(counts: [:]))
            let at = Timestamp.now()
            var changed = Set<String>()
            var nextNumber = try StableIdAssigner.nextNumber(db)
            // Records placed earlier in this pass: not in the lookup index yet, so compared directly.
            var placed: [(record: PersonRecord, customer: String)] = []
            var loaded: [String: PersonRecord] = [:]
            func record(_ source: String, _ key: String) throws -> PersonRecord? {
                if let r = loaded["\(source):\(key)"] { return r }
                let r = try PersonRecord.load(db, source: source, key: key, nicknames: nicknames)
                loaded["\(source):\(key)"] = r
                return r
            }
            for (source, key) in records {
                guard try Bool.fetchOne(db, sql: "SELECT is_deleted = 0 FROM staged_person WHERE source = ? AND record_key = ?",
                                        arguments: [source, key]) == true,
                      let person = try record(source, key) else { continue }
                if let member = try String.fetchOne(db, sql: "SELECT customer_id FROM identity_member WHERE source = ? AND record_key = ?",
                                                    arguments: [source, key]) {
                    // A new version of a member record: its customer's golden record is rewritten.
                    changed.insert(member)
                    outcome.updated += 1
                    continue
                }
                var best: (customer: String, probability: Double)?
                func consider(_ customer: String, _ other: PersonRecord) {
                    let p = scorer.score(person, other).probability
                    if p >= settings.threshold, p > (best?.probability ?? 0) { best = (customer, p) }
                }
                for id in try candidates(db, person) {
                    for member in try Row.fetchAll(db, sql: "SELECT source, record_key FROM identity_member WHERE customer_id = ?", arguments: [id]) {
                        if let other = try record(member[0], member[1]) { consider(id, other) }
                    }
                }
                for p in placed { consider(p.customer, p.record) }
                let customer: String
                if let best {
                    customer = best.customer
                    try db.execute(sql: "UPDATE identity_customer SET records = records + 1, updated_run = ? WHERE customer_id = ?",
                                   arguments: [runId, customer])
                    try db.execute(sql: "INSERT INTO identity_event (run_id, at, kind, customer_id, detail) VALUES (?, ?, 'join', ?, ?)",
                                   arguments: [runId, at, customer, "\(source):\(key) joined (incremental, p=\(String(format: "%.3f", best.probability)))"])
                    outcome.joined += 1
                } else {
                    customer = StableIdAssigner.format(nextNumber)
                    nextNumber += 1
                    try db.execute(sql: """
                        INSERT INTO identity_customer (customer_id, status, records, created_run, updated_run) VALUES (?, 'active', 1, ?, ?)
                        """, arguments: [customer, runId, runId])
                    try db.execute(sql: "INSERT INTO identity_event (run_id, at, kind, customer_id, detail) VALUES (?, ?, 'create', ?, ?)",
                                   arguments: [runId, at, customer, "\(source):\(key) (incremental)"])
                    outcome.created += 1
                }
                try db.execute(sql: """
                    INSERT INTO identity_member (source, record_key, customer_id, match_probability, assigned_run) VALUES (?, ?, ?, ?, ?)
                    """, arguments: [source, key, customer, best?.probability, runId])
                placed.append((person, customer))
                changed.insert(customer)
            }
            guard !changed.isEmpty else { return outcome }
            // As a full pass does for its changed customers: golden records, SCD2 versions, lookup entries.
            let scope = try ChangedCustomers.stage(changed, db)
            let searchScope = try CustomerSearch.prepare(db, scope: scope)
            try survivorship.rebuildGolden(db, runId: runId, scope: scope, search: searchScope == scope)
            if searchScope != scope { _ = try CustomerSearch.update(db, scope: searchScope) }
            try CustomerSearch.finish(db, scope: searchScope)
            try Catalog.audit(db, action: "match_incremental", subject: "run:\(runId)",
                              detail: "\(records.count) pushed records: \(outcome.joined) joined, \(outcome.created) new customers, \(outcome.updated) updated")
            outcome.changedCustomers = changed.sorted()
            return outcome
        }
    }

    /// The customers the lookup index finds by the record's email, phone and name.
    func candidates(_ db: Database, _ r: PersonRecord) throws -> [String] {
        var queries: [String] = []
        func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
        if !r.email.isEmpty { queries.append(text(r.email)) }
        if !r.phone.isEmpty { queries.append(text(r.phone)) }
        let name = [text(r.first), text(r.last)].filter { !$0.isEmpty }.joined(separator: " ")
        if !name.isEmpty { queries.append(r.postcode.isEmpty ? name : name + " " + text(r.postcode)) }
        var ids: [String] = []
        for q in queries {
            for hit in try CustomerSearch.search(db, query: q, limit: Self.candidatesPerQuery) where !ids.contains(hit.customerId) {
                ids.append(hit.customerId)
            }
        }
        return ids
    }
}
