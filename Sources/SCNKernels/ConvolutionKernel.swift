import CDNNL
import Foundation

/// The sizes of one 2-D convolution. Activations are channels-last in memory (`[N, H, W, C]`),
/// weights are PyTorch's `[O, I, kH, kW]`.
public struct ConvolutionGeometry: Hashable, Sendable {
    public var batch: Int
    public var inputChannels: Int
    public var inputHeight: Int
    public var inputWidth: Int
    public var outputChannels: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var strideHeight: Int
    public var strideWidth: Int
    public var paddingHeight: Int
    public var paddingWidth: Int

    public init(batch: Int, inputChannels: Int, inputHeight: Int, inputWidth: Int, outputChannels: Int,
                kernelHeight: Int, kernelWidth: Int, strideHeight: Int, strideWidth: Int,
                paddingHeight: Int, paddingWidth: Int) {
        self.batch = batch
        self.inputChannels = inputChannels
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.outputChannels = outputChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.paddingHeight = paddingHeight
        self.paddingWidth = paddingWidth
    }

    public var outputHeight: Int { (inputHeight + 2 * paddingHeight - kernelHeight) / strideHeight + 1 }
    public var outputWidth: Int { (inputWidth + 2 * paddingWidth - kernelWidth) / strideWidth + 1 }
    public var inputCount: Int { batch * inputChannels * inputHeight * inputWidth }
    public var outputCount: Int { batch * outputChannels * outputHeight * outputWidth }
    public var weightCount: Int { outputChannels * inputChannels * kernelHeight * kernelWidth }
    /// oneDNN's strides, padding before and padding after (`[height, width]` each); the padding after is
    /// what the output size leaves over, which can be less than the padding before.
    var dnnlStridesAndPadding: (strides: [Int64], before: [Int64], after: [Int64]) {
        ([Int64(strideHeight), Int64(strideWidth)], [Int64(paddingHeight), Int64(paddingWidth)],
         [Int64((outputHeight - 1) * strideHeight + kernelHeight - inputHeight - paddingHeight),
          Int64((outputWidth - 1) * strideWidth + kernelWidth - inputWidth - paddingWidth)])
    }

    /// Multiply-adds of the forward pass times two.
    public var forwardFLOPs: Double {
        2 * Double(outputCount) * Double(inputChannels * kernelHeight * kernelWidth)
    }
}

/// The number format the convolution multiplies in. Accumulation is always float32, and so are the
/// tensors the caller passes in and gets back.
public enum ConvolutionPrecision: String, Hashable, Sendable, CaseIterable {
    case float32
    /// bfloat16 inputs and weights (AVX-512 BF16 where the CPU has it), float32 results.
    case bfloat16

    /// Whether oneDNN can convolve in this precision on this CPU: always for float32; for bfloat16 only
    /// with AVX-512 (oneDNN 2.6 has no bf16 convolution for AVX2-only CPUs such as AMD Zen 3).
    public var isSupported: Bool {
        self == .float32 || Self.bfloat16IsSupported
    }

    /// Why this CPU cannot convolve in this precision, for a command's error message; nil where it can.
    public var unsupportedReason: String? {
        isSupported ? nil : "oneDNN has no \(rawValue) convolution for this CPU (it needs AVX-512)"
    }

