import Foundation
import GRDB
import StewardCatalog
import StewardPipeline
import StewardConfig

/// The run extension: every `steward run` ends with identity resolution.
public struct IdentityResolution: RunExtension {
    public let name = "identity"
    public init() {}

    public func afterLoad(runId: Int64, summary: RunSummary, config: ProjectConfig, catalog: Catalog,
                          progress: ProgressReporter) throws -> String? {
        try IdentityEngine(config: config, catalog: catalog).resolve(runId: runId).summary
    }
}

/// Loads staged person records, matches them, and writes customers, edges, events, golden records
/// and the lookup index in one transaction. Skips the work (changing nothing) when neither the
/// records, the settings nor the steward's decisions changed since the last pass.
public struct IdentityEngine: Sendable {
    public let config: ProjectConfig
    public let catalog: Catalog
    /// A pass over at least this many records writes as one large write (`Catalog.write(large:)`).
    public var largeWriteMinimumRows = Catalog.largeWriteMinimumRows

    public init(config: ProjectConfig, catalog: Catalog) {
        self.config = config
        self.catalog = catalog
    }

    public struct Outcome: Sendable {
        public var changed: Bool
        public var records: Int
        public var clusters: Int
        public var candidatePairs: Int
        public var seconds: Double
        /// Which customers' golden records, history and index entries were rewritten.
        public var scope: ChangedCustomers = .all
        public var summary: String {
            guard changed else { return "unchanged" }
            let rewritten: String
            switch scope {
            case .all: rewritten = ""
            case .only(let n): rewritten = ", \(n) customer\(n == 1 ? "" : "s") updated"
            }
            return "\(records) records → \(clusters) customers (\(candidatePairs) pairs compared\(rewritten)) in \(String(format: "%.2f", seconds))s"
        }
    }

    public static func settings(_ config: ProjectConfig) throws -> MatchSettings {
        var s = MatchSettings()
        s.threshold = config.matching.threshold
        s.reviewLow = config.matching.review.0
        s.reviewHigh = config.matching.review.1
        if let rules = config.matching.blocking { s.rules = try BlockingRule.parse(rules) }
        let m = config.matching
        if let v = m.maxBlockSize { s.maxBlockSize = v }
        if let v = m.blockWindow { s.blockWindow = v }
        if let v = m.maxClusterSize { s.maxClusterSize = v }
        if let v = m.groupAgreement { s.groupAgreement = v }
        if let v = m.uSamples { s.uSamples = v }
        return s
    }

    public static let nicknames = Nicknames.load(from: ReferenceData.locateDataDirectory())

