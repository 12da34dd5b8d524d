import Foundation
import SCNTensor

/// Which samples relabeling may change.
public enum RelabelScope: String, Codable, Sendable, CaseIterable {
    /// The low-importance group of each batch (the paper).
    case lowImportance
    /// Every sample of the batch (the authors' code).
    case all
}

/// Which probabilities relabeling compares.
public enum RelabelProbabilities: String, Codable, Sendable, CaseIterable {
    /// softmax of the plain logits (the paper).
    case logits
    /// softmax of the alpha-weighted logits (the authors' code).
    case weightedLogits
    /// softmax of the weight average's logits on the same images (this project: a slower-moving teacher;
    /// needs `weightAverageDecay` and an average that starts no later than relabeling; one more forward
    /// pass per step while relabeling).
    case averagedLogits
}

/// One label change.
public struct RelabelEvent: Codable, Equatable, Sendable {
    public var epoch: Int
    public var index: Int
    public var file: String
    public var oldLabel: Int
    public var newLabel: Int
    /// `max(P) - P[old label]`.
    public var margin: Float
    /// The clean label, where known.
    public var cleanLabel: Int?
    /// The new label's share of the sample's annotator votes (FERPlus: votes of 1 dropped), where the
    /// dataset has votes: above 0 means at least two annotators chose it.
    public var newLabelVoteShare: Float?
}

/// SCN's relabeling rule: a sample in scope whose most probable class beats its label's probability
/// by more than `threshold` (delta2) takes that class as its label.
public struct Relabeler: Sendable {
    public var threshold: Float
    /// The least probability of the proposed class (0: any).
    public var confidence: Float

    public init(threshold: Float, confidence: Float = 0) {
        self.threshold = threshold
        self.confidence = confidence
    }

    /// The changes for one batch.
    /// - Parameters:
    ///   - probabilities: `[N, C]` rows summing to 1.
    ///   - labels: each sample's current label.
    ///   - candidates: batch positions in scope.
    /// - Returns: `(position, new label, margin)` for each change.
    public func proposals(probabilities: Tensor, labels: [Int], candidates: [Int]) -> [(position: Int, label: Int, margin: Float)] {
        let c = probabilities.shape[1]
        let p = probabilities.contiguous().scalars
        var changes: [(Int, Int, Float)] = []
        for i in candidates {
            let row = p[(i * c)..<((i + 1) * c)]
            let best = row.argmax()! - i * c
            let margin = row[i * c + best] - row[i * c + labels[i]]
            if best != labels[i] && margin > threshold && row[i * c + best] >= confidence { changes.append((i, best, margin)) }
        }
        return changes
    }
}
