import SCNKernels

extension Tensor {
    /// The same elements in a new shape with equal element count; shares storage when the tensor is
    /// contiguous (or channels-last with 1x1 spatial size, which is laid out identically).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        if let inferred = target.firstIndex(of: -1) {
            let known = target.enumerated().filter { $0.offset != inferred }.map(\.element).reduce(1, *)
            target[inferred] = known == 0 ? 0 : count / known
        }
        guard target.reduce(1, *) == count else {
            shapeFailure(ShapeError(operation: "reshape", shapes: [shape, newShape],
                                    detail: "element counts \(count) and \(target.reduce(1, *)) differ"))
        }
        let sameBytes = memoryFormat == .contiguous || (shape[2] == 1 && shape[3] == 1) || shape[1] == 1
        let source = sameBytes ? self : contiguous()
        let inputShape = shape, inputFormat = memoryFormat
        return Tensor(shape: target, storage: source.storage)
            .recording("reshape", [self]) { g in
                let back = Tensor(shape: inputShape, storage: g.contiguous().storage)
                return [sameBytes && inputFormat == .channelsLast
                        ? Tensor(shape: inputShape, storage: back.storage, memoryFormat: .channelsLast)
                        : back]
            }
    }

    /// `[N, ...] -> [N, rest]`.
    public func flattened() -> Tensor { reshaped([shape[0], -1]) }

    /// This tensor in row-major (`contiguous`) memory order; self when it already is.
    public func contiguous() -> Tensor {
        guard memoryFormat == .channelsLast else { return self }
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let out = Tensor(uninitializedShape: shape)
        permute(data, out.data, n, h * w, c)
        return out.recording("contiguous", [self]) { g in [g.toChannelsLast()] }
    }

    /// This 4-D tensor stored channels-last (`[N, H, W, C]` in memory); self when it already is.
    public func toChannelsLast() -> Tensor {
        guard memoryFormat == .contiguous else { return self }
        precondition(rank == 4, "toChannelsLast: needs a 4-D tensor, got \(shape)")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let out = Tensor(uninitializedShape: shape, memoryFormat: .channelsLast)
        permute(data, out.data, n, c, h * w)
        return out.recording("to channels-last", [self]) { g in [g.contiguous()] }
    }

    /// Rows `range` of the outermost dimension (a copy).
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[0],
                     "rows: range \(range) outside the first dimension of \(shape)")
        let source = contiguous()
        let inner = count / max(shape[0], 1)
        var outShape = shape
        outShape[0] = range.count
        let out = Tensor(uninitializedShape: outShape)
        out.data.update(from: source.data + range.lowerBound * inner, count: range.count * inner)
        let inputShape = shape
        return out.recording("rows", [self]) { g in
            let gi = Tensor.zeros(inputShape)
            (gi.data + range.lowerBound * inner).update(from: g.contiguous().data, count: range.count * inner)
            return [gi]
        }
    }

    /// Rows `indices` of the outermost dimension, in that order (a copy).
    public func gatheringRows(_ indices: [Int]) -> Tensor {
        let source = contiguous()
        let inner = count / max(shape[0], 1)
        var outShape = shape
        outShape[0] = indices.count
        let out = Tensor(uninitializedShape: outShape)
        for (r, i) in indices.enumerated() {
            precondition(i >= 0 && i < shape[0], "gatheringRows: index \(i) outside 0..<\(shape[0])")
            (out.data + r * inner).update(from: source.data + i * inner, count: inner)
        }
        let inputShape = shape
        return out.recording("gather rows", [self]) { g in
            let gi = Tensor.zeros(inputShape)
            let pg = g.contiguous().data
            for (r, i) in indices.enumerated() {
                for k in 0..<inner { gi.data[i * inner + k] += pg[r * inner + k] }
            }
            return [gi]
        }
    }
}

/// Transposes `batch` matrices of `[rows, columns]` into `[columns, rows]`.
func permute(_ source: UnsafeMutablePointer<Float>, _ destination: UnsafeMutablePointer<Float>,
             _ batch: Int, _ rows: Int, _ columns: Int) {
    let block = 32
    ThreadPool.shared.runOnAllThreads { t in
        let threads = ThreadPool.shared.threadCount
        for b in stride(from: t, to: batch, by: threads) {
            let s = source + b * rows * columns, d = destination + b * rows * columns
            for r0 in stride(from: 0, to: rows, by: block) {
                for c0 in stride(from: 0, to: columns, by: block) {
                    for r in r0..<min(r0 + block, rows) {
                        for c in c0..<min(c0 + block, columns) { d[c * rows + r] = s[r * columns + c] }
                    }
                }
            }
        }
    }
}
