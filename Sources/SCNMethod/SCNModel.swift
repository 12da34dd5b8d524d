import SCNLayers
import SCNTensor

/// The Self-Cure Network: a ResNet backbone whose pooled feature `x` gives class logits `fc(x)` and an
/// importance weight `alpha = sigmoid(importance(x))` in (0, 1) that scales the logits during training.
///
/// Parameter names: `backbone.*` (torchvision's ResNet names, `backbone.fc.*` the classifier),
/// `importance.weight` `[1, F]`, `importance.bias` `[1]`, and `margin` `[1]` (the learnable delta1, used
/// only when the margin is learned).
public final class SCNModel: Module {
    public let backbone: ResNet
    public let importance: Linear
    public let margin: Tensor

    public init(backbone: ResNet, initialMargin: Float = 0.15, seed: UInt64 = 0) {
        self.backbone = backbone
        var generator = RandomGenerator(seed: seed ^ 0x5C4E)
        importance = Linear(backbone.featureCount, 1, generator: &generator)
        margin = Tensor([initialMargin], shape: [1], requiresGrad: true)
        super.init()
    }

    public override func namedMembers() -> [(String, Any)] {
        [("backbone", backbone), ("importance", importance), ("margin", margin)]
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

    public func callAsFunction(_ images: Tensor) -> Output {
        let features = backbone.features(images)
        let logits = backbone.fc(features)
        let alpha = sigmoid(importance(features))
        return Output(logits: logits, alpha: alpha, weightedLogits: alpha * logits)
    }
}
