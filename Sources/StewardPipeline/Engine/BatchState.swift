import Foundation
import GRDB
import GRDBSQLite
import StewardCatalog
import StewardConfig

/// The verdict of a row's checks: every failing check, by severity.
struct RowVerdict {
    var checks: [String] = []
    var reasons: [String] = []
    var hasError = false
}

/// A check being evaluated over one batch.
final class CheckRun {
    let config: CheckConfig
    let column: ColumnRef
    var evaluated = 0
    var failed = 0
    var samples: [String] = []
    var seen = FirstSeen()                  // unique
    var prefetched: UInt64 = 0              // unique: what the prefetch read, kept so it is not optimised away
    var targetKeys: Set<String> = []        // relationship
    let regex: RegexPattern?

    init(config: CheckConfig, column: ColumnRef) {
        self.config = config
        self.column = column
        if case .pattern(.regex(let r)) = config.kind { regex = RegexPattern(r) } else { regex = nil }
    }

    func fail(sample: String) {
        failed += 1
        if samples.count < 5 { samples.append(sample) }
    }
}

/// Mutable state of one batch load: prepared statements, check runs, standardiser.
struct BatchState {
    let db: Database
    let source: SourceConfig
    let runId: Int64
    let batchId: Int64
    let file: String
    let fileModifiedAt: Date?
    let now: Date
    let keyColumn: ColumnRef
    /// Raw rows, many a statement: shared ?1 source, ?2 batch; per row id, record_key, line, data.
    var rawRows: RowsInsert
    /// This batch's raw rows are numbered from here: [firstRawId, nextRawId).
    let firstRawId: Int64
    private(set) var nextRawId: Int64
    /// Staged rows, many a statement (`appendStagedValues` gives their values in column order): shared
    /// ?1 source, ?2 batch, ?3 run for people; ?1 source, ?2 entity, ?3 batch, ?4 run for activity.
    var stagedRows: RowsInsert
    /// While the source had no staged row before this batch: the staged rows as plain inserts, no
    /// upsert (whose statement journal was 3 % of a first load's instructions, BENCHMARKS.md session
    /// 23). A key this batch already staged makes its statement fail; `writeStaged` upserts that row.
    var newStagedRows: RowsInsert?
    let insertQuarantine: BulkStatement
    let checks: [CheckRun]
    let standardiser: Standardiser
    /// Where each canonical field comes from, indexed by `CanonicalField.rawValue` (`.none`: unmapped).
    let fieldSources: [FieldSource]
    let countryField: FieldSource?
    /// Keys of this source with open quarantine rows from earlier batches: released when a good version arrives.
    var openQuarantineKeys: Set<String>
    let selfReferencing: [CheckRun]
    /// The built-in check every row is judged by: could it be read as written.
    let readable: CheckRun?
    /// Rows `steward forget` erased: skipped when the source sends them unchanged.
    let tombstones: ErasureTombstones
    /// The file's header as JSON keys: a row stored as an array is shown to people as an object.
    let rawKeys: [[UInt8]]
    /// Events and transactions are keyed by their id: one delivered again unchanged (another file, a
    /// rewritten file) is not written to raw or staging again, only marked seen.
    let checksRedelivery: Bool
    private(set) var redelivered = 0
    /// The source had no staged row when this batch began (its first load): then every staged row
    /// after it is one this batch upserted, and the source's counts can be the batch's (`firstLoadCounts`).
    let sourceWasEmpty: Bool
    /// Staged rows upserted by this batch, and those of them with flags.
    private(set) var upserted = 0, upsertedFlagged = 0
    /// Seals the row's PII before it is stored, when the catalog's privacy vault is on.
    let sealer: RowSealer?

    /// What the version this batch appends to already holds: its rows, and its checks' cumulative
    /// results by name. An append's checks judge the whole version, not only the rows appended.
    struct Prior {
        var rows = 0
        var checks: [String: (evaluated: Int, failed: Int, samples: [String])] = [:]
    }
    let prior: Prior

