import SCNKernels

private func pool(_ x: Tensor, kind: PoolingGeometry.Kind, kernel: (Int, Int), stride: (Int, Int),
                  padding: (Int, Int), name: String) -> Tensor {
    guard x.rank == 4, x.shape[2] + 2 * padding.0 >= kernel.0, x.shape[3] + 2 * padding.1 >= kernel.1,
          padding.0 * 2 <= kernel.0, padding.1 * 2 <= kernel.1 else {
        shapeFailure(ShapeError(operation: name, shapes: [x.shape],
                                detail: "kernel \(kernel) with padding \(padding) does not fit the input"))
    }
    let input = x.toChannelsLast()
    let g = PoolingGeometry(kind: kind, batch: x.shape[0], channels: x.shape[1], inputHeight: x.shape[2],
                            inputWidth: x.shape[3], kernelHeight: kernel.0, kernelWidth: kernel.1,
                            strideHeight: stride.0, strideWidth: stride.1,
                            paddingHeight: padding.0, paddingWidth: padding.1)
    let out = Tensor(uninitializedShape: [g.batch, g.channels, g.outputHeight, g.outputWidth],
                     memoryFormat: .channelsLast)
    let workspaceCount = PoolingKernel.workspaceCount(g)
    let workspace = workspaceCount > 0 && GradientMode.isEnabled && x.requiresGrad
        ? Storage(count: workspaceCount) : nil
    KernelProfiler.measure("\(name) forward") {
        PoolingKernel.forward(g, input: input.data, output: out.data, workspace: workspace?.data)
    }
    return out.recording(name, [input]) { gradient in
        let gx = Tensor(uninitializedShape: input.shape, memoryFormat: .channelsLast)
        PoolingKernel.backward(g, outputGradient: gradient.toChannelsLast().data, inputGradient: gx.data,
                               workspace: workspace?.data)
        return [gx]
    }
}

/// Max pooling over `[N, C, H, W]` (padding never wins the max), as PyTorch's `F.max_pool2d`.
public func maxPool2d(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int) = (0, 0)) -> Tensor {
    pool(x, kind: .max, kernel: kernel, stride: stride, padding: padding, name: "maxPool2d")
}

/// Average pooling over `[N, C, H, W]`, counting padding as PyTorch's `F.avg_pool2d` does by default.
public func avgPool2d(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int) = (0, 0)) -> Tensor {
    pool(x, kind: .averageIncludingPadding, kernel: kernel, stride: stride, padding: padding, name: "avgPool2d")
}

/// Mean over the spatial dimensions: `[N, C, H, W] -> [N, C]` (adaptive average pooling to 1x1, then
/// flatten).
public func globalAveragePool(_ x: Tensor) -> Tensor {
    guard x.rank == 4 else {
        shapeFailure(ShapeError(operation: "globalAveragePool", shapes: [x.shape], detail: "expected [N, C, H, W]"))
    }
    let input = x.toChannelsLast()
    let (n, c, hw) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
    let out = Tensor.zeros([n, c])
    let scale = 1 / Float(hw)
    let pi = input.data, po = out.data
    ThreadPool.shared.parallelFor(n, minimumChunk: 1) { range in
        for b in range {
            let row = po + b * c
            for p in 0..<hw {
                let src = pi + (b * hw + p) * c
                for k in 0..<c { row[k] += src[k] }
            }
            for k in 0..<c { row[k] *= scale }
        }
    }
    return out.recording("globalAveragePool", [input]) { g in
        let gx = Tensor(uninitializedShape: input.shape, memoryFormat: .channelsLast)
        let pg = g.data, px = gx.data
        ThreadPool.shared.parallelFor(n, minimumChunk: 1) { range in
            for b in range {
                for p in 0..<hw {
                    let dst = px + (b * hw + p) * c
                    for k in 0..<c { dst[k] = pg[b * c + k] * scale }
                }
            }
        }
        return [gx]
    }
}
