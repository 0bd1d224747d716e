import Foundation
import GRDB
import StewardCatalog
import StewardConfig

/// Events pushed to an `http` source (`POST /v1/events/NAME` of `steward serve`): each request is one
/// batch of its own run, loaded by the same row path as a file's rows (`BatchLoader`/`BatchState`:
/// the same checks, standardisers, sealing, staging and quarantine), all in one transaction that is
/// committed before the caller acknowledges. An event staged before with the same key and content is
/// not written again (idempotent re-sends); the same key with other content is a new version.
///
/// ```swift
/// let events = try PushedEvents.parse(body)                      // 400 on bad JSON, naming the line
/// let receipt = try EventIntake(config: config, catalog: catalog)
///     .load(source: "web_orders", events: events, requestId: "r1", actor: "token:shop")
/// ```
public struct EventIntake: Sendable {
    public let config: ProjectConfig
    public let catalog: Catalog
    public let now: @Sendable () -> Date

    public init(config: ProjectConfig, catalog: Catalog, now: @escaping @Sendable () -> Date = { Date() }) {
        self.config = config
        self.catalog = catalog
        self.now = now
    }

    /// What a request's batch did. `accepted` counts events staged (new or changed) and events that
    /// were already staged unchanged (`unchanged`); `rejected` lists each quarantined event's line and
    /// reasons (check names and columns, never values).
    public struct Receipt: Sendable, Equatable {
        public var runId: Int64
        public var batchId: Int64
        public var accepted: Int
        public var unchanged: Int
        public var quarantined: Int
        public var rejected: [Rejection]
        /// Person records staged new or changed by this batch: the incremental matching pass's input.
        public var changedPersonKeys: [String]
    }

    public struct Rejection: Sendable, Equatable {
        public var line: Int
        public var reasons: [String]
    }

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case unknownSource(String)
        case notHTTP(source: String, format: String)

