import CDNNL

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
            ConvolutionPlan(geometry: g, precision: p, hasBias: hasBias)
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
            plan(g, precision, bias != nil).forward(input: input, weight: weight, bias: bias, output: output)
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
        if precision == .float32 && TapConvolutionKernel.isPreferred(for: g) {
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
    public init() {}
}

/// The primitives and layout conversions for one convolution geometry, created once and reused.
final class ConvolutionPlan {
    let geometry: ConvolutionGeometry
    let hasBias: Bool
    let computeType: dnnl_data_type_t
    let sourceF32: MemoryDescriptor
    let destinationF32: MemoryDescriptor
    let sourceCompute: MemoryDescriptor
    let destinationCompute: MemoryDescriptor
    let weightsUser: MemoryDescriptor
    let bias: MemoryDescriptor
    let strides: [Int64]
    let paddingLeft: [Int64]
    let paddingRight: [Int64]

    let forwardPrimitive: DNNLPrimitive
    let forwardWeightsReorder: DNNLReorder?
    /// f32 -> compute type for activations (bf16 only).
    let sourceToCompute: DNNLReorder?
    let destinationToCompute: DNNLReorder?

    private var backwardDataPrimitive: DNNLPrimitive?
    private var backwardDataWeightsReorder: DNNLReorder?
    private var backwardWeightsPrimitive: DNNLPrimitive?
    private var diffWeightsReorder: DNNLReorder?

    init(geometry g: ConvolutionGeometry, precision: ConvolutionPrecision, hasBias: Bool) {
        geometry = g
        self.hasBias = hasBias
        computeType = precision == .float32 ? dnnl_f32 : dnnl_bf16
        let n = g.batch, ci = g.inputChannels, co = g.outputChannels
        sourceF32 = MemoryDescriptor([n, ci, g.inputHeight, g.inputWidth], dnnl_nhwc)
        destinationF32 = MemoryDescriptor([n, co, g.outputHeight, g.outputWidth], dnnl_nhwc)
        sourceCompute = MemoryDescriptor([n, ci, g.inputHeight, g.inputWidth], dnnl_nhwc, computeType)
        destinationCompute = MemoryDescriptor([n, co, g.outputHeight, g.outputWidth], dnnl_nhwc, computeType)
        weightsUser = MemoryDescriptor([co, ci, g.kernelHeight, g.kernelWidth], dnnl_oihw)
        bias = MemoryDescriptor([co], dnnl_a)
        strides = [Int64(g.strideHeight), Int64(g.strideWidth)]
        paddingLeft = [Int64(g.paddingHeight), Int64(g.paddingWidth)]
        paddingRight = [
            Int64((g.outputHeight - 1) * g.strideHeight + g.kernelHeight - g.inputHeight - g.paddingHeight),
            Int64((g.outputWidth - 1) * g.strideWidth + g.kernelWidth - g.inputWidth - g.paddingWidth),
        ]
        var weightsAny = memoryDescriptor([co, ci, g.kernelHeight, g.kernelWidth], dnnl_format_tag_any, computeType)
        var desc = dnnl_convolution_desc_t()
        dnnlCheck(dnnl_convolution_forward_desc_init(
            &desc, dnnl_forward_training, dnnl_convolution_direct, sourceCompute.pointer, &weightsAny,
            hasBias ? bias.pointer : nil, destinationF32.pointer, strides, paddingLeft, paddingRight), "convolution forward \(g)")
        forwardPrimitive = DNNLPrimitive(operation: &desc, what: "convolution forward")
        let wanted = forwardPrimitive.memoryDescriptor(dnnl_query_weights_md)
        forwardWeightsReorder = weightsUser.matches(wanted) ? nil
            : DNNLReorder(from: weightsUser.pointer.pointee, to: wanted.pointee)
        if precision == .float32 {
            sourceToCompute = nil
            destinationToCompute = nil
        } else {
            sourceToCompute = DNNLReorder(from: sourceF32.pointer.pointee, to: sourceCompute.pointer.pointee)
            destinationToCompute = DNNLReorder(from: destinationF32.pointer.pointee,
                                               to: destinationCompute.pointer.pointee)
        }
    }

    private static func floats(forBytes bytes: Int) -> Int { (bytes + 3) / 4 }

    /// Runs `body` with `pointer` converted to the compute type (or as it is for float32).
    private func converted<R>(_ pointer: UnsafePointer<Float>, _ reorder: DNNLReorder?, count: Int,
                              _ body: (UnsafeMutableRawPointer) -> R) -> R {
        guard let reorder else { return body(UnsafeMutableRawPointer(mutating: pointer)) }
        return withScratch(ConvolutionPlan.floats(forBytes: count * 2)) { scratch in
            reorder.run(pointer, scratch)
            return body(scratch)
        }
    }

