import SCNKernels
import SCNTensor

/// A ResNet's pooled features for inference as one chain of fused oneDNN primitives: each batch norm
/// folded into the convolution before it (`W' = W * g / sqrt(v + eps)`, `b' = beta - m * g / sqrt(v + eps)`),
/// each ReLU and residual sum run as the convolution's post-ops, and the activations kept in oneDNN's blocked
/// layout from the first convolution on, with no reorders between layers. Where the maps get small enough
/// for the tap method (`TapConvolutionKernel.isPreferred`; ResNet's last stages at 48x48), the chain moves
/// to channels-last once and runs the rest by taps, with the bias, sum and ReLU in one pass after each.
///
/// The chain is made for one batch size and image size; a smaller batch runs padded to it. An image's
/// features do not depend on the other images in its batch (bit for bit), but may round differently at
/// another position in it (the tap method's matrix products). Folding rounds differently from normalizing after the
/// convolution: features agree with the layer-by-layer pass to about 1e-6 of their scale, not bit for bit.
final class ResNetInferenceChain {
    private struct Block {
        /// Moves the block's input from the blocked layout to channels-last, where the chain turns to the
        /// tap method (the first block whose maps are small enough).
        let inputReorder: InferenceReorder?
        let first: InferenceConvolution
        let second: InferenceConvolution
        let shortcut: InferenceConvolution?
    }

    let batch: Int
    let height: Int
    let width: Int
    private let featureCount: Int
    private let stem: InferenceConvolution
    private let pool: InferenceMaxPooling?
    private let blocks: [Block]
    /// The layout of the last block's output.
    private let outputLayout: InferenceActivationLayout
    /// Three activation buffers, each large enough for any layer's output; a block reads one and writes
    /// the other two.
    private let buffers: [Storage]
    /// The input, channels-first, padded to `batch` images when fewer come.
    private let paddedInput: Storage

    /// Whether `network` can run as a chain now: in evaluation mode, float32 convolutions, gradients off.
    static func applies(to network: ResNet) -> Bool {
        guard !GradientMode.isEnabled, InferenceMode.current == .fused else { return false }
        var ok = true
        func visit(_ m: Module) {
            if m.isTraining { ok = false }
            if let c = m as? Conv2d, c.precision != .float32 { ok = false }
            for (_, child) in m.namedChildren() where ok { visit(child) }
        }
        visit(network)
        return ok
    }

    /// Makes the chain for `batch` images of `inputChannels` x `height` x `width`, from `network`'s current weights.
    init(_ network: ResNet, batch: Int, inputChannels: Int, height: Int, width: Int) {
        self.batch = batch
        self.height = height
        self.width = width
        featureCount = network.featureCount
        var sizes: [Int] = []
        var channels = inputChannels, h = height, w = width
        var layout = InferenceActivationLayout.blocked
        func geometry(_ conv: Conv2d) -> ConvolutionGeometry {
            ConvolutionGeometry(
                batch: batch, inputChannels: channels, inputHeight: h, inputWidth: w, outputChannels: conv.weight.shape[0],
                kernelHeight: conv.weight.shape[2], kernelWidth: conv.weight.shape[3], strideHeight: conv.stride.0,
                strideWidth: conv.stride.1, paddingHeight: conv.padding.0, paddingWidth: conv.padding.1)
        }
        /// The fused convolution of `conv` and `norm` on the current activations, from `input` into `layout`.
        func fused(_ conv: Conv2d, _ norm: BatchNorm2d, input: InferenceActivationLayout? = nil,
                   addsToOutput: Bool = false, appliesReLU: Bool) -> InferenceConvolution {
            let g = geometry(conv)
            let (foldedWeight, foldedBias) = Self.fold(conv, norm)
            sizes.append(layout.floats(batch: batch, channels: g.outputChannels, height: g.outputHeight, width: g.outputWidth))
            return InferenceConvolution(g, weight: foldedWeight, bias: foldedBias, input: input ?? layout, output: layout,
                                        addsToOutput: addsToOutput, appliesReLU: appliesReLU)
        }
        stem = fused(network.conv1, network.bn1, input: .channelsFirst, appliesReLU: true)
        (channels, h, w) = (stem.geometry.outputChannels, stem.geometry.outputHeight, stem.geometry.outputWidth)
        if network.stem == .imageNet {
            let g = PoolingGeometry(kind: .max, batch: batch, channels: channels, inputHeight: h, inputWidth: w,
                                    kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2,
                                    paddingHeight: 1, paddingWidth: 1)
            pool = InferenceMaxPooling(g)
            (h, w) = (g.outputHeight, g.outputWidth)
            sizes.append(layout.floats(batch: batch, channels: channels, height: h, width: w))
        } else {
            pool = nil
        }
        var blocks: [Block] = []
        for stage in [network.layer1, network.layer2, network.layer3, network.layer4] {
            for case let block as BasicBlock in stage.layers {
                var inputReorder: InferenceReorder?
                if layout == .blocked && InferenceConvolution.usesTaps(geometry(block.conv1)) {
                    inputReorder = InferenceReorder(batch: batch, channels: channels, height: h, width: w,
                                                    from: .blocked, to: .channelsLast)
                    layout = .channelsLast
                    sizes.append(layout.floats(batch: batch, channels: channels, height: h, width: w))
                }
                // The shortcut and the first convolution both read the block's input.
                var shortcut: InferenceConvolution?
                if let downsample = block.downsample, let conv = downsample.layers[0] as? Conv2d,
                   let norm = downsample.layers[1] as? BatchNorm2d {
                    shortcut = fused(conv, norm, appliesReLU: false)
                }
                let first = fused(block.conv1, block.bn1, appliesReLU: true)
                (channels, h, w) = (first.geometry.outputChannels, first.geometry.outputHeight, first.geometry.outputWidth)
                let second = fused(block.conv2, block.bn2, addsToOutput: true, appliesReLU: true)
                blocks.append(Block(inputReorder: inputReorder, first: first, second: second, shortcut: shortcut))
            }
        }
        self.blocks = blocks
        outputLayout = layout
        let largest = sizes.max() ?? 1
        buffers = (0..<3).map { _ in Storage(count: largest) }
        paddedInput = Storage(count: batch * inputChannels * height * width)
        paddedInput.data.update(repeating: 0, count: paddedInput.count)
    }

