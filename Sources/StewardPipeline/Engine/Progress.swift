import Foundation
import StewardCatalog
import StewardConfig

/// Progress of a pipeline run, reported to the CLI progress bar and the console's header gauge.
public enum ProgressEvent: Sendable {
    case runStarted(runId: Int64, sources: [String])
    case stepStarted(source: String)
    case rows(source: String, rows: Int, rowsPerSecond: Double)
    case batchCommitted(source: String, file: String, rows: Int)
    case stepFinished(source: String, status: String, message: String?)
    case runFinished(runId: Int64, status: String)
}

public protocol ProgressReporter: Sendable {
    func report(_ event: ProgressEvent)
}

/// Ignores progress (tests, non-terminal output).
public struct SilentProgress: ProgressReporter {
    public init() {}
    public func report(_ event: ProgressEvent) {}
}

/// A cooperative stop request (Ctrl-C during `run --every`, or the console quitting): checked between batches.
public final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    public init() {}
    public func stop() { lock.lock(); stopped = true; lock.unlock() }
    public var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }
}

/// Work that runs after the sources of a run are loaded (identity resolution, KPI evaluation, …),
/// supplied by modules the pipeline cannot import. Its failure marks the run `partial`, never loses
/// the loaded batches.
public protocol RunExtension: Sendable {
    var name: String { get }
    /// Returns a short summary for the run's audit detail, or nil.
    func afterLoad(runId: Int64, summary: RunSummary, config: ProjectConfig, catalog: Catalog, progress: ProgressReporter) throws -> String?
}
