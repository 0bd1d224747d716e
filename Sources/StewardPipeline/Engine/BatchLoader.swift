import Foundation
import GRDB
import StewardCatalog

struct BatchResult {
    var batchId: Int64
    var rowsRead = 0
    var rowsLoaded = 0
    var rowsQuarantined = 0
    /// Rows skipped because `steward forget` erased them (read, not loaded).
    var rowsErased = 0
    var errorFailures = 0
}

/// Loads one file of a source as one batch, in one transaction: raw rows, checks, staging, quarantine,
/// check results, summaries and the step's counters all commit together or not at all.
struct BatchLoader {
    let loader: SourceLoader
    let file: URL
    let relativePath: String
    let digest: FileDigest
    let size: Int64
    let stepId: Int64

    var source: SourceConfig { loader.source }

    func load() throws -> BatchResult {
        let opened = try openStream()
        try validateColumns(opened)
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
            var loaded: BatchResult?
            try db.inTransaction(.immediate) {
                loaded = try loadBatch(db, stream: stream, mtime: mtime, runId: runId, now: now)
                return .commit
            }
            return loaded!
        }
        if let minimum = loader.rollbackJournalMinimumBytes, size >= minimum {
            return try loader.catalog.withRollbackJournal { db, _ in try load(db) }
        }
        return try loader.catalog.pool.writeWithoutTransaction(load)
    }

    private func loadBatch(_ db: Database, stream: ReadAheadStream, mtime: Date?, runId: Int64,
                           now: @Sendable () -> Date) throws -> BatchResult {
        let at = Timestamp.string(now())
        try db.execute(sql: """
            INSERT INTO batch (source, run_id, file, sha256, size, file_modified_at, rows, rows_loaded, rows_quarantined, loaded_at, columns_json)
            VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, ?, ?)
            """, arguments: [source.name, runId, relativePath, digest.known ?? "", size, mtime.map(Timestamp.string), at,
                             stream.header.isEmpty ? nil : encodeStrings(stream.header)])
        let batchId = db.lastInsertedRowID
        // A new version of a file replaces the old one: its still-open quarantine rows are superseded
        // (rows still bad in this version are quarantined again below).
        try db.execute(sql: """
            UPDATE quarantine SET released_run = ?, released_at = ?, release_reason = ?
            WHERE source = ? AND file = ? AND released_run IS NULL
            """, arguments: [runId, at, "superseded by batch \(batchId)", source.name, relativePath])
        var state = try BatchState(db: db, loader: loader, stream: stream, batchId: batchId, file: relativePath, fileModifiedAt: mtime)
        var result = BatchResult(batchId: batchId)
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
                case .quarantine(_, _, _, _, _, let errorFailure):
                    result.rowsQuarantined += 1
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
        let rawRows = result.rowsRead - result.rowsErased
        if state.nextRawId > state.firstRawId {
            firstRaw = state.firstRawId
            lastRaw = state.nextRawId - 1
        }
        state.evaluateDatasetChecks(rows: result.rowsRead)
        try state.writeCheckResults(at: at, sourceRows: result.rowsRead)
        try db.execute(sql: """
            UPDATE batch SET rows = ?, rows_loaded = ?, rows_quarantined = ?, first_raw_id = ?, last_raw_id = ?, sha256 = ? WHERE id = ?
            """, arguments: [result.rowsRead, result.rowsLoaded, result.rowsQuarantined, firstRaw, lastRaw,
                             try digest.value(), batchId])
        try db.execute(sql: """
            UPDATE run_step SET batches = batches + 1, rows_read = rows_read + ?, rows_loaded = rows_loaded + ?,
                rows_quarantined = rows_quarantined + ? WHERE id = ?
            """, arguments: [result.rowsRead, result.rowsLoaded, result.rowsQuarantined, stepId])
        try refreshStats(db, batchId: batchId, rowsRead: rawRows, at: at)
        return result
    }

    private func openStream() throws -> RecordStream {
        switch source.format {
        case .csv: return try CSVStream(path: file.path, delimiter: source.delimiter)
        case .ndjson: return try NDJSONStream(path: file.path)
        case .sqlite: return try SQLiteStream(path: file.path, table: source.table ?? "")
        }
    }

    /// A header without a mapped or checked column fails the step (the file, not the run).
    private func validateColumns(_ stream: RecordStream) throws {
        guard !stream.header.isEmpty else { return }
        let missing = source.referencedColumns.map(\.column).filter { stream.header.firstIndex(of: $0) == nil }
        if !missing.isEmpty {
            var seen = Set<String>()
            let unique = missing.filter { seen.insert($0).inserted }
            throw ConnectorError.badHeader(relativePath, "missing column\(unique.count > 1 ? "s" : "") \(unique.map { "'\($0)'" }.joined(separator: ", ")); found \(stream.header.joined(separator: ", "))")
        }
    }

    private func refreshStats(_ db: Database, batchId: Int64, rowsRead: Int, at: String) throws {
        let table = source.entity == .person ? "staged_person" : "staged_activity"
        // One pass over the source's staged rows for both counts (each is a scan of the whole source).
        let counts = try Row.fetchOne(db, sql: "SELECT COUNT(*), COUNT(flags) FROM \(table) WHERE source = ? AND is_deleted = 0",
                                      arguments: [source.name])
        try db.execute(sql: """
            UPDATE source_stats SET
                rows_raw = rows_raw + ?, rows_staged = ?, rows_flagged = ?,
                rows_quarantined = (SELECT COUNT(*) FROM quarantine WHERE source = ? AND released_run IS NULL),
                last_loaded_at = ?, last_batch_id = ?,
                quality_weight = (SELECT rows_read FROM run_step WHERE id = ?)
            WHERE source = ?
            """, arguments: [rowsRead, counts?[0] as Int? ?? 0, counts?[1] as Int? ?? 0, source.name, at, batchId, stepId, source.name])
        let weight = try Int.fetchOne(db, sql: "SELECT quality_weight FROM source_stats WHERE source = ?", arguments: [source.name]) ?? 0
        let quality = QualityScoring.sourceQuality(
            source: source.name, checks: try Catalog.latestChecks(db, source: source.name), weight: weight)
        try db.execute(sql: "UPDATE source_stats SET quality_score = ? WHERE source = ?", arguments: [quality.score, source.name])
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
    private let capacity = 8

    /// Blocks while full; returns the chunk to fill next, nil when the writer has gone away. The next
    /// chunk is one the writer has handed back, emptied here, on the reader thread, keeping its
    /// buffers: a fresh chunk per 512 rows cost page faults and zeroing (BENCHMARKS.md), and
    /// emptying it here keeps the release of its strings off the writer (the busier thread).
    func put(_ chunk: PreparedChunk) -> PreparedChunk? {
        condition.lock()
        while chunks.count >= capacity && !cancelled { condition.wait() }
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
            condition.broadcast()
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
            try stream.forEachRow { row in
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
