import Foundation
import GRDB
import StewardCatalog
#if canImport(Glibc)
import Glibc
#endif

/// A row as read from a source file, before any check or mapping.
struct SourceRow {
    var line: Int
    var values: RowValues
    /// The row for the raw layer: a JSON array of the values when they match the header (the batch
    /// keeps the column names), else a JSON object (an NDJSON line as written, a ragged CSV row).
    var rawText: String
    var rawIsArray: Bool
    /// FNV-1a of the row's JSON object text: staging's change-detection hash, whatever `rawText` holds.
    var objectHash: UInt64
    /// Set when the row cannot be used at all (ragged CSV row, invalid JSON): it goes to quarantine.
    var problem: String?
}

extension SourceRow {
    /// A row of a file with a header: an array when the values match the header, else an object.
    init(positional fields: [String], line: Int, quotedKeys: [[UInt8]], problem: String?) {
        if problem == nil && fields.count == quotedKeys.count {
            let (text, hash) = JSONText.array(quotedKeys: quotedKeys, values: fields)
            self.init(line: line, values: .positional(fields), rawText: text, rawIsArray: true, objectHash: hash, problem: nil)
        } else {
            let text = JSONText.object(quotedKeys: quotedKeys, values: fields)
            self.init(line: line, values: .positional(fields), rawText: text, rawIsArray: false,
                      objectHash: FNV.value(text), problem: problem)
        }
    }

    /// A row with its raw text as written (an NDJSON line).
    init(keyed values: [String: String], line: Int, text: String, problem: String?) {
        self.init(line: line, values: .keyed(values), rawText: text, rawIsArray: false, objectHash: FNV.value(text), problem: problem)
    }

    /// The row as a JSON object: quarantine shows it so (CONTRACTS.md), and older tombstones hash it.
    func objectText(quotedKeys: [[UInt8]]) -> String {
        guard rawIsArray, case .positional(let fields) = values else { return rawText }
        return JSONText.object(quotedKeys: quotedKeys, values: fields)
    }
}

enum RowValues {
    case positional([String])
    case keyed([String: String])
}

/// Where a column's value sits in a `SourceRow`, resolved once per file.
enum ColumnRef {
    case index(Int)
    case key(String)
    case absent

    @inline(__always)
    func value(in row: borrowing SourceRow) -> String? {
        // One switch at a time, not over a tuple of both: the tuple copies the row's values.
        switch self {
        case .index(let i):
            guard case .positional(let fields) = row.values, i < fields.count else { return nil }
            return Self.trimmed(fields[i])
        case .key(let k):
            guard case .keyed(let dict) = row.values, let raw = dict[k] else { return nil }
            return Self.trimmed(raw)
        case .absent:
            return nil
        }
    }

    /// Trims ASCII whitespace (and NBSP) without Foundation: this runs for every checked cell.
    @inline(__always)
    static func trimmed(_ s: String) -> String? {
        // The bytes in place (`utf8.last` walks a generic index path: 1.5 % of a load, BENCHMARKS.md).
        var s = s
        let ends = s.withUTF8 { $0.isEmpty ? nil : ($0[0], $0[$0.count - 1]) }
        guard let (first, last) = ends else { return nil }
        if !isSpace(first), !isSpace(last), last != 0xA0 { return s }
        let trimmed = s.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    @inline(__always)
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0xC2 }
}

/// Streams `SourceRow`s from one file of a source, whatever its format.
protocol RecordStream: AnyObject {
    /// Column names known up front (CSV header, SQLite table); empty for NDJSON.
    var header: [String] { get }
    /// The header as JSON object keys (`"name":`), for rows whose raw text is an array.
    var quotedKeys: [[UInt8]] { get }
    func column(_ name: String) -> ColumnRef
    func next() throws -> SourceRow?
    /// What was read, once `next()` has returned nil: the hash and extent of exactly that content.
    var content: ReadContent { get }
}

/// The content a stream read: a batch records it, so its hash and size are of what was loaded.
struct ReadContent: Sendable {
    /// SHA-256 of the file's bytes from offset 0 to `size` (an SQLite source: of the rows read).
    var sha256: String
    var size: Int64
    /// The line an appended version would start on, and whether the content ends with a line break
    /// (only then can a later version be read as an append).
    var nextLine: Int
    var cleanEnd: Bool
}

