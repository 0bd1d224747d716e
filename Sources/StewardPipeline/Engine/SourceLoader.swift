import Foundation
import GRDB
import StewardCatalog

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
        // Whether a full snapshot can have deletions to mark: not when the source had no live staged
        // record before this step (a first load), which spares a scan of everything just loaded.
        let table = source.entity == .person ? "staged_person" : "staged_activity"
        let hadLiveRecords = source.snapshot != .full || ((try? catalog.pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(table) WHERE source = ? AND is_deleted = 0)",
                              arguments: [source.name])
        }) ?? true) != false
        let files: [URL]
        if source.format == .sqlite || !Glob.isPattern(source.path) {
            let path = source.path.hasPrefix("/") ? source.path : config.directory.appendingPathComponent(source.path).path
            files = [URL(fileURLWithPath: path)]
        } else {
            files = Glob.files(source.path, relativeTo: config.directory)
            if files.isEmpty { problems.append("no file matches '\(source.path)' in \(config.directory.path)") }
        }
        var loadedAny = false
        var stoppedBefore: String?
        var allFilesRead = !files.isEmpty
        var currentBatches: [Int64] = []
        for file in files {
            if stop?.isStopped == true { stoppedBefore = relative(file); allFilesRead = false; break }
            do {
                guard FileManager.default.isReadableFile(atPath: file.path) else {
                    throw FileManager.default.fileExists(atPath: file.path)
                        ? ConnectorError.unreadable(relative(file), "permission denied")
                        : ConnectorError.unreadable(relative(file), "no such file")
                }
                let rel = relative(file)
                let digest: FileDigest
                // Only a file of a size loaded before can be unchanged: hash it first to skip it if so. Any
                // other file is new or changed for sure, so it is hashed on its own thread while it loads.
                let size = try FileDigest.size(of: file.path)
                if try catalog.pool.read({ db in
                    try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM batch WHERE source = ? AND file = ? AND size = ?)",
                                      arguments: [source.name, rel, size]) ?? false
                }) {
                    let (sha256, _) = try SHA256.file(file.path)
                    if let existing = try catalog.pool.read({ db in
                        try Int64.fetchOne(db, sql: "SELECT id FROM batch WHERE source = ? AND file = ? AND sha256 = ?",
                                           arguments: [source.name, rel, sha256])
                    }) {
                        currentBatches.append(existing)
                        continue
                    }
                    digest = .known(sha256)
                } else {
                    digest = .pending(PendingDigest(path: file.path))
                }
                let batch = BatchLoader(loader: self, file: file, relativePath: rel, digest: digest, size: size, stepId: stepId)
                let result = try batch.load()
                currentBatches.append(result.batchId)
                loadedAny = true
                summary.batches += 1
                summary.rowsRead += result.rowsRead
                summary.rowsLoaded += result.rowsLoaded
                summary.rowsQuarantined += result.rowsQuarantined
                errorFailures += result.errorFailures
                progress.report(.batchCommitted(source: source.name, file: rel, rows: result.rowsRead))
            } catch {
                allFilesRead = false
                problems.append(Self.describe(error, file: relative(file)))
            }
        }
        // A full snapshot's records that no current file holds any more are marked deleted, never dropped;
        // only when every file was read, so an unreadable file never looks like mass deletion.
        if source.snapshot == .full && allFilesRead && !currentBatches.isEmpty && hadLiveRecords {
            do { try markDeletions(currentBatches: currentBatches) } catch { problems.append("marking deletions: \(error)") }
        }
        summary.status = !problems.isEmpty ? "failed" : stoppedBefore != nil ? "interrupted" : (loadedAny ? "success" : "unchanged")
        if let file = stoppedBefore { problems.append("stopped by the user before \(file); it loads on the next run") }
        summary.message = problems.isEmpty ? (loadedAny ? nil : "no new or changed files") : problems.joined(separator: "; ")
        let elapsed = Date().timeIntervalSince(started) * 1000
        try? catalog.pool.write { db in
            try db.execute(sql: """
                UPDATE run_step SET status = ?, finished_at = ?, duration_ms = ?, message = ? WHERE id = ?
                """, arguments: [summary.status, Timestamp.string(now()), elapsed, summary.message, stepId])
            if summary.status == "failed" {
                try Catalog.audit(db, action: "step_failed", subject: "source:\(source.name)", detail: summary.message ?? "")
            }
        }
        progress.report(.stepFinished(source: source.name, status: summary.status, message: summary.message))
        return (summary, errorFailures)
    }

    func relative(_ file: URL) -> String {
        let dir = config.directory.standardizedFileURL.path + "/"
        let path = file.standardizedFileURL.path
        return path.hasPrefix(dir) ? String(path.dropFirst(dir.count)) : path
    }

    static func describe(_ error: Error, file: String) -> String {
        if let e = error as? ConnectorError { return e.description }
        if let e = error as? DatabaseError { return "\(file): database error: \(e.message ?? "\(e)")" }
        return "\(file): \(error)"
    }

    private func markDeletions(currentBatches: [Int64]) throws {
        let table = source.entity == .person ? "staged_person" : "staged_activity"
        try catalog.pool.write { db in
            let placeholders = currentBatches.map { _ in "?" }.joined(separator: ",")
            try db.execute(sql: """
                UPDATE \(table) SET is_deleted = 1, updated_run = ?
                WHERE source = ? AND is_deleted = 0 AND last_seen_batch NOT IN (\(placeholders))
                """, arguments: StatementArguments([runId, source.name] as [DatabaseValueConvertible]) + StatementArguments(currentBatches))
            let deleted = db.changesCount
            if deleted > 0 {
                try db.execute(sql: """
                    UPDATE source_stats SET rows_staged = (SELECT COUNT(*) FROM \(table) WHERE source = ? AND is_deleted = 0)
                    WHERE source = ?
                    """, arguments: [source.name, source.name])
                try Catalog.audit(db, action: "mark_deleted", subject: "source:\(source.name)",
                                  detail: "\(deleted) records absent from the full snapshot")
            }
        }
    }
}
