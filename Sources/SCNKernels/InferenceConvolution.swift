import CDNNL
import Foundation

/// How evaluation runs a network whose weights are frozen (`SCN_INFERENCE`).
public enum InferenceMode: String, Sendable {
    /// One chain of fused oneDNN primitives (batch norm folded into the convolutions, blocked activations
    /// throughout); the default.
    case fused
    /// Layer by layer through the kernels training uses, each batch norm after its convolution.
    case layers

    /// `SCN_INFERENCE` where set, else `.fused`.
    public static let current: InferenceMode =
        EngineSettings.value(of: "SCN_INFERENCE").flatMap { InferenceMode(rawValue: $0) } ?? .fused
}

/// How activations lie in memory between the steps of a fused inference chain.
public enum InferenceActivationLayout: Hashable, Sendable {
    /// `[N, C, H, W]`: a chain's input images (the layout oneDNN's first-layer kernels read).
    case channelsFirst
    /// `[N, H, W, C]`: the engine's tensors, and the tap method's activations.
    case channelsLast
    /// oneDNN's channel-blocked layout, `[N, ceil(C/b), H, W, b]` with `b = blockSize` channels innermost
    /// (channels past C are padding): what its convolutions read and write without reorders.
    case blocked

    /// Channels per block: 16 on CPUs with AVX-512, 8 on the others (one vector register of floats).
    public static let blockSize = RuntimeEnvironment.hasAVX512ForOpenBLAS() ? 16 : 8

    var tag: dnnl_format_tag_t {
        switch self {
        case .channelsFirst: return dnnl_nchw
        case .channelsLast: return dnnl_nhwc
        case .blocked: return Self.blockSize == 16 ? dnnl_nChw16c : dnnl_nChw8c
        }
    }

    /// Floats that `[batch, channels, height, width]` takes in this layout.
    public func floats(batch: Int, channels: Int, height: Int, width: Int) -> Int {
        let stored = self == .blocked ? (channels + Self.blockSize - 1) / Self.blockSize * Self.blockSize : channels
        return batch * stored * height * width
    }

    /// The mean over positions of activations `[N, C, H, W]` in this layout (blocked or channels-last), into
    /// `output` `[N, C]` (row-major): global average pooling at the end of a chain.
    public func averageOverPositions(_ input: UnsafePointer<Float>, batch: Int, channels: Int, height: Int, width: Int,
                                     output: UnsafeMutablePointer<Float>) {
        precondition(self != .channelsFirst, "averageOverPositions: channels-first activations")
        // Channels-last is the blocked layout with one block of all channels.
        let b = self == .blocked ? Self.blockSize : channels
        let blocks = (channels + b - 1) / b, positions = height * width
        let scale = 1 / Float(positions)
        ThreadPool.shared.parallelFor(batch, minimumChunk: 1) { images in
            for n in images {
                for block in 0..<blocks {
                    let source = input + (n * blocks + block) * positions * b
                    for k in 0..<min(b, channels - block * b) {
                        var sum: Float = 0
                        for p in 0..<positions { sum += source[p * b + k] }
                        output[n * channels + block * b + k] = sum * scale
                    }
                }
            }
        }
    }
}

/// A change of layout of activations `[N, C, H, W]` inside a fused inference chain.
public final class InferenceReorder {
    private let reorder: DNNLReorder

    public init(batch: Int, channels: Int, height: Int, width: Int, from: InferenceActivationLayout,
                to: InferenceActivationLayout) {
        let dims = [batch, channels, height, width]
        reorder = DNNLReorder(from: memoryDescriptor(dims, from.tag), to: memoryDescriptor(dims, to.tag))
    }

    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        KernelProfiler.measure("fused reorder") { reorder.run(input, output) }
    }
}

