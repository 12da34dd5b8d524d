import Foundation
import SCNLayers
import SCNTensor

/// The Self-Cure Network: a ResNet backbone whose pooled feature `x` gives class logits `fc(x)` and an
/// importance weight `alpha = sigmoid(importance(x))` in (0, 1) that scales the logits during training.
///
/// Parameter names: `backbone.*` (torchvision's ResNet names, `backbone.fc.*` the classifier),
/// `importance.weight` `[1, F]`, `importance.bias` `[1]`, and `margin` `[1]` (the learnable delta1, used
/// only when the margin is learned); with `ImportanceInput.featuresAndLabelProbability` also
/// `importance_label_weight` `[1]`.
public final class SCNModel: Module {
    public let backbone: ResNet
    public let importance: Linear
    public let margin: Tensor
    /// `v` in `alpha = sigmoid(importance(x) + v * log p(label))`; nil for the paper's head.
    public let labelProbabilityWeight: Tensor?

    public init(backbone: ResNet, initialMargin: Float = 0.15, importanceInput: ImportanceInput = .features, seed: UInt64 = 0) {
        self.backbone = backbone
        var generator = RandomGenerator(seed: seed ^ 0x5C4E)
        importance = Linear(backbone.featureCount, 1, generator: &generator)
        margin = Tensor([initialMargin], shape: [1], requiresGrad: true)
        // Zero: the head starts as the paper's and learns how much the label's fit matters.
        labelProbabilityWeight = importanceInput == .features ? nil : Tensor([0], shape: [1], requiresGrad: true)
        super.init()
    }

    public override func namedMembers() -> [(String, Any)] {
        var members: [(String, Any)] = [("backbone", backbone), ("importance", importance), ("margin", margin)]
        if let labelProbabilityWeight { members.append(("importance_label_weight", labelProbabilityWeight)) }
        return members
    }

    /// What one forward pass gives.
    public struct Output {
        /// `fc(x)`, `[N, C]`: the prediction (argmax) and the relabeling probabilities (paper).
        public var logits: Tensor
        /// `[N, 1]`, in (0, 1): the certainty of each sample.
        public var alpha: Tensor
        /// `alpha * logits`, `[N, C]`: the logit-weighted cross-entropy's input.
        public var weightedLogits: Tensor
    }

    /// - Parameters:
    ///   - images: `[N, 3, H, W]`, normalized.
    ///   - labels: each image's given label, read by a label-aware head (without labels it reads the
    ///     predicted class's probability); the paper's head ignores them.
    public func callAsFunction(_ images: Tensor, labels: [Int]? = nil) -> Output {
        let features = backbone.features(images)
        let logits = backbone.fc(features)
        var score = importance(features)
        if let labelProbabilityWeight {
            // The label's probability under the network, a constant for this step (no gradient flows into
            // the logits through it): the head can learn that a badly fitting label makes a sample suspect.
            let n = logits.shape[0], k = logits.shape[1]
            precondition(labels == nil || labels!.count == n, "SCNModel: \(labels!.count) labels for \(n) images")
            let p = softmax(logits.detached()).scalars
            let fit = (0..<n).map { i in
                Foundation.log(max(1e-4, labels.map { p[i * k + $0[i]] } ?? p[(i * k)..<((i + 1) * k)].max()!))
            }
            score = score + Tensor(fit, shape: [n, 1]) * labelProbabilityWeight
        }
        let alpha = sigmoid(score)
        return Output(logits: logits, alpha: alpha, weightedLogits: alpha * logits)
    }
}

/// What SCN's importance head reads.
public enum ImportanceInput: String, Codable, Sendable, CaseIterable {
    /// The pooled image feature only (the paper): `alpha = sigmoid(importance(x))`. Under label noise that
    /// does not depend on the image (symmetric noise), no function of the image alone can tell a wrong
    /// label from a right one.
    case features
    /// The feature and the log-probability the network gives the sample's label (detached, at least
    /// log 1e-4): `alpha = sigmoid(importance(x) + v * log p(label))`, `v` learned from zero.
    case featuresAndLabelProbability = "features+label-probability"
}
