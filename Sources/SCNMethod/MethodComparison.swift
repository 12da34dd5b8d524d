import Foundation
import SCNTensor

/// Whether a second training method is more accurate than a first, from runs of several seeds: pairs of
/// trained models (the first method's and the second's of the same seed) evaluated on the same samples.
///
/// A single pair's `PairedComparison` speaks of two trained models: its interval holds the test split's
/// sampling only, while two seeds of one method often differ by more. Here the difference is averaged over
/// the pairs and given two intervals: one from the spread of the pairs' differences (Student's t over the
/// seeds: the training's randomness, with the test split fixed), and one from a two-level bootstrap that
/// resamples both the pairs and the samples (the training's randomness and the test split's sampling).
public struct MethodComparison: Codable, Equatable, Sendable {
    /// The number of samples, the same in every run.
    public var count: Int
    /// Each pair's own comparison, in the order given.
    public var pairs: [PairedComparison]
    /// Each method's accuracy and mean class accuracy averaged over its runs.
    public var firstAccuracy: Double
    public var secondAccuracy: Double
    public var firstMeanClassAccuracy: Double
    public var secondMeanClassAccuracy: Double
    /// Second minus first, averaged over the pairs, in 0...1 units (0.01 = one percentage point).
    public var accuracyDifference: Double
    public var meanClassAccuracyDifference: Double
    /// The standard deviation of the pairs' accuracy differences (n - 1 in the denominator; nil for one pair).
    public var accuracyDifferenceStandardDeviation: Double?
    /// Student's t interval of the mean difference over the pairs (nil for one pair): mean +- t(level,
    /// pairs - 1) standard deviation / sqrt(pairs).
    public var accuracyDifferenceSeedInterval: ConfidenceInterval?
    public var meanClassAccuracyDifferenceSeedInterval: ConfidenceInterval?
    /// The two-level bootstrap's percentile interval of the mean difference: each resample draws as many
    /// pairs as there are, with replacement, and as many samples, with replacement, the same for every
    /// drawn pair (they share the test split). With few pairs it is narrower than it should be (a
    /// bootstrap of k values has (k - 1) / k of their variance); the t interval is the safer one then.
    public var accuracyDifferenceBootstrapInterval: ConfidenceInterval
    public var meanClassAccuracyDifferenceBootstrapInterval: ConfidenceInterval
    /// The pairs in which the second method is more accurate, and the first.
    public var secondAheadCount: Int
    public var firstAheadCount: Int
    /// Per class (by label): each method's accuracy averaged over its runs (nil for a class without samples).
    public var firstClassAccuracies: [Double?]
    public var secondClassAccuracies: [Double?]
    public var resamples: Int
    public var seed: UInt64

    /// - Parameters:
    ///   - pairs: per pair, whether each of its two models' predictions is right, per sample (all of `labels.count`).
    ///   - labels: each sample's class in `0..<classCount`.
    ///   - level: the intervals' confidence, in (0, 1).
    ///   - resamples: bootstrap resamples (at least 1), also those of each pair's own comparison.
    ///   - seed: the resampling's seed: the same inputs and seed give the same intervals.
    public init(pairs: [(firstCorrect: [Bool], secondCorrect: [Bool])], labels: [Int], classCount: Int,
                level: Double = 0.95, resamples: Int = 10_000, seed: UInt64 = 1) {
        let n = labels.count, k = pairs.count
        precondition(k >= 1 && n >= 1 && pairs.allSatisfy { $0.firstCorrect.count == n && $0.secondCorrect.count == n })
        count = n
        self.resamples = resamples
        self.seed = seed
        let own = pairs.map {
            PairedComparison(firstCorrect: $0.firstCorrect, secondCorrect: $0.secondCorrect, labels: labels, classCount: classCount,
                             level: level, resamples: resamples, seed: seed)
        }
        self.pairs = own
        func average(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
        firstAccuracy = average(own.map(\.firstAccuracy))
        secondAccuracy = average(own.map(\.secondAccuracy))
        firstMeanClassAccuracy = average(own.map(\.firstMeanClassAccuracy))
        secondMeanClassAccuracy = average(own.map(\.secondMeanClassAccuracy))
        let differences = own.map(\.accuracyDifference), classDifferences = own.map(\.meanClassAccuracyDifference)
        accuracyDifference = average(differences)
        meanClassAccuracyDifference = average(classDifferences)
        secondAheadCount = differences.filter { $0 > 0 }.count
        firstAheadCount = differences.filter { $0 < 0 }.count
        firstClassAccuracies = (0..<classCount).map { c in own[0].firstClassAccuracies[c].map { _ in average(own.map { $0.firstClassAccuracies[c]! }) } }
        secondClassAccuracies = (0..<classCount).map { c in own[0].secondClassAccuracies[c].map { _ in average(own.map { $0.secondClassAccuracies[c]! }) } }

        accuracyDifferenceStandardDeviation = k < 2 ? nil : Self.sampleStandardDeviation(differences)
        accuracyDifferenceSeedInterval = Self.studentInterval(differences, level: level)
        meanClassAccuracyDifferenceSeedInterval = Self.studentInterval(classDifferences, level: level)

        var generator = RandomGenerator(seed: seed)
        var accuracyDifferences = [Double](), meanClassDifferences = [Double]()
        accuracyDifferences.reserveCapacity(resamples)
        meanClassDifferences.reserveCapacity(resamples)
        var drawnSamples = [Int](repeating: 0, count: n)
        func draw(below bound: Int) -> Int { Int(UInt64(bound).multipliedFullWidth(by: generator.next()).high) }
        for _ in 0..<resamples {
            let drawnPairs = (0..<k).map { _ in draw(below: k) }
            for slot in 0..<n { drawnSamples[slot] = draw(below: n) }
            var accuracySum = 0.0, meanClassSum = 0.0
            for p in drawnPairs {
                let resampled = PairedComparison.differences(over: drawnSamples, firstCorrect: pairs[p].firstCorrect,
                                                             secondCorrect: pairs[p].secondCorrect, labels: labels, classCount: classCount)
                accuracySum += resampled.accuracy
                meanClassSum += resampled.meanClassAccuracy
            }
            accuracyDifferences.append(accuracySum / Double(k))
            meanClassDifferences.append(meanClassSum / Double(k))
        }
        accuracyDifferenceBootstrapInterval = PairedComparison.percentileInterval(accuracyDifferences, level: level)
        meanClassAccuracyDifferenceBootstrapInterval = PairedComparison.percentileInterval(meanClassDifferences, level: level)
    }

    /// The standard deviation of `values` with n - 1 in the denominator (at least two values).
    static func sampleStandardDeviation(_ values: [Double]) -> Double {
        let mean = values.reduce(0, +) / Double(values.count)
        return (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)).squareRoot()
    }

    /// Student's t interval of the mean of `values` (nil for fewer than two).
    static func studentInterval(_ values: [Double], level: Double) -> ConfidenceInterval? {
        guard values.count >= 2 else { return nil }
        let mean = values.reduce(0, +) / Double(values.count)
        let halfWidth = studentTQuantile(0.5 + level / 2, degreesOfFreedom: values.count - 1)
            * sampleStandardDeviation(values) / Double(values.count).squareRoot()
        return ConfidenceInterval(lower: mean - halfWidth, upper: mean + halfWidth, level: level)
    }
}
