import SCNKernels
import SCNTensor

/// torchvision's `BasicBlock`: two 3x3 convolutions with batch norm and an identity or projected shortcut.
public final class BasicBlock: Module, Layer {
    public let conv1: Conv2d
    public let bn1: BatchNorm2d
    public let conv2: Conv2d
    public let bn2: BatchNorm2d
    public let downsample: Sequential?

    public init(_ inputChannels: Int, _ channels: Int, stride: Int, generator: inout RandomGenerator) {
        conv1 = Conv2d(inputChannels, channels, kernelSize: 3, stride: stride, padding: 1, bias: false, generator: &generator)
        bn1 = BatchNorm2d(channels)
        conv2 = Conv2d(channels, channels, kernelSize: 3, padding: 1, bias: false, generator: &generator)
        bn2 = BatchNorm2d(channels)
        if stride != 1 || inputChannels != channels {
            downsample = Sequential(
                Conv2d(inputChannels, channels, kernelSize: 1, stride: stride, bias: false, generator: &generator),
                BatchNorm2d(channels))
        } else {
            downsample = nil
        }
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = bn2(conv2(bn1(conv1(x), applyingReLU: true)))
        return reluOfSum(y, downsample?(x) ?? x)
    }
}

/// torchvision's ResNet with `BasicBlock`s (ResNet-18 and ResNet-34), its parameter names unchanged
/// (`conv1.weight`, `layer2.0.downsample.0.weight`, `fc.bias`, ...), so its state dicts load directly.
public final class ResNet: Module, Layer {
    /// The input stem.
    public enum Stem: String, Sendable, CaseIterable {
        /// torchvision's 7x7 stride-2 convolution and 3x3 stride-2 max pool (for 112-224 pixel faces).
        case imageNet
        /// A 3x3 stride-1 convolution and no max pool (for 32-64 pixel faces such as FER2013's 48x48).
        /// `conv1.weight` is then `[64, 3, 3, 3]`.
        case small
    }

    public let conv1: Conv2d
    public let bn1: BatchNorm2d
    public let layer1: Sequential
    public let layer2: Sequential
    public let layer3: Sequential
    public let layer4: Sequential
    public let fc: Linear
    public let stem: Stem
    /// The width of the pooled feature vector (512 for the standard width).
    public let featureCount: Int

    /// - Parameters:
    ///   - depth: 18 or 34.
    ///   - classCount: outputs of `fc`.
    ///   - width: channels of the first stage (64 in torchvision; smaller for tests).
    ///   - inputChannels: 3 for RGB.
    public init(depth: Int, classCount: Int, stem: Stem = .imageNet, width: Int = 64, inputChannels: Int = 3,
                seed: UInt64 = 0) {
        let blocks: [Int]
        switch depth {
        case 18: blocks = [2, 2, 2, 2]
        case 34: blocks = [3, 4, 6, 3]
        default: preconditionFailure("ResNet: depth \(depth) is not supported (18 or 34)")
        }
        var generator = RandomGenerator(seed: seed)
        self.stem = stem
        switch stem {
        case .imageNet:
            conv1 = Conv2d(inputChannels, width, kernelSize: 7, stride: 2, padding: 3, bias: false, generator: &generator)
        case .small:
            conv1 = Conv2d(inputChannels, width, kernelSize: 3, stride: 1, padding: 1, bias: false, generator: &generator)
        }
        bn1 = BatchNorm2d(width)
        var channels = width
        func stage(_ out: Int, _ count: Int, _ stride: Int) -> Sequential {
            var layers: [any Layer] = []
            for i in 0..<count {
                layers.append(BasicBlock(channels, out, stride: i == 0 ? stride : 1, generator: &generator))
                channels = out
            }
            return Sequential(layers)
        }
        layer1 = stage(width, blocks[0], 1)
        layer2 = stage(width * 2, blocks[1], 2)
        layer3 = stage(width * 4, blocks[2], 2)
        layer4 = stage(width * 8, blocks[3], 2)
        featureCount = width * 8
        fc = Linear(featureCount, classCount, generator: &generator)
        super.init()
        // torchvision: kaiming_normal_(mode="fan_out", nonlinearity="relu") for convolutions.
        for (_, tensor) in namedParameters() where tensor.rank == 4 {
            let fanOut = Float(tensor.shape[0] * tensor.shape[2] * tensor.shape[3])
            let std = (2 / fanOut).squareRoot()
            tensor.assign(Tensor.normal(tensor.shape, standardDeviation: std, generator: &generator))
        }
    }

    public override func namedMembers() -> [(String, Any)] {
        [("conv1", conv1), ("bn1", bn1), ("layer1", layer1), ("layer2", layer2), ("layer3", layer3),
         ("layer4", layer4), ("fc", fc)]
    }

    /// The pooled features `[N, featureCount]` of images `[N, C, H, W]`.
    ///
    /// Inside `FrozenWeights.whileFrozen`, in evaluation mode without gradients, this runs as one fused chain
    /// (`ResNetInferenceChain`; `SCN_INFERENCE=layers` turns it off).
    public func features(_ x: Tensor) -> Tensor {
        if let chain = inferenceChain(for: x) { return chain.features(x) }
        var h = bn1(conv1(x), applyingReLU: true)
        if stem == .imageNet { h = maxPool2d(h, kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }
        h = layer4(layer3(layer2(layer1(h))))
        return globalAveragePool(h)
    }

    /// Class logits `[N, classCount]`.
    public func callAsFunction(_ x: Tensor) -> Tensor { fc(features(x)) }

    /// Sets the multiply format of every convolution.
    public func setConvolutionPrecision(_ precision: ConvolutionPrecision) {
        func visit(_ m: Module) {
            if let c = m as? Conv2d { c.precision = precision }
            for (_, child) in m.namedChildren() { visit(child) }
        }
        visit(self)
    }
}