/// Where an appended version starts reading: after the bytes of the file's current version.
struct ResumePoint {
    var offset: Int64
    var line: Int
    /// The hash of the bytes before `offset`, continued over the appended ones.
    var digest: SHA256
}

final class CSVStream: RecordStream {
    let reader: CSVReader
    let header: [String]
    private let index: [String: Int]
    let quotedKeys: [[UInt8]]

    /// - parameter resume: read only what was appended after the file's current version.
    /// - parameter endOffset: stop here (the size the file had when the load began).
    init(path: String, delimiter: UInt8, resume: ResumePoint? = nil, endOffset: Int64? = nil) throws {
        let headerReader = try CSVReader(path: path, delimiter: delimiter, endOffset: endOffset)
        guard let first = try headerReader.next() else { throw ConnectorError.badHeader(path, "the file is empty") }
        if let problem = first.problem { throw ConnectorError.badHeader(path, problem) }
        let names = first.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        if let blank = names.firstIndex(of: "") {
            throw ConnectorError.badHeader(path, "column \(blank + 1) has no name")
        }
        var index: [String: Int] = [:]
        for (i, name) in names.enumerated() {
            // By position, not by name: the first row of a file without its header is data.
            if let first = index[name] { throw ConnectorError.badHeader(path, "columns \(first + 1) and \(i + 1) have the same name") }
            index[name] = i
        }
        if let resume {
            reader = try CSVReader(path: path, delimiter: delimiter, startOffset: resume.offset, endOffset: endOffset,
                                   startLine: resume.line, digest: resume.digest)
        } else {
            reader = headerReader
        }
        reader.expectedFieldCount = names.count
        header = names
        self.index = index
        quotedKeys = JSONText.quotedKeys(names)
    }

    func column(_ name: String) -> ColumnRef { index[name].map(ColumnRef.index) ?? .absent }

    func next() throws -> SourceRow? {
        guard let record = try reader.next() else { return nil }
        var problem = record.problem
        if problem == nil && record.fields.count != header.count {
            problem = "expected \(header.count) fields, found \(record.fields.count)"
        }
        if let p = problem, p.hasPrefix("field "), let n = Int(p.dropFirst(6).prefix { $0.isNumber }), n >= 1, n <= header.count {
            // The reader numbers fields; people know them by their column.
            problem = "column '\(header[n - 1])'" + p.dropFirst(6 + String(n).count)
        }
        return SourceRow(positional: record.fields, line: record.line, quotedKeys: quotedKeys, problem: problem)
    }

    var content: ReadContent {
        ReadContent(sha256: reader.digest, size: reader.bytesEnd, nextLine: reader.nextLine,
                    // A line feed, outside any quote: a content cut between CR and LF, or inside an open quote,
                    // is read whole next time rather than appended to.
                    cleanEnd: reader.lastByte == 0x0A && !reader.endedInsideQuote)
    }
}

final class NDJSONStream: RecordStream {
    let header: [String] = []
    let quotedKeys: [[UInt8]] = []
    private let lines: LineReader

    init(path: String, resume: ResumePoint? = nil, endOffset: Int64? = nil) throws {
        lines = try LineReader(path: path, resume: resume, endOffset: endOffset)
    }

    func column(_ name: String) -> ColumnRef { .key(name) }

    func next() throws -> SourceRow? {
        while let (bytes, line) = try lines.next() {
            let text = String(decoding: bytes, as: UTF8.self)
            if text.allSatisfy({ $0.isWhitespace }) { continue }
            if let damage = bytes.withUnsafeBufferPointer({ CSVReader.damage($0, decoded: text) }) {
                return SourceRow(keyed: [:], line: line, text: text, problem: "the line \(damage)")
            }
            guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)), let dict = object as? [String: Any] else {
                return SourceRow(keyed: [:], line: line, text: text, problem: "invalid JSON object")
            }
            var flat: [String: String] = [:]
            JSONText.flatten(dict, prefix: "", into: &flat)
            return SourceRow(keyed: flat, line: line, text: text, problem: nil)
        }
        return nil
    }

    var content: ReadContent {
        ReadContent(sha256: lines.digest, size: lines.bytesEnd, nextLine: lines.nextLine, cleanEnd: lines.lastByte == 0x0A)
    }
}