    /// Runs `body` with the weights in the layout `reorder` produces.
    private func weightsIn(_ weight: UnsafePointer<Float>, _ reorder: DNNLReorder?,
                           _ body: (UnsafeMutableRawPointer) -> Void) {
        guard let reorder else { return body(UnsafeMutableRawPointer(mutating: weight)) }
        let size = reorder.destination.byteCount
        withScratch(ConvolutionPlan.floats(forBytes: size)) { scratch in
            reorder.run(weight, scratch)
            body(scratch)
        }
    }

    func forward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias biasPointer: UnsafePointer<Float>?,
                 output: UnsafeMutablePointer<Float>) {
        let wmd = forwardPrimitive.memoryDescriptor(dnnl_query_weights_md)
        converted(input, sourceToCompute, count: geometry.inputCount) { src in
            weightsIn(weight, forwardWeightsReorder) { w in
                var args: [(Int32, UnsafePointer<dnnl_memory_desc_t>, UnsafeMutableRawPointer)] = [
                    (DNNLArgument.src, sourceCompute.pointer, src),
                    (DNNLArgument.weights, wmd, w),
                    (DNNLArgument.dst, destinationF32.pointer, UnsafeMutableRawPointer(output)),
                ]
                if let biasPointer {
                    args.append((DNNLArgument.bias, bias.pointer, UnsafeMutableRawPointer(mutating: biasPointer)))
                }
                forwardPrimitive.execute(args)
            }
        }
    }

    func backwardData(outputGradient: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                      inputGradient: UnsafeMutablePointer<Float>) {
        if backwardDataPrimitive == nil {
            var weightsAny = memoryDescriptor(
                [geometry.outputChannels, geometry.inputChannels, geometry.kernelHeight, geometry.kernelWidth],
                dnnl_format_tag_any, computeType)
            var desc = dnnl_convolution_desc_t()
            dnnlCheck(dnnl_convolution_backward_data_desc_init(
                &desc, dnnl_convolution_direct, sourceF32.pointer, &weightsAny, destinationCompute.pointer,
                strides, paddingLeft, paddingRight), "convolution backward data \(geometry)")
            let p = DNNLPrimitive(operation: &desc, hint: forwardPrimitive, what: "convolution backward data")
            let wanted = p.memoryDescriptor(dnnl_query_weights_md)
            backwardDataWeightsReorder = weightsUser.matches(wanted) ? nil
                : DNNLReorder(from: weightsUser.pointer.pointee, to: wanted.pointee)
            backwardDataPrimitive = p
        }
        let p = backwardDataPrimitive!
        let wmd = p.memoryDescriptor(dnnl_query_weights_md)
        converted(outputGradient, destinationToCompute, count: geometry.outputCount) { dy in
            weightsIn(weight, backwardDataWeightsReorder) { w in
                p.execute([(DNNLArgument.diffDst, destinationCompute.pointer, dy),
                           (DNNLArgument.weights, wmd, w),
                           (DNNLArgument.diffSrc, sourceF32.pointer, UnsafeMutableRawPointer(inputGradient))])
            }
        }
    }

    func backwardWeights(input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
                         weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?) {
        if backwardWeightsPrimitive == nil {
            var weightsAny = memoryDescriptor(
                [geometry.outputChannels, geometry.inputChannels, geometry.kernelHeight, geometry.kernelWidth],
                dnnl_format_tag_any)
            var desc = dnnl_convolution_desc_t()
            dnnlCheck(dnnl_convolution_backward_weights_desc_init(
                &desc, dnnl_convolution_direct, sourceCompute.pointer, &weightsAny, hasBias ? bias.pointer : nil,
                destinationCompute.pointer, strides, paddingLeft, paddingRight), "convolution backward weights \(geometry)")
            let p = DNNLPrimitive(operation: &desc, hint: forwardPrimitive, what: "convolution backward weights")
            let produced = p.memoryDescriptor(dnnl_query_diff_weights_md)
            diffWeightsReorder = weightsUser.matches(produced) ? nil
                : DNNLReorder(from: produced.pointee, to: weightsUser.pointer.pointee)
            backwardWeightsPrimitive = p
        }
        let p = backwardWeightsPrimitive!
        let dwmd = p.memoryDescriptor(dnnl_query_diff_weights_md)
        converted(input, sourceToCompute, count: geometry.inputCount) { src in
            converted(outputGradient, destinationToCompute, count: geometry.outputCount) { dy in
                let run = { (dw: UnsafeMutableRawPointer) in
                    var args: [(Int32, UnsafePointer<dnnl_memory_desc_t>, UnsafeMutableRawPointer)] = [
                        (DNNLArgument.src, self.sourceCompute.pointer, src),
                        (DNNLArgument.diffDst, self.destinationCompute.pointer, dy),
                        (DNNLArgument.diffWeights, dwmd, dw),
                    ]
                    if let biasGradient {
                        args.append((DNNLArgument.diffBias, self.bias.pointer, UnsafeMutableRawPointer(biasGradient)))
                    }
                    p.execute(args)
                }
                if let reorder = diffWeightsReorder {
                    withScratch(ConvolutionPlan.floats(forBytes: byteSize(dwmd))) { scratch in
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
