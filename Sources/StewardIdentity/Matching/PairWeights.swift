import Foundation

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
            if f == .phone, l == 2, let p = phoneOverAddress, v[.address] >= Field.AddressLevel.house { w += p } else { w += levels[f.rawValue * 8 + l] }
            if f.termFrequencyAdjusted && l == f.levels.count - 1 && !v.swappedNames {
                let tf = f == .firstName ? firstTF[a] : lastTF[a]
                if !tf.isNaN { w += tf }
            }
        }
        return w
    }
}
