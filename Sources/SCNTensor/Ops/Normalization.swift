import Foundation
import SCNKernels

/// Batch normalization over `[N, C, H, W]`, as PyTorch's `F.batch_norm`.
///
/// In training the batch's mean and biased variance normalize the input, and the running statistics
/// are updated in place: `running = (1 - momentum) * running + momentum * batch`, with the unbiased
/// variance. In evaluation the running statistics normalize.
///
/// - Parameters:
///   - x: `[N, C, H, W]`, any memory format (converted to channels-last).
///   - weight, bias: `[C]` scale and shift.
///   - runningMean, runningVariance: `[C]` buffers.
///   - applyingReLU: return `max(0, batchNorm(x))` in one pass, storing one activation instead of two
///     (as torchvision's in-place ReLU does).
/// - Returns: `[N, C, H, W]`, channels-last.
public func batchNorm(_ x: Tensor, weight: Tensor, bias: Tensor, runningMean: Tensor, runningVariance: Tensor,
                      training: Bool, momentum: Float = 0.1, epsilon: Float = 1e-5,
                      applyingReLU relu: Bool = false) -> Tensor {
    let c = x.rank == 4 ? x.shape[1] : -1
    guard x.rank == 4, [weight, bias, runningMean, runningVariance].allSatisfy({ $0.shape == [c] }) else {
        shapeFailure(ShapeError(operation: "batchNorm",
                                shapes: [x.shape, weight.shape, bias.shape, runningMean.shape, runningVariance.shape],
                                detail: "expected input [N, C, H, W] and [C] parameters and statistics"))
    }
    let input = x.toChannelsLast()
    let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3])
    let out = Tensor(uninitializedShape: x.shape, memoryFormat: .channelsLast)
    if training {
        let mean = Tensor(uninitializedShape: [c]), variance = Tensor(uninitializedShape: [c])
        let workspaceCount = BatchNormKernel.workspaceCount(batch: n, channels: c, height: h, width: w,
                                                            epsilon: epsilon, fusedReLU: relu)
        let workspace = workspaceCount > 0 ? Storage(count: workspaceCount) : nil
        KernelProfiler.measure("batchNorm forward") {
            BatchNormKernel.forwardTraining(batch: n, channels: c, height: h, width: w, epsilon: epsilon,
                                            fusedReLU: relu, input: input.data, scale: weight.data,
                                            shift: bias.data, output: out.data, mean: mean.data,
                                            variance: variance.data, workspace: workspace?.data)
        }
        let m = n * h * w
        let unbiasing = m > 1 ? Float(m) / Float(m - 1) : 1
        for i in 0..<c {
            runningMean.data[i] = (1 - momentum) * runningMean.data[i] + momentum * mean.data[i]
            runningVariance.data[i] = (1 - momentum) * runningVariance.data[i]
                + momentum * variance.data[i] * unbiasing
        }
        return out.recording(relu ? "batchNorm+relu" : "batchNorm", [input, weight, bias]) { g in
            let dy = g.toChannelsLast()
            let gx = Tensor(uninitializedShape: x.shape, memoryFormat: .channelsLast)
            let gw = Tensor(uninitializedShape: [c]), gb = Tensor(uninitializedShape: [c])
            BatchNormKernel.backward(batch: n, channels: c, height: h, width: w, epsilon: epsilon,
                                     fusedReLU: relu, workspace: workspace?.data, input: input.data, mean: mean.data, variance: variance.data,
                                     scale: weight.data, shift: bias.data, outputGradient: dy.data,
                                     inputGradient: gx.data, scaleGradient: gw.data, shiftGradient: gb.data)
            return [gx, gw, gb]
        }
    }
    let mean = runningMean.copy(), variance = runningVariance.copy()
    KernelProfiler.measure("batchNorm forward (eval)") {
        BatchNormKernel.forwardInference(batch: n, channels: c, height: h, width: w, epsilon: epsilon,
                                         fusedReLU: relu, input: input.data, scale: weight.data, shift: bias.data, mean: mean.data,
                                         variance: variance.data, output: out.data)
    }
    let saved = out.detached()
    return out.recording("batchNorm (eval)", [input, weight, bias]) { g in
        // y = (x - mean) * inv * weight + bias with fixed statistics; with ReLU, only where y > 0.
        let dy = relu ? g.toChannelsLast().zipped(saved) { gi, yi in yi > 0 ? gi : 0 } : g.toChannelsLast()
        let gx = Tensor(uninitializedShape: x.shape, memoryFormat: .channelsLast)
        let gw = Tensor.zeros([c]), gb = Tensor.zeros([c])
        let inv = (0..<c).map { 1 / Foundation.sqrt(variance.data[$0] + epsilon) }
        for p in 0..<(n * h * w) {
            for k in 0..<c {
                let i = p * c + k
                let normalized = (input.data[i] - mean.data[k]) * inv[k]
                gx.data[i] = dy.data[i] * weight.data[k] * inv[k]
                gw.data[k] += dy.data[i] * normalized
                gb.data[k] += dy.data[i]
            }
        }
        return [gx, gw, gb]
    }
}