        public var description: String {
            switch self {
            case .unknownSource(let name): return "no source named '\(name)' in steward.yml"
            case .notHTTP(let name, let format):
                return "source '\(name)' is read from files (format: \(format)); only a source with `format: http` takes pushed events"
            }
        }
    }

    /// The source events may be pushed to, or why not.
    /// Brings the staged and flagged counts of these sources up to date (`load` leaves them to this;
    /// a server calls it within a second of a push, at start and at shutdown).
    ///
    /// The scan runs on a reader's snapshot, not in the write transaction: at half a million pushed
    /// events it took the single writer long enough to hold every push queued behind it (BENCHMARKS.md,
    /// issue 19). Counts a moment old are then stored; a push committed after the snapshot schedules
    /// its own refresh, which runs after this one and counts it.
    public func refreshCounts(sources names: Set<String>) throws {
        let sources = config.sources.filter { names.contains($0.name) }
        guard !sources.isEmpty else { return }
        let counts = try catalog.pool.read { db in try sources.map { try BatchLoader.stagedCounts(db, source: $0) } }
        try catalog.pool.write { db in
            for (source, c) in zip(sources, counts) { try BatchLoader.storeCounts(db, source: source, c) }
        }
    }

    public func httpSource(named name: String) throws -> SourceConfig {
        guard let source = config.source(named: name) else { throw Failure.unknownSource(name) }
        guard source.format == .http else { throw Failure.notHTTP(source: name, format: source.format.rawValue) }
        return source
    }

    /// Loads one request's events as one batch of a run of its own (trigger `http`), committed in one
    /// transaction: a crash before the commit leaves nothing of it, after it everything.
    /// - parameter requestId: names the batch (with the actor) for lineage: `http:REQUEST (ACTOR)`.
    public func load(source name: String, events: PushedEvents, requestId: String, actor: String) throws -> Receipt {
        try load([Push(source: name, events: events, requestId: requestId, actor: actor)])[0].get()
    }

    /// One request's events, for `load(_:)`.
    public struct Push: Sendable {
        public var source: String
        public var events: PushedEvents
        public var requestId: String
        public var actor: String

        public init(source: String, events: PushedEvents, requestId: String, actor: String) {
            self.source = source
            self.events = events
            self.requestId = requestId
            self.actor = actor
        }
    }

    /// Loads several requests in one transaction (a group commit), each as its own run and batch exactly
    /// as `load(source:…)` does, each in a savepoint: one that fails leaves nothing and the others
    /// stand. Nothing is returned before the commit, so a caller acknowledges only what is committed;
    /// if the commit itself fails, every request fails. Results are in `pushes`' order.
    public func load(_ pushes: [Push]) -> [Result<Receipt, Error>] {
        var results: [Result<Receipt, Error>] = []
        do {
            try catalog.pool.writeWithoutTransaction { db in
                // As for a file's batch (BatchLoader.load): every row references the batch it inserts first.
                try db.execute(sql: "PRAGMA foreign_keys = OFF")
                defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
                try db.inTransaction(.immediate) {
                    results = []
                    for push in pushes {
                        var receipt: Receipt?
                        do {
                            try db.inSavepoint {
                                receipt = try loadOne(db, push)
                                return .commit
                            }
                            results.append(.success(receipt!))
                        } catch {
                            results.append(.failure(error))
                        }
                    }
                    return .commit
                }
            }
        } catch {
            return pushes.map { _ in .failure(error) }
        }
        return results
    }

    private func loadOne(_ db: Database, _ push: Push) throws -> Receipt {
        let source = try httpSource(named: push.source)
        let events = push.events, actor = push.actor
        let at = now()
        let file = "http:\(push.requestId) (\(actor))"
        let stream = PushedEventStream(events)
        let catalog = self.catalog, config = self.config, now = self.now
        try db.execute(sql: "INSERT INTO run (trigger, status, started_at, pid, actor) VALUES ('http', 'running', ?, ?, ?)",
                       arguments: [Timestamp.string(at), Int(getpid()), actor])
        let runId = db.lastInsertedRowID
        try db.execute(sql: "INSERT INTO run_step (run_id, source, status, started_at) VALUES (?, ?, 'running', ?)",
                       arguments: [runId, source.name, Timestamp.string(at)])
        let stepId = db.lastInsertedRowID
        let loader = SourceLoader(config: config, source: source, catalog: catalog, runId: runId, progress: SilentProgress(),
                                  stop: nil, now: now, rollbackJournalMinimumBytes: nil)
        var batch = BatchLoader(loader: loader, file: URL(fileURLWithPath: "/"), relativePath: file,
                                size: Int64(events.byteCount), stepId: stepId)
        // Counting the whole source per request made each batch slower than the last (1 M
        // customers: ~1,000 events/s after 200k pushed); the server calls `refreshCounts`.
        batch.countsLater = true
        // This batch's quarantine rows are those numbered after the last one before it.
        let quarantinedBefore = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM quarantine") ?? 0
        let reading = ReadAheadStream(stream)
        defer { reading.cancel() }
        let result = try batch.loadBatch(db, stream: reading, mtime: nil, runId: runId, now: now)
        let finished = Timestamp.string(now())
        let message = "\(file): \(events.count) event\(events.count == 1 ? "" : "s")"
            + (result.rowsRedelivered > 0 ? ", \(result.rowsRedelivered) already staged unchanged" : "")
        let ms = now().timeIntervalSince(at) * 1000
        try db.execute(sql: """
            UPDATE run_step SET status = 'success', finished_at = ?, duration_ms = ?, message = ?, mode = 'http' WHERE id = ?
            """, arguments: [finished, ms, message, stepId])
        try db.execute(sql: """
            UPDATE run SET status = 'success', finished_at = ?, rows_read = ?, rows_loaded = ?, rows_quarantined = ? WHERE id = ?
            """, arguments: [finished, result.rowsRead, result.rowsLoaded, result.rowsQuarantined, runId])
        let rejected = try Row.fetchAll(db, sql: "SELECT line, reasons_json FROM quarantine WHERE id > ? AND batch_id = ? ORDER BY line",
                                        arguments: [quarantinedBefore, result.batchId]).map { row in
            Rejection(line: row[0], reasons: (try? JSONDecoder().decode([String].self, from: Data((row[1] as String).utf8))) ?? [])
        }
        // Staged new or changed: the batch's raw rows (unchanged re-sends write none) that were not quarantined.
        var changed: [String] = []
        if source.entity == .person, let range = try Row.fetchOne(db, sql: """
            SELECT first_raw_id, last_raw_id FROM batch WHERE id = ? AND first_raw_id IS NOT NULL
            """, arguments: [result.batchId]) {
            let bad = Set(rejected.map(\.line))
            changed = try Row.fetchAll(db, sql: "SELECT record_key, line FROM raw_record WHERE id BETWEEN ? AND ? AND record_key IS NOT NULL",
                                       arguments: [range[0] as Int64, range[1] as Int64])
                .filter { !bad.contains($0[1] as Int) }.map { $0[0] as String }
        }
        return Receipt(runId: runId, batchId: result.batchId, accepted: result.rowsLoaded + result.rowsRedelivered,
                       unchanged: result.rowsRedelivered, quarantined: result.rowsQuarantined, rejected: rejected,
                       changedPersonKeys: changed)
    }
}

/// A request body's events, parsed and checked as JSON before anything is written: a JSON object
/// (one event), a JSON array of objects, or NDJSON (one object per line). Each event keeps its
/// position — the line of an NDJSON body, the element's number in an array — for lineage and for
/// the rejection list.
public struct PushedEvents: Sendable {
    public struct Event: Sendable {
        public var line: Int
        /// The event as canonical JSON (sorted keys): a re-sent event hashes the same however its
        /// keys were ordered or spaced, so it is recognised as unchanged.
        public var text: String
        var values: [String: String]
    }

    public var events: [Event]
    public var byteCount: Int
    public var count: Int { events.count }

