/// The data-quality score formula, in one place (documented in the README):
/// - a check's score = passed / evaluated;
/// - a source's score and each dimension's score = mean of its checks' scores weighted by rows
///   (row checks weigh the rows they evaluated; dataset checks such as row_count and freshness
///   weigh the rows of the data they judged);
/// - the overall score = mean of source scores weighted by each source's rows.
public enum QualityScoring {
    public struct Weighted: Sendable, Equatable {
        public var score: Double?
        public var dimensions: [QualityDimension: Double]
    }

    /// `weight` of a check result: what it counts for in the row-weighted means.
    public static func checkWeight(type: String, evaluated: Int, sourceRows: Int) -> Int {
        isDatasetCheck(type) ? max(sourceRows, 1) : evaluated
    }

    public static func isDatasetCheck(_ type: String) -> Bool { type == "row_count" || type == "freshness" }

    public static func sourceQuality(source: String, checks: [CheckStatus], weight: Int) -> SourceQuality {
        var total = 0.0, totalWeight = 0.0
        var dimSum: [QualityDimension: Double] = [:], dimWeight: [QualityDimension: Double] = [:]
        for check in checks {
            guard let score = check.score else { continue }
            let w = Double(checkWeight(type: check.type, evaluated: check.evaluated, sourceRows: weight))
            guard w > 0 else { continue }
            total += score * w; totalWeight += w
            if let dim = QualityDimension(rawValue: check.dimension) {
                dimSum[dim, default: 0] += score * w; dimWeight[dim, default: 0] += w
            }
        }
        var dims: [QualityDimension: Double] = [:]
        for (dim, w) in dimWeight where w > 0 { dims[dim] = dimSum[dim]! / w }
        return SourceQuality(source: source, score: totalWeight > 0 ? total / totalWeight : nil,
                             weight: weight, dimensions: dims, checks: checks)
    }

    public static func overall(_ sources: [SourceQuality]) -> Weighted {
        var total = 0.0, totalWeight = 0.0
        var dimSum: [QualityDimension: Double] = [:], dimWeight: [QualityDimension: Double] = [:]
        for source in sources {
            guard let score = source.score else { continue }
            let w = Double(max(source.weight, 1))
            total += score * w; totalWeight += w
            for (dim, s) in source.dimensions { dimSum[dim, default: 0] += s * w; dimWeight[dim, default: 0] += w }
        }
        var dims: [QualityDimension: Double] = [:]
        for (dim, w) in dimWeight where w > 0 { dims[dim] = dimSum[dim]! / w }
        return Weighted(score: totalWeight > 0 ? total / totalWeight : nil, dimensions: dims)
    }
}
