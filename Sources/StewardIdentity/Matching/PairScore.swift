import Foundation

public struct PairScore: Sendable {
    public var vector: ComparisonVector
    public var fields: [FieldScore]
    public var weight: Double
    public var probability: Double
}
