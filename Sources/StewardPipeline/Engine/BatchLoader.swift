import Foundation
import GRDB
import StewardCatalog
import StewardConfig

struct BatchResult {
    var batchId: Int64
    var chainId: Int64
    var mode: String
    var rowsRead = 0
    var rowsLoaded = 0
    var rowsQuarantined = 0
    /// Rows skipped because `steward forget` erased them (read, not loaded).
    var rowsErased = 0
    /// Events or transactions delivered again unchanged: read, not loaded again.
    var rowsRedelivered = 0
    /// Rows the reader could not read as written (quarantined by the `readable` check).
    var rowsUnreadable = 0
    var errorFailures = 0
    /// Columns the file has that the source's previous version did not (recorded, not a failure).
    var addedColumns: [String] = []
}

/// A file that cannot be loaded as a whole: nothing of it is committed, the step fails with the reason.
enum BatchRefusal: Error, CustomStringConvertible {
    /// The header lacks columns the source maps or checks (schema drift). `headerRecognised`: the first
    /// row names at least one of them, so its other cells are column names too; otherwise it is likely
    /// a row of data (a file without its header row, or not a source file at all) and none of its
    /// cells may be quoted: only its field count is.
    case schema(file: String, missing: [String], added: [String], fields: Int, headerRecognised: Bool)
    /// Most rows could not be read: the wrong delimiter or format, or a broken file.
    case mostlyUnreadable(file: String, unreadable: Int, rows: Int, first: String)

    var description: String {
        switch self {
        case .schema(let file, let missing, let added, let fields, let headerRecognised):
            let quoted = { (names: [String]) in names.map { "'\($0)'" }.joined(separator: ", ") }
            guard headerRecognised else {
                return "\(file):1: schema: the first row does not name the mapped column\(missing.count == 1 ? "" : "s") "
                    + "\(missing.joined(separator: ", ")); it has \(fields) field\(fields == 1 ? "" : "s") (is the header row missing?)"
            }
            return "\(file):1: schema: missing column\(missing.count == 1 ? "" : "s") \(quoted(missing))"
                + (added.isEmpty ? "" : "; new column\(added.count == 1 ? "" : "s") \(quoted(added))")
                + " (steward.yml maps or checks the missing ones)"
        case .mostlyUnreadable(let file, let unreadable, let rows, let first):
            return "\(file): \(unreadable) of \(rows) rows unreadable (first: \(first)); the file was not loaded"
        }
    }
}

/// Loads one file of a source as one batch, in one transaction: raw rows, checks, staging, quarantine,
/// check results, summaries and the step's counters all commit together or not at all.
struct BatchLoader {
    let loader: SourceLoader
    let file: URL
    let relativePath: String
    /// The size of the file when the load began: reading stops there, so rows appended meanwhile
    /// wait for the next run and the batch records exactly what it read.
    let size: Int64
    let stepId: Int64
    /// Set for an appended version: read from there, extending the file's current version.
    var resume: (point: ResumePoint, chainId: Int64)?
    /// Leaves `rows_staged` and `rows_flagged` to `BatchLoader.refreshCounts` after the commit: each
    /// is a scan of the whole source, which a pushed batch of 100 events cannot afford on every
    /// request (`EventIntake`; the server recounts within a second).
    var countsLater = false

    var source: SourceConfig { loader.source }

    func load() throws -> BatchResult {
        let opened = try openStream()
        let added = try validateColumns(opened)
        let stream = ReadAheadStream(opened)
        defer { stream.cancel() }
        let mtime = (try? FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date) ?? nil
        let runId = loader.runId
        let now = loader.now
        let load = { (db: Database) throws -> BatchResult in
            // Foreign keys are checked row by row, and every row of this transaction references the
            // batch it inserts first: ≈ 30 % of the raw insert's cost for nothing (BENCHMARKS.md). Off for
            // this transaction only (the pragma is a no-op inside one); tests run `foreign_key_check`.
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
            // The staged upserts keep a statement journal (SQLite's DO UPDATE aborts on a constraint),
            // which spills to a temporary file past 64 KiB: in memory it is a copy, not a write per page
            // (BENCHMARKS.md, session 23). Only for the batch: big sorts elsewhere stay on disk.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            defer { try? db.execute(sql: "PRAGMA temp_store = DEFAULT") }
            var loaded: BatchResult?
            try db.inTransaction(.immediate) {
                loaded = try loadBatch(db, stream: stream, mtime: mtime, runId: runId, now: now)
                loaded?.addedColumns = added
                if let result = loaded, result.rowsUnreadable > 0, result.rowsUnreadable * 2 > result.rowsRead {
                    throw BatchRefusal.mostlyUnreadable(file: relativePath, unreadable: result.rowsUnreadable, rows: result.rowsRead,
                                                        first: try firstUnreadable(db, batchId: result.batchId))
                }
                return .commit
            }
            return loaded!
        }
        if let minimum = loader.rollbackJournalMinimumBytes, size >= minimum {
            return try loader.catalog.withRollbackJournal { db, _ in try load(db) }
        }
        return try loader.catalog.pool.writeWithoutTransaction(load)
    }

