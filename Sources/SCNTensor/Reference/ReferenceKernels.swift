import Foundation

/// Plain loop implementations of the library-backed operations, on row-major arrays (`[N, C, H, W]`
/// activations). Slow and obviously correct: the tests check the fast kernels against these.
public enum ReferenceKernels {
    /// `y[N, O, Ho, Wo]` of a convolution of `x[N, C, H, W]` with `w[O, C, kH, kW]` and `bias[O]`.
    public static func convolution(x: [Float], xShape: [Int], w: [Float], wShape: [Int], bias: [Float]?,
                                   stride: (Int, Int), padding: (Int, Int)) -> (y: [Float], shape: [Int]) {
        let (n, c, h, wd) = (xShape[0], xShape[1], xShape[2], xShape[3])
        let (o, kh, kw) = (wShape[0], wShape[2], wShape[3])
        let ho = (h + 2 * padding.0 - kh) / stride.0 + 1, wo = (wd + 2 * padding.1 - kw) / stride.1 + 1
        var y = [Float](repeating: 0, count: n * o * ho * wo)
        for b in 0..<n { for oc in 0..<o { for i in 0..<ho { for j in 0..<wo {
            var acc = Double(bias?[oc] ?? 0)
            for ic in 0..<c { for u in 0..<kh { for v in 0..<kw {
                let yi = i * stride.0 - padding.0 + u, xj = j * stride.1 - padding.1 + v
                if yi < 0 || yi >= h || xj < 0 || xj >= wd { continue }
                acc += Double(x[((b * c + ic) * h + yi) * wd + xj]) * Double(w[((oc * c + ic) * kh + u) * kw + v])
            } } }
            y[((b * o + oc) * ho + i) * wo + j] = Float(acc)
        } } } }
        return (y, [n, o, ho, wo])
    }

