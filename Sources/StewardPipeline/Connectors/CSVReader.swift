import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One record of a delimited file: its fields and the physical line it starts on (1-based).
public struct CSVRecord: Sendable, Equatable {
    public var fields: [String]
    public var line: Int
    /// Set when the record cannot be read as written (e.g. a quote never closed, invalid UTF-8).
    public var problem: String?
}

/// A streaming RFC 4180 reader over bytes: quotes, doubled quotes, embedded newlines, CRLF, UTF-8 BOM
/// and any one-byte delimiter. Memory is bounded by the chunk size plus the longest record (at most
/// `maxRecordBytes` once the record spans lines).
///
/// It recovers from a broken quote instead of letting it swallow the file: a quoted field that never
/// closes, or that runs on into later lines and then breaks the row (stray text after its closing
/// quote, the wrong number of fields, more than `maxRecordBytes`), yields its first line alone as a
/// problem record, and reading resumes on the next line.
///
/// It reads the byte range `[startOffset, endOffset)` of the file (the whole file by default) and
/// hashes exactly the bytes it read, so a batch records the content it loaded even if the file grows
/// while it is read.
///
/// Hand-written because the mirrored CSV libraries measure 25–45× slower (BENCHMARKS.md).
public final class CSVReader {
    public let path: String
    private let fd: Int32
    private let delimiter: UInt8
    private var buffer: [UInt8]
    private var start = 0          // first unconsumed byte
    private var end = 0            // one past the last valid byte
    private var eof = false
    private var line: Int
    private var atFileStart: Bool
    private let chunkSize: Int
    private var scratch: [UInt8] = []
    /// File offset of the next byte to read, and where reading stops.
    private var filePosition: Int64
    private let endOffset: Int64?
    private var hasher: SHA256
    /// Set once a byte that needs checking (≥ 0x80 or NUL) has been read: fields are validated from then on.
    private var sawSuspectBytes = false
    /// Within the record being parsed: the buffer index just past its first line break inside quotes
    /// (-1: none yet), and whether a multi-line quoted field had text after its closing quote.
    private var firstBreak = -1
    private var strayAfterMultilineQuote = false
    private var badField: (index: Int, why: String)?
    private var recordHadQuote = false
    /// A quote was still open at the end of the content: a later version cannot be read as an append
    /// after it (its first bytes may close that quote).
    public private(set) var endedInsideQuote = false
    /// The last byte read from the file (a line break there makes the content appendable).
    public private(set) var lastByte: UInt8?
    /// The number of fields a record must have: a multi-line record with another count is a broken quote.
    public var expectedFieldCount: Int?
    public static let maxRecordBytes = 16 << 20

    /// - parameter startOffset: where to start reading; a BOM is skipped only at offset 0.
    /// - parameter endOffset: where to stop (nil: the end of the file).
    /// - parameter startLine: the line number of the first byte read.
    /// - parameter digest: the hash of the bytes before `startOffset` (an appended version continues it).
    public init(path: String, delimiter: UInt8 = UInt8(ascii: ","), chunkSize: Int = 1 << 20, startOffset: Int64 = 0,
                endOffset: Int64? = nil, startLine: Int = 1, digest: SHA256 = SHA256()) throws {
        self.path = path
        self.delimiter = delimiter
        self.chunkSize = chunkSize
        self.endOffset = endOffset
        fd = try Self.openRegular(path)
        if startOffset > 0 && lseek(fd, off_t(startOffset), SEEK_SET) < 0 {
            close(fd)
            throw ConnectorError.unreadable(path, String(cString: strerror(errno)))
        }
        filePosition = startOffset
        atFileStart = startOffset == 0
        line = startLine
        hasher = digest
        buffer = [UInt8](repeating: 0, count: chunkSize)
    }

    deinit { close(fd) }

