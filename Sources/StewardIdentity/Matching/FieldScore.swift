import Foundation

/// One field's contribution to a pair's score.
public struct FieldScore: Sendable {
    public var field: Field
    public var level: Int
    public var weight: Double
    /// Extra weight from the value's frequency (negative for common values), included in `weight`.
    public var termFrequency: Double
}