/// One convolution of a fused inference chain: `y = relu?(conv(x, W) + bias [+ y])`, its weights prepared
/// once, when it is made. A batch norm in evaluation mode folds into `W` and `bias` (`ResNet`'s inference
/// chain does this). Where the tap method is preferred for the geometry (small maps, channels-last in and
/// out) it runs that, with the sum and ReLU in one pass after it; elsewhere one oneDNN primitive does it
/// all, the ReLU and the residual sum as its post-ops, on activations that stay in the blocked layout from
/// one convolution to the next.
public final class InferenceConvolution {
    public let geometry: ConvolutionGeometry
    private let addsToOutput: Bool
    private let appliesReLU: Bool
    private let bias: UnsafeMutablePointer<Float>
    /// The oneDNN primitive and its arguments' descriptors and weights; nil for the tap method.
    private let primitive: (primitive: DNNLPrimitive, source: UnsafePointer<dnnl_memory_desc_t>,
                            destination: UnsafePointer<dnnl_memory_desc_t>, weightsDescriptor: UnsafePointer<dnnl_memory_desc_t>,
                            biasDescriptor: MemoryDescriptor, weights: UnsafeMutablePointer<Float>)?
    private let packed: TapConvolutionKernel.PackedWeights?

    /// Whether a convolution of `g` with channels-last activations in and out runs by taps: where
    /// `TapConvolutionKernel.isPreferred`, and for pointwise convolutions onto maps that small (ResNet's
    /// strided shortcuts there: one gathered matrix product), which oneDNN 2.6 runs by its generic AVX2
    /// kernel in channels-last.
    public static func usesTaps(_ g: ConvolutionGeometry) -> Bool {
        let isSmallPointwise = g.kernelHeight * g.kernelWidth == 1 && g.outputHeight * g.outputWidth <= 16
            && g.inputChannels >= 64 && ConvolutionMethodOverride.current == .automatic
        return TapConvolutionKernel.isPreferred(for: g) || isSmallPointwise
    }

    /// - Parameters:
    ///   - weight: `[O, I, kH, kW]`, copied.
    ///   - bias: `[O]`, copied.
    ///   - input, output: the layouts `run` reads and writes (the tap method where both are channels-last
    ///     and `usesTaps(g)`).
    ///   - addsToOutput: add the convolution to what the output buffer holds (a residual shortcut) instead
    ///     of overwriting it.
    ///   - appliesReLU: `max(0, .)` after the bias and the sum.
    public init(_ g: ConvolutionGeometry, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                input: InferenceActivationLayout, output: InferenceActivationLayout, addsToOutput: Bool, appliesReLU: Bool) {
        geometry = g
        self.addsToOutput = addsToOutput
        self.appliesReLU = appliesReLU
        self.bias = .allocate(capacity: g.outputChannels)
        self.bias.update(from: bias, count: g.outputChannels)
        if input == .channelsLast && output == .channelsLast && Self.usesTaps(g) {
            packed = TapConvolutionKernel.pack(g, weight: weight)
            primitive = nil
            return
        }
        packed = nil
        let sourceRequest = MemoryDescriptor([g.batch, g.inputChannels, g.inputHeight, g.inputWidth], input.tag)
        let destinationRequest = MemoryDescriptor([g.batch, g.outputChannels, g.outputHeight, g.outputWidth], output.tag)
        let biasDescriptor = MemoryDescriptor([g.outputChannels], dnnl_a)
        let userWeights = MemoryDescriptor([g.outputChannels, g.inputChannels, g.kernelHeight, g.kernelWidth], dnnl_oihw)
        var weightsAny = memoryDescriptor([g.outputChannels, g.inputChannels, g.kernelHeight, g.kernelWidth],
                                          dnnl_format_tag_any)
        let (strides, paddingLeft, paddingRight) = g.dnnlStridesAndPadding
        var desc = dnnl_convolution_desc_t()
        dnnlCheck(dnnl_convolution_forward_desc_init(
            &desc, dnnl_forward_inference, dnnl_convolution_direct, sourceRequest.pointer, &weightsAny,
            biasDescriptor.pointer, destinationRequest.pointer, strides, paddingLeft, paddingRight),
                  "inference convolution \(g)")
        var postOps: dnnl_post_ops_t?
        dnnlCheck(dnnl_post_ops_create(&postOps), "post-ops creation")
        if addsToOutput { dnnlCheck(dnnl_post_ops_append_sum(postOps, 1), "sum post-op") }
        if appliesReLU { dnnlCheck(dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_relu, 0, 0), "ReLU post-op") }
        var attributes: dnnl_primitive_attr_t?
        dnnlCheck(dnnl_primitive_attr_create(&attributes), "attribute creation")
        dnnlCheck(dnnl_primitive_attr_set_post_ops(attributes, postOps), "post-ops")
        let made = DNNLPrimitive(operation: &desc, attributes: attributes, what: "inference convolution")
        dnnl_primitive_attr_destroy(attributes)
        dnnl_post_ops_destroy(postOps)

