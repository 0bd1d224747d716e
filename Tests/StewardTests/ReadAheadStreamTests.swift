import Foundation
import Testing
@testable import StewardPipeline

/// A stream of numbered rows that fails after `failAfter` rows.
private final class CountingStream: RecordStream {
    let header = ["n"]
    let quotedKeys = JSONText.quotedKeys(["n"])
    let total: Int
    let failAfter: Int?
    private(set) var produced = 0
    struct Broken: Error {}

    init(total: Int, failAfter: Int? = nil) { self.total = total; self.failAfter = failAfter }
    func column(_ name: String) -> ColumnRef { name == "n" ? .index(0) : .absent }
    func next() throws -> SourceRow? {
        if let failAfter, produced == failAfter { throw Broken() }
        guard produced < total else { return nil }
        produced += 1
        return SourceRow(positional: ["\(produced)"], line: produced + 1, quotedKeys: quotedKeys, problem: nil)
    }
    var content: ReadContent { ReadContent(sha256: "", size: 0, nextLine: produced + 2, cleanEnd: true) }
}

@Suite struct ReadAheadStreamTests {
    @Test func rowsComeOutInFileOrderAcrossBlocks() throws {
        let stream = ReadAheadStream(CountingStream(total: 2_000))
        defer { stream.cancel() }
        #expect(stream.header == ["n"])
        var lines: [Int] = []
        while let row = try stream.next() { lines.append(row.line) }
        #expect(lines == Array(2...2_001))
        #expect(try stream.next() == nil)
    }

    @Test func rowsReadInPlaceComeInOrderAfterThoseTakenOneByOne() throws {
        let stream = ReadAheadStream(CountingStream(total: 2_000))
        defer { stream.cancel() }
        var lines: [Int] = []
        for _ in 0..<300 { lines.append(try #require(try stream.next()).line) }
        // In place from where next() left off, stopping early, then resuming.
        try stream.forEachRow { row in lines.append(row.pointee.line); return lines.count < 1_000 }
        try stream.forEachRow { row in lines.append(row.pointee.line); return true }
        #expect(lines == Array(2...2_001))
        #expect(try stream.next() == nil)

        let failing = ReadAheadStream(CountingStream(total: 2_000, failAfter: 700))
        defer { failing.cancel() }
        var count = 0
        #expect(throws: CountingStream.Broken.self) { try failing.forEachRow { _ in count += 1; return true } }
        #expect(count == 700)
    }

    @Test func theErrorComesAfterEveryRowReadBeforeIt() throws {
        let stream = ReadAheadStream(CountingStream(total: 2_000, failAfter: 700))
        defer { stream.cancel() }
        var count = 0
        #expect(throws: CountingStream.Broken.self) {
            while try stream.next() != nil { count += 1 }
        }
        #expect(count == 700)
    }

    @Test func cancellingEarlyStopsTheReadingThread() throws {
        let base = CountingStream(total: 1_000_000)
        let stream = ReadAheadStream(base)
        _ = try stream.next()
        stream.cancel()
        // The reader stops a few blocks ahead instead of reading the whole file.
        Thread.sleep(forTimeInterval: 0.2)
        #expect(base.produced < 20_000)
    }
}
