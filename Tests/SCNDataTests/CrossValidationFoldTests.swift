import SCNData
import XCTest

final class CrossValidationFoldTests: XCTestCase {
    /// The folds of one split partition its samples into near-equal parts, the same ones every time for a
    /// seed; another seed gives other folds.
    func testFoldsPartitionTheSamples() {
        let count = 103, folds = 4
        let split = (1...folds).map { CrossValidationFold(fold: $0, folds: folds, seed: 9, sampleCount: count) }
        let heldOut = split.map(\.heldOutIndices)
        XCTAssertEqual(heldOut.flatMap { $0 }.sorted(), Array(0..<count), "every sample held out exactly once")
        XCTAssertEqual(heldOut.map(\.count).sorted(), [25, 26, 26, 26])
        for (fold, held) in zip(split, heldOut) {
            XCTAssertEqual(held, held.sorted())
            XCTAssertEqual(Set(fold.trainingIndices).union(held), Set(0..<count))
            XCTAssertTrue(Set(fold.trainingIndices).isDisjoint(with: held))
        }
        XCTAssertEqual(CrossValidationFold(fold: 2, folds: folds, seed: 9, sampleCount: count).heldOutIndices, heldOut[1])
        XCTAssertNotEqual(CrossValidationFold(fold: 2, folds: folds, seed: 10, sampleCount: count).heldOutIndices, heldOut[1])
        XCTAssertNotEqual(heldOut[1], Array(heldOut[1].first!...heldOut[1].first! + 25), "shuffled, not a block")
        let assignment = CrossValidationFold.assignment(sampleCount: count, folds: folds, seed: 9)
        for (k, held) in heldOut.enumerated() { XCTAssertTrue(held.allSatisfy { assignment[$0] == k }) }
    }

    func testImpossibleFoldsAreNamed() {
        XCTAssertNil(CrossValidationFold(fold: 1, folds: 2, seed: 0, sampleCount: 2).problem)
        XCTAssertEqual(CrossValidationFold(fold: 1, folds: 1, seed: 0, sampleCount: 10).problem, "1 folds: expected at least 2")
        XCTAssertEqual(CrossValidationFold(fold: 0, folds: 3, seed: 0, sampleCount: 10).problem, "fold 0 of 3: expected 1 to 3")
        XCTAssertEqual(CrossValidationFold(fold: 4, folds: 3, seed: 0, sampleCount: 10).problem, "fold 4 of 3: expected 1 to 3")
        XCTAssertEqual(CrossValidationFold(fold: 1, folds: 5, seed: 0, sampleCount: 3).problem,
                       "5 folds of 3 samples: expected at least one sample per fold")
    }
}
