import Foundation
import SCNData
import XCTest

/// Soft training targets from annotator votes (`scn train --targets votes`).
final class VoteTargetsTests: XCTestCase {
    private func votedDataset() -> ExpressionDataset {
        ExpressionDataset(name: "voted", classNames: ["a", "b", "c"], imagePaths: ["0.png", "1.png", "2.png"], labels: [0, 1, 2],
                          voteDistributions: [[0.7, 0.3, 0], [0, 0.6, 0.4], [0.2, 0, 0.8]])
    }

    func testTargetsAreTheVotesExceptWhereRelabeled() throws {
        var dataset = votedDataset()
        XCTAssertNil(dataset.problemWithVoteTargets)
        XCTAssertEqual(dataset.targetDistributions(of: [2, 0]), [[0.2, 0, 0.8], [0.7, 0.3, 0]], "in the order asked")
        dataset.relabel(1, to: 2)
        XCTAssertEqual(dataset.targetDistributions(of: [0, 1, 2]), [[0.7, 0.3, 0], [0, 0, 1], [0.2, 0, 0.8]],
                       "a relabeled sample's target is its new label")
        dataset.relabel(1, to: 1)
        XCTAssertEqual(dataset.targetDistributions(of: [1]), [[0, 0.6, 0.4]], "relabeled back: its votes again")
        XCTAssertEqual(dataset.subset([2]).targetDistributions(of: [0]), [[0.2, 0, 0.8]])
    }

    func testVoteTargetsAreRefusedWhereTheLabelsAreNotTheVotes() {
        let unvoted = ExpressionDataset(name: "folder-train", classNames: ["a", "b"], imagePaths: ["0.png"], labels: [1])
        XCTAssertNil(unvoted.targetDistributions(of: [0]))
        XCTAssertEqual(unvoted.problemWithVoteTargets, "folder-train has no annotator votes (FERPlus has)")
        var noisy = votedDataset()
        noisy.replaceLabels([1, 1, 2], keepingCurrentAsClean: true)
        XCTAssertEqual(noisy.problemWithVoteTargets?.hasPrefix("the labels of voted are not its votes' majority"), true,
                       noisy.problemWithVoteTargets ?? "nil")
    }

    /// On the real files: the majority labels are their votes' most voted class; FER2013's own labels are refused.
    func testFERPlusMajorityLabelsAreTheirVotesArgmax() throws {
        let root = try sharedData("ferplus")
        let train = try FERPlus.load(root: root, split: .train)
        XCTAssertNil(train.problemWithVoteTargets)
        let targets = try XCTUnwrap(train.targetDistributions(of: Array(0..<train.count)))
        let argmax = targets.map { row in row.indices.max { row[$0] < row[$1] }! }
        XCTAssertEqual(argmax, train.labels)
        // Counted independently with Python's csv module (votes of one annotator dropped, as for the majority).
        XCTAssertEqual(targets.filter { $0.max()! < 1 }.count, 9_856, "faces whose targets spread over two or more classes")
        let fer2013 = try FERPlus.load(root: root, split: .train, labels: .fer2013Original)
        XCTAssertNotNil(fer2013.problemWithVoteTargets)
    }
}
