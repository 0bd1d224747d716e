import Foundation
import GRDB
import StewardCatalog
import StewardConfig

/// Loads one source in one run: one step, one batch (transaction) per new or changed file.
struct SourceLoader {
    let config: ProjectConfig
    let source: SourceConfig
    let catalog: Catalog
    let runId: Int64
    let progress: ProgressReporter
    let stop: StopFlag?
    let now: @Sendable () -> Date
    let rollbackJournalMinimumBytes: Int64?
    /// A person allowed this run to apply deletions beyond `max_delete` (`steward run --allow-delete`).
    var allowDelete = false

    /// Returns the step and the number of error-severity check failures.
    func load() -> (StepSummary, Int) {
        progress.report(.stepStarted(source: source.name))
        let started = Date()
        var summary = StepSummary(source: source.name, status: "running", batches: 0, rowsRead: 0, rowsLoaded: 0,
                                  rowsQuarantined: 0, message: nil)
        var errorFailures = 0
        let stepId: Int64
        do {
            stepId = try catalog.pool.write { db in
                try db.execute(sql: "INSERT INTO run_step (run_id, source, status, started_at) VALUES (?, ?, 'running', ?)",
                               arguments: [runId, source.name, Timestamp.string(now())])
                return db.lastInsertedRowID
            }
        } catch {
            summary.status = "failed"; summary.message = "\(error)"
            return (summary, 0)
        }
        var problems: [String] = []
        // The live records before this step, from the summary every load, deletion and erasure keeps
        // current: the deletion guard's denominator (a file replaced by a bigger one must not dilute the
        // share of the old records it drops), and none means a first load, with no deletions to look for.
        let liveBefore = source.snapshot != .full ? 0 : ((try? catalog.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT rows_staged FROM source_stats WHERE source = ?", arguments: [source.name])
        }) ?? nil) ?? 0
        let hadLiveRecords = source.snapshot != .full || liveBefore > 0
        let files: [URL]
        if source.format == .sqlite || !Glob.isPattern(source.path) {
            let path = source.path.hasPrefix("/") ? source.path : config.directory.appendingPathComponent(source.path).path
            files = [URL(fileURLWithPath: path)]
        } else {
            let scan = Glob.scan(source.path, relativeTo: config.directory)
            files = scan.files
            // A folder the glob could not read, a dangling link: files may be missing, so nothing is judged deleted.
            problems += scan.problems
            if files.isEmpty && scan.problems.isEmpty { problems.append("no file matches '\(source.path)' in \(config.directory.path)") }
        }
        var loadedAny = false
        var stoppedBefore: String?
        var allFilesRead = !files.isEmpty && problems.isEmpty
        var currentBatches: [Int64] = []
        var modes: [String] = []
        var notes: [String] = []
        var warnings: [String] = []
        let present = Set(files.map(relative))
        for file in files {
            if stop?.isStopped == true { stoppedBefore = relative(file); allFilesRead = false; break }
            let rel = relative(file)
            do {
                guard FileManager.default.isReadableFile(atPath: file.path) else {
                    throw FileManager.default.fileExists(atPath: file.path)
                        ? ConnectorError.unreadable(rel, "permission denied")
                        : ConnectorError.unreadable(rel, "no such file")
                }
                try FileFacts.requireRegular(file.path)
                let size = try FileFacts.size(of: file.path)
                let plan = try planLoad(file: file, relativePath: rel, size: size, present: present)
                switch plan {
                case .unchanged(let chain):
                    // The file is as loaded, but steward.yml may now name columns its version lacks.
                    try requireColumns(ofVersion: chain, file: rel)
                    currentBatches += chain
                    continue
                case .moved(let chain, let from):
                    currentBatches += chain
                    modes.append("moved")
                    notes.append("\(rel): same content as \(from), recognised as moved (nothing read again)")
                    continue
                case .load(let resume):
                    var batch = BatchLoader(loader: self, file: file, relativePath: rel, size: size, stepId: stepId)
                    batch.resume = resume
                    let result = try batch.load()
                    currentBatches += try chainBatches(result.chainId)
                    loadedAny = true
                    modes.append(result.mode)
                    summary.batches += 1
                    summary.rowsRead += result.rowsRead
                    summary.rowsLoaded += result.rowsLoaded
                    summary.rowsQuarantined += result.rowsQuarantined
                    errorFailures += result.errorFailures
                    if result.mode == "append" { notes.append("\(rel): \(Self.rows(result.rowsRead)) appended") }
                    if result.rowsRedelivered > 0 {
                        notes.append("\(rel): \(Self.rows(result.rowsRedelivered)) delivered again unchanged, not loaded twice")
                    }
                    if result.rowsUnreadable > 0 {
                        warnings.append("\(rel): \(result.rowsUnreadable) of \(Self.rows(result.rowsRead)) unreadable, quarantined (readable check)")
                    }
                    if !result.addedColumns.isEmpty {
                        let names = result.addedColumns.map { "'\($0)'" }.joined(separator: ", ")
                        notes.append("\(rel): schema: new column\(result.addedColumns.count == 1 ? "" : "s") \(names) recorded")
                        try? catalog.pool.write { db in
                            try Catalog.audit(db, action: "schema_change", subject: "source:\(source.name)",
                                              detail: "\(rel): new columns \(names)")
                        }
                    }
                    progress.report(.batchCommitted(source: source.name, file: rel, rows: result.rowsRead))
                }
            } catch ConnectorError.notRegular(_, let what) {
                // Skipped, not failed: a glob may match a pipe or a folder by accident; the other files load.
                warnings.append("\(rel): skipped, it is \(what), not a regular file")
                // What its path held before is not known to be gone: no deletions are judged this run.
                allFilesRead = false
            } catch {
                allFilesRead = false
                problems.append(Self.describe(error, file: rel))
            }
        }
        // A full snapshot's records that no current file holds any more are marked deleted, never dropped;
        // only when every file was read, so an unreadable file never looks like mass deletion, and only
        // up to the source's `max_delete` share unless a person allowed more (the deletion guard).
        var held: String?
        var deleted = 0
        if source.snapshot == .full && allFilesRead && !currentBatches.isEmpty && hadLiveRecords {
            do {
                switch try markDeletions(currentBatches: currentBatches, liveBefore: liveBefore) {
                case .held(let why): held = why
                case .deleted(let n): deleted = n
                }
            } catch { problems.append("marking deletions: \(error)") }
        }
        if deleted > 0 { notes.append("\(deleted) record\(deleted == 1 ? "" : "s") absent from the full snapshot marked deleted") }
        if !problems.isEmpty { summary.status = "failed" }
        else if stoppedBefore != nil { summary.status = "interrupted" }
        else if held != nil { summary.status = "held" }
        else if !warnings.isEmpty { summary.status = "warn" }
        else { summary.status = loadedAny || !modes.isEmpty || deleted > 0 ? "success" : "unchanged" }
        if let file = stoppedBefore { problems.append("stopped by the user before \(file); it loads on the next run") }
        let message = problems + (held.map { [$0] } ?? []) + warnings + notes
        summary.message = message.isEmpty ? (loadedAny ? nil : "no new or changed files") : message.joined(separator: "; ")
        let mode = Set(modes).count > 1 ? "mixed" : modes.first
        let elapsed = Date().timeIntervalSince(started) * 1000
        do {
            try catalog.pool.write { db in
                try db.execute(sql: """
                    UPDATE run_step SET status = ?, finished_at = ?, duration_ms = ?, message = ?, mode = ? WHERE id = ?
                    """, arguments: [summary.status, Timestamp.string(now()), elapsed, summary.message, mode, stepId])
                if summary.status == "failed" {
                    try Catalog.audit(db, action: "step_failed", subject: "source:\(source.name)", detail: summary.message ?? "")
                }
            }
        } catch {
            // The step's row would say `running` for ever: the run reports the failure instead of hiding it.
            summary.status = "failed"
            summary.message = "recording the step: \(error)" + (summary.message.map { "; \($0)" } ?? "")
        }
        progress.report(.stepFinished(source: source.name, status: summary.status, message: summary.message))
        return (summary, errorFailures)
    }

    /// How a file is loaded: not at all (its path's current version has this content), as a move (a
    /// path that is gone had this content), as an append (its current version is a prefix of it), or
    /// whole. A content seen before but not the path's current version is a new version: a restored
    /// file's records come back.
    enum LoadPlan {
        case unchanged(chain: [Int64])
        case moved(chain: [Int64], from: String)
        case load(resume: (point: ResumePoint, chainId: Int64)?)
    }

    func planLoad(file: URL, relativePath rel: String, size: Int64, present: Set<String>) throws -> LoadPlan {
        let current = try catalog.pool.read { db in
            try Row.fetchOne(db, sql: """
                SELECT id, sha256, size, end_line, clean_end, chain_id, file_state FROM batch
                WHERE source = ? AND file = ? ORDER BY id DESC LIMIT 1
                """, arguments: [source.name, rel])
        }
        if source.format == .sqlite {
            guard let current else { return .load(resume: nil) }
            let state = SQLiteStream.fileState(file.path).text
            if current["file_state"] as String? == state { return .unchanged(chain: try chainBatches(current["chain_id"])) }
            // The files changed (a commit, or only a checkpoint): the rows decide.
            if try SQLiteStream.contentHash(path: file.path, table: source.table ?? "") == current["sha256"] as String {
                try catalog.pool.write { db in
                    try db.execute(sql: "UPDATE batch SET file_state = ? WHERE id = ?", arguments: [state, current["id"] as Int64])
                }
                return .unchanged(chain: try chainBatches(current["chain_id"]))
            }
            return .load(resume: nil)
        }
        if let current {
            let currentSize: Int64 = current["size"]
            if size == currentSize {
                if try SHA256.file(file.path).digest == current["sha256"] as String {
                    return .unchanged(chain: try chainBatches(current["chain_id"]))
                }
            } else if size > currentSize, current["clean_end"] as Bool? == true, let endLine: Int = current["end_line"], appendable,
                      let prefix = try SHA256.prefix(file.path, bytes: currentSize), prefix.finalize() == current["sha256"] as String {
                return .load(resume: (ResumePoint(offset: currentSize, line: endLine, digest: prefix), current["chain_id"]))
            }
            return .load(resume: nil)
        }
        // A path never loaded: the same content under a path that is gone is a move or a rename.
        let candidates = try catalog.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT b.id, b.file, b.sha256, b.chain_id FROM batch b
                WHERE b.source = ? AND b.size = ? AND b.id = (SELECT MAX(id) FROM batch WHERE source = b.source AND file = b.file)
                """, arguments: [source.name, size])
        }.filter { !present.contains($0["file"] as String) }
        guard !candidates.isEmpty else { return .load(resume: nil) }
        let digest = try SHA256.file(file.path).digest
        guard let from = candidates.first(where: { $0["sha256"] as String == digest }) else { return .load(resume: nil) }
        let chainId: Int64 = from["chain_id"]
        try recordMove(to: rel, from: from["id"], fromFile: from["file"], chainId: chainId)
        return .moved(chain: try chainBatches(chainId), from: from["file"])
    }

    /// Fails like a load would when steward.yml maps or checks a column the file's current version
    /// does not have (the header recorded with its batch).
    func requireColumns(ofVersion chain: [Int64], file rel: String) throws {
        guard let first = chain.min(), let json = try catalog.pool.read({ db in
            try String.fetchOne(db, sql: "SELECT columns_json FROM batch WHERE id = ?", arguments: [first])
        }), let header = try? JSONDecoder().decode([String].self, from: Data(json.utf8)) else { return }
        var seen = Set<String>()
        let missing = source.referencedColumns.map(\.column).filter { !header.contains($0) && seen.insert($0).inserted }
        if !missing.isEmpty {
            throw BatchRefusal.schema(file: rel, missing: missing, added: [], fields: header.count, headerRecognised: missing.count < Set(source.referencedColumns.map(\.column)).count)
        }
    }

    /// Whether a grown file may be read as an append: not when a `unique` check judges a column other
    /// than the key, whose earlier values only the whole file holds (the key's are in staging).
    var appendable: Bool {
        !source.checks.contains { if case .unique = $0.kind { return $0.column != source.key }; return false }
    }

    /// The batches that make up a file version: its full load and the appends after it.
    func chainBatches(_ chainId: Int64) throws -> [Int64] {
        try catalog.pool.read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM batch WHERE source = ? AND chain_id = ?", arguments: [source.name, chainId])
        }
    }

    /// A version of the new path with the moved file's content, in the same chain as the version it
    /// came from: the records stay where they are, so whichever path holds the content later (the new
    /// one, or the old one again after a move back) still holds them. Its open quarantine rows follow it.
    private func recordMove(to rel: String, from batch: Int64, fromFile: String, chainId: Int64) throws {
        try catalog.pool.write { db in
            try db.execute(sql: """
                INSERT INTO batch (source, run_id, file, sha256, size, file_modified_at, rows, rows_loaded, rows_quarantined,
                    loaded_at, columns_json, mode, start_offset, end_line, clean_end, file_state)
                SELECT source, ?, ?, sha256, size, file_modified_at, 0, 0, 0, ?, columns_json, 'moved', 0, end_line, clean_end, file_state
                FROM batch WHERE id = ?
                """, arguments: [runId, rel, Timestamp.string(now()), batch])
            let id = db.lastInsertedRowID
            try db.execute(sql: "UPDATE batch SET chain_id = ? WHERE id = ?", arguments: [chainId, id])
            try db.execute(sql: "UPDATE quarantine SET file = ? WHERE source = ? AND file = ? AND released_run IS NULL",
                           arguments: [rel, source.name, fromFile])
            try db.execute(sql: "UPDATE run_step SET batches = batches + 1 WHERE run_id = ? AND source = ? AND status = 'running'",
                           arguments: [runId, source.name])
            try Catalog.audit(db, action: "file_moved", subject: "source:\(source.name)", detail: "batch \(batch) → \(rel)")
        }
    }

    func relative(_ file: URL) -> String {
        let dir = config.directory.standardizedFileURL.path + "/"
        let path = file.standardizedFileURL.path
        return path.hasPrefix(dir) ? String(path.dropFirst(dir.count)) : path
    }

    static func describe(_ error: Error, file: String) -> String {
        if let e = error as? ConnectorError { return e.description }
        if let e = error as? BatchRefusal { return e.description }
        if let e = error as? DatabaseError { return "\(file): database error: \(e.message ?? "\(e)")" }
        return "\(file): \(error)"
    }

    /// Marks the records no current file holds as deleted, or holds them when there are more than
    /// the source's `max_delete` share of its live records and no one allowed it: returns the held
    /// deletion's description then.
    enum DeletionOutcome { case deleted(Int), held(String) }

    private func markDeletions(currentBatches: [Int64], liveBefore: Int) throws -> DeletionOutcome {
        let table = source.entity == .person ? "staged_person" : "staged_activity"
        let placeholders = currentBatches.map { _ in "?" }.joined(separator: ",")
        let absent = "source = ? AND is_deleted = 0 AND last_seen_batch NOT IN (\(placeholders))"
        let arguments = StatementArguments([source.name]) + StatementArguments(currentBatches)
        return try catalog.pool.write { db in
            var doomed = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) WHERE \(absent)", arguments: arguments) ?? 0
            guard doomed > 0 else { return .deleted(0) }
            doomed -= try rehome(db, table: table, absent: absent, arguments: arguments, currentBatches: currentBatches)
            guard doomed > 0 else { return .deleted(0) }
            let live = max(liveBefore, doomed)
            let share = Double(doomed) / Double(max(live, 1))
            let allowed = allowDelete
            if share > source.maxDelete && !allowed {
                let held = "deletion guard: this snapshot would delete \(doomed) of \(live) live records "
                    + "(\(Self.percent(share)), limit \(Self.percent(source.maxDelete))); held until "
                    + "`steward run --allow-delete \(source.name)`"
                try Catalog.audit(db, action: "deletions_held", subject: "source:\(source.name)",
                                  detail: "\(doomed) of \(live) records absent from the full snapshot")
                return .held(held)
            }
            try db.execute(sql: "UPDATE \(table) SET is_deleted = 1, updated_run = ? WHERE \(absent)",
                           arguments: StatementArguments([runId]) + arguments)
            let deleted = db.changesCount
            // Both counts: deleted rows with flags were still counted as flagged (IngestManyRowsTests).
            try BatchLoader.refreshCounts(db, source: source)
            try Catalog.audit(db, action: share > source.maxDelete ? "deletions_allowed" : "mark_deleted", subject: "source:\(source.name)",
                              detail: "\(deleted) records absent from the full snapshot"
                                  + (share > source.maxDelete ? " (\(Self.percent(share)) of \(live), allowed by \(Catalog.osUser))" : ""))
            return .deleted(deleted)
        }
    }

    /// A record whose last sighting is in a version that is gone may still be in another current file
    /// (two files of one snapshot holding the same key): found among the current versions' raw rows, it
    /// is marked seen there and is not absent. A scan of those raw rows, only when something looks doomed.
    private func rehome(_ db: Database, table: String, absent: String, arguments: StatementArguments,
                        currentBatches: [Int64]) throws -> Int {
        let placeholders = currentBatches.map { _ in "?" }.joined(separator: ",")
        let ranges = try Row.fetchAll(db, sql: """
            SELECT id, first_raw_id, last_raw_id FROM batch WHERE id IN (\(placeholders)) AND first_raw_id IS NOT NULL
            """, arguments: StatementArguments(currentBatches))
        guard !ranges.isEmpty else { return 0 }
        try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS present_key (record_key TEXT PRIMARY KEY, batch_id INTEGER) WITHOUT ROWID")
        defer { try? db.execute(sql: "DROP TABLE IF EXISTS temp.present_key") }
        try db.execute(sql: "DELETE FROM temp.present_key")
        for range in ranges {
            try db.execute(sql: """
                INSERT OR REPLACE INTO temp.present_key SELECT record_key, batch_id FROM raw_record
                WHERE id BETWEEN ? AND ? AND record_key IS NOT NULL
                """, arguments: [range[1] as Int64, range[2] as Int64])
        }
        try db.execute(sql: """
            UPDATE \(table) SET last_seen_batch = (SELECT p.batch_id FROM temp.present_key p WHERE p.record_key = \(table).record_key)
            WHERE \(absent) AND record_key IN (SELECT record_key FROM temp.present_key)
            """, arguments: arguments)
        return db.changesCount
    }

    static func rows(_ n: Int) -> String { n == 1 ? "1 row" : "\(n) rows" }

    static func percent(_ share: Double) -> String {
        let p = share * 100
        return p == p.rounded() ? "\(Int(p)) %" : String(format: "%.1f %%", p)
    }
}