    /// Why a body is refused as a whole (HTTP 400): the line is named, never its content.
    public struct Malformed: Error, CustomStringConvertible, Equatable {
        public var line: Int?
        public var message: String
        public var description: String { line.map { "line \($0): \(message)" } ?? message }
    }

    public static func parse(_ body: Data) throws -> PushedEvents {
        let bytes = [UInt8](body)
        guard let first = bytes.firstIndex(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D) }) else {
            throw Malformed(line: nil, message: "the body is empty; send a JSON object, an array of objects, or NDJSON")
        }
        // A JSON array, or one object (pretty-printed or not); otherwise one object per line.
        if let whole = try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) {
            if let object = whole as? [String: Any] {
                return PushedEvents(events: [try event(object, line: 1)], byteCount: bytes.count)
            }
            if let array = whole as? [Any] {
                if array.isEmpty { throw Malformed(line: nil, message: "the array holds no events") }
                var events: [Event] = []
                events.reserveCapacity(array.count)
                for (i, element) in array.enumerated() {
                    guard let object = element as? [String: Any] else {
                        throw Malformed(line: i + 1, message: "element \(i + 1) of the array is not a JSON object")
                    }
                    events.append(try event(object, line: i + 1))
                }
                return PushedEvents(events: events, byteCount: bytes.count)
            }
            throw Malformed(line: 1, message: "expected a JSON object, an array of objects, or NDJSON")
        }
        if bytes[first] == UInt8(ascii: "[") {
            throw Malformed(line: lineOfError(body), message: "the JSON array is not valid JSON")
        }
        var events: [Event] = []
        var line = 0
        for slice in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            line += 1
            var content = slice
            if content.last == 0x0D { content = content.dropLast() }
            if content.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            guard let value = try? JSONSerialization.jsonObject(with: Data(content)) else {
                throw Malformed(line: line, message: "not valid JSON (the body is read as NDJSON: one JSON object per line)")
            }
            guard let object = value as? [String: Any] else {
                throw Malformed(line: line, message: "not a JSON object (each NDJSON line must be one)")
            }
            events.append(try event(object, line: line))
        }
        return PushedEvents(events: events, byteCount: bytes.count)
    }

    static func event(_ object: [String: Any], line: Int) throws -> Event {
        var flat: [String: String] = [:]
        JSONText.flatten(object, prefix: "", into: &flat)
        if let text = flatText(object) { return Event(line: line, text: text, values: flat) }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            throw Malformed(line: line, message: "the object cannot be read as JSON")
        }
        return Event(line: line, text: String(decoding: data, as: UTF8.self), values: flat)
    }

    /// The canonical text JSONSerialization gives (sorted keys, no slashes escaped), written directly
    /// for the common event: keys of lowercase letters and underscores, values strings or null. Nil
    /// for any other object (numbers, booleans, nesting, other keys), which JSONSerialization writes.
    /// Its sorted writing was a quarter of a server's CPU under pushed events (issue 19); the bytes
    /// must not change, since a re-sent event is recognised by them. For such keys its order
    /// (numeric, case-insensitive) is the bytes' order.
    static func flatText(_ object: [String: Any]) -> String? {
        var keys: [String] = []
        keys.reserveCapacity(object.count)
        for (key, value) in object {
            guard !key.isEmpty, key.utf8.allSatisfy({ ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || $0 == UInt8(ascii: "_") }),
                  value is String || value is NSNull else { return nil }
            keys.append(key)
        }
        keys.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (i, key) in keys.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: key.utf8)
            out.append(contentsOf: "\":".utf8)
            if let text = object[key] as? String { JSONString.appendSerialized(text, to: &out) } else { out.append(contentsOf: "null".utf8) }
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// The line of a parse error, from Foundation's message ("… around line 3, column 7."), if it says.
    static func lineOfError(_ body: Data) -> Int? {
        do { _ = try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]); return nil } catch {
            let text = "\(error) \((error as NSError).userInfo)"
            guard let range = text.range(of: "line ") else { return nil }
            return Int(text[range.upperBound...].prefix { $0.isNumber })
        }
    }
}

/// The events of one request as the batch loader reads rows: keyed values, like an NDJSON file's.
final class PushedEventStream: RecordStream {
    let header: [String] = []
    let quotedKeys: [[UInt8]] = []
    private let events: PushedEvents
    private var position = 0
    private var hasher = SHA256()

    init(_ events: PushedEvents) { self.events = events }

    func column(_ name: String) -> ColumnRef { .key(name) }

    func next() throws -> SourceRow? {
        guard position < events.events.count else { return nil }
        let event = events.events[position]
        position += 1
        hasher.update(Array(event.text.utf8))
        hasher.update([0x0A])
        return SourceRow(keyed: event.values, line: event.line, text: event.text, problem: nil)
    }

    var content: ReadContent {
        ReadContent(sha256: hasher.finalize(), size: Int64(events.byteCount), nextLine: (events.events.last?.line ?? 0) + 1, cleanEnd: true)
    }
}