    /// Opens a regular file for reading; anything else (a FIFO, a device, a folder) would block or
    /// mislead a load, so it is refused with the reason.
    static func openRegular(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDONLY | O_NONBLOCK)
        guard fd >= 0 else { throw ConnectorError.unreadable(path, String(cString: strerror(errno))) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let why = String(cString: strerror(errno)); close(fd)
            throw ConnectorError.unreadable(path, why)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw ConnectorError.notRegular(path, FileKind.describe(mode: info.st_mode))
        }
        // Blocking reads again: a regular file never blocks, and the flag is only for a FIFO's open.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return fd
    }

    /// The SHA-256 of every byte read so far (with the digest it started from); final at end of file.
    public var digest: String { hasher.finalize() }
    /// The file offset reading reached: the size of the content read when the reader is done.
    public var bytesEnd: Int64 { filePosition }
    /// The line the next record would start on: where an appended version continues.
    public var nextLine: Int { line }

    /// Reads more bytes, keeping the unconsumed tail. Returns false at end of file.
    private func refill() throws -> Bool {
        if eof { return false }
        if start > 0 {
            let remaining = end - start
            if remaining > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    _ = memmove(raw.baseAddress!, raw.baseAddress! + start, remaining)
                }
            }
            // Indexes into the buffer move with its bytes.
            if firstBreak >= 0 { firstBreak -= start }
            end = remaining
            start = 0
        }
        if end == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
        var want = buffer.count - end
        if let endOffset { want = Int(min(Int64(want), max(0, endOffset - filePosition))) }
        if want == 0 { eof = true; return false }
        let at = end
        let n = buffer.withUnsafeMutableBytes { raw in read(fd, raw.baseAddress! + at, want) }
        if n < 0 { throw ConnectorError.unreadable(path, String(cString: strerror(errno))) }
        if n == 0 { eof = true; return false }
        buffer.withUnsafeBytes { raw in
            let piece = UnsafeRawBufferPointer(rebasing: raw[at..<at + n])
            hasher.update(piece)
            if !sawSuspectBytes {
                // One pass a chunk; plain ASCII files never pay for validation.
                var any: UInt8 = 0, nul = false
                for b in piece { any |= b; if b == 0 { nul = true } }
                sawSuspectBytes = any >= 0x80 || nul
            }
            lastByte = piece[n - 1]
        }
        end += n
        filePosition += Int64(n)
        return true
    }

    /// The next record, or nil at end of file. Blank lines are skipped.
    public func next() throws -> CSVRecord? {
        while true {
            if atFileStart {
                while end - start < 3 && !eof { _ = try refill() }
                if end - start >= 3 && buffer[start] == 0xEF && buffer[start + 1] == 0xBB && buffer[start + 2] == 0xBF {
                    start += 3
                }
                atFileStart = false
            }
            if start >= end {
                let more = try refill()
                if !more { return nil }
            }
            if let record = parseRecord() {
                // A blank line; `""` alone is a row holding one empty value, not a blank line.
                if record.fields.count == 1 && record.fields[0].isEmpty && record.problem == nil && !recordHadQuote { continue }
                return record
            }
            if firstBreak >= 0 && end - start > Self.maxRecordBytes {
                return resumeAfterFirstLine(line, why: "a quoted field opened on line \(line) runs on for more than \(Self.maxRecordBytes >> 20) MiB")
            }
            // Record incomplete in the buffer: read more and parse it again from its start.
            let more = try refill()
            if !more {
                // End of file inside a record: take what is there (an unterminated quote is a problem).
                return parseRecord(atEOF: true)
            }
        }
    }

    /// Parses one record starting at `start`. Returns nil if the buffer ends first (unless at EOF).
    private func parseRecord(atEOF: Bool = false) -> CSVRecord? {
        let delim = delimiter
        var fields: [String] = []
        fields.reserveCapacity(expectedFieldCount ?? 16)
        var lines = 0
        var problem: String?
        let recordLine = line
        firstBreak = -1
        strayAfterMultilineQuote = false
        badField = nil
        recordHadQuote = false
        let result: Int? = buffer.withUnsafeBufferPointer { buf -> Int? in
            var i = start
            let n = end
            while true {
                // One field.
                if i < n && buf[i] == 0x22 { // quoted
                    recordHadQuote = true
                    i += 1
                    scratch.removeAll(keepingCapacity: true)
                    var closed = false
                    var segment = i
                    let breaksBefore = lines
                    while i < n {
                        let c = buf[i]
                        if c == 0x22 {
                            if i + 1 < n && buf[i + 1] == 0x22 {
                                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: buf[segment...i]))
                                i += 2; segment = i; continue
                            }
                            if i + 1 >= n && !atEOF { return nil }
                            scratch.append(contentsOf: UnsafeBufferPointer(rebasing: buf[segment..<i]))
                            i += 1; closed = true; break
                        }
                        if c == 0x0A || (c == 0x0D && !(i + 1 < n && buf[i + 1] == 0x0A)) {
                            if c == 0x0D && i + 1 >= n && !atEOF { return nil }
                            lines += 1
                            if firstBreak < 0 { firstBreak = i + 1 }
                        }
                        i += 1
                    }
                    if !closed {
                        if !atEOF { return nil }
                        endedInsideQuote = true
                        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: buf[segment..<n]))
                        problem = "unterminated quoted field starting on line \(recordLine)"
                        fields.append(decode(scratch, field: fields.count))
                        return n
                    }
                    // Stray text after the closing quote is kept, leniently, on one line; after a quote
                    // that spanned lines it means the quote was a stray one.
                    let tail = i
                    while i < n && buf[i] != delim && buf[i] != 0x0A && buf[i] != 0x0D { i += 1 }
                    if i > tail {
                        if lines > breaksBefore { strayAfterMultilineQuote = true }
                        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: buf[tail..<i]))
                    }
                    fields.append(decode(scratch, field: fields.count))
                } else {
                    let fieldStart = i
                    while i < n {
                        let c = buf[i]
                        if c == delim || c == 0x0A || c == 0x0D { break }
                        i += 1
                    }
                    fields.append(decode(UnsafeBufferPointer(rebasing: buf[fieldStart..<i]), field: fields.count))
                }
                if i >= n {
                    if !atEOF { return nil }
                    return n
                }
                let c = buf[i]
                if c == delim { i += 1; if i >= n && !atEOF { return nil }; if i >= n { fields.append(""); return n }; continue }
                // End of line: CRLF, LF or lone CR.
                if c == 0x0D {
                    if i + 1 >= n && !atEOF { return nil }
                    i += (i + 1 < n && buf[i + 1] == 0x0A) ? 2 : 1
                } else { i += 1 }
                lines += 1
                return i
            }
        }
        guard let next = result else { return nil }
        if firstBreak >= 0 {
            // A record spanning lines that cannot be right: its first line alone is the problem.
            if problem != nil {
                return resumeAfterFirstLine(recordLine, why: "unterminated quote: the quoted field opened on line \(recordLine) never closes")
            }
            if readsAsWholeRows(from: start, to: next) {
                return resumeAfterFirstLine(recordLine, why: "stray quote: the quoted field opened on line \(recordLine) runs to line \(recordLine + lines - 1), and each of those lines reads as a whole row")
            }
            if strayAfterMultilineQuote {
                return resumeAfterFirstLine(recordLine, why: "stray quote: the quoted field opened on line \(recordLine) closes on line \(recordLine + lines - 1) with text after it")
            }
            if let expected = expectedFieldCount, fields.count != expected {
                return resumeAfterFirstLine(recordLine, why: "stray quote: the quoted field opened on line \(recordLine) runs on to line \(recordLine + lines - 1) and breaks the row (\(fields.count) fields, expected \(expected))")
            }
        }
        start = next
        line += lines
        if problem == nil, let bad = badField { problem = "field \(bad.index + 1) \(bad.why)" }
        return CSVRecord(fields: fields, line: recordLine, problem: problem)
    }

    /// Whether every line of a multi-line record, read with its quotes taken as plain characters, is a
    /// whole row (the expected number of fields): then two stray quotes (`1,"Ann,…` … `4,Bob",…`) made
    /// one field of the rows between them, which would vanish into it. Judged from three columns up; a
    /// real multi-line value rarely leaves every one of its lines with exactly a row's delimiters.
    private func readsAsWholeRows(from: Int, to: Int) -> Bool {
        guard let expected = expectedFieldCount, expected >= 3 else { return false }
        return buffer.withUnsafeBufferPointer { buf -> Bool in
            var delimiters = 0, i = from
            while i < to {
                let c = buf[i]
                if c == 0x0A || c == 0x0D {
                    if delimiters != expected - 1 { return false }
                    delimiters = 0
                    if c == 0x0D && i + 1 < to && buf[i + 1] == 0x0A { i += 1 }
                } else if c == delimiter {
                    delimiters += 1
                }
                i += 1
            }
            return buf[to - 1] == 0x0A || buf[to - 1] == 0x0D || delimiters == expected - 1
        }
    }

    /// Gives up on the record at `start`: its first line becomes a problem record (fields split at the
    /// delimiter, quotes as written) and reading resumes on the next line.
    private func resumeAfterFirstLine(_ recordLine: Int, why: String) -> CSVRecord {
        let breakAt = firstBreak
        var lineEnd = breakAt - 1
        if lineEnd > start && buffer[lineEnd] == 0x0A && buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
        let fields = buffer[start..<lineEnd].split(separator: delimiter, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        start = breakAt
        line = recordLine + 1
        firstBreak = -1
        return CSVRecord(fields: fields, line: recordLine, problem: why + "; reading resumed on line \(recordLine + 1)")
    }

    /// A field's text. Bytes that are not UTF-8, or a NUL, mark the record as a problem instead of being
    /// silently replaced (the text keeps U+FFFD where bytes were invalid, for people to see).
    @inline(__always)
    private func decode(_ bytes: UnsafeBufferPointer<UInt8>, field: Int) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        if sawSuspectBytes && badField == nil, let why = Self.damage(bytes, decoded: text) { badField = (field, why) }
        return text
    }

    @inline(__always)
    private func decode(_ bytes: [UInt8], field: Int) -> String {
        bytes.withUnsafeBufferPointer { decode($0, field: field) }
    }

    /// Why a field's bytes are not its text as decoded: not UTF-8, or a NUL byte.
    static func damage(_ bytes: UnsafeBufferPointer<UInt8>, decoded: String) -> String? {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return nil }
        if memchr(base, 0, bytes.count) != nil { return "holds a NUL byte" }
        var text = decoded
        let same = text.withUTF8 { utf8 in utf8.count == bytes.count && memcmp(utf8.baseAddress!, base, bytes.count) == 0 }
        return same ? nil : "is not valid UTF-8"
    }
}

/// What a path that is not a regular file is, in words.
enum FileKind {
    static func describe(mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFDIR: return "a folder"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }
}

public enum ConnectorError: Error, CustomStringConvertible, Equatable {
    case unreadable(String, String)
    case noFiles(String)
    case badHeader(String, String)
    case sqlite(String, String)
    case notRegular(String, String)

    public var description: String {
        switch self {
        case .unreadable(let path, let why): return "\(path): cannot read the file (\(why))"
        case .noFiles(let pattern): return "no file matches '\(pattern)'"
        case .badHeader(let path, let why): return "\(path):1: malformed header: \(why)"
        case .sqlite(let path, let why): return "\(path): \(why)"
        case .notRegular(let path, let what): return "\(path): skipped, it is \(what), not a regular file"
        }
    }
}
