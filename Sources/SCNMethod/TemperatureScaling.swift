import Foundation

/// Temperature scaling (Guo et al., 2017): class probabilities `p` become `p^(1/T) / Σ p^(1/T)`, which for one
/// network is exactly `softmax(logits / T)` (and, for an ensemble's or a mirror average's mean probabilities, the
/// same map applied to their logarithms). It never changes which class is most probable, so accuracy stays;
/// `T > 1` softens over-confident probabilities, `T < 1` sharpens under-confident ones.
public struct TemperatureScaling: Codable, Equatable, Sendable {
    /// The temperature `T`, positive; 1 leaves probabilities as they are.
    public var temperature: Double

    /// The temperatures a fit may return.
    public static let fittedRange: ClosedRange<Double> = 0.01...100

    public init(temperature: Double) {
        precondition(temperature > 0 && temperature.isFinite, "a temperature must be positive and finite")
        self.temperature = temperature
    }

    /// Fits `T` minimizing the mean negative log-likelihood of `labels` (fit it on a validation split, never on
    /// the split it is evaluated on). The likelihood is concave in `1/T`, so the fit bisects the sign of its
    /// derivative; the result lies in `fittedRange` (its bound where every sample is right and confident).
    /// - Parameters:
    ///   - probabilities: one row of class probabilities per sample.
    ///   - labels: each sample's true class.
    public init(fitting probabilities: [[Float]], labels: [Int]) {
        precondition(probabilities.count == labels.count && !labels.isEmpty, "one label per row, at least one row")
        let logarithms = probabilities.map { $0.map { Foundation.log(Double(max($0, .leastNonzeroMagnitude))) } }
        // d/dβ of the mean NLL at inverse temperature β: E_softmax(β log p)[log p] - log p(label), rising in β.
        func slope(_ beta: Double) -> Double {
            var sum = 0.0
            for (row, label) in zip(logarithms, labels) {
                let top = row.max()! * beta
                var normalizer = 0.0, weighted = 0.0
                for value in row {
                    let weight = Foundation.exp(beta * value - top)
                    normalizer += weight
                    weighted += weight * value
                }
                sum += weighted / normalizer - row[label]
            }
            return sum / Double(labels.count)
        }
        // Bisect log β over the range of 1/T.
        var low = Foundation.log(1 / Self.fittedRange.upperBound), high = Foundation.log(1 / Self.fittedRange.lowerBound)
        if slope(Foundation.exp(high)) <= 0 {
            low = high
        } else if slope(Foundation.exp(low)) >= 0 {
            high = low
        }
        for _ in 0..<60 where high - low > 1e-12 {
            let middle = (low + high) / 2
            if slope(Foundation.exp(middle)) < 0 { low = middle } else { high = middle }
        }
        self.init(temperature: 1 / Foundation.exp((low + high) / 2))
    }

    /// One sample's probabilities at this temperature (same length, summing to 1).
    public func scaled(_ probabilities: [Float]) -> [Float] {
        guard temperature != 1 else { return probabilities }
        let logarithms = probabilities.map { Foundation.log(Double(max($0, .leastNonzeroMagnitude))) / temperature }
        let top = logarithms.max() ?? 0
        let weights = logarithms.map { Foundation.exp($0 - top) }
        let normalizer = weights.reduce(0, +)
        return weights.map { Float($0 / normalizer) }
    }

    /// Every sample's probabilities at this temperature.
    public func scaled(_ probabilities: [[Float]]) -> [[Float]] { probabilities.map(scaled) }
}
