import Foundation
import SCNTensor

/// Whether a second classifier is more accurate than a first on the same samples (a paired comparison):
/// the accuracy difference with a bootstrap interval over the samples, the same for mean class accuracy,
/// and McNemar's exact test on the samples only one of them gets right.
///
/// Paired figures are tighter than two separate intervals: both classifiers see the same faces, so
/// the faces every model gets right or wrong do not add to the uncertainty of the difference. They speak
/// of these two trained models on this test split; whether a *method* is better needs several seeds.
public struct PairedComparison: Codable, Equatable, Sendable {
    /// The number of samples.
    public var count: Int
    public var firstAccuracy: Double
    public var secondAccuracy: Double
    /// Wilson intervals of the two accuracies.
    public var firstAccuracyInterval: ConfidenceInterval
    public var secondAccuracyInterval: ConfidenceInterval
    /// Second minus first, in 0...1 units (0.01 = one percentage point).
    public var accuracyDifference: Double
    /// The bootstrap percentile interval of `accuracyDifference`.
    public var accuracyDifferenceInterval: ConfidenceInterval
    public var firstMeanClassAccuracy: Double
    public var secondMeanClassAccuracy: Double
    /// Second minus first.
    public var meanClassAccuracyDifference: Double
    /// The bootstrap percentile interval of `meanClassAccuracyDifference` (in each resample the mean over
    /// the classes it holds).
    public var meanClassAccuracyDifferenceInterval: ConfidenceInterval
    /// Per class (by label): its samples, and each classifier's accuracy on them (nil for a class without samples).
    public var classCounts: [Int]
    public var firstClassAccuracies: [Double?]
    public var secondClassAccuracies: [Double?]
    /// The samples only the first classifier gets right, and only the second.
    public var onlyFirstCorrect: Int
    public var onlySecondCorrect: Int
    /// McNemar's exact two-sided p-value: the chance of a split of the discordant samples at least as
    /// uneven as this one if either classifier were as likely to be the one right on each (1 with none).
    public var mcNemarPValue: Double
    /// The bootstrap's resample count and seed.
    public var resamples: Int
    public var seed: UInt64

    /// - Parameters:
    ///   - firstCorrect, secondCorrect: per sample, whether each classifier's prediction is its label.
    ///   - labels: each sample's class in `0..<classCount`, for mean class accuracy.
    ///   - level: the intervals' confidence, in (0, 1).
    ///   - resamples: bootstrap resamples of the samples (at least 1; 10,000 for 2-3 significant digits).
    ///   - seed: the resampling's seed: the same inputs and seed give the same intervals.
    public init(firstCorrect: [Bool], secondCorrect: [Bool], labels: [Int], classCount: Int,
                level: Double = 0.95, resamples: Int = 10_000, seed: UInt64 = 1) {
        let n = labels.count
        precondition(n >= 1 && firstCorrect.count == n && secondCorrect.count == n && resamples >= 1 && level > 0 && level < 1)
        precondition(labels.allSatisfy { (0..<classCount).contains($0) }, "PairedComparison: label out of range")
        count = n
        self.resamples = resamples
        self.seed = seed
        let firstRight = firstCorrect.filter { $0 }.count, secondRight = secondCorrect.filter { $0 }.count
        firstAccuracy = Double(firstRight) / Double(n)
        secondAccuracy = Double(secondRight) / Double(n)
        firstAccuracyInterval = .wilson(successes: firstRight, trials: n, level: level)
        secondAccuracyInterval = .wilson(successes: secondRight, trials: n, level: level)
        accuracyDifference = secondAccuracy - firstAccuracy
        onlyFirstCorrect = zip(firstCorrect, secondCorrect).filter { $0 && !$1 }.count
        onlySecondCorrect = zip(firstCorrect, secondCorrect).filter { !$0 && $1 }.count
        mcNemarPValue = Self.mcNemarExactPValue(onlyFirstCorrect, onlySecondCorrect)

        let all = Array(0..<n)
        classCounts = labels.reduce(into: [Int](repeating: 0, count: classCount)) { $0[$1] += 1 }
        firstClassAccuracies = Self.classAccuracies(of: all, correct: firstCorrect, labels: labels, classCount: classCount)
        secondClassAccuracies = Self.classAccuracies(of: all, correct: secondCorrect, labels: labels, classCount: classCount)
        firstMeanClassAccuracy = Self.mean(of: firstClassAccuracies)
        secondMeanClassAccuracy = Self.mean(of: secondClassAccuracies)
        meanClassAccuracyDifference = secondMeanClassAccuracy - firstMeanClassAccuracy

        var generator = RandomGenerator(seed: seed)
        var accuracyDifferences = [Double](), meanClassDifferences = [Double]()
        accuracyDifferences.reserveCapacity(resamples)
        meanClassDifferences.reserveCapacity(resamples)
        var drawn = [Int](repeating: 0, count: n)
        for _ in 0..<resamples {
            for slot in 0..<n { drawn[slot] = Int(UInt64(n).multipliedFullWidth(by: generator.next()).high) }
            let resampled = Self.differences(over: drawn, firstCorrect: firstCorrect, secondCorrect: secondCorrect, labels: labels, classCount: classCount)
            accuracyDifferences.append(resampled.accuracy)
            meanClassDifferences.append(resampled.meanClassAccuracy)
        }
        accuracyDifferenceInterval = Self.percentileInterval(accuracyDifferences, level: level)
        meanClassAccuracyDifferenceInterval = Self.percentileInterval(meanClassDifferences, level: level)
    }

