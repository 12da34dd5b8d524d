import SCNKernels

/// `a[M, K] x b[K, N] -> [M, N]`.
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    guard a.rank == 2, b.rank == 2, a.shape[1] == b.shape[0] else {
        shapeFailure(ShapeError(operation: "matmul", shapes: [a.shape, b.shape], detail: "expected [M, K] x [K, N]"))
    }
    let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
    let out = Tensor(uninitializedShape: [m, n])
    MatrixMultiply.gemm(m: m, n: n, k: k, a: a.data, b: b.data, c: out.data)
    return out.recording("matmul", [a, b]) { g in
        var ga: Tensor?, gb: Tensor?
        if a.requiresGrad {
            ga = Tensor(uninitializedShape: [m, k])
            MatrixMultiply.gemm(transposeB: true, m: m, n: k, k: n, a: g.data, b: b.data, c: ga!.data)
        }
        if b.requiresGrad {
            gb = Tensor(uninitializedShape: [k, n])
            MatrixMultiply.gemm(transposeA: true, m: k, n: n, k: m, a: a.data, b: g.data, c: gb!.data)
        }
        return [ga, gb]
    }
}

/// `x[N, in] W^T + b` with `weight[out, in]` and `bias[out]`, as PyTorch's `F.linear`.
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    guard x.rank == 2, weight.rank == 2, x.shape[1] == weight.shape[1],
          bias == nil || bias!.shape == [weight.shape[0]] else {
        shapeFailure(ShapeError(operation: "linear", shapes: [x.shape, weight.shape] + (bias.map { [$0.shape] } ?? []),
                                detail: "expected x [N, in], weight [out, in], bias [out]"))
    }
    let input = x.contiguous()
    let (n, i, o) = (x.shape[0], x.shape[1], weight.shape[0])
    let out = Tensor(uninitializedShape: [n, o])
    if let bias {
        for r in 0..<n { (out.data + r * o).update(from: bias.data, count: o) }
    }
    MatrixMultiply.gemm(transposeB: true, m: n, n: o, k: i, a: input.data, b: weight.data,
                        beta: bias == nil ? 0 : 1, c: out.data)
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    return out.recording("linear", inputs) { g in
        var gx: Tensor?, gw: Tensor?, gb: Tensor?
        if x.requiresGrad {
            gx = Tensor(uninitializedShape: [n, i])
            MatrixMultiply.gemm(m: n, n: i, k: o, a: g.data, b: weight.data, c: gx!.data)
        }
        if weight.requiresGrad {
            gw = Tensor(uninitializedShape: [o, i])
            MatrixMultiply.gemm(transposeA: true, m: o, n: i, k: n, a: g.data, b: input.data, c: gw!.data)
        }
        if let bias, bias.requiresGrad { gb = g.sum(alongAxis: 0) }
        return bias == nil ? [gx, gw] : [gx, gw, gb]
    }
}