/// A table of an SQLite file, read inside one read transaction: every page of rows comes from the same
/// snapshot, whatever a writer commits meanwhile (its WAL included), and the batch's hash is of the
/// rows actually read.
final class SQLiteStream: RecordStream {
    let header: [String]
    let quotedKeys: [[UInt8]]
    private let queue: DatabaseQueue
    private var rows: [[String?]] = []
    private var position = 0
    private var offset = 0
    private let table: String
    private let pageSize = 10_000
    private var hasher = SHA256()
    private var done = false
    private let path: String

    init(path: String, table: String) throws {
        self.path = path
        var config = Configuration()
        config.readonly = true
        // One read transaction across calls (GRDB refuses that unless asked): the snapshot of the whole read.
        config.allowsUnsafeTransactions = true
        do {
            queue = try DatabaseQueue(path: path, configuration: config)
            // The transaction stays open across pages (one connection): its first read fixes the snapshot.
            header = try queue.inDatabase { db in
                try db.beginTransaction(.deferred)
                return try db.columns(in: table).map(\.name)
            }
            guard !header.isEmpty else { throw ConnectorError.sqlite(path, "table '\(table)' not found") }
            quotedKeys = JSONText.quotedKeys(header)
        } catch let error as DatabaseError {
            throw ConnectorError.sqlite(path, error.message ?? "\(error)")
        }
        self.table = table
    }

    deinit { finish() }

    func column(_ name: String) -> ColumnRef { header.firstIndex(of: name).map(ColumnRef.index) ?? .absent }

    func next() throws -> SourceRow? {
        if position >= rows.count {
            if done { return nil }
            do {
                rows = try queue.inDatabase { db in
                    try Row.fetchAll(db, sql: "SELECT * FROM \(table.quotedDatabaseIdentifier) LIMIT ? OFFSET ?",
                                     arguments: [pageSize, offset]).map { row in
                        row.databaseValues.map { value -> String? in
                            switch value.storage {
                            case .null: return nil
                            case .int64(let i): return String(i)
                            case .double(let d): return String(d)
                            case .string(let s): return s
                            case .blob(let b): return b.base64EncodedString()
                            }
                        }
                    }
                }
            } catch let error as DatabaseError {
                throw ConnectorError.sqlite(path, error.message ?? "\(error)")
            }
            offset += rows.count
            position = 0
            if rows.isEmpty { finish(); return nil }
        }
        let values = rows[position]
        position += 1
        let row = SourceRow(positional: values.map { $0 ?? "" }, line: offset - rows.count + position, quotedKeys: quotedKeys, problem: nil)
        hasher.update(Array(row.rawText.utf8))
        hasher.update([0x0A])
        return row
    }

    private func finish() {
        guard !done else { return }
        done = true
        try? queue.inDatabase { db in if db.isInsideTransaction { try db.commit() } }
    }

    var content: ReadContent {
        ReadContent(sha256: hasher.finalize(), size: Self.fileState(path).bytes, nextLine: offset + 1, cleanEnd: false)
    }

    /// The state of the database's files, main and WAL: a commit a writer still holds in the WAL
    /// changes it although the main file has not changed.
    static func fileState(_ path: String) -> (text: String, bytes: Int64) {
        var parts: [String] = [], bytes: Int64 = 0
        for file in [path, path + "-wal"] {
            var info = stat()
            guard stat(file, &info) == 0 else { parts.append("-"); continue }
            bytes += Int64(info.st_size)
            parts.append("\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)")
        }
        return (parts.joined(separator: "/"), bytes)
    }

    /// The SHA-256 of the table's rows as a load would read them (one snapshot), without loading them.
    static func contentHash(path: String, table: String) throws -> String {
        let stream = try SQLiteStream(path: path, table: table)
        while try stream.next() != nil {}
        return stream.content.sha256
    }
}

/// Byte lines of a file, streamed in chunks; strips a UTF-8 BOM and CR before LF. Reads the file
/// from `resume.offset` (else 0) to `endOffset` (else its end) and hashes exactly those bytes.
final class LineReader {
    private let fd: Int32
    private let path: String
    private var buffer = [UInt8](repeating: 0, count: 1 << 20)
    private var start = 0, end = 0, eof = false, line: Int, first: Bool
    private var filePosition: Int64
    private let endOffset: Int64?
    private var hasher: SHA256
    private(set) var lastByte: UInt8?