    /// Per class, the share of `samples` (indices, repeats counted) of that class that are correct; nil
    /// for a class none of them has.
    static func classAccuracies(of samples: [Int], correct: [Bool], labels: [Int], classCount: Int) -> [Double?] {
        var totals = [Int](repeating: 0, count: classCount), rights = [Int](repeating: 0, count: classCount)
        for i in samples {
            totals[labels[i]] += 1
            if correct[i] { rights[labels[i]] += 1 }
        }
        return (0..<classCount).map { totals[$0] == 0 ? nil : Double(rights[$0]) / Double(totals[$0]) }
    }

    /// Over `samples` (indices, repeats counted): the second classifier's accuracy minus the first's, and
    /// the same for mean class accuracy (over the classes `samples` holds). One pass, for the bootstrap's resamples.
    static func differences(over samples: [Int], firstCorrect: [Bool], secondCorrect: [Bool], labels: [Int],
                            classCount: Int) -> (accuracy: Double, meanClassAccuracy: Double) {
        var totals = [Int](repeating: 0, count: classCount)
        var firstRights = [Int](repeating: 0, count: classCount), secondRights = [Int](repeating: 0, count: classCount)
        for i in samples {
            totals[labels[i]] += 1
            if firstCorrect[i] { firstRights[labels[i]] += 1 }
            if secondCorrect[i] { secondRights[labels[i]] += 1 }
        }
        func accuracies(_ rights: [Int]) -> [Double?] {
            (0..<classCount).map { totals[$0] == 0 ? nil : Double(rights[$0]) / Double(totals[$0]) }
        }
        let secondMinusFirst = secondRights.reduce(0, +) - firstRights.reduce(0, +)
        return (Double(secondMinusFirst) / Double(samples.count), mean(of: accuracies(secondRights)) - mean(of: accuracies(firstRights)))
    }

    /// The mean of the classes' accuracies that are known (mean class accuracy; 0 with none).
    static func mean(of classAccuracies: [Double?]) -> Double {
        let present = classAccuracies.compactMap { $0 }
        return present.reduce(0, +) / Double(max(1, present.count))
    }

    /// The central `level` interval of `values` by percentiles (linear interpolation between order
    /// statistics, as numpy's default).
    static func percentileInterval(_ values: [Double], level: Double) -> ConfidenceInterval {
        let sorted = values.sorted()
        func quantile(_ q: Double) -> Double {
            let position = q * Double(sorted.count - 1), below = Int(position.rounded(.down))
            let above = min(below + 1, sorted.count - 1)
            return sorted[below] + (position - Double(below)) * (sorted[above] - sorted[below])
        }
        return ConfidenceInterval(lower: quantile((1 - level) / 2), upper: quantile((1 + level) / 2), level: level)
    }

    /// McNemar's exact test: twice the binomial(b + c, 1/2) probability of at most min(b, c), capped at 1.
    static func mcNemarExactPValue(_ b: Int, _ c: Int) -> Double {
        let n = b + c
        guard n > 0 else { return 1 }
        // log of C(n, k) / 2^n for k = 0...min(b, c), summed in log space (2^-n underflows past n = 1074).
        let logNFactorial: Double = lgamma(Double(n + 1)), logTwoToTheN: Double = Double(n) * log(2.0)
        let logTerms: [Double] = (0...min(b, c)).map { k in
            let logDenominator: Double = lgamma(Double(k + 1)) + lgamma(Double(n - k + 1))
            return logNFactorial - logDenominator - logTwoToTheN
        }
        let largest = logTerms.max()!
        let logTail = largest + log(logTerms.reduce(0) { $0 + exp($1 - largest) })
        return min(1, 2 * exp(logTail))
    }
}