    @discardableResult
    public func resolve(runId: Int64, force: Bool = false) throws -> Outcome {
        let started = Date()
        let settings = try Self.settings(config)
        let fingerprint = try catalog.pool.read { db in try Self.fingerprint(db, settings: settings, config: config) }
        let last = try catalog.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT run_id, fingerprint FROM identity_run ORDER BY run_id DESC LIMIT 1")
        }.map { (runId: $0[0] as Int64, fingerprint: $0[1] as String) }
        if !force, last?.fingerprint == fingerprint {
            return Outcome(changed: false, records: 0, clusters: 0, candidatePairs: 0, seconds: 0)
        }
        // Downstream tables are rewritten only for changed customers when the settings are those of
        // the last pass; a steward's merge/split/forget (forced) moves ids outside it: rewrite all.
        let lastPass = force ? nil : last.flatMap { Self.settingsPart($0.fingerprint) == Self.settingsPart(fingerprint) ? $0.runId : nil }
        let nicknames = Self.nicknames
        var clock = Clock()
        let (records, previous, decisions, nextNumber) = try catalog.pool.read { db -> ([PersonRecord], [String: String], [Decision], Int) in
            let records = try PersonRecord.loadAll(db, nicknames: nicknames)
            var previous: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT source, record_key, customer_id FROM identity_member") {
                previous["\(row[0] as String):\(row[1] as String)"] = row[2]
            }
            let decisions = try Row.fetchAll(db, sql: "SELECT a_source, a_key, b_source, b_key, decision FROM identity_decision").map {
                Decision(a: "\($0[0] as String):\($0[1] as String)", b: "\($0[2] as String):\($0[3] as String)", accept: ($0[4] as String) == "accept")
            }
            return (records, previous, decisions, try StableIdAssigner.nextNumber(db))
        }
        clock.lap("load")
        // Records by "source:key", only to place the steward's decisions (1.65 M strings at 1M).
        var index: [String: Int32] = [:]
        if !decisions.isEmpty {
            RecordView.with(records) { view in
                for i in records.indices { index["\(view.pointer(i).pointee.source):\(view.pointer(i).pointee.key)"] = Int32(i) }
            }
        }
        var accepted = Set<UInt64>(), rejected = Set<UInt64>()
        for d in decisions {
            guard let a = index[d.a], let b = index[d.b], a != b else { continue }
            if d.accept { accepted.insert(Clusterer.pairKey(a, b)) } else { rejected.insert(Clusterer.pairKey(a, b)) }
        }
        let result = Matcher(settings: settings, nicknames: nicknames).run(records, accepted: accepted, rejected: rejected)
        // A first pass has no earlier customers: no record's "source:key" to build and look up.
        let earlier = previous.isEmpty ? [String?](repeating: nil, count: records.count) : records.map { previous[$0.id] }
        let assignment = StableIdAssigner.assign(labels: result.labels, previous: earlier, nextNumber: nextNumber)
        let survivorship = Survivorship(config: config.survivorship, primarySystem: config.matching.primarySystem)
        var problems: [String] = []
        clock.lap("match")
        var scope = ChangedCustomers.all
        var matched = started
        try catalog.write(large: records.count >= largeWriteMinimumRows) { db in
            if let lastPass {
                scope = try ChangedCustomers.stage(
                    Self.changedCustomers(db, records: records, previous: previous, assignment: assignment, since: lastPass), db)
            }
            try write(db, runId: runId, result: result, assignment: assignment, rejected: rejected, settings: settings,
                      fingerprint: fingerprint, started: started, clock: &clock)
            clock.lap("write")
            matched = Date()
            // Golden records, their SCD2 versions and lookup entries in one scan of the customers' records
            // (the index separately only when it must be rebuilt whole in an incremental pass).
            let searchScope = try CustomerSearch.prepare(db, scope: scope)
            try survivorship.rebuildGolden(db, runId: runId, scope: scope, search: searchScope == scope)
            clock.lap("golden")
            if searchScope != scope { _ = try CustomerSearch.update(db, scope: searchScope) }
            try CustomerSearch.finish(db, scope: searchScope)
            scope = searchScope
            clock.lap("search")
            problems = try CustomerDimension.check(db)
            clock.lap("scd2")
        }
        if ProcessInfo.processInfo.environment["STEWARD_IDENTITY_TIMINGS"] != nil {
            let all = result.seconds.merging(clock.laps) { a, _ in a }
            FileHandle.standardError.write(Data(("identity timings: " + all.sorted { $0.key < $1.key }.map { String(format: "%@ %.2fs", $0.key, $0.value) }.joined(separator: " ") + "\n").utf8))
            FileHandle.standardError.write(Data(("identity cpu: " + clock.cpuLaps.sorted { $0.key < $1.key }.map { String(format: "%@ %.2fs", $0.key, $0.value) }.joined(separator: " ") + "\n").utf8))
        }
        if !problems.isEmpty { throw IdentityError.dimensionInvariant(problems) }
        let seconds = Date().timeIntervalSince(started)
        try recordPass(runId: runId, matching: matched.timeIntervalSince(started), whole: seconds)
        return Outcome(changed: true, records: records.count, clusters: result.clusterCount,
                       candidatePairs: result.candidatePairs, seconds: seconds, scope: scope)
    }

    /// Adds the pass's wall times and the process's peak memory so far to its `identity_run` row,
    /// after the commit so the whole pass counts: `match report` and `steward-bench identity` read
    /// them. "matching" is from the staged records read to the customers, edges, members and events
    /// written; "whole" adds golden records, SCD2 history, the lookup index and the commit.
    private func recordPass(runId: Int64, matching: Double, whole: Double) throws {
        var pass: [String: Any] = ["matching_seconds": matching, "whole_seconds": whole]
        if let mb = Clock.peakResidentMB() { pass["peak_rss_mb"] = mb }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: pass, options: [.sortedKeys]), as: UTF8.self)
        try catalog.pool.write { db in
            try db.execute(sql: "UPDATE identity_run SET detail_json = json_set(detail_json, '$.pass', json(?)) WHERE run_id = ?",
                           arguments: [json, runId])
        }
    }

    /// The settings part of a fingerprint (after the records and decisions parts).
    static func settingsPart(_ fingerprint: String) -> Substring {
        let parts = fingerprint.split(separator: ";", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count == 3 ? parts[2] : Substring(fingerprint)
    }

    /// Customers whose golden record, history or index entry may differ from the last pass: those
    /// gaining or losing records, involved in a merge or split, or holding a record staged since.
    static func changedCustomers(_ db: Database, records: [PersonRecord], previous: [String: String],
                                 assignment: StableIdAssigner.Assignment, since lastPass: Int64) throws -> Set<String> {
        var changed = Set<String>()
        var position: [String: Int] = [:]
        position.reserveCapacity(records.count)
        for (i, r) in records.enumerated() {
            position[r.id] = i
            let now = assignment.ids[i]
            if let before = previous[r.id] {
                if before != now { changed.insert(before); changed.insert(now) }
            } else {
                changed.insert(now)
            }
        }
        for (record, before) in previous where position[record] == nil { changed.insert(before) }
        for e in assignment.events {
            changed.insert(e.customerId)
            if let other = e.other { changed.insert(other) }
        }
        for (old, survivor) in assignment.mergedInto { changed.insert(old); changed.insert(survivor) }
        for row in try Row.fetchAll(db, sql: "SELECT source, record_key FROM staged_person WHERE updated_run > ?", arguments: [lastPass]) {
            if let i = position["\(row[0] as String):\(row[1] as String)"] { changed.insert(assignment.ids[i]) }
        }
        return changed
    }

    struct Decision { var a: String; var b: String; var accept: Bool }

    public enum IdentityError: Error, CustomStringConvertible {
        case dimensionInvariant([String])
        public var description: String { "customer dimension: " + { if case .dimensionInvariant(let p) = self { return p.joined(separator: "; ") }; return "" }() }
    }

    /// What the result depends on: the live staged records, the settings and the decisions.
    static func fingerprint(_ db: Database, settings: MatchSettings, config: ProjectConfig) throws -> String {
        let row = try Row.fetchOne(db, sql: """
            SELECT COUNT(*), COALESCE(MAX(updated_run), 0), COALESCE(SUM(updated_run), 0), COALESCE(SUM(is_deleted), 0)
            FROM staged_person
            """)!
        let d = try Row.fetchOne(db, sql: "SELECT COUNT(*), COALESCE(MAX(at), '') FROM identity_decision")!
        let rules = settings.rules.map(\.description).joined(separator: "|")
        return "\(row[0] as Int)/\(row[1] as Int)/\(row[2] as Int)/\(row[3] as Int);\(d[0] as Int)/\(d[1] as String);"
            + "\(settings.threshold)/\(settings.reviewLow)/\(settings.maxBlockSize)/\(settings.blockWindow)/\(settings.groupAgreement)/\(settings.maxClusterSize)/\(settings.uSamples);"
            + rules + ";" + config.survivorship.description + ";" + CustomerSearch.indexFormat
    }

    private func write(_ db: Database, runId: Int64, result: MatchResult, assignment: StableIdAssigner.Assignment,
                       rejected: Set<UInt64>, settings: MatchSettings, fingerprint: String, started: Date, clock: inout Clock) throws {
        let records = result.records
        let at = Timestamp.now()
        // Edges and members are rewritten whole: their secondary indexes are dropped first and built
        // once after the inserts (a sort each, instead of a random b-tree insert per row).
        var deferred = DeferredIndexes()
        try deferred.drop(db, table: "identity_edge")
        try deferred.drop(db, table: "identity_member")
        // Edges: match (same customer), refused (above threshold, kept apart by the guard or a decision), review.
        try db.execute(sql: "DELETE FROM identity_edge")
        var matched = 0, review = 0, refused = 0
        var bestLink = [Double](repeating: 0, count: records.count)
        var insertEdge = try BulkRows(db, insertInto: "identity_edge", columns: ["a_source", "a_key", "b_source", "b_key", "probability", "status", "run_id"])
        for e in result.edges {
            let same = result.labels[Int(e.a)] == result.labels[Int(e.b)]
            let status: String
            if same {
                status = "match"; matched += 1
                bestLink[Int(e.a)] = max(bestLink[Int(e.a)], e.probability)
                bestLink[Int(e.b)] = max(bestLink[Int(e.b)], e.probability)
            } else if e.probability >= settings.threshold { status = "refused"; refused += 1 }
            else if rejected.contains(Clusterer.pairKey(e.a, e.b)) { continue }
            else { status = "review"; review += 1 }
            records.withUnsafeBufferPointer { r in
                insertEdge.text(r[Int(e.a)].source); insertEdge.text(r[Int(e.a)].key)
                insertEdge.text(r[Int(e.b)].source); insertEdge.text(r[Int(e.b)].key)
            }
            insertEdge.real(e.probability); insertEdge.text(status); insertEdge.int(runId)
            try insertEdge.endRow(db)
        }
        try insertEdge.finish(db)
        clock.lap("write_edges")
        // Members.
        try db.execute(sql: "DELETE FROM identity_member")
        var insertMember = try BulkRows(db, insertInto: "identity_member", columns: ["source", "record_key", "customer_id", "match_probability", "assigned_run"])
        // Customers' sizes by id number ("C00000042" → 42): at a million customers a dictionary of
        // id strings and their sort took seconds.
        let numbers = assignment.ids.map { Int(StableIdAssigner.number($0) ?? 0) }
        var sizes = [(id: String?, records: Int)](repeating: (nil, 0), count: (numbers.max() ?? 0) + 1)
        for i in records.indices {
            sizes[numbers[i]].id = assignment.ids[i]
            sizes[numbers[i]].records += 1
            records.withUnsafeBufferPointer { r in insertMember.text(r[i].source); insertMember.text(r[i].key) }
            insertMember.text(assignment.ids[i]); insertMember.real(bestLink[i] > 0 ? bestLink[i] : nil); insertMember.int(runId)
            try insertMember.endRow(db)
        }
        try insertMember.finish(db)
        clock.lap("write_members")
        try deferred.restore(db)
        clock.lap("write_indexes")
        // Customers: active ids with their sizes; merged ids point at their survivor; ids with no records retire.
        var changed = [Bool](repeating: false, count: sizes.count)
        func markChanged(_ id: String?) {
            if let n = id.flatMap(StableIdAssigner.number), n < changed.count { changed[Int(n)] = true }
        }
        for e in assignment.events { markChanged(e.customerId); markChanged(e.other) }
        let hadCustomers = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM identity_customer)") ?? false
        var upsertCustomer = try BulkStatement(db, sql: """
                INSERT INTO identity_customer (customer_id, status, records, created_run, updated_run) VALUES (?, 'active', ?, ?, ?)
                ON CONFLICT(customer_id) DO UPDATE SET status = 'active', merged_into = NULL, records = excluded.records,
                    updated_run = CASE WHEN identity_customer.records != excluded.records OR identity_customer.status != 'active' OR ?
                                       THEN excluded.updated_run ELSE identity_customer.updated_run END
                """)
        // A first pass only inserts, many rows per statement; later passes upsert one row at a time
        // (the upsert's last parameter is per row, which a multi-row statement cannot carry).
        var insertCustomer = try BulkRows(db, insertInto: "identity_customer", columns: ["customer_id", "status", "records", "created_run", "updated_run"])
        for (number, (id, n)) in sizes.enumerated() {
            guard let id else { continue }
            if !hadCustomers {
                insertCustomer.text(id); insertCustomer.text("active"); insertCustomer.int(n); insertCustomer.int(runId); insertCustomer.int(runId)
                try insertCustomer.endRow(db)
                continue
            }
            upsertCustomer.text(id); upsertCustomer.int(n); upsertCustomer.int(runId); upsertCustomer.int(runId)
            upsertCustomer.int(changed[number])
            try upsertCustomer.run(db)
        }
        try insertCustomer.finish(db)
        for (old, survivor) in assignment.mergedInto {
            try db.execute(sql: "UPDATE identity_customer SET status = 'merged', merged_into = ?, records = 0, updated_run = ? WHERE customer_id = ?",
                           arguments: [survivor, runId, old])
        }
        // Earlier customers with no records left retire (a first pass has none: no million-row read back).
        let earlier = hadCustomers ? try String.fetchAll(db, sql: "SELECT customer_id FROM identity_customer WHERE status = 'active'") : []
        for id in earlier where StableIdAssigner.number(id).map({ $0 >= sizes.count || sizes[Int($0)].records == 0 }) ?? true {
            try db.execute(sql: "UPDATE identity_customer SET status = 'retired', records = 0, updated_run = ? WHERE customer_id = ?",
                           arguments: [runId, id])
            try db.execute(sql: "INSERT INTO identity_event (run_id, at, kind, customer_id, detail) VALUES (?, ?, 'retire', ?, 'no records left')",
                           arguments: [runId, at, id])
        }
        clock.lap("write_customers")
        var eventIndexes = DeferredIndexes()
        try eventIndexes.drop(db, table: "identity_event", ifEmpty: true)
        // Many rows per statement: `id` is AUTOINCREMENT (BulkRows).
        var insertEvent = try BulkRows(db, insertInto: "identity_event", columns: ["run_id", "at", "kind", "customer_id", "other_customer_id", "detail"])
        for e in assignment.events {
            insertEvent.int(runId); insertEvent.text(at); insertEvent.text(e.kind.rawValue); insertEvent.text(e.customerId)
            insertEvent.text(e.other); insertEvent.text(e.detail)
            try insertEvent.endRow(db)
        }
        try insertEvent.finish(db)
        try eventIndexes.restore(db)
        try db.execute(sql: "DELETE FROM identity_junk")
        for (j, n) in result.junk {
            try db.execute(sql: "INSERT INTO identity_junk (field, value, records) VALUES (?, vault_seal(?), ?)", arguments: [j.field.name, j.text, n])
        }
        let model = String(decoding: try JSONEncoder().encode(result.model), as: UTF8.self)
        var detail: [String: Any] = [:]
        detail["pairs_per_rule"] = Dictionary(uniqueKeysWithValues: zip(settings.rules.map(\.description), result.pairsPerRule))
        detail["seconds"] = result.seconds
        detail["events"] = assignment.events.count
        let detailJSON = String(decoding: try JSONSerialization.data(withJSONObject: detail, options: [.sortedKeys]), as: UTF8.self)
        try db.execute(sql: """
            INSERT OR REPLACE INTO identity_run (run_id, at, fingerprint, records, candidate_pairs, matched_pairs, review_pairs,
                refused_pairs, clusters, model_json, detail_json)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [runId, at, fingerprint, records.count, result.candidatePairs, matched, review, refused,
                             result.clusterCount, model, detailJSON])
        try Catalog.audit(db, action: "match", subject: "run:\(runId)",
                          detail: "\(records.count) records, \(result.clusterCount) customers, \(assignment.events.filter { $0.kind == .merge }.count) merges, \(assignment.events.filter { $0.kind == .split }.count) splits")
    }
}
