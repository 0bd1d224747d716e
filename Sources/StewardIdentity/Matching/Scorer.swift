import Foundation

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
