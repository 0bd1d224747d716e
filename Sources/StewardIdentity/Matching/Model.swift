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

    /// The weight of `field` at `level` within vector `v` (conditional on the address for phone).
    func conditionalWeight(_ field: Field, level: Int, _ v: ComparisonVector) -> Double {
        if field == .phone, level == 2, let cu = phoneGivenAddressU, v.levels[Field.address.rawValue] >= 3 {
            return log2(m[field.rawValue][level] / max(cu, u[field.rawValue][level]))
        }
        return weight(field, level: level)
    }

    /// Neutral starting point for EM: agreement likely for matches, unlikely for non-matches.
    public static func initial() -> FSModel {
        var m: [[Double]] = [], u: [[Double]] = []
        for f in Field.allCases {
            let n = f.levels.count
            // m rises geometrically towards the top level; u falls.
            let mw = (0..<n).map { pow(3.0, Double($0)) }
            let uw = (0..<n).map { pow(0.1, Double($0)) }
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

/// How common each value is, for term-frequency adjustment of exact agreement.
public struct TermFrequencies: Sendable {
    var tables: [Int: [[UInt8]: Int]] = [:]
    var totals: [Int: Int] = [:]

    /// Each record's count of its own value per adjusted field (0: none), kept by `init(_:)` for the
    /// matcher's scoring tables (`PairWeights`), so the value is not hashed again per pair.
    var recordCounts: [Int: [Int32]] = [:]

    public init(_ records: [PersonRecord]) {
        for f in Field.allCases where f.termFrequencyAdjusted {
            var slots: [[UInt8]: Int] = [:]
            var counts: [Int] = []
            var slotOf = [Int32](repeating: -1, count: records.count)
            var n = 0
            RecordView.with(records) { view in
                for i in records.indices {
                    let v = Self.value(f, view.pointer(i))
                    guard !v.isEmpty else { continue }
                    n += 1
                    if let k = slots[v] { counts[k] += 1; slotOf[i] = Int32(k); continue }
                    slots[v] = counts.count
                    slotOf[i] = Int32(counts.count)
                    counts.append(1)
                }
            }
            tables[f.rawValue] = slots.mapValues { counts[$0] }
            totals[f.rawValue] = n
            recordCounts[f.rawValue] = slotOf.map { $0 < 0 ? 0 : Int32(counts[Int($0)]) }
        }
    }

    /// Builds from explicit counts (explain, which reads them from the catalog).
    public init(counts: [Field: (value: [UInt8], count: Int, total: Int)]) {
        for (f, c) in counts {
            tables[f.rawValue] = [c.value: c.count]
            totals[f.rawValue] = c.total
        }
    }

    static func value(_ f: Field, _ r: PersonRecord) -> [UInt8] { withUnsafePointer(to: r) { value(f, $0) } }

    static func value(_ f: Field, _ r: UnsafePointer<PersonRecord>) -> [UInt8] {
        switch f {
        case .firstName: return r.pointee.first
        case .lastName: return r.pointee.last
        default: return []
        }
    }

    /// `frequency` from a count of the field's values.
    func frequency(_ f: Field, count: Int) -> Double? {
        guard let n = totals[f.rawValue], n > 0, count > 0 else { return nil }
        return Double(count) / Double(n)
    }

    /// The share of records holding this value, or nil when unknown.
    public func frequency(_ f: Field, _ value: [UInt8]) -> Double? {
        guard let t = tables[f.rawValue], let n = totals[f.rawValue], n > 0, let c = t[value] else { return nil }
        return Double(c) / Double(n)
    }
}

/// One field's contribution to a pair's score.
public struct FieldScore: Sendable {
    public var field: Field
    public var level: Int
    public var weight: Double
    /// Extra weight from the value's frequency (negative for common values), included in `weight`.
    public var termFrequency: Double
}

public struct PairScore: Sendable {
    public var vector: ComparisonVector
    public var fields: [FieldScore]
    public var weight: Double
    public var probability: Double
}

/// Scores record pairs with a fitted model.
public struct Scorer: Sendable {
    public let model: FSModel
    public let comparator: Comparator
    public let frequencies: TermFrequencies

    public init(model: FSModel, comparator: Comparator, frequencies: TermFrequencies) {
        self.model = model
        self.comparator = comparator
        self.frequencies = frequencies
    }

    public func score(_ a: PersonRecord, _ b: PersonRecord) -> PairScore {
        score(comparator.compare(a, b), a)
    }

    /// Scores a comparison vector of `a` against some record; `a` supplies the values for
    /// term-frequency adjustment.
    public func score(_ v: ComparisonVector, _ a: PersonRecord) -> PairScore {
        var w = model.priorWeight
        var fields: [FieldScore] = []
        for f in Field.allCases {
            let l = Int(v.levels[f.rawValue])
            guard l >= 0 else { fields.append(FieldScore(field: f, level: -1, weight: 0, termFrequency: 0)); continue }
            var fw = model.conditionalWeight(f, level: l, v)
            var tf = 0.0
            if f.termFrequencyAdjusted && l == f.levels.count - 1 {
                // Splink's adjustment: log2(m/tf) replaces log2(m/u) for exact agreement on this value.
                let value = v.swappedNames && (f == .firstName || f == .lastName) ? nil : TermFrequencies.value(f, a)
                if let value, let freq = frequencies.frequency(f, value) {
                    let uExact = model.u[f.rawValue][l]
                    tf = log2(uExact / max(freq, 1e-7))
                    fw += tf
                }
            }
            w += fw
            fields.append(FieldScore(field: f, level: l, weight: fw, termFrequency: tf))
        }
        return PairScore(vector: v, fields: fields, weight: w, probability: FSModel.probability(weight: w))
    }

    /// The match weight only (no per-field breakdown).
    public func weight(_ v: ComparisonVector, _ a: PersonRecord) -> Double {
        var w = model.priorWeight
        for f in Field.allCases {
            let l = Int(v.levels[f.rawValue])
            guard l >= 0 else { continue }
            w += model.conditionalWeight(f, level: l, v)
            if f.termFrequencyAdjusted && l == f.levels.count - 1 && !(v.swappedNames && (f == .firstName || f == .lastName)),
               let freq = frequencies.frequency(f, TermFrequencies.value(f, a)) {
                w += log2(model.u[f.rawValue][l] / max(freq, 1e-7))
            }
        }
        return w
    }
}

/// `Scorer.weight` for the matcher's hot loop, with everything that does not depend on the pair
/// computed once: each field's weight per level and each record's term-frequency term (log2 and a
/// hash of the value per pair before). The sums are made in the same order, so the weights are the
/// same to the bit.
struct PairWeights: Sendable {
    let prior: Double
    /// `FSModel.weight(field, level)`, at `field.rawValue * 8 + level`.
    let levels: [Double]
    /// The phone's exact-agreement weight on top of a shared street (`FSModel.conditionalWeight`).
    let phoneOverAddress: Double?
    /// Per record, the term-frequency term of its exact first and last name (NaN: none).
    let firstTF: [Double]
    let lastTF: [Double]

    /// - parameter frequencies: built from these records (`TermFrequencies.init(_:)`).
    init(model: FSModel, frequencies: TermFrequencies, records: Int) {
        prior = model.priorWeight
        var levels = [Double](repeating: 0, count: Field.allCases.count * 8)
        for f in Field.allCases { for l in f.levels.indices { levels[f.rawValue * 8 + l] = model.weight(f, level: l) } }
        self.levels = levels
        if let cu = model.phoneGivenAddressU {
            phoneOverAddress = log2(model.m[Field.phone.rawValue][2] / max(cu, model.u[Field.phone.rawValue][2]))
        } else {
            phoneOverAddress = nil
        }
        func terms(_ f: Field) -> [Double] {
            let exact = f.levels.count - 1, uExact = model.u[f.rawValue][exact]
            let counts = frequencies.recordCounts[f.rawValue] ?? [Int32](repeating: 0, count: records)
            return counts.map { c in frequencies.frequency(f, count: Int(c)).map { log2(uExact / max($0, 1e-7)) } ?? .nan }
        }
        firstTF = terms(.firstName)
        lastTF = terms(.lastName)
    }

    /// The weight of vector `v` with record `a`'s values for the term-frequency adjustment.
    func weight(_ v: PackedVector, _ a: Int) -> Double {
        var w = prior
        for f in Field.allCases {
            let l = Int(v[f])
            guard l >= 0 else { continue }
            if f == .phone, l == 2, let p = phoneOverAddress, v[.address] >= 3 { w += p } else { w += levels[f.rawValue * 8 + l] }
            if f.termFrequencyAdjusted && l == f.levels.count - 1 && !v.swappedNames {
                let tf = f == .firstName ? firstTF[a] : lastTF[a]
                if !tf.isNaN { w += tf }
            }
        }
        return w
    }
}

/// A small deterministic PRNG (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
