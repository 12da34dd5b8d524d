import SCNKernels

extension Tensor {
    /// Sum of all elements, shape `[]`.
    public func sum() -> Tensor {
        var total: Double = 0
        let p = data
        for i in 0..<count { total += Double(p[i]) }
        let shape = self.shape, format = memoryFormat
        return Tensor(scalar: Float(total)).recording("sum", [self]) { g in
            [Tensor.full(shape, value: g.item(), memoryFormat: format)]
        }
    }

    /// Mean of all elements, shape `[]`.
    public func mean() -> Tensor {
        let n = Float(count)
        var total: Double = 0
        let p = data
        for i in 0..<count { total += Double(p[i]) }
        let shape = self.shape, format = memoryFormat
        return Tensor(scalar: Float(total) / n).recording("mean", [self]) { g in
            [Tensor.full(shape, value: g.item() / n, memoryFormat: format)]
        }
    }

    /// Sum along `axis`; the axis is kept with size 1 when `keepingDimension`.
    public func sum(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        precondition(axis >= 0 && axis < rank, "sum(alongAxis:): axis \(axis) for shape \(shape)")
        let source = contiguous()
        let outer = shape[..<axis].reduce(1, *), size = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var outShape = shape
        outShape[axis] = 1
        let out = Tensor.zeros(outShape)
        let ps = source.data, po = out.data
        for o in 0..<outer {
            for s in 0..<size {
                let base = (o * size + s) * inner
                for i in 0..<inner { po[o * inner + i] += ps[base + i] }
            }
        }
        let inputShape = shape
        let result = keepingDimension ? out : out.reshaped(shape.enumerated().filter { $0.offset != axis }.map(\.element))
        return result.recording("sum along axis", [self]) { g in
            // Broadcast the gradient back along the summed axis.
            let gk = g.contiguous().reshaped(outShape)
            let gi = Tensor(uninitializedShape: inputShape)
            let pg = gk.data, pi = gi.data
            for o in 0..<outer {
                for s in 0..<size {
                    let base = (o * size + s) * inner
                    for i in 0..<inner { pi[base + i] = pg[o * inner + i] }
                }
            }
            return [gi]
        }
    }

    /// Mean along `axis`.
    public func mean(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        sum(alongAxis: axis, keepingDimension: keepingDimension) * (1 / Float(shape[axis]))
    }
}