    /// The batch inside the caller's transaction (a file's `load`, or `EventIntake` for pushed events).
    func loadBatch(_ db: Database, stream: ReadAheadStream, mtime: Date?, runId: Int64,
                           now: @Sendable () -> Date) throws -> BatchResult {
        let at = Timestamp.string(now())
        let mode = resume == nil ? "full" : "append"
        try db.execute(sql: """
            INSERT INTO batch (source, run_id, file, sha256, size, file_modified_at, rows, rows_loaded, rows_quarantined, loaded_at,
                columns_json, mode, start_offset, chain_id)
            VALUES (?, ?, ?, '', ?, ?, 0, 0, 0, ?, ?, ?, ?, ?)
            """, arguments: [source.name, runId, relativePath, size, mtime.map(Timestamp.string), at,
                             stream.header.isEmpty ? nil : encodeStrings(stream.header), mode, resume?.point.offset ?? 0,
                             resume?.chainId])
        let batchId = db.lastInsertedRowID
        let chainId = resume?.chainId ?? batchId
        if resume == nil { try db.execute(sql: "UPDATE batch SET chain_id = id WHERE id = ?", arguments: [batchId]) }
        // A new version of a file replaces the old one: its still-open quarantine rows are superseded
        // (rows still bad in this version are quarantined again below). An appended version keeps them:
        // the rows before its offset were not read again.
        if resume == nil { try db.execute(sql: """
            UPDATE quarantine SET released_run = ?, released_at = ?, release_reason = ?
            WHERE source = ? AND file = ? AND released_run IS NULL
            """, arguments: [runId, at, "superseded by batch \(batchId)", source.name, relativePath]) }
        var state = try BatchState(db: db, loader: loader, stream: stream, batchId: batchId, file: relativePath, fileModifiedAt: mtime,
                                   appendingTo: resume?.chainId)
        var result = BatchResult(batchId: batchId, chainId: chainId, mode: mode)
        let started = Date()
        // Three threads: this one writes to SQLite while a reader thread checks and standardises
        // the next rows, which the stream's own thread parses ahead (BENCHMARKS.md).
        let queue = ChunkQueue()
        let reader = RowReader(stream: stream, state: state, queue: queue)
        let thread = Thread { reader.run() }
        thread.stackSize = 8 << 20
        thread.start()
        defer { queue.cancel(); stream.cancel(); reader.done.wait() }
        var firstRaw: Int64?, lastRaw: Int64?
        while let chunk = try queue.take() {
            try state.write(chunk)
            for prepared in chunk.rows {
                result.rowsRead += 1
                switch prepared {
                case .quarantine(_, _, _, let checks, _, let errorFailure):
                    result.rowsQuarantined += 1
                    if checks.first == "readable" { result.rowsUnreadable += 1 }
                    if errorFailure { result.errorFailures += 1 }
                case .erased: result.rowsErased += 1
                case .stage: result.rowsLoaded += 1
                }
            }
            let rowsBefore = result.rowsRead - chunk.rows.count
            // Consumed, so the reader finds the chunk's buffers uniquely referenced and reuses them.
            queue.recycle(consume chunk)
            if result.rowsRead / 20_000 != rowsBefore / 20_000 {
                let rate = Double(result.rowsRead) / max(Date().timeIntervalSince(started), 0.001)
                loader.progress.report(.rows(source: source.name, rows: result.rowsRead, rowsPerSecond: rate))
            }
        }
        result.rowsRedelivered = state.redelivered
        result.rowsLoaded -= state.redelivered
        let rawRows = result.rowsRead - result.rowsErased - result.rowsRedelivered
        let content = stream.content
        if state.nextRawId > state.firstRawId {
            firstRaw = state.firstRawId
            lastRaw = state.nextRawId - 1
        }
        let versionRows = state.prior.rows + result.rowsRead
        state.evaluateDatasetChecks(rows: versionRows)
        try state.writeCheckResults(at: at, sourceRows: versionRows)
        try db.execute(sql: """
            UPDATE batch SET rows = ?, rows_loaded = ?, rows_quarantined = ?, first_raw_id = ?, last_raw_id = ?, sha256 = ?,
                size = ?, end_line = ?, clean_end = ?, file_state = ? WHERE id = ?
            """, arguments: [result.rowsRead, result.rowsLoaded, result.rowsQuarantined, firstRaw, lastRaw,
                             content.sha256, content.size, content.nextLine, content.cleanEnd,
                             source.format == .sqlite ? SQLiteStream.fileState(file.path).text : nil, batchId])
        try db.execute(sql: """
            UPDATE run_step SET batches = batches + 1, rows_read = rows_read + ?, rows_loaded = rows_loaded + ?,
                rows_quarantined = rows_quarantined + ? WHERE id = ?
            """, arguments: [result.rowsRead, result.rowsLoaded, result.rowsQuarantined, stepId])
        try refreshStats(db, batchId: batchId, rowsRead: rawRows, priorRows: state.prior.rows, at: at,
                         firstLoadCounts: countsLater ? nil : try state.firstLoadCounts(db))
        return result
    }

