import CDNNL

/// Batch normalization through oneDNN on channels-last activations `[N, H, W, C]`.
public enum BatchNormKernel {
    private struct Key: Hashable {
        var batch, channels, height, width: Int
        var epsilon: Float
        var fusedReLU: Bool
    }
    private static let plans = PrimitiveCache<Key, BatchNormPlan>()

    private static func plan(_ n: Int, _ c: Int, _ h: Int, _ w: Int, _ eps: Float, _ relu: Bool) -> BatchNormPlan {
        plans.value(for: Key(batch: n, channels: c, height: h, width: w, epsilon: eps, fusedReLU: relu)) {
            BatchNormPlan(batch: n, channels: c, height: h, width: w, epsilon: eps, fusedReLU: relu)
        }
    }

    /// Floats of workspace that training forward with a fused ReLU fills and backward reads (0 without).
    public static func workspaceCount(batch: Int, channels: Int, height: Int, width: Int, epsilon: Float,
                                      fusedReLU: Bool) -> Int {
        plan(batch, channels, height, width, epsilon, fusedReLU).workspaceFloats
    }

    /// Training forward: normalizes with the batch's statistics and writes them to `mean` and
    /// `variance` (biased, `[C]`).
    /// With `fusedReLU` the output is `max(0, bn(x))` and `workspace` (see `workspaceCount`) records
    /// where it was positive, for `backward`.
    public static func forwardTraining(batch: Int, channels: Int, height: Int, width: Int, epsilon: Float,
                                       fusedReLU: Bool = false,
                                       input: UnsafePointer<Float>, scale: UnsafePointer<Float>,
                                       shift: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                                       mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>,
                                       workspace: UnsafeMutablePointer<Float>? = nil) {
        let p = plan(batch, channels, height, width, epsilon, fusedReLU)
        let d = p.data.pointer, s = p.statistics.pointer
        var args: [(Int32, UnsafePointer<dnnl_memory_desc_t>, UnsafeMutableRawPointer)] = [
            (DNNLArgument.src, d, UnsafeMutableRawPointer(mutating: input)),
            (DNNLArgument.scale, s, UnsafeMutableRawPointer(mutating: scale)),
            (DNNLArgument.shift, s, UnsafeMutableRawPointer(mutating: shift)),
            (DNNLArgument.dst, d, UnsafeMutableRawPointer(output)),
            (DNNLArgument.mean, s, UnsafeMutableRawPointer(mean)),
            (DNNLArgument.variance, s, UnsafeMutableRawPointer(variance)),
        ]
        if let ws = p.workspace, let workspace { args.append((DNNLArgument.workspace, ws, UnsafeMutableRawPointer(workspace))) }
        p.training.execute(args)
    }

    /// Inference forward with given statistics (`[C]` each).
    public static func forwardInference(batch: Int, channels: Int, height: Int, width: Int, epsilon: Float,
                                        fusedReLU: Bool = false,
                                        input: UnsafePointer<Float>, scale: UnsafePointer<Float>,
                                        shift: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                        variance: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let p = plan(batch, channels, height, width, epsilon, fusedReLU)
        let d = p.data.pointer, s = p.statistics.pointer
        p.inference.execute([
            (DNNLArgument.src, d, UnsafeMutableRawPointer(mutating: input)),
            (DNNLArgument.mean, s, UnsafeMutableRawPointer(mutating: mean)),
            (DNNLArgument.variance, s, UnsafeMutableRawPointer(mutating: variance)),
            (DNNLArgument.scale, s, UnsafeMutableRawPointer(mutating: scale)),
            (DNNLArgument.shift, s, UnsafeMutableRawPointer(mutating: shift)),
            (DNNLArgument.dst, d, UnsafeMutableRawPointer(output)),
        ])
    }

