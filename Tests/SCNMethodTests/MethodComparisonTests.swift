import Foundation
import SCNData
import SCNTensor
import XCTest
@testable import SCNMethod

/// Comparisons of two methods from runs of several seeds: the averages and the t interval against figures
/// computed here by hand, the two-level bootstrap against its exact variance.
final class MethodComparisonTests: XCTestCase {
    /// `count` pairs of runs on `n` samples of 4 classes: a first method right on about 80% and a second on
    /// about 80% + `shift[i]` in pair i, their mistakes overlapping.
    private func runs(n: Int, shifts: [Double], seed: UInt64) -> (pairs: [(firstCorrect: [Bool], secondCorrect: [Bool])], labels: [Int]) {
        var g = RandomGenerator(seed: seed)
        let labels = (0..<n).map { _ in Int(g.next() % 4) }
        let hard = (0..<n).map { _ in g.nextUniform() < 0.25 }
        let pairs = shifts.map { shift in
            (firstCorrect: hard.map { $0 ? g.nextUniform() < 0.3 : g.nextUniform() < 0.97 },
             secondCorrect: hard.map { $0 ? g.nextUniform() < Float(0.3 + 4 * shift) : g.nextUniform() < 0.97 })
        }
        return (pairs, labels)
    }

    func testAveragesAndTheSeedIntervalAreThoseOfThePairs() {
        let (pairs, labels) = runs(n: 800, shifts: [0.01, -0.02, 0.04], seed: 11)
        let comparison = MethodComparison(pairs: pairs, labels: labels, classCount: 4, resamples: 300, seed: 5)
        XCTAssertEqual(comparison.count, 800)
        XCTAssertEqual(comparison.pairs.count, 3)
        var differences: [Double] = []
        for (pair, own) in zip(pairs, comparison.pairs) {
            XCTAssertEqual(own, PairedComparison(firstCorrect: pair.firstCorrect, secondCorrect: pair.secondCorrect, labels: labels, classCount: 4,
                                                 resamples: 300, seed: 5))
            differences.append(Double(pair.secondCorrect.filter { $0 }.count - pair.firstCorrect.filter { $0 }.count) / 800)
        }
        let mean = differences.reduce(0, +) / 3
        XCTAssertEqual(comparison.accuracyDifference, mean, accuracy: 1e-12)
        XCTAssertEqual(comparison.secondAccuracy - comparison.firstAccuracy, mean, accuracy: 1e-12)
        XCTAssertEqual(comparison.firstAccuracy, comparison.pairs.map(\.firstAccuracy).reduce(0, +) / 3, accuracy: 1e-12)
        XCTAssertEqual(comparison.meanClassAccuracyDifference, comparison.pairs.map(\.meanClassAccuracyDifference).reduce(0, +) / 3, accuracy: 1e-12)
        // Student's t with 2 degrees of freedom: 4.302652729749464 (the 97.5% quantile) * s / sqrt(3).
        let s = (differences.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 2).squareRoot()
        XCTAssertEqual(comparison.accuracyDifferenceStandardDeviation!, s, accuracy: 1e-12)
        let interval = comparison.accuracyDifferenceSeedInterval!
        XCTAssertEqual(interval.lower, mean - 4.302652729749464 * s / 3.0.squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(interval.upper, mean + 4.302652729749464 * s / 3.0.squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(comparison.secondAheadCount + comparison.firstAheadCount, differences.filter { $0 != 0 }.count)
        XCTAssertEqual(comparison.secondAheadCount, differences.filter { $0 > 0 }.count)
        for c in 0..<4 {
            XCTAssertEqual(comparison.secondClassAccuracies[c]!, comparison.pairs.map { $0.secondClassAccuracies[c]! }.reduce(0, +) / 3, accuracy: 1e-12)
        }

        // One pair: no spread over seeds, and the bootstrap is that of the images alone.
        let single = MethodComparison(pairs: [pairs[0]], labels: labels, classCount: 4, resamples: 300, seed: 5)
        XCTAssertNil(single.accuracyDifferenceSeedInterval)
        XCTAssertNil(single.accuracyDifferenceStandardDeviation)
        XCTAssertEqual(single.accuracyDifference, comparison.pairs[0].accuracyDifference)
        // The same seed again: the same figures; the methods swapped: the differences and intervals mirrored.
        XCTAssertEqual(comparison, MethodComparison(pairs: pairs, labels: labels, classCount: 4, resamples: 300, seed: 5))
        let swapped = MethodComparison(pairs: pairs.map { (firstCorrect: $0.secondCorrect, secondCorrect: $0.firstCorrect) },
                                       labels: labels, classCount: 4, resamples: 300, seed: 5)
        XCTAssertEqual(swapped.accuracyDifference, -comparison.accuracyDifference, accuracy: 1e-12)
        XCTAssertEqual(swapped.accuracyDifferenceBootstrapInterval.lower, -comparison.accuracyDifferenceBootstrapInterval.upper, accuracy: 1e-12)
        XCTAssertEqual(swapped.accuracyDifferenceSeedInterval!.upper, -comparison.accuracyDifferenceSeedInterval!.lower, accuracy: 1e-12)
        XCTAssertEqual(swapped.secondAheadCount, comparison.firstAheadCount)
    }

    /// The two-level bootstrap's mean difference T has, exactly, the variance
    /// sigma_s^2 / k + (Var_i(e_i) + (mean_i v_i - sigma_s^2) / k) / n, where d[j][i] is pair j's difference on
    /// sample i (-1, 0 or 1), sigma_s^2 the variance over the pairs of their mean differences, e_i the mean
    /// over the pairs of d[j][i] and v_i their variance (all with n or k in the denominator); its 95%
    /// interval is about +-1.96 of its standard deviation around the mean.
    func testTwoLevelBootstrapHasTheVarianceOfResamplingPairsAndSamples() {
        let (pairs, labels) = runs(n: 1000, shifts: [0.0, 0.04, -0.02, 0.06], seed: 3)
        let comparison = MethodComparison(pairs: pairs, labels: labels, classCount: 4, resamples: 2500, seed: 9)
        let k = Double(pairs.count), n = Double(labels.count)
        let d = pairs.map { pair in zip(pair.firstCorrect, pair.secondCorrect).map { Double(($1 ? 1 : 0) - ($0 ? 1 : 0)) } }
        func populationVariance(_ values: [Double]) -> Double {
            let mean = values.reduce(0, +) / Double(values.count)
            return values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
        }
        let pairMeans = d.map { $0.reduce(0, +) / n }
        let seedVariance = populationVariance(pairMeans)
        let perSample = (0..<labels.count).map { i in d.map { $0[i] } }
        let variance = seedVariance / k
            + (populationVariance(perSample.map { $0.reduce(0, +) / k }) + (perSample.map(populationVariance).reduce(0, +) / n - seedVariance) / k) / n
        let z = standardNormalQuantile(0.975), deviation = variance.squareRoot()
        let mean = pairMeans.reduce(0, +) / k
        XCTAssertEqual(comparison.accuracyDifferenceBootstrapInterval.lower, mean - z * deviation, accuracy: 0.15 * deviation)
        XCTAssertEqual(comparison.accuracyDifferenceBootstrapInterval.upper, mean + z * deviation, accuracy: 0.15 * deviation)
        // Wider than any one pair's interval of the images alone: the seeds' spread adds to it.
        let widest = comparison.pairs.map { $0.accuracyDifferenceInterval.upper - $0.accuracyDifferenceInterval.lower }.max()!
        XCTAssertGreaterThan(comparison.accuracyDifferenceBootstrapInterval.upper - comparison.accuracyDifferenceBootstrapInterval.lower, widest)
        XCTAssertTrue(comparison.meanClassAccuracyDifferenceBootstrapInterval.lower < comparison.meanClassAccuracyDifference
                      && comparison.meanClassAccuracyDifference < comparison.meanClassAccuracyDifferenceBootstrapInterval.upper)
    }

    func testPredictionFilesOfSeveralSeedsAndTheirChecks() throws {
        let labels = [0, 1, 2, 2, 1, 0, 0, 2]
        let firsts = [samplePredictions(labels: labels, predicted: [0, 1, 2, 0, 1, 1, 0, 2]), samplePredictions(labels: labels, predicted: [0, 1, 1, 2, 1, 0, 0, 0])]
        let seconds = [samplePredictions(labels: labels, predicted: [0, 1, 2, 2, 1, 0, 2, 2]), samplePredictions(labels: labels, predicted: [0, 1, 2, 2, 1, 0, 0, 0])]
        let comparison = try SplitPredictions.methodComparison(firsts: firsts, seconds: seconds, resamples: 200)
        // Pair 1: 6/8 against 7/8; pair 2: 6/8 against 7/8.
        XCTAssertEqual(comparison.firstAccuracy, 6.0 / 8)
        XCTAssertEqual(comparison.secondAccuracy, 7.0 / 8)
        XCTAssertEqual(comparison.accuracyDifference, 1.0 / 8)
        XCTAssertEqual(comparison.accuracyDifferenceStandardDeviation, 0)
        XCTAssertEqual(comparison.accuracyDifferenceSeedInterval, ConfidenceInterval(lower: 1.0 / 8, upper: 1.0 / 8, level: 0.95))
        XCTAssertEqual(comparison.secondAheadCount, 2)
        XCTAssertEqual(comparison.firstAheadCount, 0)

        var relabelled = labels
        relabelled[3] = 0
        XCTAssertThrowsError(try SplitPredictions.methodComparison(firsts: firsts, seconds: [seconds[0], samplePredictions(labels: relabelled, predicted: relabelled)])) { error in
            XCTAssertTrue("\(error)".contains("sample 3 (line 4)"), "\(error)")
        }
        XCTAssertThrowsError(try SplitPredictions.methodComparison(firsts: [firsts[0], samplePredictions(labels: labels, predicted: labels, imagePrefix: "/other")],
                                                                   seconds: seconds)) { error in
            XCTAssertTrue("\(error)".contains("sample 0 (line 1)") && "\(error)".contains("/other/0.png"), "\(error)")
        }
    }
}
