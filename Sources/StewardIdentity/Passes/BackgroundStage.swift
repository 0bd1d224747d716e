import Foundation

/// Work a pass does to chunks of rows off the thread that reads and writes SQLite: each chunk is
/// transformed on one serial background queue, in the order submitted (so a stateful transform, a
/// cache, sees the rows in order), while the caller reads the next chunk and consumes the last.
/// The caller keeps one chunk in flight (`Pipe`).
final class BackgroundStage<Input: Sendable, Output: Sendable>: @unchecked Sendable {
    private let queue: DispatchQueue
    /// Called on `queue` only.
    private let transform: (Input) -> Output

    init(_ label: String, _ transform: @escaping (Input) -> Output) {
        queue = DispatchQueue(label: "steward.\(label)")
        self.transform = transform
    }

    final class Work: @unchecked Sendable {
        fileprivate var outputs: [Output] = []
        fileprivate let done = DispatchSemaphore(value: 0)

        /// Blocks until the chunk is transformed.
        func wait() -> [Output] {
            done.wait()
            return outputs
        }
    }

    func submit(_ chunk: [Input]) -> Work {
        let work = Work()
        queue.async { [self] in
            work.outputs = chunk.map(transform)
            work.done.signal()
        }
        return work
    }

    /// Submits chunks and hands each back transformed, one chunk behind.
    struct Pipe {
        let stage: BackgroundStage
        private var inFlight: Work?

        init(_ stage: BackgroundStage) { self.stage = stage }

        /// Submits `chunk`, then consumes the chunk submitted before it.
        mutating func push(_ chunk: [Input], _ consume: ([Output]) throws -> Void) throws {
            let next = stage.submit(chunk)
            if let previous = inFlight { try consume(previous.wait()) }
            inFlight = next
        }

        /// Consumes the last chunk.
        mutating func drain(_ consume: ([Output]) throws -> Void) throws {
            if let last = inFlight { try consume(last.wait()) }
            inFlight = nil
        }
    }
}
