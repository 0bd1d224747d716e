import Foundation

/// Identity-resolution settings: `matching:` of steward.yml with defaults.
public struct MatchSettings: Sendable {
    public var threshold = 0.9
    public var reviewLow = 0.6
    public var reviewHigh = 0.9
    public var rules = BlockingRule.defaults
    /// Blocks up to this size yield all their pairs; bigger ones are compared in sorted
    /// neighbourhoods of `blockWindow` records (see `CandidatePairs`).
    public var maxBlockSize = CandidatePairs.defaultMaxBlockSize
    public var blockWindow = CandidatePairs.defaultWindow
    /// Mean cross-pair probability two multi-record groups need to merge (chaining guard).
    public var groupAgreement = 0.3
    public var maxClusterSize = 40
    public var uSamples = 300_000
    /// EM sees at most this many pairs per training rule (an even sample beyond).
    public var maxTrainingPairs = 500_000
    public var seed: UInt64 = 7

    public init() {}
}
