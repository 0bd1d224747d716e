import Foundation

/// Binary logistic regression on standardised features, fitted by full-batch gradient descent with
/// a small L2 penalty. Deterministic: zero initial weights, fixed iteration count, no shuffling.
///
/// ```swift
/// let model = LogisticRegression.fit(x: rows, y: labels)
/// model.probability(rows[0])   // P(y = true)
/// ```
public struct LogisticRegression: Codable, Sendable, Equatable {
    public var means: [Double]
    public var scales: [Double]
    public var weights: [Double]
    public var bias: Double
    public var iterations: Int

    /// - parameters:
    ///   - x: one row of features per example (equal lengths).
    ///   - learningRate: step on standardised features; 0.5 converges within a few hundred steps.
    ///   - l2: penalty on the weights (not the bias), keeps separable data from diverging.
    public static func fit(x: [[Double]], y: [Bool], iterations: Int = 400, learningRate: Double = 0.5,
                           l2: Double = 1e-3) -> LogisticRegression {
        let d = x.first?.count ?? 0
        let n = Double(max(x.count, 1))
        var means = [Double](repeating: 0, count: d), scales = [Double](repeating: 1, count: d)
        for j in 0..<d {
            let m = x.reduce(0) { $0 + $1[j] } / n
            let v = x.reduce(0) { $0 + ($1[j] - m) * ($1[j] - m) } / n
            means[j] = m
            // A constant feature carries no information: scale 1 keeps it at 0 after centring.
            scales[j] = v > 1e-12 ? v.squareRoot() : 1
        }
        // Standardised copy in one flat buffer: the loop below reads it `iterations` times.
        var z = [Double](repeating: 0, count: x.count * d)
        for (i, row) in x.enumerated() { for j in 0..<d { z[i * d + j] = (row[j] - means[j]) / scales[j] } }
        let target = y.map { $0 ? 1.0 : 0.0 }
        var w = [Double](repeating: 0, count: d), b = 0.0
        var grad = [Double](repeating: 0, count: d)
        for _ in 0..<iterations {
            for j in 0..<d { grad[j] = 0 }
            var gb = 0.0
            for i in 0..<x.count {
                var s = b
                for j in 0..<d { s += w[j] * z[i * d + j] }
                let err = sigmoid(s) - target[i]
                gb += err
                for j in 0..<d { grad[j] += err * z[i * d + j] }
            }
            for j in 0..<d { w[j] -= learningRate * (grad[j] / n + l2 * w[j]) }
            b -= learningRate * gb / n
        }
        return LogisticRegression(means: means, scales: scales, weights: w, bias: b, iterations: iterations)
    }

    public func probability(_ row: [Double]) -> Double {
        var s = bias
        for j in weights.indices { s += weights[j] * (row[j] - means[j]) / scales[j] }
        return Self.sigmoid(s)
    }

    static func sigmoid(_ s: Double) -> Double {
        s >= 0 ? 1 / (1 + exp(-s)) : exp(s) / (1 + exp(s))
    }
}

/// How well scores separate two classes.
public enum Classification {
    /// Share of examples whose score falls on the right side of 0.5.
    public static func accuracy(scores: [Double], labels: [Bool]) -> Double {
        guard !scores.isEmpty else { return 0 }
        let right = zip(scores, labels).filter { ($0.0 >= 0.5) == $0.1 }.count
        return Double(right) / Double(scores.count)
    }

    /// Area under the ROC curve: the probability that a random positive scores above a random
    /// negative (ties count half), by ranks (Mann-Whitney U). Nil when a class is absent.
    public static func auc(scores: [Double], labels: [Bool]) -> Double? {
        let positives = labels.filter { $0 }.count, negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            // Tied scores share the mean of their ranks (1-based).
            let rank = Double(i + j) / 2 + 1
            for k in i...j where labels[order[k]] { rankSum += rank }
            i = j + 1
        }
        let u = rankSum - Double(positives * (positives + 1)) / 2
        return u / (Double(positives) * Double(negatives))
    }

    /// A deterministic held-out split: the same id and seed always land on the same side.
    public static func isHeldOut(_ id: String, seed: UInt64, share: Double) -> Bool {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for b in id.utf8 { h ^= UInt64(b); h = h &* 0x100_0000_01b3 }
        var mix = SplitMix(seed: h)
        return Double(mix.next() >> 11) / Double(1 << 53) < share
    }
}
