import Foundation

/// Starts pipeline runs for the console. The `steward` executable wires the real pipeline into it;
/// tests use a fake. Runs execute off the main actor and report progress through the callback.
///
/// ```swift
/// struct PipelineRunner: ConsoleRunner {
///     func startRun(sources: [String], allowDelete: [String],
///                   progress: @escaping @Sendable (RunProgressEvent) -> Void) async throws -> RunOutcome { … }
/// }
/// ```
public protocol ConsoleRunner: Sendable {
    /// Runs the pipeline for `sources` (all sources when empty), applying the deletions the deletion
    /// guard holds for the sources in `allowDelete` (a person asked for it: `:run --allow-delete`).
    /// No default for `allowDelete`: a runner that ignored it would silently keep the deletions held.
    /// Throws with a message the user can act on.
    func startRun(sources: [String], allowDelete: [String],
                  progress: @escaping @Sendable (RunProgressEvent) -> Void) async throws -> RunOutcome
}

/// One progress report of a running pipeline.
public struct RunProgressEvent: Sendable, Equatable {
    public enum Phase: String, Sendable {
        /// The run exists in the catalog (its id is known).
        case started
        /// Work on a source began.
        case sourceStarted
        /// A batch was committed: panes refresh now.
        case batchCommitted
        /// A source finished (successfully or not; see `message`).
        case sourceFinished
        /// Any other step (checks, identity, …) with a message.
        case step
    }

    public var phase: Phase
    public var runId: Int64?
    public var source: String?
    /// Rows processed so far in this run.
    public var rowsDone: Int
    /// Rows expected in total, when known (drives the gauge's ratio).
    public var rowsTotal: Int?
    public var sourcesDone: Int
    public var sourcesTotal: Int
    public var message: String?

    public init(phase: Phase, runId: Int64? = nil, source: String? = nil, rowsDone: Int = 0, rowsTotal: Int? = nil,
                sourcesDone: Int = 0, sourcesTotal: Int = 0, message: String? = nil) {
        self.phase = phase; self.runId = runId; self.source = source; self.rowsDone = rowsDone; self.rowsTotal = rowsTotal
        self.sourcesDone = sourcesDone; self.sourcesTotal = sourcesTotal; self.message = message
    }

    /// Share of the run done: by rows when the total is known, else by sources.
    public var fraction: Double? {
        if let total = rowsTotal, total > 0 { return Double(rowsDone) / Double(total) }
        if sourcesTotal > 0 { return Double(sourcesDone) / Double(sourcesTotal) }
        return nil
    }
}

/// How a run ended.
public struct RunOutcome: Sendable, Equatable {
    public var runId: Int64?
    /// `succeeded`, `partial` or `failed`, as the catalog records it.
    public var status: String
    public var rowsRead: Int
    public var rowsLoaded: Int
    public var rowsQuarantined: Int
    public var message: String?

    public init(runId: Int64?, status: String, rowsRead: Int = 0, rowsLoaded: Int = 0, rowsQuarantined: Int = 0, message: String? = nil) {
        self.runId = runId; self.status = status; self.rowsRead = rowsRead; self.rowsLoaded = rowsLoaded
        self.rowsQuarantined = rowsQuarantined; self.message = message
    }
}