    private static let bfloat16IsSupported: Bool = {
        // A small 3x3 convolution in each direction: all three must have an implementation.
        let source = memoryDescriptor([2, 16, 8, 8], dnnl_nhwc, dnnl_bf16), output = memoryDescriptor([2, 16, 8, 8], dnnl_nhwc, dnnl_bf16)
        let float32Gradient = memoryDescriptor([2, 16, 8, 8], dnnl_nhwc)
        let weights = memoryDescriptor([16, 16, 3, 3], dnnl_format_tag_any, dnnl_bf16)
        let float32Weights = memoryDescriptor([16, 16, 3, 3], dnnl_format_tag_any)
        let strides: [Int64] = [1, 1], padding: [Int64] = [1, 1]
        /// The primitive descriptor oneDNN makes for `operation`, nil where it has no implementation.
        func implementation(of operation: UnsafeRawPointer, hint: dnnl_primitive_desc_t? = nil) -> dnnl_primitive_desc_t? {
            var pd: dnnl_primitive_desc_t?
            guard dnnl_primitive_desc_create(&pd, operation, nil, DNNLContext.shared.engine, hint) == dnnl_success else { return nil }
            return pd
        }
        var (src, wei, dst, diffSrc, diffWei) = (source, weights, output, float32Gradient, float32Weights)
        var forward = dnnl_convolution_desc_t(), backwardData = dnnl_convolution_desc_t(), backwardWeights = dnnl_convolution_desc_t()
        guard dnnl_convolution_forward_desc_init(&forward, dnnl_forward_training, dnnl_convolution_direct, &src, &wei, nil, &dst,
                                                 strides, padding, padding) == dnnl_success,
              let forwardPD = implementation(of: &forward) else { return false }
        defer { dnnl_primitive_desc_destroy(forwardPD) }
        guard dnnl_convolution_backward_data_desc_init(&backwardData, dnnl_convolution_direct, &diffSrc, &wei, &dst,
                                                       strides, padding, padding) == dnnl_success,
              dnnl_convolution_backward_weights_desc_init(&backwardWeights, dnnl_convolution_direct, &src, &diffWei, nil, &dst,
                                                          strides, padding, padding) == dnnl_success else { return false }
        let backward = [implementation(of: &backwardData, hint: forwardPD), implementation(of: &backwardWeights, hint: forwardPD)]
        for pd in backward { if let pd { dnnl_primitive_desc_destroy(pd) } }
        return backward.allSatisfy { $0 != nil }
    }()
}

/// Convolution through oneDNN on channels-last activations.
public enum ConvolutionKernel {
    private struct Key: Hashable {
        var geometry: ConvolutionGeometry
        var precision: ConvolutionPrecision
        var hasBias: Bool
    }
    private static let plans = PrimitiveCache<Key, ConvolutionPlan>()

    private static func plan(_ g: ConvolutionGeometry, _ p: ConvolutionPrecision, _ hasBias: Bool) -> ConvolutionPlan {
        plans.value(for: Key(geometry: g, precision: p, hasBias: hasBias)) {
            ConvolutionPlan(geometry: g, precision: p, hasBias: hasBias, layout: .current(for: p))
        }
    }

    /// `y[N,Ho,Wo,O] = conv(x[N,H,W,I], weight[O,I,kH,kW]) + bias[O]`.
    ///
    /// - Parameter cache: weights prepared for this geometry, kept by the caller from forward to
    ///   backward (one cache per forward call; pass the same one to `backwardData`).
    public static func forward(_ g: ConvolutionGeometry, precision: ConvolutionPrecision = .float32,
                               input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                               cache: ConvolutionWeightCache? = nil) {
        if precision == .float32 && TapConvolutionKernel.isPreferred(for: g) {
            let packed = cache?.packed ?? TapConvolutionKernel.pack(g, weight: weight)
            cache?.packed = packed
            return TapConvolutionKernel.forward(g, input: input, weights: packed, bias: bias, output: output)
        }
        FLOPCounter.add(g.forwardFLOPs)
        KernelProfiler.measure("conv forward") {
            plan(g, precision, bias != nil).forward(input: input, weight: weight, bias: bias, output: output, cache: cache)
        }
    }

    /// `inputGradient[N,H,W,I]` from `outputGradient[N,Ho,Wo,O]` and `weight[O,I,kH,kW]` (overwrites).
    public static func backwardData(_ g: ConvolutionGeometry, precision: ConvolutionPrecision = .float32,
                                    outputGradient: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                    inputGradient: UnsafeMutablePointer<Float>, cache: ConvolutionWeightCache? = nil) {
        if precision == .float32 && TapConvolutionKernel.isPreferred(for: g) {
            let packed = cache?.packed ?? TapConvolutionKernel.pack(g, weight: weight)
            return TapConvolutionKernel.backwardData(g, outputGradient: outputGradient, weights: packed,
                                                     inputGradient: inputGradient)
        }
        KernelProfiler.measure("conv backward data") {
            plan(g, precision, false).backwardData(outputGradient: outputGradient, weight: weight,
                                                  inputGradient: inputGradient)
        }
    }

