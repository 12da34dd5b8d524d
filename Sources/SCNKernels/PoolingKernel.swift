import CDNNL

/// The sizes of one 2-D pooling window over channels-last activations `[N, H, W, C]`.
public struct PoolingGeometry: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case max
        /// Average counting padded positions, as PyTorch's `AvgPool2d(count_include_pad=True)`.
        case averageIncludingPadding
        /// Average over the valid positions only.
        case averageExcludingPadding
    }
    public var kind: Kind
    public var batch, channels, inputHeight, inputWidth: Int
    public var kernelHeight, kernelWidth, strideHeight, strideWidth, paddingHeight, paddingWidth: Int

    public init(kind: Kind, batch: Int, channels: Int, inputHeight: Int, inputWidth: Int, kernelHeight: Int,
                kernelWidth: Int, strideHeight: Int, strideWidth: Int, paddingHeight: Int, paddingWidth: Int) {
        self.kind = kind
        self.batch = batch
        self.channels = channels
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.paddingHeight = paddingHeight
        self.paddingWidth = paddingWidth
    }

    public var outputHeight: Int { (inputHeight + 2 * paddingHeight - kernelHeight) / strideHeight + 1 }
    public var outputWidth: Int { (inputWidth + 2 * paddingWidth - kernelWidth) / strideWidth + 1 }
}

/// Max and average pooling through oneDNN.
public enum PoolingKernel {
    private static let plans = PrimitiveCache<PoolingGeometry, PoolingPlan>()
    private static func plan(_ g: PoolingGeometry) -> PoolingPlan { plans.value(for: g) { PoolingPlan(g) } }

    /// Floats the caller keeps from `forward` to `backward` (max pooling's argmax positions).
    public static func workspaceCount(_ g: PoolingGeometry) -> Int { plan(g).workspaceFloats }

    /// - Parameter workspace: `workspaceCount(g)` floats for `backward`; nil where no backward pass follows
    ///   (inference: a primitive that keeps no argmax positions).
    public static func forward(_ g: PoolingGeometry, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                               workspace: UnsafeMutablePointer<Float>?) {
        let p = plan(g)
        guard let workspace else { return p.runInference(input: input, output: output) }
        var args: [(Int32, UnsafePointer<dnnl_memory_desc_t>, UnsafeMutableRawPointer)] = [
            (DNNLArgument.src, p.source.pointer, UnsafeMutableRawPointer(mutating: input)),
            (DNNLArgument.dst, p.destination.pointer, UnsafeMutableRawPointer(output)),
        ]
        if let ws = p.workspace { args.append((DNNLArgument.workspace, ws, UnsafeMutableRawPointer(workspace))) }
        p.forward.execute(args)
    }

    /// `inputGradient` (overwritten) from `outputGradient` and the forward's workspace.
    public static func backward(_ g: PoolingGeometry, outputGradient: UnsafePointer<Float>,
                                inputGradient: UnsafeMutablePointer<Float>, workspace: UnsafePointer<Float>?) {
        let p = plan(g)
        var args: [(Int32, UnsafePointer<dnnl_memory_desc_t>, UnsafeMutableRawPointer)] = [
            (DNNLArgument.diffDst, p.destination.pointer, UnsafeMutableRawPointer(mutating: outputGradient)),
            (DNNLArgument.diffSrc, p.source.pointer, UnsafeMutableRawPointer(inputGradient)),
        ]
        if let ws = p.workspace, let workspace {
            args.append((DNNLArgument.workspace, ws, UnsafeMutableRawPointer(mutating: workspace)))
        }
        p.backward.execute(args)
    }
}

final class PoolingPlan {
    let source: MemoryDescriptor
    let destination: MemoryDescriptor
    let forward: DNNLPrimitive
    /// The forward pass without a workspace (no argmax positions kept), where no backward pass follows.
    let inference: DNNLPrimitive
    let backward: DNNLPrimitive
    let workspace: UnsafePointer<dnnl_memory_desc_t>?
    let workspaceFloats: Int

    /// - Parameter tag: the layout of the activations in and out (channels-last by default).
    init(_ g: PoolingGeometry, tag: dnnl_format_tag_t = dnnl_nhwc) {
        source = MemoryDescriptor([g.batch, g.channels, g.inputHeight, g.inputWidth], tag)
        destination = MemoryDescriptor([g.batch, g.channels, g.outputHeight, g.outputWidth], tag)
        let algorithm: dnnl_alg_kind_t
        switch g.kind {
        case .max: algorithm = dnnl_pooling_max
        case .averageIncludingPadding: algorithm = dnnl_pooling_avg_include_padding
        case .averageExcludingPadding: algorithm = dnnl_pooling_avg_exclude_padding
        }
        let strides = [Int64(g.strideHeight), Int64(g.strideWidth)]
        let kernel = [Int64(g.kernelHeight), Int64(g.kernelWidth)]
        let dilation: [Int64] = [0, 0]
        let padL = [Int64(g.paddingHeight), Int64(g.paddingWidth)]
        let padR = [
            Int64((g.outputHeight - 1) * g.strideHeight + g.kernelHeight - g.inputHeight - g.paddingHeight),
            Int64((g.outputWidth - 1) * g.strideWidth + g.kernelWidth - g.inputWidth - g.paddingWidth),
        ]
        var desc = dnnl_pooling_v2_desc_t()
        dnnlCheck(dnnl_pooling_v2_forward_desc_init(&desc, dnnl_forward_training, algorithm, source.pointer,
                                                    destination.pointer, strides, kernel, dilation, padL, padR),
                  "pooling forward \(g)")
        forward = DNNLPrimitive(operation: &desc, what: "pooling forward")
        var inferenceDesc = dnnl_pooling_v2_desc_t()
        dnnlCheck(dnnl_pooling_v2_forward_desc_init(&inferenceDesc, dnnl_forward_inference, algorithm, source.pointer,
                                                    destination.pointer, strides, kernel, dilation, padL, padR),
                  "pooling inference \(g)")
        inference = DNNLPrimitive(operation: &inferenceDesc, what: "pooling inference")
        var backwardDesc = dnnl_pooling_v2_desc_t()
        dnnlCheck(dnnl_pooling_v2_backward_desc_init(&backwardDesc, algorithm, source.pointer, destination.pointer,
                                                     strides, kernel, dilation, padL, padR), "pooling backward \(g)")
        backward = DNNLPrimitive(operation: &backwardDesc, hint: forward, what: "pooling backward")
        (workspace, workspaceFloats) = forward.workspace
    }

    /// The forward pass without a workspace (`inference`).
    func runInference(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        inference.execute([
            (DNNLArgument.src, source.pointer, UnsafeMutableRawPointer(mutating: input)),
            (DNNLArgument.dst, destination.pointer, UnsafeMutableRawPointer(output)),
        ])
    }
}
