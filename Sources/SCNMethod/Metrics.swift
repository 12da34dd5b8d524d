import Foundation
import SCNTensor

/// Classification figures from predictions and true labels.
public struct ClassificationReport: Codable, Equatable, Sendable {
    public var accuracy: Double
    /// The mean over classes of per-class accuracy (balanced accuracy); classes without samples are
    /// left out of the mean.
    public var meanClassAccuracy: Double
    /// Per class; NaN is written as null where a class has no samples.
    public var perClassAccuracy: [Double?]
    /// `confusionMatrix[true][predicted]` counts.
    public var confusionMatrix: [[Int]]
    public var count: Int
    /// The samples predicted right: the confusion matrix's diagonal.
    public var correctCount: Int { confusionMatrix.indices.reduce(0) { $0 + confusionMatrix[$1][$1] } }

    public init(predictions: [Int], labels: [Int], classCount: Int) {
        precondition(predictions.count == labels.count)
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: classCount), count: classCount)
        for (p, y) in zip(predictions, labels) { matrix[y][p] += 1 }
        confusionMatrix = matrix
        count = labels.count
        accuracy = labels.isEmpty ? 0 : Double(zip(predictions, labels).filter { $0 == $1 }.count) / Double(labels.count)
        perClassAccuracy = (0..<classCount).map { c in
            let total = matrix[c].reduce(0, +)
            return total == 0 ? nil : Double(matrix[c][c]) / Double(total)
        }
        let present = perClassAccuracy.compactMap { $0 }
        meanClassAccuracy = present.isEmpty ? 0 : present.reduce(0, +) / Double(present.count)
    }
}

/// How well predicted probabilities match how often the predictions are right.
public struct Calibration: Codable, Equatable, Sendable {
    /// The mean probability of the predicted (most probable) class, in 0...1.
    public var meanConfidence: Double
    /// The expected calibration error (Guo et al., 2017): over equal-width confidence bins `(b/B, (b+1)/B]`,
    /// the sample-weighted mean of |accuracy - mean confidence|, in 0...1.
    public var expectedCalibrationError: Double
    /// The mean of -log p(true label), in nats (p at least 1e-12).
    public var negativeLogLikelihood: Double

    /// - Parameters:
    ///   - probabilities: one row of class probabilities per sample.
    ///   - labels: each sample's true class.
    ///   - binCount: the number of confidence bins (15, as in Guo et al.).
    public init(probabilities: [[Float]], labels: [Int], binCount: Int = 15) {
        precondition(probabilities.count == labels.count && binCount >= 1)
        var binConfidence = [Double](repeating: 0, count: binCount), binCorrect = [Double](repeating: 0, count: binCount)
        var confidenceSum = 0.0, logLikelihoodSum = 0.0
        for (row, label) in zip(probabilities, labels) {
            let predicted = row.argmax()!
            let confidence = Double(row[predicted])
            let bin = min(binCount - 1, max(0, Int((confidence * Double(binCount)).rounded(.up)) - 1))
            binConfidence[bin] += confidence
            binCorrect[bin] += predicted == label ? 1 : 0
            confidenceSum += confidence
            logLikelihoodSum += Foundation.log(max(1e-12, Double(row[label])))
        }
        let n = Double(max(1, labels.count))
        meanConfidence = confidenceSum / n
        expectedCalibrationError = (0..<binCount).reduce(0) { $0 + abs(binCorrect[$1] - binConfidence[$1]) } / n
        negativeLogLikelihood = -logLikelihoodSum / n
    }
}

/// The area under the ROC curve of `scores` for telling `positives` from the rest (the probability
/// that a random positive scores above a random negative; ties count one half). Nil without both kinds.
public func rocAUC(scores: [Double], positives: [Bool]) -> Double? {
    precondition(scores.count == positives.count)
    let p = positives.filter { $0 }.count, n = positives.count - p
    guard p > 0, n > 0 else { return nil }
    // Rank-sum (Mann-Whitney U) with average ranks for ties.
    let order = scores.indices.sorted { scores[$0] < scores[$1] }
    var ranks = [Double](repeating: 0, count: scores.count)
    var i = 0
    while i < order.count {
        var j = i
        while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
        let average = Double(i + j) / 2 + 1
        for k in i...j { ranks[order[k]] = average }
        i = j + 1
    }
    let positiveRankSum = zip(ranks, positives).filter { $0.1 }.reduce(0) { $0 + $1.0 }
    return (positiveRankSum - Double(p * (p + 1)) / 2) / Double(p * n)
}

/// The ROC AUC of `scores` for `positives` counting only pairs within the same group (`groups[i]` in
/// `0..<groupCount`), and each group's own AUC (nil without both kinds). The pooled figure is the
/// pair-weighted mean of the groups' AUCs: a score that ranks well inside every group but differs in level
/// between groups scores high here and can score below one half pooled. Nil when no group has both kinds.
public func rocAUC(scores: [Double], positives: [Bool], groups: [Int], groupCount: Int) -> (withinGroups: Double?, byGroup: [Double?]) {
    precondition(scores.count == positives.count && scores.count == groups.count)
    var members = [[Int]](repeating: [], count: groupCount)
    for (index, group) in groups.enumerated() { members[group].append(index) }
    var weightedSum = 0.0, pairs = 0.0
    let byGroup: [Double?] = members.map { indices in
        let groupPositives = indices.map { positives[$0] }
        guard let auc = rocAUC(scores: indices.map { scores[$0] }, positives: groupPositives) else { return nil }
        let p = Double(groupPositives.filter { $0 }.count), n = Double(indices.count) - p
        weightedSum += auc * p * n
        pairs += p * n
        return auc
    }
    return (pairs > 0 ? weightedSum / pairs : nil, byGroup)
}

/// Quantiles of `values` (linear interpolation), for `qs` in 0...1.
public func quantiles(_ values: [Float], _ qs: [Double]) -> [Double] {
    guard !values.isEmpty else { return qs.map { _ in .nan } }
    let sorted = values.sorted()
    return qs.map { q in
        let position = q * Double(sorted.count - 1)
        let low = Int(position.rounded(.down)), high = min(low + 1, sorted.count - 1)
        let t = position - Double(low)
        return Double(sorted[low]) * (1 - t) + Double(sorted[high]) * t
    }
}
