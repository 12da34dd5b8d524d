import Foundation
import SCNData
import SCNTensor
import XCTest
@testable import SCNMethod

/// Paired comparisons of two classifiers against exact references (Fixtures/make_paired_comparison_fixture.py)
/// and the bootstrap against the normal approximation it converges to.
final class PairedComparisonTests: XCTestCase {
    private struct Reference: Decodable {
        struct McNemar: Decodable { var only_first: Int; var only_second: Int; var p: Double }
        struct Wilson: Decodable { var successes: Int; var trials: Int; var level: Double; var lower: Double; var upper: Double }
        struct Quantile: Decodable { var probability: Double; var z: Double }
        var mcnemar: [McNemar]
        var wilson: [Wilson]
        struct StudentQuantile: Decodable { var probability: Double; var degrees_of_freedom: Int; var t: Double }
        var normal_quantiles: [Quantile]
        var student_t_quantiles: [StudentQuantile]
    }

    private func reference() throws -> Reference {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "paired_comparison.json", withExtension: nil, subdirectory: "Fixtures"))
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    func testMcNemarMatchesExactBinomialTails() throws {
        for case let item in try reference().mcnemar {
            let p = PairedComparison.mcNemarExactPValue(item.only_first, item.only_second)
            XCTAssertEqual(p, item.p, accuracy: 1e-10 * max(1e-300, item.p) + 1e-300, "b = \(item.only_first), c = \(item.only_second)")
            XCTAssertEqual(p / item.p, 1, accuracy: 1e-9, "b = \(item.only_first), c = \(item.only_second)")
        }
    }

    func testWilsonIntervalsAndNormalQuantilesMatchReference() throws {
        let reference = try reference()
        for item in reference.normal_quantiles {
            XCTAssertEqual(standardNormalQuantile(item.probability), item.z, accuracy: 1e-9, "p = \(item.probability)")
        }
        for item in reference.wilson {
            let interval = ConfidenceInterval.wilson(successes: item.successes, trials: item.trials, level: item.level)
            XCTAssertEqual(interval.lower, item.lower, accuracy: 1e-12, "\(item)")
            XCTAssertEqual(interval.upper, item.upper, accuracy: 1e-12, "\(item)")
            XCTAssertEqual(interval.level, item.level)
        }
    }

    func testStudentTQuantilesMatchNumericalIntegration() throws {
        let reference = try reference().student_t_quantiles
        XCTAssertEqual(reference.count, 35)
        for item in reference {
            let t = studentTQuantile(item.probability, degreesOfFreedom: item.degrees_of_freedom)
            XCTAssertEqual(t, item.t, accuracy: 1e-9 * max(1, abs(item.t)), "p = \(item.probability), \(item.degrees_of_freedom) degrees of freedom")
        }
        // Many degrees of freedom: the normal quantile.
        XCTAssertEqual(studentTQuantile(0.975, degreesOfFreedom: 100_000), standardNormalQuantile(0.975), accuracy: 1e-4)
    }

    /// Two classifiers of about 80% and 83% whose mistakes overlap, on `n` samples of 4 classes.
    private func pairedOutcomes(n: Int, seed: UInt64) -> (first: [Bool], second: [Bool], labels: [Int]) {
        var g = RandomGenerator(seed: seed)
        var first: [Bool] = [], second: [Bool] = [], labels: [Int] = []
        for _ in 0..<n {
            let hard = g.nextUniform() < 0.25
            first.append(hard ? g.nextUniform() < 0.3 : g.nextUniform() < 0.97)
            second.append(hard ? g.nextUniform() < 0.4 : g.nextUniform() < 0.97)
            labels.append(Int(g.next() % 4))
        }
        return (first, second, labels)
    }

    func testBootstrapIntervalMatchesTheNormalApproximation() {
        let (first, second, labels) = pairedOutcomes(n: 1500, seed: 3)
        let comparison = PairedComparison(firstCorrect: first, secondCorrect: second, labels: labels, classCount: 4, resamples: 2000, seed: 7)
        let differences = zip(first, second).map { Double(($1 ? 1 : 0) - ($0 ? 1 : 0)) }
        let mean = differences.reduce(0, +) / Double(differences.count)
        XCTAssertEqual(comparison.accuracyDifference, mean, accuracy: 1e-12)
        // The resampled mean's standard deviation is the population standard deviation over sqrt(n).
        let variance = differences.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(differences.count)
        let standardError = (variance / Double(differences.count)).squareRoot()
        let z = standardNormalQuantile(0.975)
        XCTAssertEqual(comparison.accuracyDifferenceInterval.lower, mean - z * standardError, accuracy: 0.2 * standardError)
        XCTAssertEqual(comparison.accuracyDifferenceInterval.upper, mean + z * standardError, accuracy: 0.2 * standardError)
        XCTAssertEqual(comparison.accuracyDifferenceInterval.level, 0.95)
        // The paired interval is far narrower than either accuracy's own.
        let ownWidth = comparison.firstAccuracyInterval.upper - comparison.firstAccuracyInterval.lower
        XCTAssertLessThan(comparison.accuracyDifferenceInterval.upper - comparison.accuracyDifferenceInterval.lower, ownWidth)
        XCTAssertTrue(comparison.meanClassAccuracyDifferenceInterval.lower < comparison.meanClassAccuracyDifference
                      && comparison.meanClassAccuracyDifference < comparison.meanClassAccuracyDifferenceInterval.upper)
        XCTAssertEqual(comparison.onlyFirstCorrect, zip(first, second).filter { $0 && !$1 }.count)
        XCTAssertEqual(comparison.onlySecondCorrect, zip(first, second).filter { !$0 && $1 }.count)
        XCTAssertEqual(comparison.mcNemarPValue, PairedComparison.mcNemarExactPValue(comparison.onlyFirstCorrect, comparison.onlySecondCorrect))
        XCTAssertEqual(comparison.firstMeanClassAccuracy,
                       ClassificationReport(predictions: zip(first, labels).map { $0 ? $1 : ($1 + 1) % 4 }, labels: labels, classCount: 4).meanClassAccuracy,
                       accuracy: 1e-12)
    }

    func testSeedsAndOrderOfTheTwo() {
        let (first, second, labels) = pairedOutcomes(n: 300, seed: 5)
        let a = PairedComparison(firstCorrect: first, secondCorrect: second, labels: labels, classCount: 4, resamples: 500, seed: 1)
        XCTAssertEqual(a, PairedComparison(firstCorrect: first, secondCorrect: second, labels: labels, classCount: 4, resamples: 500, seed: 1))
        XCTAssertNotEqual(a.accuracyDifferenceInterval,
                          PairedComparison(firstCorrect: first, secondCorrect: second, labels: labels, classCount: 4, resamples: 500, seed: 2).accuracyDifferenceInterval)
        let swapped = PairedComparison(firstCorrect: second, secondCorrect: first, labels: labels, classCount: 4, resamples: 500, seed: 1)
        XCTAssertEqual(swapped.accuracyDifference, -a.accuracyDifference, accuracy: 1e-12)
        XCTAssertEqual(swapped.mcNemarPValue, a.mcNemarPValue)
        // The same resamples: the swapped interval is the mirror image.
        XCTAssertEqual(swapped.accuracyDifferenceInterval.lower, -a.accuracyDifferenceInterval.upper, accuracy: 1e-12)
        XCTAssertEqual(swapped.accuracyDifferenceInterval.upper, -a.accuracyDifferenceInterval.lower, accuracy: 1e-12)

        let same = PairedComparison(firstCorrect: first, secondCorrect: first, labels: labels, classCount: 4, resamples: 200)
        XCTAssertEqual(same.accuracyDifference, 0)
        XCTAssertEqual(same.accuracyDifferenceInterval.lower, 0)
        XCTAssertEqual(same.accuracyDifferenceInterval.upper, 0)
        XCTAssertEqual(same.mcNemarPValue, 1)
    }

    func testPredictionFilesRoundTripAndRefuseOtherSamples() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("scn-paired-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let labels = [0, 1, 2, 2, 1, 0, 0, 2]
        let first = samplePredictions(labels: labels, predicted: [0, 1, 2, 0, 1, 1, 0, 2])
        let second = samplePredictions(labels: labels, predicted: [0, 1, 2, 2, 1, 0, 2, 2])
        let firstFile = folder.appendingPathComponent("first.jsonl"), secondFile = folder.appendingPathComponent("second.jsonl")
        try first.write(to: firstFile)
        try second.write(to: secondFile)
        let read = try SplitPredictions.read(firstFile)
        // Read back with the classes sorted by name and the labels following them.
        XCTAssertEqual(read.classNames, ["happiness", "neutral", "surprise"])
        XCTAssertEqual(read.trueLabels.map { read.classNames[$0] }, labels.map { first.classNames[$0] })
        XCTAssertEqual(read.predictedLabels.map { read.classNames[$0] }, first.predictedLabels.map { first.classNames[$0] })
        XCTAssertEqual(read.correct, first.correct)
        XCTAssertEqual(read.images, first.images)
        XCTAssertEqual(read.certainties, first.certainties)
        XCTAssertEqual(read.probabilities[0], [0.25, 0.5, 0.25])

        let comparison = try read.compared(with: try SplitPredictions.read(secondFile), resamples: 200)
        XCTAssertEqual(comparison.firstAccuracy, 6.0 / 8)
        XCTAssertEqual(comparison.secondAccuracy, 7.0 / 8)
        XCTAssertEqual(comparison.onlyFirstCorrect, 1)
        XCTAssertEqual(comparison.onlySecondCorrect, 2)
        XCTAssertEqual(comparison.mcNemarPValue, 1)  // 2 * (1 + 3) / 8
        // Classes sorted by name: happiness (2 faces), neutral (3), surprise (3).
        XCTAssertEqual(comparison.classCounts, [2, 3, 3])
        XCTAssertEqual(comparison.firstClassAccuracies, [1, 2.0 / 3, 2.0 / 3])
        XCTAssertEqual(comparison.secondClassAccuracies, [1, 2.0 / 3, 1])

        var relabelled = labels
        relabelled[5] = 1
        let other = samplePredictions(labels: relabelled, predicted: relabelled)
        XCTAssertThrowsError(try first.compared(with: other)) { error in
            XCTAssertTrue("\(error)".contains("sample 5 (line 6)"), "\(error)")
        }
        XCTAssertThrowsError(try first.compared(with: samplePredictions(labels: Array(labels.prefix(5)), predicted: Array(labels.prefix(5))))) { error in
            XCTAssertTrue("\(error)".contains("has 5 samples"), "\(error)")
        }

        var lines = try first.jsonLines().split(separator: "\n").map(String.init)
        for (line, reason) in [(lines[2].replacingOccurrences(of: "\"index\":2", with: "\"index\":7"), "\"index\" 7, expected 2"),
                               (lines[2].replacingOccurrences(of: "\"true_expression\":\"surprise\"", with: "\"true_expression\":\"joy\""),
                                "\"true_expression\" 'joy' is not one of the classes"),
                               (String(lines[2].prefix(30)), "not a JSON object")] {
            lines[2] = line
            let broken = folder.appendingPathComponent("broken.jsonl")
            try (lines.joined(separator: "\n") + "\n").write(to: broken, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try SplitPredictions.read(broken)) { error in
                XCTAssertEqual((error as? DataError)?.line, 3, "\(error)")
                XCTAssertTrue("\(error)".contains(broken.path) && "\(error)".contains(reason), "\(error)")
            }
            lines = try first.jsonLines().split(separator: "\n").map(String.init)
        }
    }
}
