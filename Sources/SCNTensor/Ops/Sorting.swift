extension Tensor {
    /// Sorts a vector (`[N]` or `[N, 1]`), largest first when `descending`. Equal values keep their
    /// original order (a stable sort), so the result is deterministic.
    ///
    /// - Returns: the sorted values (same shape, differentiable: gradients flow back to the positions
    ///   they came from) and the original index of each.
    public func sorted(descending: Bool = true) -> (values: Tensor, indices: [Int]) {
        guard rank == 1 || (rank == 2 && shape[1] == 1) else {
            shapeFailure(ShapeError(operation: "sorted", shapes: [shape], detail: "expected [N] or [N, 1]"))
        }
        let p = data
        let order = (0..<count).sorted { i, j in
            if p[i] != p[j] { return descending ? p[i] > p[j] : p[i] < p[j] }
            return i < j
        }
        return (gatheringRows(order), order)
    }

    /// The `k` largest elements of a vector and their indices, largest first (ties by lower index).
    public func topK(_ k: Int) -> (values: Tensor, indices: [Int]) {
        precondition(k >= 0 && k <= count, "topK: k = \(k) for \(count) elements")
        let (values, indices) = sorted(descending: true)
        return (values.rows(0..<k), Array(indices.prefix(k)))
    }
}