    /// `weightGradient[O,I,kH,kW]` and `biasGradient[O]` from `input` and `outputGradient` (overwrites).
    public static func backwardWeights(_ g: ConvolutionGeometry, precision: ConvolutionPrecision = .float32,
                                       input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
                                       weightGradient: UnsafeMutablePointer<Float>,
                                       biasGradient: UnsafeMutablePointer<Float>?) {
        if precision == .float32 && TapConvolutionKernel.isPreferredForWeightGradient(of: g) {
            return TapConvolutionKernel.backwardWeights(g, input: input, outputGradient: outputGradient,
                                                        weightGradient: weightGradient, biasGradient: biasGradient)
        }
        KernelProfiler.measure("conv backward weights") {
            plan(g, precision, biasGradient != nil).backwardWeights(
                input: input, outputGradient: outputGradient, weightGradient: weightGradient, biasGradient: biasGradient)
        }
    }
}

/// Weights prepared by one forward call for its backward call (they do not change in between).
public final class ConvolutionWeightCache {
    var packed: TapConvolutionKernel.PackedWeights?
    /// Whether the forward pass keeps the weights it reorders into oneDNN's layout (`reordered`), for a
    /// cache reused over many calls with unchanged weights (inference); a per-call cache (training) does not.
    let keepsReorderedWeights: Bool
    var reordered: ReorderedWeights?

    public init(keepsReorderedWeights: Bool = false) { self.keepsReorderedWeights = keepsReorderedWeights }

    /// Weights in the layout a forward primitive wants, in a pooled buffer released with the object.
    final class ReorderedWeights {
        let storage: UnsafeMutablePointer<Float>
        let capacity: Int

        init(_ weight: UnsafePointer<Float>, _ reorder: DNNLReorder) {
            (storage, capacity) = BufferPool.shared.acquire(max(1, scratchFloats(reorder.destination.pointer)))
            reorder.run(weight, storage)
        }

        deinit { BufferPool.shared.release(storage, capacity: capacity) }
    }
}

/// Where a convolution's activations live while oneDNN works on them.
public enum ConvolutionLayout: String, Sendable {
    /// The caller's channels-last buffers, used in place (float32) or converted element by element (bf16).
    case channelsLast = "channels-last"
    /// The layout each primitive prefers (blocked, e.g. `nChw16c`), with reorders from and to the
    /// caller's channels-last buffers around every call.
    case preferred

    /// `SCN_CONV_LAYOUT` (`channels-last` or `preferred`); nil when unset, and when unrecognized (with a warning).
    static let override: ConvolutionLayout? = EngineSettings.value(of: "SCN_CONV_LAYOUT").flatMap { ConvolutionLayout(rawValue: $0) }

    /// Whether this CPU has AVX-512, read from /proc/cpuinfo once per process.
    private static let cpuHasAVX512 = RuntimeEnvironment.hasAVX512ForOpenBLAS()

    /// The layout for convolutions in `precision` in this process: `SCN_CONV_LAYOUT` where set, else
    /// `automatic(cpuHasAVX512:precision:)` for this CPU.
    public static func current(for precision: ConvolutionPrecision) -> ConvolutionLayout {
        override ?? automatic(cpuHasAVX512: cpuHasAVX512, precision: precision)
    }

    /// The faster layout measured for a CPU and precision (docs/PERFORMANCE.md). float32: channels-last
    /// with AVX-512 (training 4-12% faster on the Intel Xeon machine), oneDNN's preferred blocked layouts
    /// with AVX2 alone (training at 96x96 about 13% faster on AMD Zen 3, level at 48x48). bfloat16: the
    /// blocked layouts, whose reorders convert to bf16 inside oneDNN (training 7-13% faster at 48-96 pixels
    /// on AMD Zen 5, level at 224; level to 4% faster on the Xeon).
    public static func automatic(cpuHasAVX512: Bool, precision: ConvolutionPrecision = .float32) -> ConvolutionLayout {
        precision == .bfloat16 || !cpuHasAVX512 ? .preferred : .channelsLast
    }
}