    init(path: String, resume: ResumePoint? = nil, endOffset: Int64? = nil) throws {
        self.path = path
        fd = try CSVReader.openRegular(path)
        filePosition = resume?.offset ?? 0
        if filePosition > 0 && lseek(fd, off_t(filePosition), SEEK_SET) < 0 {
            close(fd)
            throw ConnectorError.unreadable(path, String(cString: strerror(errno)))
        }
        line = (resume?.line ?? 1) - 1
        first = resume == nil
        hasher = resume?.digest ?? SHA256()
        self.endOffset = endOffset
    }

    deinit { close(fd) }

    var digest: String { hasher.finalize() }
    var bytesEnd: Int64 { filePosition }
    var nextLine: Int { line + 1 }

    func next() throws -> ([UInt8], Int)? {
        while true {
            if let nl = buffer[start..<end].firstIndex(of: 0x0A) {
                var lineEnd = nl
                if lineEnd > start && buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                var lineStart = start
                if first { first = false; if lineEnd - lineStart >= 3 && buffer[lineStart] == 0xEF && buffer[lineStart + 1] == 0xBB && buffer[lineStart + 2] == 0xBF { lineStart += 3 } }
                let bytes = Array(buffer[lineStart..<lineEnd])
                start = nl + 1
                line += 1
                return (bytes, line)
            }
            if eof {
                guard start < end else { return nil }
                var lineEnd = end
                if buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                var lineStart = start
                // A file of one line without a line break may start with a BOM too.
                if first { first = false; if lineEnd - lineStart >= 3 && buffer[lineStart] == 0xEF && buffer[lineStart + 1] == 0xBB && buffer[lineStart + 2] == 0xBF { lineStart += 3 } }
                let bytes = Array(buffer[lineStart..<lineEnd])
                start = end
                line += 1
                return (bytes, line)
            }
            if start > 0 {
                let remaining = end - start
                buffer.withUnsafeMutableBytes { raw in _ = memmove(raw.baseAddress!, raw.baseAddress! + start, remaining) }
                end = remaining; start = 0
            }
            if end == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
            var want = buffer.count - end
            if let endOffset { want = Int(min(Int64(want), max(0, endOffset - filePosition))) }
            let at = end
            let n = want == 0 ? 0 : buffer.withUnsafeMutableBytes { raw in read(fd, raw.baseAddress! + at, want) }
            if n < 0 { throw ConnectorError.unreadable(path, String(cString: strerror(errno))) }
            if n == 0 { eof = true } else {
                buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[at..<at + n])) }
                lastByte = buffer[at + n - 1]
                end += n
                filePosition += Int64(n)
            }
        }
    }
}

enum JSONText {
    /// A JSON object of string values, built by hand over bytes: the raw layer writes one per row.
    static func object(keys: [String], values: [String]) -> String {
        object(quotedKeys: quotedKeys(keys), values: values)
    }

    /// Each key as `"key":` bytes, computed once per file instead of once per row.
    static func quotedKeys(_ keys: [String]) -> [[UInt8]] {
        keys.map { key in
            var out: [UInt8] = []
            appendQuotedBytes(key, to: &out)
            out.append(UInt8(ascii: ":"))
            return out
        }
    }