    private func openStream() throws -> RecordStream {
        switch source.format {
        case .csv: return try CSVStream(path: file.path, delimiter: source.delimiter, resume: resume?.point, endOffset: size)
        case .ndjson: return try NDJSONStream(path: file.path, resume: resume?.point, endOffset: size)
        case .sqlite: return try SQLiteStream(path: file.path, table: source.table ?? "")
        case .http: throw ConnectorError.unreadable(relativePath, "an http source has no files; its events are pushed to steward serve")
        }
    }

    /// A header without a mapped or checked column fails the step (this source, not the run, nor any
    /// other command); columns the source's previous version did not have are returned, to be recorded.
    private func validateColumns(_ stream: RecordStream) throws -> [String] {
        guard !stream.header.isEmpty else { return [] }
        let previous: [String] = try loader.catalog.pool.read { db in
            try String.fetchOne(db, sql: """
                SELECT columns_json FROM batch WHERE source = ? AND columns_json IS NOT NULL ORDER BY id DESC LIMIT 1
                """, arguments: [source.name])
        }.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
        let added = previous.isEmpty ? [] : stream.header.filter { !previous.contains($0) }
        var seen = Set<String>()
        let missing = source.referencedColumns.map(\.column).filter { stream.header.firstIndex(of: $0) == nil && seen.insert($0).inserted }
        if !missing.isEmpty {
            throw BatchRefusal.schema(file: relativePath, missing: missing, added: added, fields: stream.header.count,
                                      headerRecognised: missing.count < Set(source.referencedColumns.map(\.column)).count)
        }
        return added
    }

    /// The first unreadable row of a batch, by line and reason (no values: a reason names columns only).
    private func firstUnreadable(_ db: Database, batchId: Int64) throws -> String {
        let row = try Row.fetchOne(db, sql: """
            SELECT line, reasons_json FROM quarantine WHERE batch_id = ? AND checks_json LIKE '["readable"%' ORDER BY line LIMIT 1
            """, arguments: [batchId])
        guard let row else { return "none" }
        let reasons = (try? JSONDecoder().decode([String].self, from: Data((row["reasons_json"] as String? ?? "[]").utf8))) ?? []
        return reasons.first.map { $0.replacingOccurrences(of: "readable (error): ", with: "") } ?? "line \(row["line"] as Int)"
    }

    private func refreshStats(_ db: Database, batchId: Int64, rowsRead: Int, priorRows: Int, at: String,
                              firstLoadCounts: (staged: Int, flagged: Int)?) throws {
        if let firstLoadCounts {
            try Self.storeCounts(db, source: source, firstLoadCounts)
        } else if !countsLater {
            try Self.refreshCounts(db, source: source)
        }
        try db.execute(sql: """
            UPDATE source_stats SET
                rows_raw = rows_raw + ?,
                rows_quarantined = (SELECT COUNT(*) FROM quarantine WHERE source = ? AND released_run IS NULL),
                last_loaded_at = ?, last_batch_id = ?,
                quality_weight = (SELECT rows_read FROM run_step WHERE id = ?) + ?
            WHERE source = ?
            """, arguments: [rowsRead, source.name, at, batchId, stepId, priorRows, source.name])
        let weight = try Int.fetchOne(db, sql: "SELECT quality_weight FROM source_stats WHERE source = ?", arguments: [source.name]) ?? 0
        let quality = QualityScoring.sourceQuality(
            source: source.name, checks: try Catalog.latestChecks(db, source: source.name), weight: weight)
        try db.execute(sql: "UPDATE source_stats SET quality_score = ? WHERE source = ?", arguments: [quality.score, source.name])
    }
}