    /// Backward of `forwardTraining`: input, scale and shift gradients (overwrites); with `fusedReLU`
    /// the gradient passes through the ReLU first, using the forward's `workspace`.
    public static func backward(batch: Int, channels: Int, height: Int, width: Int, epsilon: Float,
                                fusedReLU: Bool = false, workspace: UnsafePointer<Float>? = nil,
                                input: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                variance: UnsafePointer<Float>, scale: UnsafePointer<Float>,
                                shift: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
                                inputGradient: UnsafeMutablePointer<Float>,
                                scaleGradient: UnsafeMutablePointer<Float>,
                                shiftGradient: UnsafeMutablePointer<Float>) {
        let p = plan(batch, channels, height, width, epsilon, fusedReLU)
        let d = p.data.pointer, s = p.statistics.pointer
        var args: [(Int32, UnsafePointer<dnnl_memory_desc_t>, UnsafeMutableRawPointer)] = [
            (DNNLArgument.src, d, UnsafeMutableRawPointer(mutating: input)),
            (DNNLArgument.mean, s, UnsafeMutableRawPointer(mutating: mean)),
            (DNNLArgument.variance, s, UnsafeMutableRawPointer(mutating: variance)),
            (DNNLArgument.diffDst, d, UnsafeMutableRawPointer(mutating: outputGradient)),
            (DNNLArgument.scale, s, UnsafeMutableRawPointer(mutating: scale)),
            (DNNLArgument.shift, s, UnsafeMutableRawPointer(mutating: shift)),
            (DNNLArgument.diffSrc, d, UnsafeMutableRawPointer(inputGradient)),
            (DNNLArgument.diffScale, s, UnsafeMutableRawPointer(scaleGradient)),
            (DNNLArgument.diffShift, s, UnsafeMutableRawPointer(shiftGradient)),
        ]
        if let ws = p.workspace, let workspace {
            args.append((DNNLArgument.workspace, ws, UnsafeMutableRawPointer(mutating: workspace)))
        }
        p.backward.execute(args)
    }
}

final class BatchNormPlan {
    let data: MemoryDescriptor
    let statistics: MemoryDescriptor
    let training: DNNLPrimitive
    let inference: DNNLPrimitive
    let backward: DNNLPrimitive
    let workspace: UnsafePointer<dnnl_memory_desc_t>?
    let workspaceFloats: Int

    init(batch: Int, channels: Int, height: Int, width: Int, epsilon: Float, fusedReLU: Bool) {
        data = MemoryDescriptor([batch, channels, height, width], dnnl_nhwc)
        statistics = MemoryDescriptor([channels], dnnl_a)
        let scaleShift = dnnl_use_scale.rawValue | dnnl_use_shift.rawValue | (fusedReLU ? dnnl_fuse_norm_relu.rawValue : 0)
        var desc = dnnl_batch_normalization_desc_t()
        dnnlCheck(dnnl_batch_normalization_forward_desc_init(&desc, dnnl_forward_training, data.pointer, epsilon,
                                                             scaleShift), "batch norm forward")
        training = DNNLPrimitive(operation: &desc, what: "batch norm forward")
        var inferenceDesc = dnnl_batch_normalization_desc_t()
        dnnlCheck(dnnl_batch_normalization_forward_desc_init(
            &inferenceDesc, dnnl_forward_inference, data.pointer, epsilon,
            scaleShift | dnnl_use_global_stats.rawValue), "batch norm inference")
        inference = DNNLPrimitive(operation: &inferenceDesc, what: "batch norm inference")
        var backwardDesc = dnnl_batch_normalization_desc_t()
        dnnlCheck(dnnl_batch_normalization_backward_desc_init(&backwardDesc, dnnl_backward, data.pointer,
                                                              data.pointer, epsilon, scaleShift),
                  "batch norm backward")
        backward = DNNLPrimitive(operation: &backwardDesc, hint: training, what: "batch norm backward")
        (workspace, workspaceFloats) = training.workspace
    }
}
