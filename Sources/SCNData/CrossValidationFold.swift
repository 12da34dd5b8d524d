import SCNTensor

/// One fold of a K-fold split of a split's samples, held out of training so that the model can be judged,
/// and its labels audited, on samples it never saw (cross-validation). Samples go to folds by a seeded
/// random permutation of their indices: position p of the permutation goes to fold p mod K, so fold
/// sizes differ by at most one. The same sample count, fold count and seed give the same folds.
public struct CrossValidationFold: Codable, Equatable, Sendable, CustomStringConvertible {
    /// The held-out fold, 1...folds.
    public var fold: Int
    /// K, at least 2.
    public var folds: Int
    /// Seeds the permutation; every fold of one split must use the same.
    public var seed: UInt64
    /// The number of samples split (the whole split, before the fold is taken out).
    public var sampleCount: Int

    public init(fold: Int, folds: Int, seed: UInt64, sampleCount: Int) {
        self.fold = fold
        self.folds = folds
        self.seed = seed
        self.sampleCount = sampleCount
    }

    /// Why these are not a fold of a split (for example fold 0, or more folds than samples), or nil.
    public var problem: String? {
        if folds < 2 { return "\(folds) folds: expected at least 2" }
        if !(1...folds).contains(fold) { return "fold \(fold) of \(folds): expected 1 to \(folds)" }
        if sampleCount < folds { return "\(folds) folds of \(sampleCount) samples: expected at least one sample per fold" }
        return nil
    }

    /// The fold (0-based) of each of `sampleCount` samples.
    public static func assignment(sampleCount: Int, folds: Int, seed: UInt64) -> [Int] {
        var generator = RandomGenerator(seed: seed)
        var assignment = [Int](repeating: 0, count: sampleCount)
        for (position, index) in Array(0..<sampleCount).shuffled(using: &generator).enumerated() { assignment[index] = position % folds }
        return assignment
    }

    /// The held-out samples' indices, ascending.
    public var heldOutIndices: [Int] { indices(heldOut: true) }

    /// The indices of the samples trained on (all the others), ascending.
    public var trainingIndices: [Int] { indices(heldOut: false) }

    private func indices(heldOut: Bool) -> [Int] {
        let assignment = Self.assignment(sampleCount: sampleCount, folds: folds, seed: seed)
        return assignment.indices.filter { (assignment[$0] == fold - 1) == heldOut }
    }

    public var description: String { "fold \(fold) of \(folds) (seed \(seed), \(sampleCount) samples)" }
}
