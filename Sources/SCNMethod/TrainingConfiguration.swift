import Foundation
import SCNData
import SCNKernels
import SCNLayers

/// Everything that defines a training run; saved as `configuration.json` in the run directory.
/// Defaults are the paper's (SCN-SPEC.md), except the schedule length and input size, which a user sets
/// for the hardware at hand.
public struct TrainingConfiguration: Codable, Equatable, Sendable {
    public enum Method: String, Codable, Sendable, CaseIterable { case scn, baseline }
    public enum OptimizerKind: String, Codable, Sendable, CaseIterable { case sgd, adam, adamw }
    public enum ScheduleKind: String, Codable, Sendable, CaseIterable { case multistep, exponential, cosine }
    public enum Augmentation: String, Codable, Sendable, CaseIterable {
        /// Resize and normalize only.
        case none
        /// Random crop with padding (1/8 of the size) and horizontal flip.
        case cropFlip = "crop-flip"
        /// The authors' code: flip or Gaussian noise (variance 30), normalize, random erasing.
        case official
        /// Random rotation (up to 10 degrees), scaling (0.9-1.1) and shift (up to 1/10 of the size), horizontal flip,
        /// normalize, random erasing (p 0.5): the stronger augmentation of from-scratch FER2013 training.
        case affineFlipErase = "affine-flip-erase"
    }
    /// What the (weighted) cross-entropy is computed against.
    public enum Targets: String, Codable, Sendable, CaseIterable {
        /// One class per image: its current label (the paper).
        case labels
        /// Each image's annotator vote distribution (FERPlus's 10 votes; `ExpressionDataset.targetDistributions`),
        /// a one-hot row of the new label where SCN relabeled it. Needs a dataset with votes whose labels are
        /// their majority (no injected noise, not FER2013's original labels).
        case votes
    }

    public var method: Method = .scn
    /// What the cross-entropy is computed against: the labels (the paper) or the annotator votes.
    public var targets: Targets = .labels
    /// Distillation (not in the paper): the share of a teacher's probabilities in each sample's target
    /// (`ExpressionDataset.distillationTargets`; the rest is the `targets` one), in [0, 1]; nil: no teacher.
    public var distillationWeight: Float?
    // Backbone and input.
    public var depth = 18
    public var stem: ResNet.Stem = .imageNet
    public var width = 64
    public var inputSize = 48
    /// Progressive resizing (not in the paper): the training input size of the first epoch, in pixels a side; it
    /// grows linearly, in steps of 16 pixels, to `inputSize` at `inputRampEndEpoch` (`trainingInputSize(atEpoch:)`).
    /// Validation and evaluation always use `inputSize`. nil: every epoch at `inputSize`.
    public var startInputSize: Int?
    /// With `startInputSize`: the first epoch (0-based) trained at `inputSize`.
    public var inputRampEndEpoch = 0
    // Optimization.
    public var epochs = 40
    public var batchSize = 64
    public var optimizer: OptimizerKind = .sgd
    public var learningRate: Float = 0.1
    public var momentum: Float = 0.9
    public var weightDecay: Float = 5e-4
    public var schedule: ScheduleKind = .multistep
    public var milestones = [15, 30]
    public var decay: Float = 0.1
    public var warmupEpochs: Double = 0
    public var augmentation: Augmentation = .cropFlip
    // SCN.
    /// SCN's importance weighting: alpha scales the logits of the cross-entropy (WCE). Off, the
    /// cross-entropy reads the plain logits: an ablation of the paper's Table 5 (with `rankRegularization`
    /// and relabeling, each module can be switched off).
    public var importanceWeighting = true
    /// SCN's rank regularization (RR) of alpha over the batch. Off, alpha is trained by the weighted
    /// cross-entropy alone (or not at all, with `importanceWeighting` off too).
    public var rankRegularization = true
    public var beta: Float = 0.7
    public var margin: Float = 0.15
    /// What splits each batch into the high- and low-importance groups of the rank loss and of relabeling.
    public var importanceGrouping: ImportanceGrouping = .alpha
    public var learnsMargin = false
    public var relabelThreshold: Float = 0.2
    public var gamma: Float = 0.5
    public var relabelStartEpoch = 10
    /// The first epoch (0-based) in which relabeling no longer happens (nil: it goes on to the end, the
    /// paper): relabeling happens in epochs `relabelStartEpoch..<relabelStopEpoch`.
    public var relabelStopEpoch: Int?
    public var relabelScope: RelabelScope = .lowImportance
    public var relabelProbabilities: RelabelProbabilities = .logits
    public var lossForm: LossForm = .paper
    /// How alpha scales the logits in the weighted cross-entropy.
    public var alphaScaling: AlphaScaling = .raw
    /// Epochs trained as the plain baseline (cross-entropy on the logits, no rank loss) before SCN's
    /// losses start: from scratch most predictions are wrong at first, which drives every alpha down.
    public var baselineWarmupEpochs = 0
    /// Relabel only where the most probable class has at least this probability (0: the paper's rule).
    public var relabelConfidence: Float = 0
    /// Relabel only after the same new label was proposed in this many consecutive epochs (1: the paper).
    public var relabelPatience = 1
    /// What the importance head reads: the image feature (the paper) or also the label's probability.
    public var importanceInput: ImportanceInput = .features
    // Weight averaging (not in the paper).
    /// The per-step decay of an exponential moving average of the weights and batch-norm statistics
    /// (`average = decay * average + (1 - decay) * weights` after every step; 0.999: a time constant of
    /// 1,000 steps); nil: no average. The average, not the trained weights, is validated, selected as the
    /// best checkpoint and evaluated.
    public var weightAverageDecay: Float?
    /// The average starts, as a copy of the weights, at the start of this epoch (0-based).
    public var weightAverageStartEpoch = 0
    // Reproducibility and speed.
    public var seed: UInt64 = 0
    public var precision: ConvolutionPrecision = .float32

