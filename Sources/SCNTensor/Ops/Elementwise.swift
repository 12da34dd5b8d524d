import Foundation
import SCNKernels

// MARK: - Binary operations with broadcasting

private enum BinaryKind { case add, subtract, multiply, divide }

private func binaryApply(_ kind: BinaryKind, _ x: Float, _ y: Float) -> Float {
    switch kind {
    case .add: return x + y
    case .subtract: return x - y
    case .multiply: return x * y
    case .divide: return x / y
    }
}

/// Row-major strides of `shape`, aligned right to `rank`, with 0 for broadcast dimensions.
private func broadcastStrides(_ shape: [Int], to output: [Int]) -> [Int] {
    let rank = output.count
    var strides = [Int](repeating: 0, count: rank)
    var step = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        let o = i + rank - shape.count
        strides[o] = shape[i] == 1 && output[o] != 1 ? 0 : step
        step *= shape[i]
    }
    return strides
}

private func binary(_ kind: BinaryKind, _ a: Tensor, _ b: Tensor, name: String) -> Tensor {
    KernelProfiler.measure(name) { binaryUnmeasured(kind, a, b, name: name) }
}

private func binaryUnmeasured(_ kind: BinaryKind, _ a: Tensor, _ b: Tensor, name: String) -> Tensor {
    if a.shape == b.shape {
        let bb = b.matchingFormat(of: a)
        let out = Tensor(uninitializedShape: a.shape, memoryFormat: a.memoryFormat)
        let pa = a.data, pb = bb.data, po = out.data
        switch kind {
        case .add: ThreadPool.shared.parallelFor(a.count) { r in for i in r { po[i] = pa[i] + pb[i] } }
        case .subtract: ThreadPool.shared.parallelFor(a.count) { r in for i in r { po[i] = pa[i] - pb[i] } }
        case .multiply: ThreadPool.shared.parallelFor(a.count) { r in for i in r { po[i] = pa[i] * pb[i] } }
        case .divide: ThreadPool.shared.parallelFor(a.count) { r in for i in r { po[i] = pa[i] / pb[i] } }
        }
        return out
    }
    let shape: [Int]
    switch broadcastShape(a.shape, b.shape, operation: name) {
    case .success(let s): shape = s
    case .failure(let e): shapeFailure(e)
    }
    let ca = a.contiguous(), cb = b.contiguous()
    let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
    let out = Tensor(uninitializedShape: shape)
    let rank = shape.count
    var index = [Int](repeating: 0, count: rank)
    var oa = 0, ob = 0
    let pa = ca.data, pb = cb.data, po = out.data
    for i in 0..<out.count {
        po[i] = binaryApply(kind, pa[oa], pb[ob])
        var d = rank - 1
        while d >= 0 {
            index[d] += 1
            oa += sa[d]
            ob += sb[d]
            if index[d] < shape[d] { break }
            oa -= sa[d] * shape[d]
            ob -= sb[d] * shape[d]
            index[d] = 0
            d -= 1
        }
    }
    return out
}

extension Tensor {
    /// Sums a broadcast gradient back down to `shape` (the inverse of broadcasting).
    func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let source = contiguous()
        let rank = shape.count
        var reducedStrides = [Int](repeating: 0, count: rank)
        var step = 1
        for i in stride(from: target.count - 1, through: 0, by: -1) {
            let o = i + rank - target.count
            reducedStrides[o] = target[i] == 1 && shape[o] != 1 ? 0 : step
            step *= target[i]
        }
        let out = Tensor.zeros(target)
        var index = [Int](repeating: 0, count: rank)
        var offset = 0
        let ps = source.data, po = out.data
        for i in 0..<count {
            po[offset] += ps[i]
            var d = rank - 1
            while d >= 0 {
                index[d] += 1
                offset += reducedStrides[d]
                if index[d] < shape[d] { break }
                offset -= reducedStrides[d] * shape[d]
                index[d] = 0
                d -= 1
            }
        }
        return out
    }
}

/// Elementwise sum with broadcasting.
public func + (a: Tensor, b: Tensor) -> Tensor {
    binary(.add, a, b, name: "add").recording("add", [a, b]) { g in
        [a.requiresGrad ? g.summed(toShape: a.shape) : nil, b.requiresGrad ? g.summed(toShape: b.shape) : nil]
    }
}

/// Elementwise difference with broadcasting.
public func - (a: Tensor, b: Tensor) -> Tensor {
    binary(.subtract, a, b, name: "subtract").recording("subtract", [a, b]) { g in
        [a.requiresGrad ? g.summed(toShape: a.shape) : nil,
         b.requiresGrad ? (-g).summed(toShape: b.shape) : nil]
    }
}

/// Elementwise product with broadcasting (for example `alpha[N,1] * logits[N,C]`).
public func * (a: Tensor, b: Tensor) -> Tensor {
    binary(.multiply, a, b, name: "multiply").recording("multiply", [a, b]) { g in
        [a.requiresGrad ? binary(.multiply, g, b, name: "multiply backward").summed(toShape: a.shape) : nil,
         b.requiresGrad ? binary(.multiply, g, a, name: "multiply backward").summed(toShape: b.shape) : nil]
    }
}

