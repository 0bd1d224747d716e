import Foundation

/// Fellegi-Sunter parameters: per field and level, m = P(level | match), u = P(level | non-match),
/// and λ, the share of candidate pairs that match.
public struct FSModel: Codable, Sendable {
    public var lambda: Double
    public var m: [[Double]]
    public var u: [[Double]]
    /// EM iterations run and whether the last change was below tolerance.
    public var iterations: Int = 0
    public var converged = false
    /// λ among the candidate pairs (EM's own prior), before rescaling to all pairs.
    public var candidateLambda: Double = 0
    /// P(same phone | same street, different people): households share a landline, so a phone
    /// agreeing on top of an address is weaker evidence than either alone suggests. Measured on
    /// candidate pairs with different first names; nil when too few such pairs.
    public var phoneGivenAddressU: Double?
    /// Which agreement levels m and u are indexed by (`FSModel.currentLevelsVersion` when fitted). A model
    /// stored by a pass before the levels changed reads as version 1: its address level 2 meant
    /// "same postcode", not "same city", so it must not score pairs compared today (`current`).
    public var levelsVersion = FSModel.currentLevelsVersion

    /// The comparison levels' version: raise it whenever `Field.levels` changes.
    /// 1: address levels different / same city or near postcode / same postcode / house / street.
    /// 2: the region and a postcode one keystroke off became levels of their own.
    public static let currentLevelsVersion = 2

    /// Thrown for a stored model whose levels are not today's (`current(_:)`).
    public struct StaleLevels: Error, CustomStringConvertible {
        public var version: Int
        public var description: String {
            "the latest matching pass's model uses comparison levels of version \(version) (this steward uses \(FSModel.currentLevelsVersion)): run `steward run` to match again"
        }
    }

    /// A stored model (`identity_run.model_json`) that may score pairs compared today: same levels
    /// version and as many levels per field as `Field.levels` has.
    public static func current(_ json: String) throws -> FSModel {
        let model = try JSONDecoder().decode(FSModel.self, from: Data(json.utf8))
        let shape = Field.allCases.map(\.levels.count)
        guard model.levelsVersion == currentLevelsVersion, model.m.map(\.count) == shape, model.u.map(\.count) == shape else {
            throw StaleLevels(version: model.levelsVersion)
        }
        return model
    }

    enum CodingKeys: String, CodingKey {
        case lambda, m, u, iterations, converged, candidateLambda, phoneGivenAddressU, levelsVersion
    }

    public init(lambda: Double, m: [[Double]], u: [[Double]]) {
        self.lambda = lambda
        self.m = m
        self.u = u
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        lambda = try c.decode(Double.self, forKey: .lambda)
        m = try c.decode([[Double]].self, forKey: .m)
        u = try c.decode([[Double]].self, forKey: .u)
        iterations = try c.decodeIfPresent(Int.self, forKey: .iterations) ?? 0
        converged = try c.decodeIfPresent(Bool.self, forKey: .converged) ?? false
        candidateLambda = try c.decodeIfPresent(Double.self, forKey: .candidateLambda) ?? 0
        phoneGivenAddressU = try c.decodeIfPresent(Double.self, forKey: .phoneGivenAddressU)
        // Stored before the version was written: the first levels.
        levelsVersion = try c.decodeIfPresent(Int.self, forKey: .levelsVersion) ?? 1
    }

    /// The weight of `field` at `level` within vector `v` (conditional on the address for phone).
    func conditionalWeight(_ field: Field, level: Int, _ v: ComparisonVector) -> Double {
        if field == .phone, level == 2, let cu = phoneGivenAddressU, v.levels[Field.address.rawValue] >= Field.AddressLevel.house {
            return log2(m[field.rawValue][level] / max(cu, u[field.rawValue][level]))
        }
        return weight(field, level: level)
    }

    /// Neutral starting point for EM: agreement likely for matches, unlikely for non-matches.
    public static func initial() -> FSModel {
        var m: [[Double]] = [], u: [[Double]] = []
        for f in Field.allCases {
            // m rises geometrically with each step of closeness (not each level: a level cut out of
            // another must not lower the rest, `Field.priorSteps`); u falls.
            let mw = f.priorSteps.map { pow(3.0, $0) }
            let uw = f.priorSteps.map { pow(0.1, $0) }
            m.append(mw.map { $0 / mw.reduce(0, +) })
            u.append(uw.map { $0 / uw.reduce(0, +) })
        }
        return FSModel(lambda: 0.05, m: m, u: u)
    }

    /// The log2 Bayes factor of a field's level, without term-frequency adjustment.
    public func weight(_ field: Field, level: Int) -> Double {
        log2(m[field.rawValue][level] / u[field.rawValue][level])
    }

    public var priorWeight: Double { log2(lambda / (1 - lambda)) }

    public static func probability(weight: Double) -> Double {
        let o = pow(2.0, weight)
        return o.isInfinite ? 1 : o / (1 + o)
    }

    public static func weight(probability p: Double) -> Double {
        log2(max(p, 1e-12) / max(1 - p, 1e-12))
    }

