import Foundation
import XCTest
@testable import SCNMethod

/// Temperature scaling against scipy's fit (Fixtures/make_temperature_fixture.py).
final class TemperatureScalingTests: XCTestCase {
    private struct Reference: Decodable {
        var probabilities: [[Float]]
        var labels: [Int]
        var temperature: Double
        var nll_before: Double
        var nll_after: Double
        var scaled_first_rows: [[Double]]
    }

    private func reference() throws -> Reference {
        let url = Bundle.module.url(forResource: "temperature.json", withExtension: nil, subdirectory: "Fixtures")!
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    func testFitMatchesScipy() throws {
        let reference = try reference()
        let scaling = TemperatureScaling(fitting: reference.probabilities, labels: reference.labels)
        XCTAssertEqual(scaling.temperature, reference.temperature, accuracy: 1e-5)
        let before = Calibration(probabilities: reference.probabilities, labels: reference.labels)
        let after = Calibration(probabilities: scaling.scaled(reference.probabilities), labels: reference.labels)
        XCTAssertEqual(before.negativeLogLikelihood, reference.nll_before, accuracy: 1e-6)
        XCTAssertEqual(after.negativeLogLikelihood, reference.nll_after, accuracy: 1e-6)
        for (row, expected) in zip(scaling.scaled(reference.probabilities), reference.scaled_first_rows) {
            for (value, expectedValue) in zip(row, expected) { XCTAssertEqual(Double(value), expectedValue, accuracy: 1e-6) }
        }
        // The fit is a minimum: nearby temperatures are no better.
        for factor in [0.98, 1.02] {
            let nearby = TemperatureScaling(temperature: scaling.temperature * factor).scaled(reference.probabilities)
            XCTAssertGreaterThan(Calibration(probabilities: nearby, labels: reference.labels).negativeLogLikelihood,
                                 after.negativeLogLikelihood)
        }
    }

    func testScalingKeepsTheRankingAndSumsToOne() {
        let row: [Float] = [0.6, 0.3, 0.1, 0]
        for temperature in [0.5, 1, 2.5] {
            let scaled = TemperatureScaling(temperature: temperature).scaled(row)
            XCTAssertEqual(scaled.reduce(0, +), 1, accuracy: 1e-6)
            XCTAssertEqual(scaled.indices.sorted { scaled[$0] > scaled[$1] }, [0, 1, 2, 3])
        }
        // T = 2: p^(1/2) normalized.
        let root = row.map { Double($0).squareRoot() }, sum = root.reduce(0, +)
        for (value, expected) in zip(TemperatureScaling(temperature: 2).scaled(row), root.map { $0 / sum }) {
            XCTAssertEqual(Double(value), expected, accuracy: 1e-6)
        }
    }

    func testUnderConfidentProbabilitiesAreSharpenedAndPerfectOnesHitTheBound() {
        // Always right at 0.6 confidence: the likelihood keeps rising as T falls, to the fit's lower bound.
        let probabilities = [[Float]](repeating: [0.6, 0.4], count: 10)
        XCTAssertEqual(TemperatureScaling(fitting: probabilities, labels: [Int](repeating: 0, count: 10)).temperature,
                       TemperatureScaling.fittedRange.lowerBound, accuracy: 1e-9)
        // Right 90% of the time at 0.6 confidence: T < 1, and the scaled confidence is 0.9.
        let labels = [Int](repeating: 0, count: 9) + [1]
        let scaling = TemperatureScaling(fitting: probabilities, labels: labels)
        XCTAssertLessThan(scaling.temperature, 1)
        XCTAssertEqual(Double(scaling.scaled(probabilities[0])[0]), 0.9, accuracy: 1e-6)
        // Right half the time: no information in the probabilities, T at the upper bound (uniform).
        let coinFlips = [Int](repeating: 0, count: 5) + [Int](repeating: 1, count: 5)
        XCTAssertEqual(TemperatureScaling(fitting: probabilities, labels: coinFlips).temperature,
                       TemperatureScaling.fittedRange.upperBound, accuracy: 1e-6)
    }
}