        let source = made.memoryDescriptor(dnnl_query_src_md), destination = made.memoryDescriptor(dnnl_query_dst_md)
        let weightsDescriptor = made.memoryDescriptor(dnnl_query_weights_md)
        precondition(sameLayout(source, sourceRequest.pointer) && sameLayout(destination, destinationRequest.pointer),
                     "oneDNN chose other activation layouts than requested for \(g)")
        let weights = UnsafeMutablePointer<Float>.allocate(capacity: max(1, scratchFloats(weightsDescriptor)))
        if userWeights.matches(weightsDescriptor) {
            weights.update(from: weight, count: g.weightCount)
        } else {
            DNNLReorder(from: userWeights.pointer.pointee, to: weightsDescriptor.pointee).run(weight, weights)
        }
        primitive = (made, source, destination, weightsDescriptor, biasDescriptor, weights)
    }

    deinit {
        primitive?.weights.deallocate()
        bias.deallocate()
    }

    /// Runs the convolution from `input` into `output` (which holds the shortcut to add where `addsToOutput`).
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        if let packed { return runByTaps(input: input, output: output, packed: packed) }
        let p = primitive!
        FLOPCounter.add(geometry.forwardFLOPs)
        KernelProfiler.measure("fused conv inference") {
            p.primitive.execute([
                (DNNLArgument.src, p.source, UnsafeMutableRawPointer(mutating: input)),
                (DNNLArgument.weights, p.weightsDescriptor, UnsafeMutableRawPointer(p.weights)),
                (DNNLArgument.bias, p.biasDescriptor.pointer, UnsafeMutableRawPointer(bias)),
                (DNNLArgument.dst, p.destination, UnsafeMutableRawPointer(output)),
            ])
        }
    }

    private func runByTaps(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                           packed: TapConvolutionKernel.PackedWeights) {
        let count = geometry.outputCount, relu = appliesReLU
        KernelProfiler.measure("fused conv inference (taps)") {
            guard addsToOutput else {
                TapConvolutionKernel.forward(geometry, input: input, weights: packed, bias: bias, output: output)
                if relu { ThreadPool.shared.parallelFor(count) { r in for i in r { output[i] = max(output[i], 0) } } }
                return
            }
            withScratch(count) { product in
                TapConvolutionKernel.forward(geometry, input: input, weights: packed, bias: bias, output: product)
                ThreadPool.shared.parallelFor(count) { r in
                    for i in r { let y = output[i] + product[i]; output[i] = relu ? max(y, 0) : y }
                }
            }
        }
    }
}

/// Max pooling in a fused inference chain, blocked activations in and out.
public final class InferenceMaxPooling {
    public let geometry: PoolingGeometry
    private let plan: PoolingPlan

    /// - Parameter g: a `.max` geometry.
    public init(_ g: PoolingGeometry) {
        precondition(g.kind == .max, "InferenceMaxPooling: \(g.kind) pooling")
        geometry = g
        plan = PoolingPlan(g, tag: InferenceActivationLayout.blocked.tag)
    }

    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        KernelProfiler.measure("fused pooling inference") { plan.runInference(input: input, output: output) }
    }
}
