import SCNTensor

/// Which published form of SCN's objective to use.
public enum LossForm: String, Codable, Sendable, CaseIterable {
    /// `gamma * L_RR + (1 - gamma) * L_WCE` (the paper).
    case paper
    /// `L_WCE + L_RR` (the authors' code).
    case official
}

/// The rank-regularization loss over a batch's importance weights.
///
/// The weights are sorted in descending order (ties by dataset index, so the split is deterministic);
/// the top `round(beta * N)` form the high-importance group, the rest the low group, and
/// `L_RR = max(0, margin - (mean_high - mean_low))`.
public struct RankRegularization {
    /// The loss (shape `[]`), differentiable with respect to alpha and to a learnable margin.
    public var loss: Tensor
    /// Batch positions of the low-importance group.
    public var lowGroup: [Int]
    /// Batch positions of the high-importance group.
    public var highGroup: [Int]
    /// `mean_high - mean_low`.
    public var gap: Float
    /// Whether the hinge was active (the loss above zero).
    public var isActive: Bool

    /// - Parameters:
    ///   - alpha: `[N, 1]` importance weights.
    ///   - datasetIndices: each sample's dataset index (tie-breaking).
    ///   - beta: the high-group fraction, in (0, 1).
    ///   - margin: `[1]`, delta1 (a parameter when learned).
    public init(alpha: Tensor, datasetIndices: [Int], beta: Float, margin: Tensor) {
        let n = alpha.shape[0]
        precondition(datasetIndices.count == n, "RankRegularization: \(datasetIndices.count) indices for \(n) weights")
        let values = alpha.scalars
        let order = (0..<n).sorted { i, j in
            values[i] != values[j] ? values[i] > values[j] : datasetIndices[i] < datasetIndices[j]
        }
        let m = Int((beta * Float(n)).rounded())
        highGroup = Array(order.prefix(m))
        lowGroup = Array(order.dropFirst(m))
        guard m > 0, m < n else {
            loss = Tensor(scalar: 0)
            gap = 0
            isActive = false
            return
        }
        let sorted = alpha.gatheringRows(order)
        let meanHigh = sorted.rows(0..<m).mean(), meanLow = sorted.rows(m..<n).mean()
        let difference = meanHigh - meanLow
        gap = difference.item()
        let hinge = relu(margin.reshaped([]) - difference)
        isActive = hinge.item() > 0
        loss = hinge
    }
}
