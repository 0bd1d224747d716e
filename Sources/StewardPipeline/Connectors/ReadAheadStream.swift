import Foundation

/// Reads a file's rows on a thread of its own, a block at a time, so parsing (CSV fields, the raw
/// JSON text) overlaps the checking and standardising of the rows before it (BENCHMARKS.md).
/// Rows and the first error come out in file order, as from the wrapped stream.
final class ReadAheadStream: RecordStream, @unchecked Sendable {
    private let base: RecordStream
    let header: [String]
    let quotedKeys: [[UInt8]]
    private let condition = NSCondition()
    private var blocks: [[SourceRow]] = []
    private var finished = false
    private var cancelled = false
    private var failure: Error?
    private var current: [SourceRow] = []
    /// Blocks the consumer has read, waiting for the reading thread to free them.
    private var spent: [[SourceRow]] = []
    private var position = 0
    private static let rowsPerBlock = 256
    private static let capacity = 32

    init(_ base: RecordStream) {
        self.base = base
        header = base.header
        quotedKeys = base.quotedKeys
        let thread = Thread { [self] in produce() }
        thread.stackSize = 8 << 20
        thread.start()
    }

    func column(_ name: String) -> ColumnRef { base.column(name) }

    /// What the wrapped stream read; only once every row has been taken.
    var content: ReadContent { base.content }

    func next() throws -> SourceRow? {
        if position == current.count {
            guard let block = try take(returning: current) else { return nil }
            current = block
            position = 0
        }
        position += 1
        return current[position - 1]
    }

    /// Calls `body` with each remaining row in file order, in place in its block (`next()` copies
    /// each row out: three retains and releases of memory another thread wrote; so does a row
    /// passed by value through a closure), until `body` returns false or the rows run out.
    /// `nextBlock` sees each block's rows before `body` sees the first of them.
    func forEachRow(nextBlock: (UnsafeBufferPointer<SourceRow>) -> Void = { _ in },
                    _ body: (UnsafePointer<SourceRow>) throws -> Bool) throws {
        while true {
            if position == current.count {
                guard let block = try take(returning: current) else { return }
                current = block
                position = 0
                current.withUnsafeBufferPointer { nextBlock($0) }
            }
            let stopped = try current.withUnsafeBufferPointer { rows -> Bool in
                while position < rows.count {
                    position += 1
                    if try !body(rows.baseAddress! + (position - 1)) { return true }
                }
                return false
            }
            if stopped { return }
        }
    }

    /// Stops the reading thread (idempotent): the consumer is done, early or not.
    func cancel() {
        condition.lock(); cancelled = true; condition.broadcast(); condition.unlock()
    }

    /// The next block, handing back the one just read: its rows' memory came from the reading
    /// thread's malloc arena and is freed there, not here under that arena's lock (BENCHMARKS.md).
    private func take(returning spentBlock: [SourceRow]) throws -> [SourceRow]? {
        condition.lock(); defer { condition.unlock() }
        if !spentBlock.isEmpty { spent.append(spentBlock) }
        while blocks.isEmpty && !finished && !cancelled { condition.wait() }
        if !blocks.isEmpty {
            let block = blocks.removeFirst()
            // The producer, waiting for room, wakes at half: `put`.
            if blocks.count <= Self.capacity / 2 { condition.broadcast() }
            return block
        }
        if let failure { throw failure }
        return nil
    }

    private func produce() {
        var block: [SourceRow] = []
        block.reserveCapacity(Self.rowsPerBlock)
        var error: Error?
        var read: [[SourceRow]] = []
        do {
            while let row = try base.next() {
                block.append(row)
                if block.count == Self.rowsPerBlock {
                    guard put(block, spentBlocks: &read) else { return }
                    read.removeAll()  // frees the rows the consumer is done with, outside the lock
                    block = []
                    block.reserveCapacity(Self.rowsPerBlock)
                }
            }
        } catch let e {
            error = e
        }
        if !block.isEmpty { guard put(block, spentBlocks: &read) else { return } }
        condition.lock(); finished = true; failure = error; condition.broadcast(); condition.unlock()
    }

    /// Blocks while the consumer is `capacity` blocks behind; false once it has gone away. Takes the
    /// blocks the consumer has read, which the caller frees by dropping them.
    private func put(_ block: [SourceRow], spentBlocks: inout [[SourceRow]]) -> Bool {
        condition.lock(); defer { condition.unlock() }
        // Once full, waits until half are read, then fills them all in one go: woken for every block
        // read, the producer ran a block at a time and lost the processor between, and with three
        // threads on two cores the consumer then found the queue empty (BENCHMARKS.md, session 23).
        if blocks.count >= Self.capacity {
            while blocks.count > Self.capacity / 2 && !cancelled { condition.wait() }
        }
        if cancelled { return false }
        blocks.append(block)
        swap(&spentBlocks, &spent)
        condition.broadcast()
        return true
    }
}