    static func object(quotedKeys: [[UInt8]], values: [String]) -> String {
        var capacity = 2
        for k in quotedKeys { capacity += k.count + 1 }
        for v in values { capacity += v.utf8.count + 2 }
        var out: [UInt8] = []
        out.reserveCapacity(capacity + 16)
        out.append(UInt8(ascii: "{"))
        for i in 0..<max(quotedKeys.count, values.count) {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            if i < quotedKeys.count {
                out.append(contentsOf: quotedKeys[i])
            } else {
                appendQuotedBytes("_extra\(i - quotedKeys.count + 1)", to: &out)
                out.append(UInt8(ascii: ":"))
            }
            if i < values.count { appendQuotedBytes(values[i], to: &out) } else { out.append(contentsOf: "null".utf8) }
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// The raw layer's text of a row whose values match its header: a JSON array of the values (the
    /// column names are stored once, with the batch), and the FNV-1a hash of the row's object text
    /// `{"key":"value",…}` — the row hash staging has always compared, fed piece by piece instead of
    /// building the object. An array is half the bytes of the object (the keys repeat on every row),
    /// and the raw layer is most of the catalog (BENCHMARKS.md).
    static func array(quotedKeys: [[UInt8]], values: [String]) -> (text: String, objectHash: UInt64) {
        // Written straight into the string's storage, hashing each byte as it is copied: the parser
        // thread builds one of these per row (BENCHMARKS.md). Room for every byte, the quotes and
        // commas, and a few escapes; a row needing more is written again with its exact length.
        var capacity = 2 + 16
        for value in values { capacity += value.utf8.count + 3 }
        if let fast = array(quotedKeys: quotedKeys, values: values, capacity: capacity) { return fast }
        var exact = 2
        for value in values { exact += 3 + withBytes(value) { escapedCount($0) } }
        return array(quotedKeys: quotedKeys, values: values, capacity: exact)!
    }

    /// The array text and object hash, or nil when the escaped values do not fit in `capacity`.
    private static func array(quotedKeys: [[UInt8]], values: [String], capacity: Int) -> (text: String, objectHash: UInt64)? {
        var hash = FNV.start
        var fits = true
        let text = String(unsafeUninitializedCapacity: capacity) { out -> Int in
            var o = 0
            out[o] = UInt8(ascii: "["); o += 1
            FNV.feed(UInt8(ascii: "{"), into: &hash)
            for (i, value) in values.enumerated() {
                if i > 0 {
                    out[o] = UInt8(ascii: ","); o += 1
                    FNV.feed(UInt8(ascii: ","), into: &hash)
                }
                quotedKeys[i].withUnsafeBufferPointer { FNV.feed($0, into: &hash) }
                let written = withBytes(value) { bytes -> Int? in
                    // Room for the value as it is, its quotes and the closing bracket; what is left over pays
                    // for escapes (each longer than its byte), so no byte after one can run past the end.
                    guard o + 2 + bytes.count <= out.count - 1 else { return nil }
                    var slack = out.count - 1 - (o + 2 + bytes.count)
                    var h = hash, w = o
                    out[w] = 0x22; w += 1; FNV.feed(0x22, into: &h)
                    for b in bytes {
                        if b >= 0x20 && b != 0x22 && b != 0x5C {
                            out[w] = b; w += 1
                            h = (h ^ UInt64(b)) &* 0x100000001b3
                        } else {
                            let escape = escaped(b)
                            guard escape.count - 1 <= slack else { return nil }
                            slack -= escape.count - 1
                            for e in escape { out[w] = e; w += 1; FNV.feed(e, into: &h) }
                        }
                    }
                    out[w] = 0x22; w += 1; FNV.feed(0x22, into: &h)
                    hash = h
                    return w
                }
                guard let written else { fits = false; return 0 }
                o = written
            }
            out[o] = UInt8(ascii: "]"); o += 1
            return o
        }
        guard fits else { return nil }
        FNV.feed(UInt8(ascii: "}"), into: &hash)
        return (text, hash)
    }

    /// A string's UTF-8 bytes where they are stored (`withUTF8` needs a mutable copy of the string).
    @inline(__always)
    private static func withBytes<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = s.utf8.withContiguousStorageIfAvailable(body) { return result }
        var copy = s
        return copy.withUTF8(body)
    }

    private static func escapedCount(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var n = 0
        for b in bytes { n += b >= 0x20 && b != 0x22 && b != 0x5C ? 1 : escaped(b).count }
        return n
    }

    /// JSON's escape of a byte that needs one, as `JSONString` writes it.
    private static func escaped(_ b: UInt8) -> [UInt8] {
        var out: [UInt8] = []
        JSONString.appendQuoted(String(decoding: [b], as: UTF8.self), to: &out)
        return Array(out.dropFirst().dropLast())
    }

    @inline(__always)
    static func appendQuotedBytes(_ s: String, to out: inout [UInt8]) { JSONString.appendQuoted(s, to: &out) }

    static func flatten(_ dict: [String: Any], prefix: String, into out: inout [String: String]) {
        for (k, v) in dict {
            let key = prefix.isEmpty ? k : "\(prefix).\(k)"
            switch v {
            case let s as String: out[key] = s
            case let b as Bool where type(of: v) == Bool.self: out[key] = b ? "true" : "false"
            case let n as NSNumber: out[key] = n.stringValue
            case let d as [String: Any]: flatten(d, prefix: key, into: &out)
            case is NSNull: break
            default:
                if let data = try? JSONSerialization.data(withJSONObject: v) { out[key] = String(decoding: data, as: UTF8.self) }
            }
        }
    }
}