    /// `conv`'s weights and a bias with `norm`'s evaluation-mode affine map folded in, `[O, I, kH, kW]` and `[O]`.
    static func fold(_ conv: Conv2d, _ norm: BatchNorm2d) -> (weight: [Float], bias: [Float]) {
        let weight = conv.weight.scalars, outputs = conv.weight.shape[0], perOutput = weight.count / outputs
        let gamma = norm.weight.scalars, beta = norm.bias.scalars
        let mean = norm.runningMean.scalars, variance = norm.runningVar.scalars
        let convBias = conv.bias?.scalars ?? [Float](repeating: 0, count: outputs)
        var foldedWeight = weight, foldedBias = [Float](repeating: 0, count: outputs)
        for o in 0..<outputs {
            let scale = Double(gamma[o]) / (Double(variance[o]) + Double(norm.epsilon)).squareRoot()
            for i in (o * perOutput)..<((o + 1) * perOutput) { foldedWeight[i] = Float(Double(weight[i]) * scale) }
            foldedBias[o] = Float(Double(beta[o]) + (Double(convBias[o]) - Double(mean[o])) * scale)
        }
        return (foldedWeight, foldedBias)
    }

    /// The pooled features `[N, featureCount]` of images `[N, C, H, W]`, N at most `batch`.
    func features(_ x: Tensor) -> Tensor {
        let n = x.shape[0]
        precondition(n <= batch && x.shape[2] == height && x.shape[3] == width, "ResNetInferenceChain: input \(x.shape) for a chain of \(batch) x \(height) x \(width)")
        let input = x.contiguous()
        var source = UnsafePointer(input.data)
        if n < batch {
            paddedInput.data.update(from: input.data, count: input.count)
            source = UnsafePointer(paddedInput.data)
        }
        var current = 0
        stem.run(input: source, output: buffers[current].data)
        if let pool {
            pool.run(input: buffers[current].data, output: buffers[1].data)
            current = 1
        }
        for block in blocks {
            if let reorder = block.inputReorder {
                reorder.run(input: buffers[current].data, output: buffers[(current + 1) % 3].data)
                current = (current + 1) % 3
            }
            let (hidden, other) = ((current + 1) % 3, (current + 2) % 3)
            block.first.run(input: buffers[current].data, output: buffers[hidden].data)
            if let shortcut = block.shortcut {
                shortcut.run(input: buffers[current].data, output: buffers[other].data)
                current = other
            }
            // The block's output replaces the shortcut it adds to: `relu(bn2(conv2(h)) + shortcut)`.
            block.second.run(input: buffers[hidden].data, output: buffers[current].data)
        }
        let last = blocks.last?.second.geometry ?? stem.geometry
        let features = Tensor(uninitializedShape: [n, featureCount])
        KernelProfiler.measure("fused average pool") {
            outputLayout.averageOverPositions(
                buffers[current].data, batch: n, channels: featureCount,
                height: last.outputHeight, width: last.outputWidth, output: features.data)
        }
        return features
    }
}

extension ResNet {
    /// The fused inference chain for `x`, kept while weights are frozen (`FrozenWeights.whileFrozen`) and
    /// remade for a larger batch or another image size; nil where it does not apply (training mode,
    /// gradients on, bf16 convolutions, `SCN_INFERENCE=layers`, outside `whileFrozen`).
    func inferenceChain(for x: Tensor) -> ResNetInferenceChain? {
        guard x.rank == 4, x.shape[0] > 0, x.shape[1] == conv1.weight.shape[1], FrozenWeights.isActive,
              ResNetInferenceChain.applies(to: self) else { return nil }
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let holder = FrozenWeights.prepared(for: self) { ChainHolder() }!
        if let chain = holder.chain, chain.batch >= n, chain.height == h, chain.width == w { return chain }
        let chain = ResNetInferenceChain(self, batch: max(n, holder.chain?.batch ?? 0), inputChannels: c, height: h, width: w)
        holder.chain = chain
        return chain
    }

    /// The chain of one network, replaced when the input outgrows it.
    final class ChainHolder {
        var chain: ResNetInferenceChain?
    }
}