    /// Gradients of `convolution` for input, weights and bias given `dy[N, O, Ho, Wo]`.
    public static func convolutionBackward(x: [Float], xShape: [Int], w: [Float], wShape: [Int], dy: [Float],
                                           stride: (Int, Int), padding: (Int, Int))
        -> (dx: [Float], dw: [Float], db: [Float])
    {
        let (n, c, h, wd) = (xShape[0], xShape[1], xShape[2], xShape[3])
        let (o, kh, kw) = (wShape[0], wShape[2], wShape[3])
        let ho = (h + 2 * padding.0 - kh) / stride.0 + 1, wo = (wd + 2 * padding.1 - kw) / stride.1 + 1
        var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: w.count)
        var db = [Double](repeating: 0, count: o)
        for b in 0..<n { for oc in 0..<o { for i in 0..<ho { for j in 0..<wo {
            let g = Double(dy[((b * o + oc) * ho + i) * wo + j])
            db[oc] += g
            for ic in 0..<c { for u in 0..<kh { for v in 0..<kw {
                let yi = i * stride.0 - padding.0 + u, xj = j * stride.1 - padding.1 + v
                if yi < 0 || yi >= h || xj < 0 || xj >= wd { continue }
                let xi = ((b * c + ic) * h + yi) * wd + xj, wi = ((oc * c + ic) * kh + u) * kw + v
                dx[xi] += g * Double(w[wi])
                dw[wi] += g * Double(x[xi])
            } } }
        } } } }
        return (dx.map(Float.init), dw.map(Float.init), db.map(Float.init))
    }

    /// Training-mode batch normalization of `x[N, C, H, W]`: output, batch mean and biased variance.
    public static func batchNorm(x: [Float], shape: [Int], weight: [Float], bias: [Float], epsilon: Float)
        -> (y: [Float], mean: [Float], variance: [Float])
    {
        let (n, c, hw) = (shape[0], shape[1], shape[2] * shape[3])
        var y = x, mean = [Float](repeating: 0, count: c), variance = [Float](repeating: 0, count: c)
        for k in 0..<c {
            var s = 0.0, s2 = 0.0
            for b in 0..<n { for p in 0..<hw { let v = Double(x[(b * c + k) * hw + p]); s += v } }
            let m = s / Double(n * hw)
            for b in 0..<n { for p in 0..<hw { let d = Double(x[(b * c + k) * hw + p]) - m; s2 += d * d } }
            let v = s2 / Double(n * hw)
            mean[k] = Float(m)
            variance[k] = Float(v)
            let inv = 1 / (v + Double(epsilon)).squareRoot()
            for b in 0..<n { for p in 0..<hw {
                let i = (b * c + k) * hw + p
                y[i] = Float((Double(x[i]) - m) * inv * Double(weight[k]) + Double(bias[k]))
            } }
        }
        return (y, mean, variance)
    }

    /// Gradients of training-mode `batchNorm` given `dy`.
    public static func batchNormBackward(x: [Float], shape: [Int], weight: [Float], dy: [Float], epsilon: Float)
        -> (dx: [Float], dweight: [Float], dbias: [Float])
    {
        let (n, c, hw) = (shape[0], shape[1], shape[2] * shape[3])
        let stats = batchNorm(x: x, shape: shape, weight: [Float](repeating: 1, count: c),
                              bias: [Float](repeating: 0, count: c), epsilon: epsilon)
        var dx = x, dweight = [Float](repeating: 0, count: c), dbias = [Float](repeating: 0, count: c)
        let m = Double(n * hw)
        for k in 0..<c {
            let inv = 1 / (Double(stats.variance[k]) + Double(epsilon)).squareRoot()
            var sumDy = 0.0, sumDyXhat = 0.0
            for b in 0..<n { for p in 0..<hw {
                let i = (b * c + k) * hw + p
                sumDy += Double(dy[i])
                sumDyXhat += Double(dy[i]) * Double(stats.y[i])
            } }
            dweight[k] = Float(sumDyXhat)
            dbias[k] = Float(sumDy)
            for b in 0..<n { for p in 0..<hw {
                let i = (b * c + k) * hw + p
                let xhat = Double(stats.y[i])
                dx[i] = Float(Double(weight[k]) * inv * (Double(dy[i]) - sumDy / m - xhat * sumDyXhat / m))
            } }
        }
        return (dx, dweight, dbias)
    }

    /// Max pooling of `x[N, C, H, W]`: output and, for each output, the flat input index of its maximum.
    public static func maxPool(x: [Float], shape: [Int], kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int))
        -> (y: [Float], argmax: [Int], shape: [Int])
    {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let ho = (h + 2 * padding.0 - kernel.0) / stride.0 + 1, wo = (w + 2 * padding.1 - kernel.1) / stride.1 + 1
        var y = [Float](repeating: 0, count: n * c * ho * wo), argmax = [Int](repeating: 0, count: y.count)
        for b in 0..<n { for k in 0..<c { for i in 0..<ho { for j in 0..<wo {
            var best = -Float.infinity, at = -1
            for u in 0..<kernel.0 { for v in 0..<kernel.1 {
                let r = i * stride.0 - padding.0 + u, s = j * stride.1 - padding.1 + v
                if r < 0 || r >= h || s < 0 || s >= w { continue }
                let idx = ((b * c + k) * h + r) * w + s
                if x[idx] > best { best = x[idx]; at = idx }
            } }
            let o = ((b * c + k) * ho + i) * wo + j
            y[o] = best
            argmax[o] = at
        } } } }
        return (y, argmax, [n, c, ho, wo])
    }

    /// Average pooling of `x[N, C, H, W]` counting padded positions (PyTorch's default), and the input
    /// gradient for output gradient `dy`.
    public static func averagePool(x: [Float], shape: [Int], kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int),
                                   dy: [Float]) -> (y: [Float], dx: [Float], shape: [Int]) {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let ho = (h + 2 * padding.0 - kernel.0) / stride.0 + 1, wo = (w + 2 * padding.1 - kernel.1) / stride.1 + 1
        var y = [Float](repeating: 0, count: n * c * ho * wo), dx = [Float](repeating: 0, count: x.count)
        let area = Float(kernel.0 * kernel.1)
        for b in 0..<n { for k in 0..<c { for i in 0..<ho { for j in 0..<wo {
            let o = ((b * c + k) * ho + i) * wo + j
            var sum: Float = 0
            for u in 0..<kernel.0 { for v in 0..<kernel.1 {
                let r = i * stride.0 - padding.0 + u, s = j * stride.1 - padding.1 + v
                if r < 0 || r >= h || s < 0 || s >= w { continue }
                sum += x[((b * c + k) * h + r) * w + s]
                dx[((b * c + k) * h + r) * w + s] += dy[o] / area
            } }
            y[o] = sum / area
        } } } }
        return (y, dx, [n, c, ho, wo])
    }

    /// `c[m, n] = a[m, k] b[k, n]` in double precision.
    public static func matrixProduct(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n {
            var acc = 0.0
            for p in 0..<k { acc += Double(a[i * k + p]) * Double(b[p * n + j]) }
            c[i * n + j] = Float(acc)
        } }
        return c
    }
}