    // MARK: - Estimation

    /// u from record pairs drawn at random (almost all non-matches), deterministic for a seed.
    public mutating func estimateU(_ records: [PersonRecord], comparator: Comparator, samples: Int = 200_000, seed: UInt64 = 7) {
        estimateU(records, comparator: comparator, junkMasks: comparator.junkMasks(records), samples: samples, seed: seed)
    }

    /// - parameter junkMasks: each record's `Comparator.junkMask`.
    mutating func estimateU(_ records: [PersonRecord], comparator: Comparator, junkMasks: [UInt8], samples: Int, seed: UInt64) {
        guard records.count > 1 else { return }
        var rng = SplitMix(seed: seed)
        let n = UInt64(records.count)
        let total = min(samples, records.count * (records.count - 1) / 2)
        // The random pairs are drawn in order, then compared on every core; counts are whole numbers,
        // so the sums do not depend on how the slices fall.
        var drawn = [(Int, Int)]()
        drawn.reserveCapacity(total)
        for _ in 0..<total {
            let i = Int(rng.next() % n)
            var j = Int(rng.next() % (n - 1))
            if j >= i { j += 1 }
            drawn.append((i, j))
        }
        let sample = drawn
        let zero = Field.allCases.map { [Int](repeating: 0, count: $0.levels.count) }
        var sliceCounts = [[[Int]]](repeating: zero, count: Matcher.slices(total))
        RecordView.with(records) { records in
            sliceCounts.withUnsafeMutableBufferPointer { buffer in
                let out = SlicedOutput(buffer)
                DispatchQueue.concurrentPerform(iterations: out.count) { slice in
                    var local = zero
                    for k in Matcher.range(slice, of: out.count, total) {
                        let (i, j) = sample[k]
                        let v = comparator.compare(records.pointer(i), records.pointer(j), junk: junkMasks[i] | junkMasks[j])
                        for f in Field.allCases where v[f] >= 0 { local[f.rawValue][Int(v[f])] += 1 }
                    }
                    out[slice] = local
                }
            }
        }
        var counts = Field.allCases.map { [Double](repeating: 0, count: $0.levels.count) }
        for f in counts.indices {
            for l in counts[f].indices { counts[f][l] = Double(sliceCounts.reduce(0) { $0 + $1[f][l] }) }
        }
        for f in counts.indices {
            // Laplace smoothing: a level never seen among random pairs is rare, not impossible.
            let sum = counts[f].reduce(0, +) + Double(counts[f].count)
            u[f] = counts[f].map { ($0 + 1) / sum }
        }
    }

    /// m and λ by expectation-maximisation over the candidate pairs' comparison vectors.
    /// - parameters:
    ///   - patterns: each distinct vector with how many pairs have it.
    ///   - freeU: also re-estimate u (the non-matches among blocked pairs agree far more often than
    ///     random pairs, so a u fixed from random pairs drives EM to call every candidate a match).
    public mutating func estimateM(_ patterns: [(ComparisonVector, Int)], maxIterations: Int = 40, tolerance: Double = 1e-5,
                                   freeU: Bool = false, lambdaOnly: Bool = false) {
        guard !patterns.isEmpty else { return }
        iterations = 0
        converged = false
        for _ in 0..<maxIterations {
            iterations += 1
            var mCounts = Field.allCases.map { [Double](repeating: 0, count: $0.levels.count) }
            var uCounts = mCounts
            var matchSum = 0.0, total = 0.0
            for (v, n) in patterns {
                var w = priorWeight
                for (f, l) in v.levels.enumerated() where l >= 0 { w += log2(m[f][Int(l)] / u[f][Int(l)]) }
                let p = FSModel.probability(weight: w) * Double(n)
                matchSum += p
                total += Double(n)
                let q = Double(n) - p
                for (f, l) in v.levels.enumerated() where l >= 0 { mCounts[f][Int(l)] += p; uCounts[f][Int(l)] += q }
            }
            var change = abs(matchSum / total - lambda)
            lambda = min(max(matchSum / total, 1e-9), 1 - 1e-9)
            if lambdaOnly {
                if change < tolerance { converged = true; break }
                continue
            }
            for f in mCounts.indices {
                let sum = mCounts[f].reduce(0, +)
                guard sum > 0 else { continue }
                // A small floor keeps every level possible for a match (typos happen).
                let next = mCounts[f].map { max($0 / sum, 1e-4) }
                let norm = next.reduce(0, +)
                for l in next.indices {
                    let v = next[l] / norm
                    change = max(change, abs(v - m[f][l]))
                    m[f][l] = v
                }
            }
            if freeU {
                for f in uCounts.indices {
                    let sum = uCounts[f].reduce(0, +)
                    guard sum > 0 else { continue }
                    let next = uCounts[f].map { max($0 / sum, 1e-6) }
                    let norm = next.reduce(0, +)
                    for l in next.indices { u[f][l] = next[l] / norm }
                }
            }
            if change < tolerance { converged = true; break }
        }
    }
}
