import SCNMethod
import SCNTensor
import SCNTestSupport
import XCTest

final class SCNLossTests: XCTestCase {
    func testRankRegularizationGroupsLossAndGradient() {
        // alpha sorted: 0.9 (i1), 0.8 (i3), 0.8 (i0, ties broken by dataset index), 0.3 (i2), 0.1 (i4)
        let alpha = Tensor([0.8, 0.9, 0.3, 0.8, 0.1], shape: [5, 1], requiresGrad: true)
        let margin = Tensor([0.8], shape: [1], requiresGrad: true)
        let rr = RankRegularization(alpha: alpha, datasetIndices: [10, 11, 12, 4, 14], beta: 0.6, margin: margin)
        // M = round(0.6 * 5) = 3: high = {1, 3, 0} (index 4 < 10 puts position 3 first among the 0.8s)
        XCTAssertEqual(rr.highGroup, [1, 3, 0])
        XCTAssertEqual(rr.lowGroup, [2, 4])
        let gap = (0.9 + 0.8 + 0.8) / 3 - (0.3 + 0.1) / 2
        XCTAssertEqual(Double(rr.gap), gap, accuracy: 1e-6)
        XCTAssertTrue(rr.isActive)
        XCTAssertEqual(Double(rr.loss.item()), 0.8 - gap, accuracy: 1e-6)
        rr.loss.backward()
        let g = alpha.grad!.scalars
        XCTAssertEqual(g[1], -1.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(g[0], -1.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(g[2], 0.5, accuracy: 1e-6)
        XCTAssertEqual(g[4], 0.5, accuracy: 1e-6)
        XCTAssertEqual(margin.grad!.item(), 1, "a learnable margin gets gradient 1 while the hinge is active")

        let inactive = RankRegularization(alpha: alpha, datasetIndices: [0, 1, 2, 3, 4], beta: 0.6,
                                          margin: Tensor([0.1], shape: [1]))
        XCTAssertFalse(inactive.isActive)
        XCTAssertEqual(inactive.loss.item(), 0)
        let degenerate = RankRegularization(alpha: alpha, datasetIndices: [0, 1, 2, 3, 4], beta: 1, margin: margin)
        XCTAssertEqual(degenerate.loss.item(), 0, "no low group: no loss")
        XCTAssertEqual(degenerate.lowGroup, [])
    }

    /// The loss grouping's scores: p(label) for hard labels, `exp(-cross-entropy)` against soft targets, which
    /// can order two samples the other way round from p(label).
    func testTargetProbabilitiesAreTheExponentOfMinusTheCrossEntropy() {
        let probabilities: [Float] = [0.5, 0.5, 0, 0.6, 1e-4, 0.3999, 0.2, 0.3, 0.5]
        let labels = [0, 0, 2]
        XCTAssertEqual(targetProbabilities(probabilities, classCount: 3, labels: labels, softTargets: nil), [0.5, 0.6, 0.5])
        let oneHot = targetProbabilities(probabilities, classCount: 3, labels: labels,
                                         softTargets: [[1, 0, 0], [1, 0, 0], [0, 0, 1]])
        for (score, expected) in zip(oneHot, [Float(0.5), 0.6, 0.5]) { XCTAssertEqual(score, expected, accuracy: 1e-6) }
        // Votes split between classes 0 and 1: the first sample agrees with them, the second does not, although
        // its labelled class is more probable.
        let votes: [[Float]] = [[0.5, 0.5, 0], [0.5, 0.5, 0], [0.1, 0.2, 0.7]]
        let scores = targetProbabilities(probabilities, classCount: 3, labels: labels, softTargets: votes)
        XCTAssertEqual(scores[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(Double(scores[1]), (0.6 * 1e-4).squareRoot(), accuracy: 1e-6)
        let crossEntropy = -(0.1 * log(0.2) + 0.2 * log(0.3) + 0.7 * log(0.5))
        XCTAssertEqual(Double(scores[2]), exp(-crossEntropy), accuracy: 1e-6)
        let rr = RankRegularization(alpha: Tensor([0.5, 0.5, 0.5], shape: [3, 1]), datasetIndices: [0, 1, 2], beta: 0.34,
                                    margin: Tensor([0.1], shape: [1]), scores: scores)
        XCTAssertEqual(rr.lowGroup, [2, 1], "the sample against its votes ranks last")
        // A zero probability where the target has mass gives a score of (almost) zero, not NaN.
        let zero = targetProbabilities([1, 0], classCount: 2, labels: [0], softTargets: [[0.5, 0.5]])
        XCTAssertTrue(zero[0].isFinite && zero[0] < 1e-10)
    }

    func testRankRegularizationGroupsByTheGivenScores() {
        let alpha = Tensor([0.8, 0.9, 0.3, 0.8, 0.1], shape: [5, 1], requiresGrad: true)
        let margin = Tensor([0.5], shape: [1])
        // p(label) ranks positions 2, 4, 0 highest (the lowest losses), 3 and 1 lowest; ties by dataset index.
        let rr = RankRegularization(alpha: alpha, datasetIndices: [0, 1, 2, 3, 4], beta: 0.6, margin: margin,
                                    scores: [0.7, 0.1, 0.9, 0.2, 0.7])
        XCTAssertEqual(rr.highGroup, [2, 0, 4])
        XCTAssertEqual(rr.lowGroup, [3, 1])
        let gap = (0.3 + 0.8 + 0.1) / 3 - (0.8 + 0.9) / 2
        XCTAssertEqual(Double(rr.gap), gap, accuracy: 1e-6)
        XCTAssertEqual(Double(rr.loss.item()), 0.5 - gap, accuracy: 1e-6)
        rr.loss.backward()
        // The loss pushes the high-scoring samples' alpha up and the others' down.
        let expected: [Float] = [-1.0 / 3, 0.5, -1.0 / 3, 0.5, -1.0 / 3]
        for (g, e) in zip(alpha.grad!.scalars, expected) { XCTAssertEqual(g, e, accuracy: 1e-6) }
    }

    func testAlphaScalings() {
        let alpha = Tensor([0.8, 0.2, 0.5, 0.4, 0.6], shape: [5, 1])
        let labels = [1, 0, 1, 1, 0]
        XCTAssertEqual(AlphaScaling.raw.scale(alpha, labels: labels).scalars, alpha.scalars)
        let batch = AlphaScaling.batchMean.scale(alpha, labels: labels).scalars
        for (s, a) in zip(batch, alpha.scalars) { XCTAssertEqual(s, a / 0.5, accuracy: 1e-6) }
        // Class 1: 0.8, 0.5, 0.4 (mean 17/30); class 0: 0.2, 0.6 (mean 0.4).
        let byClass = AlphaScaling.classMean.scale(alpha, labels: labels).scalars
        let expected: [Float] = [0.8 * 30 / 17, 0.2 / 0.4, 0.5 * 30 / 17, 0.4 * 30 / 17, 0.6 / 0.4]
        for (s, e) in zip(byClass, expected) { XCTAssertEqual(s, e, accuracy: 1e-5) }
        assertGradientsMatchFiniteDifferences([Tensor([0.3, -1.2, 0.4, 0.9, -0.2, 0.1], shape: [6, 1]), Tensor((0..<18).map { Float($0 % 7) * 0.3 - 0.8 }, shape: [6, 3])],
                                              "class-mean weighted cross-entropy") {
            crossEntropy(AlphaScaling.classMean.scale(sigmoid($0[0]), labels: [2, 0, 2, 1, 0, 2]) * $0[1], labels: [2, 0, 2, 1, 0, 2])
        }
    }

    func testRelabelingRule() {
        let p = Tensor([0.1, 0.7, 0.2,   // label 0: margin 0.6 > 0.2 -> 1
                        0.3, 0.35, 0.35, // label 0: margin 0.05 -> keep
                        0.05, 0.05, 0.9, // label 2 already best -> keep
                        0.5, 0.4, 0.1],  // label 1: margin 0.1 -> keep
                       shape: [4, 3])
        let relabeler = Relabeler(threshold: 0.2)
        let changes = relabeler.proposals(probabilities: p, labels: [0, 0, 2, 1], candidates: [0, 1, 2, 3])
        XCTAssertEqual(changes.map(\.position), [0])
        XCTAssertEqual(changes.map(\.label), [1])
        XCTAssertEqual(Double(changes[0].margin), 0.6, accuracy: 1e-6)
        XCTAssertTrue(relabeler.proposals(probabilities: p, labels: [0, 0, 2, 1], candidates: [1, 2, 3]).isEmpty,
                      "only candidates (the low-importance group) are considered")
    }

    func testMetrics() {
        let report = ClassificationReport(predictions: [0, 1, 1, 2, 2, 2], labels: [0, 1, 2, 2, 2, 0], classCount: 4)
        XCTAssertEqual(report.accuracy, 4.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(report.correctCount, 4)
        XCTAssertEqual(report.confusionMatrix, [[1, 0, 1, 0], [0, 1, 0, 0], [0, 1, 2, 0], [0, 0, 0, 0]])
        XCTAssertEqual(report.perClassAccuracy[0]!, 0.5)
        XCTAssertNil(report.perClassAccuracy[3])
        XCTAssertEqual(report.meanClassAccuracy, (0.5 + 1 + 2.0 / 3) / 3, accuracy: 1e-12)
        XCTAssertEqual(rocAUC(scores: [0.9, 0.8, 0.3, 0.1], positives: [true, true, false, false]), 1)
        XCTAssertEqual(rocAUC(scores: [0.1, 0.8, 0.3, 0.9], positives: [true, true, false, false]), 0.25, "1 of 4 positive-negative pairs ordered right")
        XCTAssertEqual(rocAUC(scores: [0.5, 0.5], positives: [true, false]), 0.5, "ties count one half")
        XCTAssertNil(rocAUC(scores: [0.5], positives: [true]))
        // Within groups: group 0 orders its 2 pairs right (AUC 1), group 1 one of 2 (0.5), group 2 has no
        // positive, group 3 no member; pair-weighted (2 * 1 + 2 * 0.5) / 4 = 0.75. Pooled: 5 of 10 pairs.
        let scores = [0.3, 0.1, 0.2, 0.6, 0.5, 0.9, 0.8]
        let positives = [true, false, false, true, false, false, false]
        let grouped = rocAUC(scores: scores, positives: positives, groups: [0, 0, 0, 1, 1, 1, 2], groupCount: 4)
        XCTAssertEqual(grouped.withinGroups!, 0.75, accuracy: 1e-12)
        XCTAssertEqual(grouped.byGroup, [1, 0.5, nil, nil])
        XCTAssertEqual(rocAUC(scores: scores, positives: positives), 0.5)
        XCTAssertNil(rocAUC(scores: [0.2, 0.4], positives: [true, false], groups: [0, 1], groupCount: 2).withinGroups)
        XCTAssertEqual(quantiles([4, 1, 3, 2], [0, 0.5, 1]), [1, 2.5, 4])
    }

    func testCalibration() {
        // 10 bins. Sample 0: confidence 0.95, right (bin 9, |1 - 0.95| = 0.05); samples 1 and 2: 0.72 right and
        // 0.78 wrong (bin 7: accuracy 0.5, mean confidence 0.75, gap 0.25). ECE = (0.05 + 2 * 0.25) / 3.
        let probabilities: [[Float]] = [[0.95, 0.05], [0.28, 0.72], [0.78, 0.22]]
        let calibration = Calibration(probabilities: probabilities, labels: [0, 1, 1], binCount: 10)
        XCTAssertEqual(calibration.expectedCalibrationError, (0.05 + 2 * 0.25) / 3, accuracy: 1e-6)
        XCTAssertEqual(calibration.meanConfidence, (0.95 + 0.72 + 0.78) / 3, accuracy: 1e-6)
        XCTAssertEqual(calibration.negativeLogLikelihood, -(log(0.95) + log(0.72) + log(0.22)) / 3, accuracy: 1e-6)
        // One bin: ECE is |accuracy - mean confidence| over all samples.
        XCTAssertEqual(Calibration(probabilities: probabilities, labels: [0, 1, 1], binCount: 1).expectedCalibrationError,
                       abs(2.0 / 3 - (0.95 + 0.72 + 0.78) / 3), accuracy: 1e-6)
        XCTAssertEqual(Calibration(probabilities: [[1, 0]], labels: [1]).negativeLogLikelihood, -log(1e-12), accuracy: 1e-9,
                       "a zero probability for the true class costs -log 1e-12, not infinity")
    }
}
