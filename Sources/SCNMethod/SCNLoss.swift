import Foundation
import SCNTensor

/// Which published form of SCN's objective to use.
public enum LossForm: String, Codable, Sendable, CaseIterable {
    /// `gamma * L_RR + (1 - gamma) * L_WCE` (the paper).
    case paper
    /// `L_WCE + L_RR` (the authors' code).
    case official
}

/// What splits each batch into SCN's high- and low-importance groups.
public enum ImportanceGrouping: String, Codable, Sendable, CaseIterable {
    /// The importance weights themselves (the paper): the top `round(beta * N)` alphas are the high group.
    case alpha
    /// The network's probability of each sample's target (this project): the `round(beta * N)` samples with
    /// the lowest cross-entropy against their targets are the high group. The rank loss then teaches alpha to
    /// give the samples the network disagrees with less weight, and they are relabeling's candidates.
    case loss
}

/// The loss grouping's score of each sample, `[N]`, higher more important: `exp(-cross-entropy)` of the
/// network's plain probabilities against the sample's target, in [0, 1]. For a hard label this is
/// p(label) itself; for a soft target t (votes, a teacher) it is `prod_j p_j ^ t_j`, so the ranking is the
/// training loss's.
/// - Parameters:
///   - probabilities: `[N * k]` softmax of the plain logits, row-major.
///   - classCount: k.
///   - labels: `N` labels in 0..<k.
///   - softTargets: `N` rows of `k` probabilities, or nil where the labels are the targets.
public func targetProbabilities(_ probabilities: [Float], classCount k: Int, labels: [Int], softTargets: [[Float]]?) -> [Float] {
    precondition(probabilities.count == labels.count * k, "targetProbabilities: \(probabilities.count) probabilities for \(labels.count) samples of \(k) classes")
    guard let softTargets else { return labels.enumerated().map { probabilities[$0.offset * k + $0.element] } }
    precondition(softTargets.count == labels.count, "targetProbabilities: \(softTargets.count) targets for \(labels.count) samples")
    return softTargets.enumerated().map { i, target in
        var logProbability: Float = 0
        for (j, t) in target.enumerated() where t > 0 {
            logProbability += t * log(max(probabilities[i * k + j], .leastNormalMagnitude))
        }
        return exp(logProbability)
    }
}

/// The rank-regularization loss over a batch's importance weights.
///
/// The batch is sorted by a score in descending order (alpha itself, the paper, or another score such as
/// the label's probability; ties by dataset index, so the split is deterministic); the top `round(beta * N)`
/// form the high-importance group, the rest the low group, and
/// `L_RR = max(0, margin - (mean_high(alpha) - mean_low(alpha)))`.
public struct RankRegularization {
    /// The loss (shape `[]`), differentiable with respect to alpha and to a learnable margin.
    public var loss: Tensor
    /// Batch positions of the low-importance group.
    public var lowGroup: [Int]
    /// Batch positions of the high-importance group.
    public var highGroup: [Int]
    /// `mean_high - mean_low`.
    public var gap: Float
    /// Whether the hinge was active (the loss above zero).
    public var isActive: Bool

    /// - Parameters:
    ///   - alpha: `[N, 1]` importance weights.
    ///   - datasetIndices: each sample's dataset index (tie-breaking).
    ///   - beta: the high-group fraction, in (0, 1).
    ///   - margin: `[1]`, delta1 (a parameter when learned).
    ///   - scores: `N` scores that rank the samples, higher more important (nil: alpha itself, the paper).
    public init(alpha: Tensor, datasetIndices: [Int], beta: Float, margin: Tensor, scores: [Float]? = nil) {
        let n = alpha.shape[0]
        precondition(datasetIndices.count == n, "RankRegularization: \(datasetIndices.count) indices for \(n) weights")
        precondition(scores == nil || scores!.count == n, "RankRegularization: \(scores?.count ?? 0) scores for \(n) weights")
        let values = scores ?? alpha.scalars
        let order = (0..<n).sorted { i, j in
            values[i] != values[j] ? values[i] > values[j] : datasetIndices[i] < datasetIndices[j]
        }
        let m = Int((beta * Float(n)).rounded())
        highGroup = Array(order.prefix(m))
        lowGroup = Array(order.dropFirst(m))
        guard m > 0, m < n else {
            loss = Tensor(scalar: 0)
            gap = 0
            isActive = false
            return
        }
        let sorted = alpha.gatheringRows(order)
        let meanHigh = sorted.rows(0..<m).mean(), meanLow = sorted.rows(m..<n).mean()
        let difference = meanHigh - meanLow
        gap = difference.item()
        let hinge = relu(margin.reshaped([]) - difference)
        isActive = hinge.item() > 0
        loss = hinge
    }
}

/// How the importance weight scales the logits.
public enum AlphaScaling: String, Codable, Sendable, CaseIterable {
    /// `alpha * logits` (the paper).
    case raw
    /// `(alpha / mean(alpha over the batch)) * logits`: only the relative importance within the batch
    /// weights the samples, so a falling mean alpha cannot shrink every logit and stall learning.
    case batchMean = "batch-mean"
    /// `(alpha / mean(alpha over the batch's samples with the same label)) * logits`: each labelled class
    /// keeps its total weight, and alpha only ranks samples within their class, so a class the network
    /// finds hard (low alpha throughout) is not starved of gradient.
    case classMean = "class-mean"

    /// The factor each sample's logits are multiplied by, `[N, 1]`.
    /// - Parameters:
    ///   - alpha: `[N, 1]` importance weights.
    ///   - labels: each sample's label (read by `classMean`).
    public func scale(_ alpha: Tensor, labels: [Int]) -> Tensor {
        switch self {
        case .raw: return alpha
        case .batchMean: return alpha / alpha.mean()
        case .classMean:
            // Row i of the averaging matrix holds 1/n_c at the samples labelled like sample i.
            let n = labels.count
            precondition(alpha.shape == [n, 1], "AlphaScaling.scale: alpha \(alpha.shape) for \(n) labels")
            let counts = labels.reduce(into: [Int: Int]()) { $0[$1, default: 0] += 1 }
            var averaging = [Float](repeating: 0, count: n * n)
            for i in 0..<n {
                for j in 0..<n where labels[j] == labels[i] { averaging[i * n + j] = 1 / Float(counts[labels[i]]!) }
            }
            return alpha / matmul(Tensor(averaging, shape: [n, n]), alpha)
        }
    }
}