/// One activation argument of a primitive: the descriptor it wants, and the reorder between it and the
/// caller's float32 channels-last buffer (nil when they are the same).
struct ActivationPort {
    let descriptor: UnsafePointer<dnnl_memory_desc_t>
    let reorder: DNNLReorder?

    /// An input: the caller's buffer is converted into `wanted`.
    init(input user: MemoryDescriptor, wanted: UnsafePointer<dnnl_memory_desc_t>) {
        descriptor = wanted
        reorder = user.matches(wanted) ? nil : DNNLReorder(from: user.pointer.pointee, to: wanted.pointee)
    }

    /// An output: `produced` is converted into the caller's buffer.
    init(output user: MemoryDescriptor, produced: UnsafePointer<dnnl_memory_desc_t>) {
        descriptor = produced
        reorder = user.matches(produced) ? nil : DNNLReorder(from: produced.pointee, to: user.pointer.pointee)
    }

    /// Runs `body` on `pointer`'s contents in the wanted layout.
    func reading<R>(_ pointer: UnsafePointer<Float>, _ body: (UnsafeMutableRawPointer) -> R) -> R {
        guard let reorder else { return body(UnsafeMutableRawPointer(mutating: pointer)) }
        return withScratch(scratchFloats(descriptor)) { scratch in
            reorder.run(pointer, scratch)
            return body(scratch)
        }
    }

    /// Runs `body` on a buffer in the produced layout and leaves the result in `pointer`.
    func writing(_ pointer: UnsafeMutablePointer<Float>, _ body: (UnsafeMutableRawPointer) -> Void) {
        guard let reorder else { return body(UnsafeMutableRawPointer(pointer)) }
        withScratch(scratchFloats(descriptor)) { scratch in
            body(scratch)
            reorder.run(scratch, pointer)
        }
    }
}

/// The primitives and layout conversions for one convolution geometry, created once and reused.
final class ConvolutionPlan {
    let geometry: ConvolutionGeometry
    let hasBias: Bool
    let computeType: dnnl_data_type_t
    /// The caller's buffers: float32, activations channels-last, weights `[O, I, kH, kW]`.
    let sourceUser: MemoryDescriptor
    let destinationUser: MemoryDescriptor
    let weightsUser: MemoryDescriptor
    let bias: MemoryDescriptor
    /// What the primitives are created with: `any` lets oneDNN choose the layout.
    let sourceRequest: MemoryDescriptor
    let destinationRequest: MemoryDescriptor
    let sourceGradientRequest: MemoryDescriptor
    let destinationGradientRequest: MemoryDescriptor
    let strides: [Int64]
    let paddingLeft: [Int64]
    let paddingRight: [Int64]

    let forwardPrimitive: DNNLPrimitive
    let forwardWeightsReorder: DNNLReorder?
    let forwardSource: ActivationPort
    let forwardDestination: ActivationPort

    private var backwardData: (primitive: DNNLPrimitive, weightsReorder: DNNLReorder?, outputGradient: ActivationPort,
                               inputGradient: ActivationPort)?
    private var backwardWeights: (primitive: DNNLPrimitive, diffWeightsReorder: DNNLReorder?, source: ActivationPort,
                                  outputGradient: ActivationPort)?

