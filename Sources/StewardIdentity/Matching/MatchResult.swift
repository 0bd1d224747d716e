import Foundation

/// Everything one matching pass produces, in memory.
public struct MatchResult: Sendable {
    public var records: [PersonRecord]
    public var candidatePairs: Int
    public var pairsPerRule: [Int]
    public var junk: [(JunkValue, Int)]
    public var model: FSModel
    /// Scored pairs at or above the review band's lower bound.
    public var edges: [Clusterer.Edge]
    public var labels: [Int32]
    /// Edges the chaining guard refused.
    public var refused: [Clusterer.Edge]
    public var seconds: [String: Double]
    /// CPU seconds per stage (every thread): the wall time doubles when another process has a core.
    public var cpuSeconds: [String: Double] = [:]

    public var clusterCount: Int { Set(labels).count }
}
