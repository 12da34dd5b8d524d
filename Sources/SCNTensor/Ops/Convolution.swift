import SCNKernels

/// 2-D convolution (cross-correlation, as PyTorch's `F.conv2d`).
///
/// - Parameters:
///   - x: `[N, C_in, H, W]`, any memory format (converted to channels-last).
///   - weight: `[C_out, C_in, kH, kW]`.
///   - bias: `[C_out]` or nil.
///   - stride, padding: `(height, width)`.
///   - precision: the multiply format; bfloat16 keeps float32 accumulation and results.
/// - Returns: `[N, C_out, H_out, W_out]`, channels-last.
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                   padding: (Int, Int) = (0, 0), precision: ConvolutionPrecision = .float32) -> Tensor {
    guard x.rank == 4, weight.rank == 4, x.shape[1] == weight.shape[1],
          bias == nil || bias!.shape == [weight.shape[0]],
          x.shape[2] + 2 * padding.0 >= weight.shape[2], x.shape[3] + 2 * padding.1 >= weight.shape[3] else {
        shapeFailure(ShapeError(operation: "conv2d", shapes: [x.shape, weight.shape] + (bias.map { [$0.shape] } ?? []),
                                detail: "expected input [N, C, H, W], weight [O, C, kH, kW], bias [O], "
                                    + "and a kernel no larger than the padded input"))
    }
    let input = x.toChannelsLast()
    let g = ConvolutionGeometry(
        batch: x.shape[0], inputChannels: x.shape[1], inputHeight: x.shape[2], inputWidth: x.shape[3],
        outputChannels: weight.shape[0], kernelHeight: weight.shape[2], kernelWidth: weight.shape[3],
        strideHeight: stride.0, strideWidth: stride.1, paddingHeight: padding.0, paddingWidth: padding.1)
    let out = Tensor(uninitializedShape: [g.batch, g.outputChannels, g.outputHeight, g.outputWidth],
                     memoryFormat: .channelsLast)
    let cache = FrozenWeights.cache(for: weight, geometry: g, precision: precision)
        ?? (GradientMode.isEnabled && input.requiresGrad ? ConvolutionWeightCache() : nil)
    ConvolutionKernel.forward(g, precision: precision, input: input.data, weight: weight.data, bias: bias?.data,
                              output: out.data, cache: cache)
    let inputs = [input, weight] + (bias.map { [$0] } ?? [])
    return out.recording("conv2d", inputs) { gradient in
        let dy = gradient.toChannelsLast()
        var gx: Tensor?, gw: Tensor?, gb: Tensor?
        if input.requiresGrad {
            gx = Tensor(uninitializedShape: input.shape, memoryFormat: .channelsLast)
            ConvolutionKernel.backwardData(g, precision: precision, outputGradient: dy.data, weight: weight.data,
                                           inputGradient: gx!.data, cache: cache)
        }
        if weight.requiresGrad || (bias?.requiresGrad ?? false) {
            gw = Tensor(uninitializedShape: weight.shape)
            if bias != nil { gb = Tensor(uninitializedShape: [g.outputChannels]) }
            ConvolutionKernel.backwardWeights(g, precision: precision, input: input.data, outputGradient: dy.data,
                                              weightGradient: gw!.data, biasGradient: gb?.data)
        }
        return bias == nil ? [gx, gw] : [gx, gw, gb]
    }
}