    init(db: Database, loader: SourceLoader, stream: RecordStream, batchId: Int64, file: String, fileModifiedAt: Date?,
         appendingTo chainId: Int64? = nil) throws {
        self.db = db
        source = loader.source
        runId = loader.runId
        self.batchId = batchId
        self.file = file
        self.fileModifiedAt = fileModifiedAt
        now = loader.now()
        keyColumn = stream.column(source.key)
        rawKeys = stream.quotedKeys
        let vault = VaultBox.of(db)
        // Nothing is written unencrypted into a sealed catalog, even by a caller that skipped the gate.
        if case .locked(let keyId) = vault.state { throw VaultError.keyMissing(keyId) }
        sealer = RowSealer(vault: vault.current, source: loader.source, header: stream.header)
        // `OR FAIL`, here and in the staged inserts: under the default ABORT a statement of many rows
        // keeps a statement journal of every page it changes, to undo its own earlier rows if a later
        // one fails. Pages past 64 KiB spill to a temporary file: 126,000 pages of 16 KiB written there
        // per million rows, a tenth of the load's time (BENCHMARKS.md, session 23). Any failure ends
        // the batch's transaction anyway, so undoing one statement buys nothing. (An upsert's DO UPDATE
        // aborts whatever the INSERT says, so a first load inserts: `newStagedRows`.)
        rawRows = RowsInsert(db, head: "INSERT OR FAIL INTO raw_record (id, source, batch_id, record_key, line, data) VALUES",
                             tuple: [.row, .shared(1), .shared(2), .row, .row, .row])
        // Past every id ever handed out (rows `forget` deleted included), so a batch's range is its own.
        // Batches are numbered in the order they take their ranges, each past the one before, and
        // never deleted: the newest batch with a range holds the highest. Read from the newest back,
        // not as MAX over every batch: a server pushing 100 events a request makes a batch each, and
        // that scan of 70,000 batches was most of a push's work (issue 19, BENCHMARKS.md session 22).
        firstRawId = 1 + max(try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM raw_record") ?? 0,
                             try Int64.fetchOne(db, sql: """
                                 SELECT last_raw_id FROM batch WHERE last_raw_id IS NOT NULL ORDER BY id DESC LIMIT 1
                                 """) ?? 0)
        nextRawId = firstRawId
        insertQuarantine = try BulkStatement(db, sql: """
            INSERT INTO quarantine (run_id, source, batch_id, file, line, record_key, checks_json, reasons_json, raw, quarantined_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        if source.entity == .person {
            stagedRows = RowsInsert(db, head: """
                INSERT OR FAIL INTO staged_person (source, record_key, batch_id, line, first_name, last_name, full_name,
                    first_name_original, last_name_original, full_name_original, email, phone, dob, street, city, postcode,
                    region, country, national_id, flags, row_hash, last_seen_batch, is_deleted, first_seen_run, updated_run)
                VALUES
                """, tuple: [.shared(1), .row, .shared(2), .row] + Array(repeating: .row, count: 17)
                    + [.shared(2), .literal("0"), .shared(3), .shared(3)], tail: """
                ON CONFLICT (source, record_key) DO UPDATE SET
                    updated_run = CASE WHEN row_hash = excluded.row_hash AND is_deleted = 0 THEN updated_run ELSE excluded.updated_run END,
                    batch_id = excluded.batch_id, line = excluded.line, first_name = excluded.first_name,
                    last_name = excluded.last_name, full_name = excluded.full_name, first_name_original = excluded.first_name_original,
                    last_name_original = excluded.last_name_original, full_name_original = excluded.full_name_original,
                    email = excluded.email, phone = excluded.phone, dob = excluded.dob, street = excluded.street, city = excluded.city,
                    postcode = excluded.postcode, region = excluded.region, country = excluded.country,
                    national_id = excluded.national_id, flags = excluded.flags, row_hash = excluded.row_hash,
                    last_seen_batch = excluded.last_seen_batch, is_deleted = 0
                """)
        } else {
            stagedRows = RowsInsert(db, head: """
                INSERT OR FAIL INTO staged_activity (source, record_key, entity, batch_id, line, customer_ref_kind, customer_ref,
                    occurred_at, amount, type, flags, row_hash, last_seen_batch, is_deleted, first_seen_run, updated_run)
                VALUES
                """, tuple: [.shared(1), .row, .shared(2), .shared(3), .row] + Array(repeating: .row, count: 7)
                    + [.shared(3), .literal("0"), .shared(4), .shared(4)], tail: """
                ON CONFLICT (source, record_key) DO UPDATE SET
                    updated_run = CASE WHEN row_hash = excluded.row_hash AND is_deleted = 0 THEN updated_run ELSE excluded.updated_run END,
                    batch_id = excluded.batch_id, line = excluded.line, customer_ref_kind = excluded.customer_ref_kind,
                    customer_ref = excluded.customer_ref, occurred_at = excluded.occurred_at, amount = excluded.amount,
                    type = excluded.type, flags = excluded.flags, row_hash = excluded.row_hash,
                    last_seen_batch = excluded.last_seen_batch, is_deleted = 0
                """)
        }
        var checks: [CheckRun] = []
        for c in source.loadChecks {
            let run = CheckRun(config: c, column: c.column.map { stream.column($0) } ?? .absent)
            if case .relationship(let to, _) = c.kind, to != source.name {
                run.targetKeys = try Self.stagedKeys(db, source: to, entity: loader.config.source(named: to)?.entity ?? .person)
            }
            checks.append(run)
        }
        self.checks = checks
        var prior = Prior()
        if let chainId {
            let previous = try Int64.fetchAll(db, sql: "SELECT id FROM batch WHERE source = ? AND chain_id = ? AND id != ?",
                                              arguments: [loader.source.name, chainId, batchId])
            prior.rows = try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(rows), 0) FROM batch WHERE source = ? AND chain_id = ? AND id != ?",
                                          arguments: [loader.source.name, chainId, batchId]) ?? 0
            if let latest = previous.max() {
                for row in try Row.fetchAll(db, sql: "SELECT check_name, evaluated, failed, samples_json FROM check_result WHERE batch_id = ?",
                                            arguments: [latest]) {
                    let samples = (row["samples_json"] as String?).flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }
                    prior.checks[row["check_name"]] = (row["evaluated"], row["failed"], samples ?? [])
                }
            }
            // A key seen earlier in the version repeats it: the unique check on the key starts from them.
            let table = loader.source.entity == .person ? "staged_person" : "staged_activity"
            let placeholders = previous.map { _ in "?" }.joined(separator: ",")
            let keyChecks = checks.filter { if case .unique = $0.config.kind { return $0.config.column == loader.source.key }; return false }
            if !keyChecks.isEmpty && !previous.isEmpty {
                for row in try Row.fetchAll(db, sql: """
                    SELECT record_key, line FROM \(table) WHERE source = ? AND is_deleted = 0 AND last_seen_batch IN (\(placeholders))
                    """, arguments: StatementArguments([loader.source.name]) + StatementArguments(previous)) {
                    for check in keyChecks { _ = check.seen.firstLine(of: row[0], at: row[1]) }
                }
            }
        }
        self.prior = prior
        readable = checks.first { if case .readable = $0.config.kind { return true }; return false }
        selfReferencing = checks.filter { if case .relationship(let to, _) = $0.config.kind { return to == loader.source.name }; return false }
        if !selfReferencing.isEmpty {
            let keys = try Self.stagedKeys(db, source: source.name, entity: source.entity)
            for c in selfReferencing { c.targetKeys = keys }
        }
        standardiser = Standardiser(reference: ReferenceData.shared, defaultRegion: source.region ?? loader.config.defaultRegion,
                                    dateFormats: source.dateFormats)
        let fields: [(field: CanonicalField, source: FieldSource)] = source.mapping.map { entry in
            let field = CanonicalField(name: entry.field)!
            switch entry.value {
            case .column(let c, _), .reference(_, let c):
                return (field, .column(stream.column(c)))
            case .template(let parts, _):
                return (field, .template(parts.map {
                    switch $0 { case .literal(let l): return .literal(l); case .column(let c): return .column(stream.column(c)) }
                }))
            case .canonical:
                return (field, .none)
            }
        }
        var fieldSources = [FieldSource](repeating: .none, count: CanonicalField.allCases.count)
        for (field, source) in fields { fieldSources[field.rawValue] = source }  // a later mapping of a field wins
        self.fieldSources = fieldSources
        countryField = fields.first(where: { $0.field == .country })?.source
        tombstones = try ErasureTombstones.load(db, source: source.name)
        let hasStagedActivity = source.entity != .person ? try Bool.fetchOne(db, sql: """
            SELECT EXISTS (SELECT 1 FROM staged_activity WHERE source = ?)
            """, arguments: [source.name]) ?? false : false
        // Pushed events are re-sent by clients that saw no answer: a person record too is recognised.
        checksRedelivery = hasStagedActivity || source.format == .http
        let stagedTable = source.entity == .person ? "staged_person" : "staged_activity"
        sourceWasEmpty = !(try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(stagedTable) WHERE source = ?)",
                                             arguments: [source.name]) ?? true)
        if sourceWasEmpty { newStagedRows = stagedRows.withoutTail() }
        openQuarantineKeys = Set(try String.fetchAll(db, sql: """
            SELECT DISTINCT record_key FROM quarantine WHERE source = ? AND released_run IS NULL AND record_key IS NOT NULL
            """, arguments: [source.name]))
    }

    static func stagedKeys(_ db: Database, source: String, entity: Entity) throws -> Set<String> {
        let table = entity == .person ? "staged_person" : "staged_activity"
        return Set(try String.fetchAll(db, sql: "SELECT record_key FROM \(table) WHERE source = ? AND is_deleted = 0", arguments: [source]))
    }

    // MARK: checks

    func evaluate(row: borrowing SourceRow, key: String?, memo: inout RowStandardised) -> RowVerdict {
        var verdict = RowVerdict()
        let sample = key ?? "line \(row.line)"
        for check in checks {
            guard let message = evaluate(check, row: row, memo: &memo) else { continue }
            check.fail(sample: sample)
            verdict.checks.append(check.config.name)
            verdict.reasons.append("\(check.config.name) (\(check.config.severity.rawValue)): \(message)")
            if check.config.severity == .error { verdict.hasError = true }
        }
        return verdict
    }

    /// Evaluates one row check; returns a failure message or nil. Nulls are judged only by not_null.
    /// A message names the column and the problem, never the value: it is stored as a quarantine
    /// reason or flag and shown unmasked (the values stay in the row's raw text, shown through the PII policy).
    private func evaluate(_ check: CheckRun, row: borrowing SourceRow, memo: inout RowStandardised) -> String? {
        // The column's name only for a failure's message: reading it copies a string.
        var column: String { check.config.column ?? "" }
        let value = check.column.value(in: row)
        switch check.config.kind {
        case .notNull:
            check.evaluated += 1
            return value == nil ? "\(column) is empty" : nil
        case .rowCount, .freshness, .readable:
            return nil
        default:
            break
        }
        guard let value else { return nil }
        check.evaluated += 1
        switch check.config.kind {
        case .unique:
            if let first = check.seen.firstLine(of: value, at: row.line) { return "\(column) repeats the value of line \(first)" }
            return nil
        case .pattern(let format):
            switch format {
            case .email:
                if case .failure(let e)? = standardised(.email, value, memo: &memo) { return "\(column): \(e)" }
            case .phone:
                let country = rowCountry(row, memo: &memo)
                if case .failure(let e)? = standardised(.phone, value, context: country, memo: &memo) {
                    return "\(column): \(e)"
                }
            case .postcode:
                let country = rowCountry(row, memo: &memo)
                if case .failure(let e)? = standardised(.postcode, value, context: country, memo: &memo) {
                    return "\(column): \(e)"
                }
            case .date:
                if case .failure(let e)? = standardised(.date, value, memo: &memo) { return "\(column): \(e)" }
            case .regex(let pattern):
                if check.regex?.matches(value) != true {
                    return "\(column) does not match /\(pattern)/"
                }
            }
            return nil
        case .acceptedValues(let values):
            return values.contains(value) ? nil : "\(column) is not one of \(values.sorted().joined(separator: ", "))"
        case .range(let lo, let hi):
            guard let number = Double(value) else { return "\(column) is not a number" }
            if let lo, number < lo { return "\(column) is below \(Self.format(lo))" }
            if let hi, number > hi { return "\(column) is above \(Self.format(hi))" }
            return nil
        case .relationship(let to, _):
            return check.targetKeys.contains(value) ? nil : "\(column) has no record in \(to)"
        default:
            return nil
        }
    }

    /// A record key that holds a NUL or a byte-order mark would be staged but never found again
    /// (export, search and matching compare keys as text): such a row is unreadable, not altered.
    static func keyDamage(_ key: String, column: String) -> String? {
        // The bytes as stored, not the scalars: this runs for every row (NUL is 0x00, U+FEFF is EF BB BF).
        var key = key
        return key.withUTF8 { bytes -> String? in
            for (i, b) in bytes.enumerated() {
                if b == 0 { return "the record key '\(column)' holds a NUL byte" }
                if b == 0xEF && i + 2 < bytes.count && bytes[i + 1] == 0xBB && bytes[i + 2] == 0xBF {
                    return "the record key '\(column)' holds a byte-order mark (U+FEFF)"
                }
            }
            return nil
        }
    }

    static func format(_ d: Double) -> String { d == d.rounded() ? String(Int(d)) : String(d) }

    /// - parameter rows: the rows of the whole version (an append's earlier rows included).
    mutating func evaluateDatasetChecks(rows: Int) {
        for check in checks {
            switch check.config.kind {
            case .rowCount(let lo, let hi):
                check.evaluated = 1
                if let lo, rows < lo { check.fail(sample: "\(file): \(rows) rows, expected at least \(lo)") }
                else if let hi, rows > hi { check.fail(sample: "\(file): \(rows) rows, expected at most \(hi)") }
            case .readable:
                check.evaluated = rows
            case .freshness(let maxAge):
                check.evaluated = 1
                let newest = fileModifiedAt ?? now
                let age = now.timeIntervalSince(newest)
                if age > maxAge { check.fail(sample: "\(file): data is \(Duration.describe(age)) old, limit \(Duration.describe(maxAge))") }
            default: break
            }
        }
    }

    func writeCheckResults(at: String, sourceRows: Int) throws {
        let insert = try db.makeStatement(sql: """
            INSERT INTO check_result (run_id, batch_id, source, check_name, type, column_name, dimension, severity,
                evaluated, passed, failed, score, weight, samples_json, evaluated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for check in checks {
            let c = check.config
            // An append adds to what the version's earlier batches found (dataset checks judge it whole anew).
            if let before = prior.checks[c.name], !QualityScoring.isDatasetCheck(c.type) {
                check.evaluated += before.evaluated
                check.failed += before.failed
                check.samples = Array((before.samples + check.samples).prefix(5))
            }
            let passed = check.evaluated - check.failed
            let score = check.evaluated == 0 ? 1.0 : Double(passed) / Double(check.evaluated)
            let weight = QualityScoring.checkWeight(type: c.type, evaluated: check.evaluated, sourceRows: sourceRows)
            try insert.execute(arguments: [runId, batchId, source.name, c.name, c.type, c.column, c.dimension.rawValue,
                                           c.severity.rawValue, check.evaluated, passed, check.failed, score, weight,
                                           encodeStrings(check.samples), at])
        }
    }

    // MARK: staging and quarantine

    func rowCountry(_ row: borrowing SourceRow, memo: inout RowStandardised) -> String? {
        guard let raw = countryField?.value(in: row) else { return nil }
        if case .success(let code)? = standardised(.country, raw, memo: &memo) { return code }
        return nil
    }

    // MARK: preparing rows (reader thread: checks and standardisation, no database)

    /// Everything a row needs before it touches the database, appended to the chunk. Runs on the reader thread.
    /// Before a block of rows is prepared: each unique check's table reads the slots the block's
    /// values start at, together (`FirstSeen.prefetch`).
    func prefetch(_ rows: UnsafeBufferPointer<SourceRow>) {
        guard let first = rows.baseAddress else { return }
        for check in checks {
            guard case .unique = check.config.kind else { continue }
            let column = check.column
            check.prefetched ^= check.seen.prefetch((0..<rows.count).lazy.compactMap { column.value(in: (first + $0).pointee) })
        }
    }

    func prepare(_ row: borrowing SourceRow, into chunk: inout PreparedChunk, scratch: inout RowScratch) {
        let key = keyColumn.value(in: row)
        if !tombstones.isEmpty && tombstones.erased(key: key, texts: {
            // What `forget` hashed is the stored text: sealed, when the vault is on.
            [row.rawText, row.objectText(quotedKeys: rawKeys)] + (sealer.map { [$0.rawText(row, quotedKeys: rawKeys), $0.objectText(row, quotedKeys: rawKeys)] } ?? [])
        }) {
            chunk.rows.append(.erased(line: row.line))
            return
        }
        if let problem = row.problem ?? key.flatMap({ Self.keyDamage($0, column: source.key) }) {
            readable?.fail(sample: "\(file):\(row.line)")
            chunk.rows.append(.quarantine(line: row.line, key: key, raw: quarantineText(row), checks: ["readable"],
                                          reasons: ["readable (error): line \(row.line): \(problem)"], errorFailure: true))
            return
        }
        let verdict = evaluate(row: row, key: key, memo: &scratch.memo)
        guard !verdict.hasError, let key else {
            var reasons = verdict.reasons, checks = verdict.checks
            if key == nil && !checks.contains(where: { $0.hasPrefix("not_null_\(source.key)") }) {
                checks.insert("record_key", at: 0)
                reasons.insert("record_key: \(source.key) is empty; a record needs a key", at: 0)
            }
            chunk.rows.append(.quarantine(line: row.line, key: key, raw: quarantineText(row), checks: checks, reasons: reasons,
                                          errorFailure: verdict.hasError))
            return
        }
        for c in selfReferencing { c.targetKeys.insert(key) }
        let keySlot = chunk.append(text: key)
        let rawSlot = chunk.append(text: sealer.map { $0.rawText(row, quotedKeys: rawKeys) } ?? row.rawText)
        appendStagedValues(row, flags: verdict.reasons, scratch: &scratch, to: &chunk)
        chunk.finishStaged(line: row.line, key: key, keySlot: keySlot, raw: rawSlot)
    }

    /// Appends the standardised values of a staged row to the chunk, in the upsert's parameter order
    /// after (source, key, …, line).
    private func appendStagedValues(_ row: borrowing SourceRow, flags warnReasons: [String], scratch: inout RowScratch,
                                    to chunk: inout PreparedChunk) {
        if source.entity == .person {
            appendStagedPerson(row, flags: warnReasons, memo: &scratch.memo, to: &chunk)
        } else {
            appendStagedActivity(row, flags: warnReasons, to: &chunk)
        }
    }

    /// A person row's values. No closure here refers to `self`: one that did copied the whole batch
    /// state (every string, array and statement in it retained and released) once per row (BENCHMARKS.md).
    private func appendStagedPerson(_ row: borrowing SourceRow, flags warnReasons: [String], memo: inout RowStandardised,
                                    to chunk: inout PreparedChunk) {
        var flags = warnReasons
        let country = staged(.country, .country, label: "country", in: row, memo: &memo, flags: &flags)
        let email = staged(.email, .email, label: "email", in: row, memo: &memo, flags: &flags)
        let phone = staged(.phone, .phone, label: "phone", in: row, context: country, memo: &memo, flags: &flags)
        let dob = staged(.dob, .date, label: "dob", in: row, memo: &memo, flags: &flags)
        let postcode = staged(.postcode, .postcode, label: "postcode", in: row, context: country, memo: &memo, flags: &flags)
        let firstName = value(.first_name, in: row), lastName = value(.last_name, in: row)
        let fullName = value(.full_name, in: row)
        chunk.append(text: name(firstName)); chunk.append(text: name(lastName)); chunk.append(text: name(fullName))
        chunk.append(text: firstName); chunk.append(text: lastName); chunk.append(text: fullName)
        chunk.append(text: sealed(email)); chunk.append(text: sealed(phone)); chunk.append(text: sealed(dob))
        chunk.append(text: sealed(text(value(.street, in: row))))
        chunk.append(text: name(value(.city, in: row)))
        chunk.append(text: postcode); chunk.append(text: text(value(.region, in: row)))
        chunk.append(text: country)
        chunk.append(text: sealed(text(value(.national_id, in: row))))
        chunk.append(text: flags.isEmpty ? nil : encodeStrings(flags)); chunk.append(hex: row.objectHash)
    }

    /// A mapped field standardised as `kind` (remembered across the row's checks and staging); a value
    /// that does not standardise is flagged under `label` and staged empty.
    private func staged(_ field: CanonicalField, _ kind: RowStandardised.Kind, label: String, in row: borrowing SourceRow,
                        context: String? = nil, memo: inout RowStandardised, flags: inout [String]) -> String? {
        guard let raw = value(field, in: row) else { return nil }
        return Self.accepted(label, standardised(kind, raw, context: context, memo: &memo), flags: &flags)
    }

    /// A standardised value, or nil with the failure flagged under `label` (staged empty, not quarantined).
    private static func accepted(_ label: String, _ result: Result<String, StandardiseError>?, flags: inout [String]) -> String? {
        switch result {
        case .success(let v)?: return v
        case .failure(let e)?: flags.append("\(label): \(e)"); return nil
        case nil: return nil
        }
    }

    /// `raw` standardised as `kind` (`context`: the row's country for phones and postcodes), computed
    /// once for a value the row's checks and staging both ask for.
    func standardised(_ kind: RowStandardised.Kind, _ raw: String, context: String? = nil,
                      memo: inout RowStandardised) -> Result<String, StandardiseError>? {
        if let hit = memo.cached(kind, raw, context: context) { return hit }
        let result: Result<String, StandardiseError>?
        switch kind {
        case .email: result = standardiser.email(raw)
        case .phone: result = standardiser.phone(raw, region: context)
        case .date: result = standardiser.date(raw)
        case .postcode: result = standardiser.postcode(raw, country: context)
        case .country: result = standardiser.country(raw)
        }
        memo.store(kind, raw, context: context, result)
        return result
    }

    @inline(__always) private func name(_ s: String?) -> String? {
        guard let s else { return nil }
        return standardiser.name(s)
    }

    @inline(__always) private func text(_ s: String?) -> String? {
        guard let s else { return nil }
        return standardiser.text(s)
    }

    /// An event's or transaction's values. As for a person, no closure here refers to `self`.
    private func appendStagedActivity(_ row: borrowing SourceRow, flags warnReasons: [String], to chunk: inout PreparedChunk) {
        var flags = warnReasons
        var refKind: String?, ref: String?
        if let mapping = source.mapping.first(where: { $0.field == "customer_ref" }) {
            switch mapping.value {
            case .reference(let target, _):
                refKind = "source:\(target)"; ref = value(.customer_ref, in: row)
            case .canonical(let field):
                refKind = field
                if let raw = value(CanonicalField(name: field)!, in: row) {
                    let result: Result<String, StandardiseError>? = field == "email" ? standardiser.email(raw)
                        : field == "phone" ? standardiser.phone(raw, region: nil) : standardiser.text(raw).map { .success($0) }
                    ref = Self.accepted(field, result, flags: &flags)
                }
            case .column, .template:
                // Only a campaign maps customer_ref to a column: the audience it was spent on (never linked to a customer).
                refKind = "audience"; ref = text(value(.customer_ref, in: row))
            }
        }
        var occurred: String?
        if let raw = value(.occurred_at, in: row) { occurred = Self.accepted("occurred_at", standardiser.timestamp(raw), flags: &flags) }
        var amount: Double?
        if let raw = value(.amount, in: row) {
            if let v = Double(raw.replacingOccurrences(of: ",", with: "").replacingOccurrences(of: "$", with: "")) { amount = v }
            else { flags.append("amount is not a number") }
        }
        chunk.append(text: refKind)
        chunk.append(text: refKind.map { PIIColumns.personFields.contains($0) } == true ? sealed(ref) : ref)
        chunk.append(text: occurred); chunk.append(real: amount)
        chunk.append(text: text(value(.type, in: row)))
        chunk.append(text: flags.isEmpty ? nil : encodeStrings(flags)); chunk.append(hex: row.objectHash)
    }

    /// A personal value as stored: sealed when the vault is on.
    @inline(__always)
    private func sealed(_ value: String?) -> String? { sealer.map { $0.seal(value) } ?? value }

    /// A row as quarantine keeps it: a JSON object, its personal cells sealed when the vault is on.
    private func quarantineText(_ row: borrowing SourceRow) -> String {
        sealer.map { $0.objectText(row, quotedKeys: rawKeys) } ?? row.objectText(quotedKeys: rawKeys)
    }

    /// A canonical field's value in a row, through its mapping (nil when the source does not map it).
    @inline(__always)
    private func value(_ field: CanonicalField, in row: borrowing SourceRow) -> String? {
        fieldSources[field.rawValue].value(in: row)
    }

    // MARK: writing rows (database thread)

    /// Writes a chunk's rows. Staged keys and values are bound in place from the chunk's byte buffer,
    /// which outlives each statement step (SQLite reads them during the step only); bindings are
    /// cleared before the chunk is handed back. Raw and staged rows are written many a statement at
    /// the end of the chunk, in the chunk's order; quarantine rows and the updates a row triggers are
    /// written as the row comes (none of them reads what the deferred rows write: a quarantined row
    /// marks its key seen by this batch, which the key's staged row from this batch also says).
    mutating func write(_ chunk: PreparedChunk) throws {
        try chunk.bytes.withUnsafeBufferPointer { bytes in
            let base = bytes.baseAddress
            var raw: [(id: Int64, row: Int)] = [], staged: [Int] = []
            raw.reserveCapacity(chunk.rows.count)
            staged.reserveCapacity(chunk.rows.count)
            for (index, prepared) in chunk.rows.enumerated() {
                if case .erased = prepared { continue }
                if checksRedelivery, case .stage(_, let key, _, _, let values) = prepared {
                    // The check reads staging: a key staged earlier in this chunk must be there.
                    try writeStaged(staged, chunk: chunk, base: base)
                    staged.removeAll(keepingCapacity: true)
                    if try isRedelivery(key: key, hash: chunk.slots[values.upperBound - 1], base: base) {
                        redelivered += 1
                        continue
                    }
                }
                raw.append((nextRawId, index))
                nextRawId += 1
                switch prepared {
                case .quarantine(let line, let key, let rawText, let checks, let reasons, _):
                    let q = insertQuarantine
                    q.bind(1, runId); q.bind(2, source.name); q.bind(3, batchId); q.bind(4, file); q.bind(5, line); q.bind(6, key)
                    q.bind(7, encodeStrings(checks)); q.bind(8, encodeStrings(reasons)); q.bind(9, rawText); q.bind(10, Timestamp.string(now))
                    try q.step(db)
                    if let key {
                        // The record was seen in this batch: a full snapshot must not mark its staged version deleted.
                        let table = source.entity == .person ? "staged_person" : "staged_activity"
                        // Cached: a file with many bad rows would otherwise compile this statement once per row.
                        try db.cachedStatement(sql: "UPDATE \(table) SET last_seen_batch = ? WHERE source = ? AND record_key = ?")
                            .execute(arguments: [batchId, source.name, key])
                    }
                case .stage(let line, let key, _, _, _):
                    staged.append(index)
                    if !openQuarantineKeys.isEmpty && openQuarantineKeys.contains(key) {
                        try db.cachedStatement(sql: """
                            UPDATE quarantine SET released_run = ?, released_at = ?, release_reason = ?
                            WHERE source = ? AND record_key = ? AND released_run IS NULL AND batch_id != ?
                            """).execute(arguments: [runId, Timestamp.string(now), "corrected in batch \(batchId) (\(file):\(line))",
                                             source.name, key, batchId])
                        openQuarantineKeys.remove(key)
                    }
                case .erased:
                    break
                }
            }
            try writeRaw(raw, chunk: chunk, base: base)
            try writeStaged(staged, chunk: chunk, base: base)
        }
        rawRows.clearBindings()
        stagedRows.clearBindings()
        newStagedRows?.clearBindings()
    }

    /// The raw rows of a chunk (`id`, and `row`: the index of the prepared row).
    private mutating func writeRaw(_ rows: [(id: Int64, row: Int)], chunk: PreparedChunk, base: UnsafePointer<UInt8>?) throws {
        var start = 0
        while start < rows.count {
            let count = RowsInsert.rowsForNextStatement(of: rows.count - start, most: rawRows.mostRows)
            let s = try rawRows.statement(rows: count)
            s.bind(1, source.name); s.bind(2, batchId)
            for r in 0..<count {
                let p = rawRows.firstParameter(ofRow: r)
                s.bind(p, rows[start + r].id)
                switch chunk.rows[rows[start + r].row] {
                case .quarantine(let line, let key, let raw, _, _, _):
                    s.bind(p + 1, key); s.bind(p + 2, line); s.bind(p + 3, raw)
                case .stage(let line, _, let keySlot, let raw, _):
                    s.bind(p + 1, chunk.slots[keySlot], base: base); s.bind(p + 2, line); s.bind(p + 3, chunk.slots[raw], base: base)
                case .erased:
                    preconditionFailure("an erased row has no raw row")
                }
            }
            try s.step(db)
            start += count
        }
    }

    /// The staged rows of a chunk (indexes of prepared `.stage` rows).
    private mutating func writeStaged(_ rows: [Int], chunk: PreparedChunk, base: UnsafePointer<UInt8>?) throws {
        var start = 0
        while start < rows.count {
            let count = RowsInsert.rowsForNextStatement(of: rows.count - start, most: stagedRows.mostRows)
            var written = count
            if newStagedRows != nil {
                let s = try newStagedRows!.statement(rows: count)
                do {
                    try stepStaged(rows[start..<(start + count)], s, chunk: chunk, base: base)
                } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                    // A key staged earlier in this batch (OR FAIL keeps the statement's rows before it):
                    // that row is upserted, and the statement's rows after it are written again.
                    written = Int(sqlite3_changes(db.sqliteConnection))
                    guard written < count else { throw error }
                    try stepStaged(rows[(start + written)...(start + written)], try stagedRows.statement(rows: 1), chunk: chunk, base: base)
                    written += 1
                }
            } else {
                try stepStaged(rows[start..<(start + count)], try stagedRows.statement(rows: count), chunk: chunk, base: base)
            }
            for r in rows[start..<(start + written)] {
                guard case .stage(_, _, _, _, let values) = chunk.rows[r] else { continue }
                upserted += 1
                // The flags are the slot before the row hash, the last value.
                if case .text = chunk.slots[values.upperBound - 2] { upsertedFlagged += 1 }
            }
            start += written
        }
    }

    /// Binds the staged rows to `s`, a statement of as many rows (`newStagedRows` lays its parameters
    /// out as `stagedRows` does), and steps it.
    private func stepStaged(_ rows: ArraySlice<Int>, _ s: BulkStatement, chunk: PreparedChunk, base: UnsafePointer<UInt8>?) throws {
        s.bind(1, source.name)
        if source.entity == .person {
            s.bind(2, batchId); s.bind(3, runId)
        } else {
            s.bind(2, source.entity.rawValue); s.bind(3, batchId); s.bind(4, runId)
        }
        for (r, row) in rows.enumerated() {
            guard case .stage(let line, _, let keySlot, _, let values) = chunk.rows[row] else {
                preconditionFailure("only staged rows are upserted")
            }
            var p = stagedRows.firstParameter(ofRow: r)
            s.bind(p, chunk.slots[keySlot], base: base); s.bind(p + 1, line)
            p += 2
            for slot in values {
                s.bind(p, chunk.slots[slot], base: base)
                p += 1
            }
            assert(p == stagedRows.firstParameter(ofRow: r + 1), "a staged row's values fill its tuple")
        }
        try s.step(db)
    }
}

extension BatchState {
    /// The source's live and flagged staged rows after its first load, without reading them: the batch's
    /// own upserts, when the source's key index holds exactly as many keys (no key written twice, each
    /// row live since an upsert makes it so). nil otherwise: then they are counted (`BatchLoader.refreshCounts`).
    func firstLoadCounts(_ db: Database) throws -> (staged: Int, flagged: Int)? {
        guard sourceWasEmpty else { return nil }
        let table = source.entity == .person ? "staged_person" : "staged_activity"
        // The unique key index alone: a count of keys reads no row (the scan reads every row, after the pipeline, on one thread).
        let keys = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) INDEXED BY \(table)_key WHERE source = ?",
                                    arguments: [source.name])
        return keys == upserted ? (upserted, upsertedFlagged) : nil
    }

    /// Whether an event or transaction is live in staging with the same content: then it is only
    /// marked seen by this batch (a full snapshot must not delete it).
    fileprivate func isRedelivery(key: String, hash: ValueSlot, base: UnsafePointer<UInt8>?) throws -> Bool {
        guard case .text(let start, let count) = hash, let base else { return false }
        let hex = String(decoding: UnsafeBufferPointer(start: base + start, count: count), as: UTF8.self)
        let table = source.entity == .person ? "staged_person" : "staged_activity"
        guard let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT row_hash, is_deleted FROM \(table) WHERE source = ? AND record_key = ?
            """), arguments: [source.name, key]),
              row[1] as Int == 0, row[0] as String? == hex else { return false }
        try db.cachedStatement(sql: "UPDATE \(table) SET last_seen_batch = ? WHERE source = ? AND record_key = ?")
            .execute(arguments: [batchId, source.name, key])
        return true
    }
}

/// Where a canonical field's value comes from in a row, resolved once per file.
enum FieldSource {
    enum Part { case literal(String), column(ColumnRef) }
    case column(ColumnRef)
    case template([Part])
    case none

    @inline(__always)
    func value(in row: borrowing SourceRow) -> String? {
        switch self {
        case .column(let ref): return ref.value(in: row)
        case .template(let parts):
            var out = "", anyValue = false
            for part in parts {
                switch part {
                case .literal(let l): out += l
                case .column(let ref): if let v = ref.value(in: row) { out += v; anyValue = true }
                }
            }
            return anyValue ? out : nil
        case .none: return nil
        }
    }
}

/// A row in a chunk, ready for the database. A staged row's raw text and values are slots of the chunk.
enum PreparedRow {
    case quarantine(line: Int, key: String?, raw: String, checks: [String], reasons: [String], errorFailure: Bool)
    case stage(line: Int, key: String, keySlot: Int, raw: Int, values: Range<Int>)
    case erased(line: Int)

    var key: String? {
        switch self { case .quarantine(_, let k, _, _, _, _): return k; case .stage(_, let k, _, _, _): return k; case .erased: return nil }
    }
    var line: Int {
        switch self { case .quarantine(let l, _, _, _, _, _): return l; case .stage(let l, _, _, _, _): return l; case .erased(let l): return l }
    }
}

/// A value bound from a chunk: text is a range of the chunk's bytes.
enum ValueSlot {
    case null
    case text(start: Int, count: Int)
    case real(Double)
}

extension BulkStatement {
    /// Binds a chunk's value in place: SQLite reads the bytes during the next step without copying,
    /// so `base` must stay valid until then (see `BatchState.write(_:)`).
    @inline(__always)
    func bind(_ index: Int32, _ slot: ValueSlot, base: UnsafePointer<UInt8>?) {
        switch slot {
        case .null: bindNull(index)
        case .real(let d): bind(index, d)
        case .text(let start, let count): bindInPlace(index, base.map { $0 + start }, count: count)
        }
    }
}

/// Rows handed from the reader to the writer in one piece. The staged values of all rows live in one
/// byte buffer, bound in place by the writer: no string per value for SQLite to copy and for the
/// writer to free (BENCHMARKS.md).
struct PreparedChunk {
    static let rowsPerChunk = 512
    var rows: [PreparedRow] = []
    /// The values' bytes, filled up to `used`; its length is its capacity, so a value is copied in
    /// with one memcpy (`append(contentsOf:)` cost ≈ 90 instructions per value, BENCHMARKS.md).
    private(set) var bytes = [UInt8](repeating: 0, count: Self.rowsPerChunk * 512)
    private(set) var used = 0
    var slots: [ValueSlot] = []

    init() {
        rows.reserveCapacity(Self.rowsPerChunk)
        slots.reserveCapacity(Self.rowsPerChunk * 20)
    }

    /// Empties the chunk for reuse, keeping its buffers' capacity.
    mutating func removeAll() {
        rows.removeAll(keepingCapacity: true)
        used = 0
        slots.removeAll(keepingCapacity: true)
    }

    /// A staged row: its key and raw text at slots `keySlot` and `raw`, its values in the slots after it.
    mutating func finishStaged(line: Int, key: String, keySlot: Int, raw: Int) {
        rows.append(.stage(line: line, key: key, keySlot: keySlot, raw: raw, values: raw + 1..<slots.count))
    }

    /// Appends a value's slot and returns its index.
    @discardableResult
    mutating func append(text: String?) -> Int {
        guard let text else { slots.append(.null); return slots.count - 1 }
        let start = used
        // The string's bytes where they are stored (`withUTF8` needs a mutable copy of the string).
        if text.utf8.withContiguousStorageIfAvailable({ copyIn($0) }) == nil {
            var copy = text
            copy.withUTF8 { copyIn($0) }
        }
        slots.append(.text(start: start, count: used - start))
        return slots.count - 1
    }

    @inline(__always)
    private mutating func copyIn(_ source: UnsafeBufferPointer<UInt8>) {
        reserve(source.count)
        guard let from = source.baseAddress, !source.isEmpty else { return }
        let at = used
        bytes.withUnsafeMutableBufferPointer { ($0.baseAddress! + at).update(from: from, count: source.count) }
        used += source.count
    }

    @inline(__always)
    private mutating func reserve(_ count: Int) {
        if used + count > bytes.count { bytes.append(contentsOf: repeatElement(0, count: max(bytes.count, count))) }
    }

    mutating func append(real: Double?) { slots.append(real.map(ValueSlot.real) ?? .null) }

    /// Appends a value as lowercase hex without leading zeros, as `String(value, radix: 16)` writes it.
    mutating func append(hex value: UInt64) {
        let start = used
        let digits = max(1, (64 - value.leadingZeroBitCount + 3) / 4)
        reserve(digits)
        bytes.withUnsafeMutableBufferPointer { out in
            for i in 0..<digits {
                let nibble = UInt8((value >> (UInt64(digits - 1 - i) * 4)) & 0xF)
                out[start + i] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble
            }
        }
        used += digits
        slots.append(.text(start: start, count: digits))
    }
}

/// Canonical fields of staged records (CONTRACTS.md), as slots: the hot path avoids a dictionary per row.
enum CanonicalField: Int, CaseIterable {
    case first_name, last_name, full_name, email, phone, dob, street, city, postcode, region, country, national_id
    case customer_ref, occurred_at, amount, type

    var name: String { "\(self)" }

    init?(name: String) {
        guard let match = Self.allCases.first(where: { "\($0)" == name }) else { return nil }
        self = match
    }
}

/// What the reader thread reuses from row to row instead of allocating it per row.
struct RowScratch {
    var memo = RowStandardised()
}
