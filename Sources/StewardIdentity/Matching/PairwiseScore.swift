import Foundation

/// Pairwise precision, recall and F1 of a clustering against known entities.
public struct PairwiseScore: Sendable, Codable, Equatable {
    public var precision: Double
    public var recall: Double
    public var f1: Double
    public var truePairs: Int
    public var predictedPairs: Int
    public var correctPairs: Int
    /// Records scored (those the truth file names).
    public var records: Int

    /// - parameters:
    ///   - clusters: record id → predicted cluster.
    ///   - truth: record id → true entity; records missing from either side are not scored.
    public static func evaluate(clusters: [String: String], truth: [String: String]) -> PairwiseScore {
        var byCluster: [String: Int] = [:], byEntity: [String: Int] = [:], byBoth: [String: Int] = [:]
        var n = 0
        for (record, c) in clusters {
            guard let e = truth[record] else { continue }
            n += 1
            byCluster[c, default: 0] += 1
            byEntity[e, default: 0] += 1
            byBoth[c + "\u{1F}" + e, default: 0] += 1
        }
        func pairs(_ d: [String: Int]) -> Int { d.values.reduce(0) { $0 + $1 * ($1 - 1) / 2 } }
        let predicted = pairs(byCluster), actual = pairs(byEntity), correct = pairs(byBoth)
        let p = predicted == 0 ? 1 : Double(correct) / Double(predicted)
        let r = actual == 0 ? 1 : Double(correct) / Double(actual)
        let f = p + r == 0 ? 0 : 2 * p * r / (p + r)
        return PairwiseScore(precision: p, recall: r, f1: f, truePairs: actual, predictedPairs: predicted, correctPairs: correct, records: n)
    }

    /// Reads `truth.csv` (source,record_id,entity_id); rows with an empty record id are skipped.
    public static func loadTruth(_ url: URL) throws -> [String: String] {
        let text = try String(contentsOf: url, encoding: .utf8)
        var out: [String: String] = [:]
        for (i, line) in text.split(whereSeparator: \.isNewline).enumerated() where i > 0 {
            let parts = line.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count >= 3, !parts[1].isEmpty else { continue }
            out["\(parts[0]):\(parts[1])"] = String(parts[2])
        }
        return out
    }
}