/// Elementwise quotient with broadcasting.
public func / (a: Tensor, b: Tensor) -> Tensor {
    binary(.divide, a, b, name: "divide").recording("divide", [a, b]) { g in
        [a.requiresGrad ? binary(.divide, g, b, name: "divide backward").summed(toShape: a.shape) : nil,
         b.requiresGrad ? {
             // d(a/b)/db = -a / b^2
             let q = binary(.divide, a, binary(.multiply, b, b, name: "divide backward"), name: "divide backward")
             return (-binary(.multiply, g, q, name: "divide backward")).summed(toShape: b.shape)
         }() : nil]
    }
}

// MARK: - Unary operations

extension Tensor {
    /// Applies `f` to every element into a new tensor of the same shape and format.
    func mapped(_ f: (Float) -> Float) -> Tensor {
        let out = Tensor(uninitializedShape: shape, memoryFormat: memoryFormat)
        let p = data, o = out.data
        withoutActuallyEscaping(f) { f in
            ThreadPool.shared.parallelFor(count) { r in for i in r { o[i] = f(p[i]) } }
        }
        return out
    }

    /// Combines `self` and `other` (same shape) elementwise into a new tensor.
    func zipped(_ other: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        let b = other.matchingFormat(of: self)
        let out = Tensor(uninitializedShape: shape, memoryFormat: memoryFormat)
        let pa = data, pb = b.data, o = out.data
        withoutActuallyEscaping(f) { f in
            ThreadPool.shared.parallelFor(count) { r in for i in r { o[i] = f(pa[i], pb[i]) } }
        }
        return out
    }
}

public prefix func - (x: Tensor) -> Tensor {
    x.mapped { -$0 }.recording("negate", [x]) { g in [-g] }
}

public func * (x: Tensor, s: Float) -> Tensor {
    x.mapped { $0 * s }.recording("scale", [x]) { g in [g * s] }
}

public func * (s: Float, x: Tensor) -> Tensor { x * s }

public func + (x: Tensor, s: Float) -> Tensor {
    x.mapped { $0 + s }.recording("add scalar", [x]) { g in [g] }
}

public func + (s: Float, x: Tensor) -> Tensor { x + s }
public func - (x: Tensor, s: Float) -> Tensor { x + (-s) }

public func - (s: Float, x: Tensor) -> Tensor {
    x.mapped { s - $0 }.recording("subtract from scalar", [x]) { g in [-g] }
}

/// `max(x, 0)`.
public func relu(_ x: Tensor) -> Tensor {
    let out = Tensor(uninitializedShape: x.shape, memoryFormat: x.memoryFormat)
    let p = x.data, o = out.data
    KernelProfiler.measure("relu forward") {
        ThreadPool.shared.parallelFor(x.count) { r in for i in r { o[i] = p[i] > 0 ? p[i] : 0 } }
    }
    let saved = out.detached()  // not `out`: a closure holding its own result would be a retain cycle
    return out.recording("relu", [x]) { g in
        // The output is positive exactly where the input was.
        [g.zipped(saved) { gi, yi in yi > 0 ? gi : 0 }]
    }
}

/// `max(a + b, 0)` for equally shaped `a` and `b` in one pass, storing one activation (a residual
/// block's output).
public func reluOfSum(_ a: Tensor, _ b: Tensor) -> Tensor {
    guard a.shape == b.shape else {
        shapeFailure(ShapeError(operation: "reluOfSum", shapes: [a.shape, b.shape], detail: "shapes must be equal"))
    }
    let bb = b.matchingFormat(of: a)
    let out = Tensor(uninitializedShape: a.shape, memoryFormat: a.memoryFormat)
    let pa = a.data, pb = bb.data, o = out.data
    KernelProfiler.measure("reluOfSum forward") {
        ThreadPool.shared.parallelFor(a.count) { r in for i in r { o[i] = max(pa[i] + pb[i], 0) } }
    }
    let saved = out.detached()
    return out.recording("reluOfSum", [a, b]) { g in
        let masked = g.zipped(saved) { gi, yi in yi > 0 ? gi : 0 }
        return [masked, masked]
    }
}

/// `1 / (1 + exp(-x))`.
public func sigmoid(_ x: Tensor) -> Tensor {
    let out = x.mapped { v in v >= 0 ? 1 / (1 + Foundation.exp(-v)) : { let e = Foundation.exp(v); return e / (1 + e) }() }
    let saved = out.detached()
    return out.recording("sigmoid", [x]) { g in [g.zipped(saved) { gi, y in gi * y * (1 - y) }] }
}

public func exp(_ x: Tensor) -> Tensor {
    let out = x.mapped { Foundation.exp($0) }
    let saved = out.detached()
    return out.recording("exp", [x]) { g in [g.zipped(saved) { $0 * $1 }] }
}

public func log(_ x: Tensor) -> Tensor {
    x.mapped { Foundation.log($0) }.recording("log", [x]) { g in [g.zipped(x) { $0 / $1 }] }
}
