import CDNNL

/// Batch normalization through oneDNN on channels-last activations `[N, H, W, C]`.
public enum BatchNormKernel {
    private struct Key: Hashable {
        var batch, channels, height, width: Int
        var epsilon: Float
    }
    private static let plans = PrimitiveCache<Key, BatchNormPlan>()

    private static func plan(_ n: Int, _ c: Int, _ h: Int, _ w: Int, _ eps: Float) -> BatchNormPlan {
        plans.value(for: Key(batch: n, channels: c, height: h, width: w, epsilon: eps)) {
            BatchNormPlan(batch: n, channels: c, height: h, width: w, epsilon: eps)
        }
    }

    /// Training forward: normalizes with the batch's statistics and writes them to `mean` and
    /// `variance` (biased, `[C]`).
    public static func forwardTraining(batch: Int, channels: Int, height: Int, width: Int, epsilon: Float,
                                       input: UnsafePointer<Float>, scale: UnsafePointer<Float>,
                                       shift: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                                       mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>) {
        let p = plan(batch, channels, height, width, epsilon)
        let d = p.data.pointer, s = p.statistics.pointer
        p.training.execute([
            (DNNLArgument.src, d, UnsafeMutableRawPointer(mutating: input)),
            (DNNLArgument.scale, s, UnsafeMutableRawPointer(mutating: scale)),
            (DNNLArgument.shift, s, UnsafeMutableRawPointer(mutating: shift)),
            (DNNLArgument.dst, d, UnsafeMutableRawPointer(output)),
            (DNNLArgument.mean, s, UnsafeMutableRawPointer(mean)),
            (DNNLArgument.variance, s, UnsafeMutableRawPointer(variance)),
        ])
    }

    /// Inference forward with given statistics (`[C]` each).
    public static func forwardInference(batch: Int, channels: Int, height: Int, width: Int, epsilon: Float,
                                        input: UnsafePointer<Float>, scale: UnsafePointer<Float>,
                                        shift: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                        variance: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let p = plan(batch, channels, height, width, epsilon)
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

    /// Backward of `forwardTraining`: input, scale and shift gradients (overwrites).
    public static func backward(batch: Int, channels: Int, height: Int, width: Int, epsilon: Float,
                                input: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                variance: UnsafePointer<Float>, scale: UnsafePointer<Float>,
                                shift: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
                                inputGradient: UnsafeMutablePointer<Float>,
                                scaleGradient: UnsafeMutablePointer<Float>,
                                shiftGradient: UnsafeMutablePointer<Float>) {
        let p = plan(batch, channels, height, width, epsilon)
        let d = p.data.pointer, s = p.statistics.pointer
        p.backward.execute([
            (DNNLArgument.src, d, UnsafeMutableRawPointer(mutating: input)),
            (DNNLArgument.mean, s, UnsafeMutableRawPointer(mutating: mean)),
            (DNNLArgument.variance, s, UnsafeMutableRawPointer(mutating: variance)),
            (DNNLArgument.diffDst, d, UnsafeMutableRawPointer(mutating: outputGradient)),
            (DNNLArgument.scale, s, UnsafeMutableRawPointer(mutating: scale)),
            (DNNLArgument.shift, s, UnsafeMutableRawPointer(mutating: shift)),
            (DNNLArgument.diffSrc, d, UnsafeMutableRawPointer(inputGradient)),
            (DNNLArgument.diffScale, s, UnsafeMutableRawPointer(scaleGradient)),
            (DNNLArgument.diffShift, s, UnsafeMutableRawPointer(shiftGradient)),
        ])
    }
}

final class BatchNormPlan {
    let data: MemoryDescriptor
    let statistics: MemoryDescriptor
    let training: DNNLPrimitive
    let inference: DNNLPrimitive
    let backward: DNNLPrimitive

    init(batch: Int, channels: Int, height: Int, width: Int, epsilon: Float) {
        data = MemoryDescriptor([batch, channels, height, width], dnnl_nhwc)
        statistics = MemoryDescriptor([channels], dnnl_a)
        let scaleShift = dnnl_use_scale.rawValue | dnnl_use_shift.rawValue
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
    }
}