    public init() {}

    /// The keys of `configuration.json` (a setting that is nil, such as `relabelStopEpoch`, is left out
    /// of the file but is still a key).
    public static var keys: [String] { CodingKeys.allCases.map(\.stringValue) }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case method, targets, distillationWeight, depth, stem, width, inputSize, startInputSize, inputRampEndEpoch, epochs, batchSize, optimizer, learningRate, momentum, weightDecay, schedule, milestones, decay, warmupEpochs, augmentation, importanceWeighting, rankRegularization, beta, margin, importanceGrouping, learnsMargin, relabelThreshold, gamma, relabelStartEpoch, relabelStopEpoch, relabelScope, relabelProbabilities, lossForm, alphaScaling, baselineWarmupEpochs, relabelConfidence, relabelPatience, importanceInput, weightAverageDecay, weightAverageStartEpoch, seed, precision
    }

    /// Decodes a configuration; keys a file does not have (one written by an earlier version) keep
    /// their defaults.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        method = try container.decodeIfPresent(type(of: method), forKey: .method) ?? method
        targets = try container.decodeIfPresent(type(of: targets), forKey: .targets) ?? targets
        distillationWeight = try container.decodeIfPresent(Float.self, forKey: .distillationWeight)
        depth = try container.decodeIfPresent(type(of: depth), forKey: .depth) ?? depth
        stem = try container.decodeIfPresent(type(of: stem), forKey: .stem) ?? stem
        width = try container.decodeIfPresent(type(of: width), forKey: .width) ?? width
        inputSize = try container.decodeIfPresent(type(of: inputSize), forKey: .inputSize) ?? inputSize
        startInputSize = try container.decodeIfPresent(Int.self, forKey: .startInputSize)
        inputRampEndEpoch = try container.decodeIfPresent(type(of: inputRampEndEpoch), forKey: .inputRampEndEpoch) ?? inputRampEndEpoch
        epochs = try container.decodeIfPresent(type(of: epochs), forKey: .epochs) ?? epochs
        batchSize = try container.decodeIfPresent(type(of: batchSize), forKey: .batchSize) ?? batchSize
        optimizer = try container.decodeIfPresent(type(of: optimizer), forKey: .optimizer) ?? optimizer
        learningRate = try container.decodeIfPresent(type(of: learningRate), forKey: .learningRate) ?? learningRate
        momentum = try container.decodeIfPresent(type(of: momentum), forKey: .momentum) ?? momentum
        weightDecay = try container.decodeIfPresent(type(of: weightDecay), forKey: .weightDecay) ?? weightDecay
        schedule = try container.decodeIfPresent(type(of: schedule), forKey: .schedule) ?? schedule
        milestones = try container.decodeIfPresent(type(of: milestones), forKey: .milestones) ?? milestones
        decay = try container.decodeIfPresent(type(of: decay), forKey: .decay) ?? decay
        warmupEpochs = try container.decodeIfPresent(type(of: warmupEpochs), forKey: .warmupEpochs) ?? warmupEpochs
        augmentation = try container.decodeIfPresent(type(of: augmentation), forKey: .augmentation) ?? augmentation
        importanceWeighting = try container.decodeIfPresent(type(of: importanceWeighting), forKey: .importanceWeighting) ?? importanceWeighting
        rankRegularization = try container.decodeIfPresent(type(of: rankRegularization), forKey: .rankRegularization) ?? rankRegularization
        beta = try container.decodeIfPresent(type(of: beta), forKey: .beta) ?? beta
        margin = try container.decodeIfPresent(type(of: margin), forKey: .margin) ?? margin
        importanceGrouping = try container.decodeIfPresent(type(of: importanceGrouping), forKey: .importanceGrouping) ?? importanceGrouping
        learnsMargin = try container.decodeIfPresent(type(of: learnsMargin), forKey: .learnsMargin) ?? learnsMargin
        relabelThreshold = try container.decodeIfPresent(type(of: relabelThreshold), forKey: .relabelThreshold) ?? relabelThreshold
        gamma = try container.decodeIfPresent(type(of: gamma), forKey: .gamma) ?? gamma
        relabelStartEpoch = try container.decodeIfPresent(type(of: relabelStartEpoch), forKey: .relabelStartEpoch) ?? relabelStartEpoch
        relabelStopEpoch = try container.decodeIfPresent(Int.self, forKey: .relabelStopEpoch)
        relabelScope = try container.decodeIfPresent(type(of: relabelScope), forKey: .relabelScope) ?? relabelScope
        relabelProbabilities = try container.decodeIfPresent(type(of: relabelProbabilities), forKey: .relabelProbabilities) ?? relabelProbabilities
        lossForm = try container.decodeIfPresent(type(of: lossForm), forKey: .lossForm) ?? lossForm
        alphaScaling = try container.decodeIfPresent(type(of: alphaScaling), forKey: .alphaScaling) ?? alphaScaling
        baselineWarmupEpochs = try container.decodeIfPresent(type(of: baselineWarmupEpochs), forKey: .baselineWarmupEpochs) ?? baselineWarmupEpochs
        relabelConfidence = try container.decodeIfPresent(type(of: relabelConfidence), forKey: .relabelConfidence) ?? relabelConfidence
        relabelPatience = try container.decodeIfPresent(type(of: relabelPatience), forKey: .relabelPatience) ?? relabelPatience
        importanceInput = try container.decodeIfPresent(type(of: importanceInput), forKey: .importanceInput) ?? importanceInput
        weightAverageDecay = try container.decodeIfPresent(Float.self, forKey: .weightAverageDecay)
        weightAverageStartEpoch = try container.decodeIfPresent(type(of: weightAverageStartEpoch), forKey: .weightAverageStartEpoch) ?? weightAverageStartEpoch
        seed = try container.decodeIfPresent(type(of: seed), forKey: .seed) ?? seed
        precision = try container.decodeIfPresent(type(of: precision), forKey: .precision) ?? precision
    }

    /// The settings that decide the shape of a checkpoint's state (the model's parameters and the
    /// optimizer's slots) and differ between this configuration and `other`, by name; empty when a
    /// checkpoint of one can be trained on under the other.
    public func stateShapeDifferences(from other: TrainingConfiguration) -> [String] {
        let settings: [(String, String, String)] = [
            ("method", method.rawValue, other.method.rawValue), ("depth", "\(depth)", "\(other.depth)"),
            ("stem", stem.rawValue, other.stem.rawValue), ("width", "\(width)", "\(other.width)"),
            ("optimizer", optimizer.rawValue, other.optimizer.rawValue),
            ("importanceInput", importanceInput.rawValue, other.importanceInput.rawValue),
        ]
        return settings.compactMap { $0.1 == $0.2 ? nil : "\($0.0) (\($0.1), not \($0.2))" }
    }

    /// A model of this configuration's architecture for `classCount` classes, initialized from `seed`,
    /// its convolutions at `precision`.
    public func makeModel(classCount: Int, seed: UInt64 = 0, precision: ConvolutionPrecision = .float32) -> SCNModel {
        let backbone = ResNet(depth: depth, classCount: classCount, stem: stem, width: width, seed: seed)
        backbone.setConvolutionPrecision(precision)
        return SCNModel(backbone: backbone, initialMargin: margin, importanceInput: importanceInput, seed: seed)
    }

    /// The learning-rate schedule this configuration describes.
    public func learningRateSchedule() -> LearningRateSchedule {
        let base: LearningRateSchedule
        switch schedule {
        case .multistep: base = MultiStepSchedule(base: learningRate, milestones: milestones, gamma: decay)
        case .exponential: base = ExponentialSchedule(base: learningRate, gamma: decay)
        case .cosine: base = CosineSchedule(base: learningRate, epochs: Double(epochs))
        }
        return warmupEpochs > 0 ? AnySchedule(LinearWarmup(AnySchedule(base), warmupEpochs: warmupEpochs)) : base
    }

    /// The training input size of `epoch` (0-based), in pixels a side: `inputSize`, or with `startInputSize`,
    /// `startInputSize + (inputSize - startInputSize) * epoch / inputRampEndEpoch` rounded down to a step of 16
    /// pixels before `inputRampEndEpoch` (48 to 96 over 24 epochs: 48, 64, 80 for 8 epochs each, then 96).
    public func trainingInputSize(atEpoch epoch: Int) -> Int {
        guard let start = startInputSize, epoch < inputRampEndEpoch else { return inputSize }
        return start + (inputSize - start) * epoch / inputRampEndEpoch / 16 * 16
    }

    /// Seconds the epochs after `completedEpochs` will take, estimated from the last epoch's `seconds`:
    /// each remaining epoch costs as much per pixel as the last one (training cost grows with the pixel
    /// count), so with progressive resizing the larger epochs to come count in full. 0 after the last epoch.
    public func estimatedSecondsLeft(afterEpoch completedEpochs: Int, lastEpochSeconds seconds: Double) -> Double {
        guard completedEpochs >= 1, completedEpochs < epochs else { return 0 }
        let lastSize = Double(trainingInputSize(atEpoch: completedEpochs - 1))
        return (completedEpochs..<epochs).reduce(0) { total, epoch in
            let size = Double(trainingInputSize(atEpoch: epoch))
            return total + seconds * size * size / (lastSize * lastSize)
        }
    }

    /// Training-time image steps, resizing to `size` pixels a side (default `inputSize`).
    public func trainingTransforms(channels: Int, size: Int? = nil) -> [ImageTransform] {
        let (mean, std) = normalization(channels)
        let size = size ?? inputSize
        let resize = ImageTransform.resize(width: size, height: size)
        switch augmentation {
        case .none: return [resize, .normalize(mean: mean, std: std)]
        case .cropFlip:
            return [resize, .randomCrop(size: size, padding: max(1, size / 8)), .horizontalFlip(p: 0.5),
                    .normalize(mean: mean, std: std)]
        case .official:
            return [resize, .flipOrGaussianNoise(p: 0.5, standardDeviation: Float(30).squareRoot()), .normalize(mean: mean, std: std),
                    .randomErasing(p: 0.5, scale: 0.02...0.25, ratio: 0.3...3.3)]
        case .affineFlipErase:
            return [resize, .randomAffine(degrees: 10, scale: 0.9...1.1, translation: 0.1), .horizontalFlip(p: 0.5),
                    .normalize(mean: mean, std: std), .randomErasing(p: 0.5, scale: 0.02...0.25, ratio: 0.3...3.3)]
        }
    }

    /// Evaluation-time image steps.
    public func evaluationTransforms(channels: Int) -> [ImageTransform] {
        let (mean, std) = normalization(channels)
        return [.resize(width: inputSize, height: inputSize), .normalize(mean: mean, std: std)]
    }

    private func normalization(_ channels: Int) -> ([Float], [Float]) {
        channels == 3 ? (imageNetMean, imageNetStd) : ([Float](repeating: 0.5, count: channels), [Float](repeating: 0.5, count: channels))
    }
}

/// A schedule behind an existential, so schedules can wrap each other.
public struct AnySchedule: LearningRateSchedule {
    private let rate: @Sendable (Double) -> Float
    public init(_ schedule: some LearningRateSchedule) { rate = { schedule.learningRate(atEpoch: $0) } }
    public func learningRate(atEpoch epoch: Double) -> Float { rate(epoch) }
}

extension ResNet.Stem: Codable {}
extension ConvolutionPrecision: Codable {}