extension BatchLoader {
    /// The source's live and flagged staged rows into `source_stats`: one pass over its staged rows
    /// for both counts (a scan of the whole source).
    static func refreshCounts(_ db: Database, source: SourceConfig) throws {
        try storeCounts(db, source: source, try stagedCounts(db, source: source))
    }

    /// The source's live and flagged staged rows (the scan `refreshCounts` stores).
    static func stagedCounts(_ db: Database, source: SourceConfig) throws -> (staged: Int, flagged: Int) {
        let table = source.entity == .person ? "staged_person" : "staged_activity"
        let counts = try Row.fetchOne(db, sql: "SELECT COUNT(*), COUNT(flags) FROM \(table) WHERE source = ? AND is_deleted = 0",
                                      arguments: [source.name])
        return (counts?[0] as Int? ?? 0, counts?[1] as Int? ?? 0)
    }

    static func storeCounts(_ db: Database, source: SourceConfig, _ counts: (staged: Int, flagged: Int)) throws {
        try db.execute(sql: "UPDATE source_stats SET rows_staged = ?, rows_flagged = ? WHERE source = ?",
                       arguments: [counts.staged, counts.flagged, source.name])
    }
}

/// Hands chunks of prepared rows from the reader thread to the writer, with back-pressure so
/// memory stays bounded whatever the file size.
final class ChunkQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var chunks: [PreparedChunk] = []
    private var finished = false
    private var cancelled = false
    private var failure: Error?
    private var spent: [PreparedChunk] = []
    /// Chunks of 512 rows: a deep queue lets the writer work through the reader's pauses (with three
    /// threads on two cores one of them is always waiting for a core): 64 against 16 took the median
    /// 1 M-row load from 3.35 s to 3.09 s, for 24 MB more at the peak (BENCHMARKS.md, session 23).
    private let capacity = 64

    /// Blocks while full; returns the chunk to fill next, nil when the writer has gone away. The next
    /// chunk is one the writer has handed back, emptied here, on the reader thread, keeping its
    /// buffers: a fresh chunk per 512 rows cost page faults and zeroing (BENCHMARKS.md), and
    /// emptying it here keeps the release of its strings off the writer (the busier thread).
    func put(_ chunk: PreparedChunk) -> PreparedChunk? {
        condition.lock()
        // Once full, waits until half are written, then fills them in one go (as `ReadAheadStream.put`).
        if chunks.count >= capacity {
            while chunks.count > capacity / 2 && !cancelled { condition.wait() }
        }
        if cancelled { condition.unlock(); return nil }
        chunks.append(chunk)
        let written = spent.popLast()
        condition.broadcast()
        condition.unlock()
        guard var next = written else { return PreparedChunk() }
        next.removeAll()
        return next
    }

    /// The writer hands back chunks it has written, for the reader to refill.
    func recycle(_ chunk: PreparedChunk) {
        condition.lock(); spent.append(chunk); condition.unlock()
    }

    func finish(error: Error? = nil) {
        condition.lock(); finished = true; failure = error; condition.broadcast(); condition.unlock()
    }

    func cancel() {
        condition.lock(); cancelled = true; condition.broadcast(); condition.unlock()
    }

    var isCancelled: Bool { condition.lock(); defer { condition.unlock() }; return cancelled }

    /// The next chunk, nil at the end; rethrows the reader's error.
    func take() throws -> PreparedChunk? {
        condition.lock(); defer { condition.unlock() }
        while chunks.isEmpty && !finished { condition.wait() }
        if !chunks.isEmpty {
            let chunk = chunks.removeFirst()
            if chunks.count <= capacity / 2 { condition.broadcast() }
            return chunk
        }
        if let failure { throw failure }
        return nil
    }
}

/// The reader side: streams rows, checks and standardises them, and queues them in chunks.
final class RowReader: @unchecked Sendable {
    let stream: ReadAheadStream
    let state: BatchState
    let queue: ChunkQueue
    let done = DispatchSemaphore(value: 0)

    init(stream: ReadAheadStream, state: BatchState, queue: ChunkQueue) {
        self.stream = stream; self.state = state; self.queue = queue
    }

    func run() {
        defer { done.signal() }
        var chunk = PreparedChunk()
        var scratch = RowScratch()
        do {
            var writerGone = false
            try stream.forEachRow(nextBlock: { state.prefetch($0) }) { row in
                state.prepare(row.pointee, into: &chunk, scratch: &scratch)
                if chunk.rows.count == PreparedChunk.rowsPerChunk {
                    guard let next = queue.put(chunk) else { writerGone = true; return false }
                    chunk = next
                }
                return true
            }
            if writerGone { return }
            if !chunk.rows.isEmpty { guard queue.put(chunk) != nil else { return } }
            queue.finish()
        } catch {
            queue.finish(error: error)
        }
    }
}