    init(geometry g: ConvolutionGeometry, precision: ConvolutionPrecision, hasBias: Bool, layout: ConvolutionLayout) {
        geometry = g
        self.hasBias = hasBias
        computeType = precision == .float32 ? dnnl_f32 : dnnl_bf16
        let n = g.batch, ci = g.inputChannels, co = g.outputChannels
        let inputDims = [n, ci, g.inputHeight, g.inputWidth], outputDims = [n, co, g.outputHeight, g.outputWidth]
        sourceUser = MemoryDescriptor(inputDims, dnnl_nhwc)
        destinationUser = MemoryDescriptor(outputDims, dnnl_nhwc)
        weightsUser = MemoryDescriptor([co, ci, g.kernelHeight, g.kernelWidth], dnnl_oihw)
        bias = MemoryDescriptor([co], dnnl_a)
        let tag = layout == .preferred ? dnnl_format_tag_any : dnnl_nhwc
        sourceRequest = MemoryDescriptor(inputDims, tag, computeType)
        destinationRequest = MemoryDescriptor(outputDims, tag)
        sourceGradientRequest = MemoryDescriptor(inputDims, tag)
        destinationGradientRequest = MemoryDescriptor(outputDims, tag, computeType)
        (strides, paddingLeft, paddingRight) = g.dnnlStridesAndPadding
        var weightsAny = memoryDescriptor([co, ci, g.kernelHeight, g.kernelWidth], dnnl_format_tag_any, computeType)
        var desc = dnnl_convolution_desc_t()
        dnnlCheck(dnnl_convolution_forward_desc_init(
            &desc, dnnl_forward_training, dnnl_convolution_direct, sourceRequest.pointer, &weightsAny,
            hasBias ? bias.pointer : nil, destinationRequest.pointer, strides, paddingLeft, paddingRight), "convolution forward \(g)")
        forwardPrimitive = DNNLPrimitive(operation: &desc, what: "convolution forward")
        let wanted = forwardPrimitive.memoryDescriptor(dnnl_query_weights_md)
        forwardWeightsReorder = weightsUser.matches(wanted) ? nil
            : DNNLReorder(from: weightsUser.pointer.pointee, to: wanted.pointee)
        forwardSource = ActivationPort(input: sourceUser, wanted: forwardPrimitive.memoryDescriptor(dnnl_query_src_md))
        forwardDestination = ActivationPort(output: destinationUser, produced: forwardPrimitive.memoryDescriptor(dnnl_query_dst_md))
    }

    /// Runs `body` with the weights in the layout `reorder` produces.
    private func weightsIn(_ weight: UnsafePointer<Float>, _ reorder: DNNLReorder?,
                           _ body: (UnsafeMutableRawPointer) -> Void) {
        guard let reorder else { return body(UnsafeMutableRawPointer(mutating: weight)) }
        withScratch(scratchFloats(reorder.destination.pointer)) { scratch in
            reorder.run(weight, scratch)
            body(scratch)
        }
    }

