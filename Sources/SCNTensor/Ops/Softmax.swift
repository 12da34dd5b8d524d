import Foundation
import SCNKernels

/// Row-wise log-softmax of `[N, C]` into `output`.
private func logSoftmaxRows(_ x: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
    for r in 0..<rows {
        let row = x + r * columns, out = output + r * columns
        var maximum = -Float.infinity
        for c in 0..<columns { maximum = max(maximum, row[c]) }
        var total: Float = 0
        for c in 0..<columns { total += Foundation.exp(row[c] - maximum) }
        let logTotal = maximum + Foundation.log(total)
        for c in 0..<columns { out[c] = row[c] - logTotal }
    }
}

private func checkMatrix(_ x: Tensor, _ operation: String) {
    if x.rank != 2 {
        shapeFailure(ShapeError(operation: operation, shapes: [x.shape], detail: "expected [N, C]"))
    }
}

/// Softmax over the last axis of `[N, C]`.
public func softmax(_ x: Tensor) -> Tensor {
    checkMatrix(x, "softmax")
    let (n, c) = (x.shape[0], x.shape[1])
    let out = Tensor(uninitializedShape: x.shape)
    logSoftmaxRows(x.data, out.data, rows: n, columns: c)
    for i in 0..<out.count { out.data[i] = Foundation.exp(out.data[i]) }
    let saved = out.detached()
    return out.recording("softmax", [x]) { g in
        // dx = y * (g - sum(g * y))
        let gi = Tensor(uninitializedShape: [n, c])
        let pg = g.data, py = saved.data, pi = gi.data
        for r in 0..<n {
            var dot: Float = 0
            for k in 0..<c { dot += pg[r * c + k] * py[r * c + k] }
            for k in 0..<c { pi[r * c + k] = py[r * c + k] * (pg[r * c + k] - dot) }
        }
        return [gi]
    }
}

/// Log-softmax over the last axis of `[N, C]`.
public func logSoftmax(_ x: Tensor) -> Tensor {
    checkMatrix(x, "logSoftmax")
    let (n, c) = (x.shape[0], x.shape[1])
    let out = Tensor(uninitializedShape: x.shape)
    logSoftmaxRows(x.data, out.data, rows: n, columns: c)
    let saved = out.detached()
    return out.recording("logSoftmax", [x]) { g in
        // dx = g - softmax * sum(g)
        let gi = Tensor(uninitializedShape: [n, c])
        let pg = g.data, py = saved.data, pi = gi.data
        for r in 0..<n {
            var total: Float = 0
            for k in 0..<c { total += pg[r * c + k] }
            for k in 0..<c { pi[r * c + k] = pg[r * c + k] - Foundation.exp(py[r * c + k]) * total }
        }
        return [gi]
    }
}

/// How per-sample losses are combined.
public enum LossReduction: Sendable {
    /// One loss per sample, shape `[N]`.
    case none
    /// The batch mean, shape `[]`.
    case mean
    /// The batch sum, shape `[]`.
    case sum
}

/// Cross-entropy of `logits[N, C]` against class indices `labels` (each in `0..<C`), fused with
/// log-softmax as PyTorch's `F.cross_entropy`.
public func crossEntropy(_ logits: Tensor, labels: [Int], reduction: LossReduction = .mean) -> Tensor {
    checkMatrix(logits, "crossEntropy")
    let (n, c) = (logits.shape[0], logits.shape[1])
    if labels.count != n {
        shapeFailure(ShapeError(operation: "crossEntropy", shapes: [logits.shape, [labels.count]],
                                detail: "one label per row is needed"))
    }
    for (i, y) in labels.enumerated() where y < 0 || y >= c {
        fatalError("crossEntropy: label \(y) of sample \(i) is outside 0..<\(c)")
    }
    let logProbabilities = Tensor(uninitializedShape: [n, c])
    logSoftmaxRows(logits.data, logProbabilities.data, rows: n, columns: c)
    let perSample = (0..<n).map { -logProbabilities.data[$0 * c + labels[$0]] }
    let out: Tensor
    switch reduction {
    case .none: out = Tensor(perSample, shape: [n])
    case .mean: out = Tensor(scalar: perSample.reduce(0, +) / Float(n))
    case .sum: out = Tensor(scalar: perSample.reduce(0, +))
    }
    return out.recording("crossEntropy", [logits]) { g in
        // dlogits = (softmax - onehot) * dloss
        let gi = Tensor(uninitializedShape: [n, c])
        let pl = logProbabilities.data, pi = gi.data
        for r in 0..<n {
            let scale: Float
            switch reduction {
            case .none: scale = g.data[r]
            case .mean: scale = g.data[0] / Float(n)
            case .sum: scale = g.data[0]
            }
            for k in 0..<c { pi[r * c + k] = Foundation.exp(pl[r * c + k]) * scale }
            pi[r * c + labels[r]] -= scale
        }
        return [gi]
    }
}

/// Cross-entropy of `logits[N, C]` against target distributions `targets[N, C]` (rows sum to 1),
/// as PyTorch's `F.cross_entropy` with probability targets.
public func crossEntropy(_ logits: Tensor, targets: Tensor, reduction: LossReduction = .mean) -> Tensor {
    if logits.shape != targets.shape {
        shapeFailure(ShapeError(operation: "crossEntropy", shapes: [logits.shape, targets.shape],
                                detail: "targets must have the logits' shape"))
    }
    let perSample = -(logSoftmax(logits) * targets).sum(alongAxis: 1)
    switch reduction {
    case .none: return perSample
    case .mean: return perSample.mean()
    case .sum: return perSample.sum()
    }
}