    /// - Parameter cache: where the weights, once reordered, are kept for later calls (and taken from when
    ///   already there) if it `keepsReorderedWeights`; otherwise they are reordered into scratch memory for this call.
    func forward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias biasPointer: UnsafePointer<Float>?,
                 output: UnsafeMutablePointer<Float>, cache: ConvolutionWeightCache? = nil) {
        let wmd = forwardPrimitive.memoryDescriptor(dnnl_query_weights_md)
        func withWeights(_ body: (UnsafeMutableRawPointer) -> Void) {
            guard let cache, cache.keepsReorderedWeights, let reorder = forwardWeightsReorder else {
                return weightsIn(weight, forwardWeightsReorder, body)
            }
            if cache.reordered == nil { cache.reordered = ConvolutionWeightCache.ReorderedWeights(weight, reorder) }
            body(UnsafeMutableRawPointer(cache.reordered!.storage))
        }
        forwardSource.reading(input) { src in
            withWeights { w in
                forwardDestination.writing(output) { dst in
                    var args: [(Int32, UnsafePointer<dnnl_memory_desc_t>, UnsafeMutableRawPointer)] = [
                        (DNNLArgument.src, forwardSource.descriptor, src),
                        (DNNLArgument.weights, wmd, w),
                        (DNNLArgument.dst, forwardDestination.descriptor, dst),
                    ]
                    if let biasPointer {
                        args.append((DNNLArgument.bias, bias.pointer, UnsafeMutableRawPointer(mutating: biasPointer)))
                    }
                    forwardPrimitive.execute(args)
                }
            }
        }
    }

    func backwardData(outputGradient: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                      inputGradient: UnsafeMutablePointer<Float>) {
        if backwardData == nil {
            var weightsAny = memoryDescriptor(
                [geometry.outputChannels, geometry.inputChannels, geometry.kernelHeight, geometry.kernelWidth],
                dnnl_format_tag_any, computeType)
            var desc = dnnl_convolution_desc_t()
            dnnlCheck(dnnl_convolution_backward_data_desc_init(
                &desc, dnnl_convolution_direct, sourceGradientRequest.pointer, &weightsAny, destinationGradientRequest.pointer,
                strides, paddingLeft, paddingRight), "convolution backward data \(geometry)")
            let p = DNNLPrimitive(operation: &desc, hint: forwardPrimitive, what: "convolution backward data")
            let wanted = p.memoryDescriptor(dnnl_query_weights_md)
            backwardData = (p, weightsUser.matches(wanted) ? nil : DNNLReorder(from: weightsUser.pointer.pointee, to: wanted.pointee),
                            ActivationPort(input: destinationUser, wanted: p.memoryDescriptor(dnnl_query_diff_dst_md)),
                            ActivationPort(output: sourceUser, produced: p.memoryDescriptor(dnnl_query_diff_src_md)))
        }
        let plan = backwardData!
        let wmd = plan.primitive.memoryDescriptor(dnnl_query_weights_md)
        plan.outputGradient.reading(outputGradient) { dy in
            weightsIn(weight, plan.weightsReorder) { w in
                plan.inputGradient.writing(inputGradient) { dx in
                    plan.primitive.execute([(DNNLArgument.diffDst, plan.outputGradient.descriptor, dy),
                                            (DNNLArgument.weights, wmd, w),
                                            (DNNLArgument.diffSrc, plan.inputGradient.descriptor, dx)])
                }
            }
        }
    }

    func backwardWeights(input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
                         weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?) {
        if backwardWeights == nil {
            var weightsAny = memoryDescriptor(
                [geometry.outputChannels, geometry.inputChannels, geometry.kernelHeight, geometry.kernelWidth],
                dnnl_format_tag_any)
            var convolution = dnnl_convolution_desc_t()
            dnnlCheck(dnnl_convolution_backward_weights_desc_init(
                &convolution, dnnl_convolution_direct, sourceRequest.pointer, &weightsAny, hasBias ? bias.pointer : nil,
                destinationGradientRequest.pointer, strides, paddingLeft, paddingRight), "convolution backward weights \(geometry)")
            let p = DNNLPrimitive(operation: &convolution, hint: forwardPrimitive, what: "convolution backward weights")
            let produced = p.memoryDescriptor(dnnl_query_diff_weights_md)
            backwardWeights = (p, weightsUser.matches(produced) ? nil : DNNLReorder(from: produced.pointee, to: weightsUser.pointer.pointee),
                               ActivationPort(input: sourceUser, wanted: p.memoryDescriptor(dnnl_query_src_md)),
                               ActivationPort(input: destinationUser, wanted: p.memoryDescriptor(dnnl_query_diff_dst_md)))
        }
        let plan = backwardWeights!
        let dwmd = plan.primitive.memoryDescriptor(dnnl_query_diff_weights_md)
        plan.source.reading(input) { src in
            plan.outputGradient.reading(outputGradient) { dy in
                let run = { (dw: UnsafeMutableRawPointer) in
                    var args: [(Int32, UnsafePointer<dnnl_memory_desc_t>, UnsafeMutableRawPointer)] = [
                        (DNNLArgument.src, plan.source.descriptor, src),
                        (DNNLArgument.diffDst, plan.outputGradient.descriptor, dy),
                        (DNNLArgument.diffWeights, dwmd, dw),
                    ]
                    if let biasGradient {
                        args.append((DNNLArgument.diffBias, self.bias.pointer, UnsafeMutableRawPointer(biasGradient)))
                    }
                    plan.primitive.execute(args)
                }
                if let reorder = plan.diffWeightsReorder {
                    withScratch(scratchFloats(dwmd)) { scratch in
                        run(UnsafeMutableRawPointer(scratch))
                        reorder.run(scratch, weightGradient)
                    }
                } else {
                    run(UnsafeMutableRawPointer(weightGradient))
                }
            }
        }
    }
}
