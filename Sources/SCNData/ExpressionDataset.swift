import Foundation

/// A labelled set of face images: file paths, the class of each, and what is known of the truth.
///
/// SCN relabels samples while it trains, so `labels` can change (`relabel`); `givenLabels` keeps the
/// labels as loaded. Where the correct label is known (synthetic noise, or FER2013 labels checked
/// against the FERPlus majority), `cleanLabels` holds it (-1 where unknown), so relabel precision and
/// the detection of wrong labels can be measured.
public struct ExpressionDataset: Sendable {
    public var name: String
    public var classNames: [String]
    /// Image files, one per sample; the sample's index is its position here.
    public var imagePaths: [String]
    /// The training labels now (after any relabeling), in `0..<classNames.count`.
    public private(set) var labels: [Int]
    /// The labels training started from: as loaded, or as set by `replaceLabels` (injected noise).
    public private(set) var givenLabels: [Int]
    /// The correct labels where known (-1 where unknown); nil when nothing is known.
    public var cleanLabels: [Int]?
    /// Per-sample vote distributions over the classes (rows of `classNames.count`, summing to 1), for
    /// soft targets (FERPlus).
    public var voteDistributions: [[Float]]?
    /// A teacher model's class probabilities per sample (rows of `classCount`, summing to 1), for
    /// distillation (`TeacherPredictions`); nil: none.
    public var teacherDistributions: [[Float]]?

    public init(name: String, classNames: [String], imagePaths: [String], labels: [Int],
                cleanLabels: [Int]? = nil, voteDistributions: [[Float]]? = nil) {
        precondition(imagePaths.count == labels.count, "ExpressionDataset: \(imagePaths.count) paths, \(labels.count) labels")
        precondition(labels.allSatisfy { (0..<classNames.count).contains($0) }, "ExpressionDataset: label out of range")
        self.name = name
        self.classNames = classNames
        self.imagePaths = imagePaths
        self.labels = labels
        self.givenLabels = labels
        self.cleanLabels = cleanLabels
        self.voteDistributions = voteDistributions
    }

    public var count: Int { labels.count }
    public var classCount: Int { classNames.count }

    /// Samples per class, by current label.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for y in labels { counts[y] += 1 }
        return counts
    }

    /// Soft training targets for the samples at `indices`: rows of `classCount` probabilities, each sample's
    /// vote distribution, or a one-hot row of its label where its label is no longer the given one (relabeled);
    /// nil without vote distributions.
    public func targetDistributions(of indices: [Int]) -> [[Float]]? {
        guard let votes = voteDistributions else { return nil }
        return indices.map { index in
            guard labels[index] == givenLabels[index] else { return oneHotRow(of: index) }
            return votes[index]
        }
    }

    /// Soft training targets for distillation: for each sample at `indices`, `teacherWeight` of its teacher
    /// row plus `1 - teacherWeight` of its own target: its row of `targetDistributions` when `votes`, else a
    /// one-hot row of its current label. Nil without teacher rows, or with `votes` and no vote distributions.
    public func distillationTargets(of indices: [Int], teacherWeight: Float, votes: Bool) -> [[Float]]? {
        guard let teacher = teacherDistributions else { return nil }
        let own: [[Float]]
        if votes {
            guard let rows = targetDistributions(of: indices) else { return nil }
            own = rows
        } else {
            own = indices.map(oneHotRow)
        }
        return zip(indices, own).map { index, ownRow in
            zip(teacher[index], ownRow).map { teacherWeight * $0 + (1 - teacherWeight) * $1 }
        }
    }

    /// A row of `classCount` zeros with a one at sample `index`'s current label.
    private func oneHotRow(of index: Int) -> [Float] {
        var row = [Float](repeating: 0, count: classCount)
        row[labels[index]] = 1
        return row
    }

    /// Why `targetDistributions` cannot stand for this dataset's labels (nil: it can): it has no votes, or
    /// its labels are not its votes' (injected noise, or labels from another source such as FER2013's).
    public var problemWithVoteTargets: String? {
        guard voteDistributions != nil else { return "\(name) has no annotator votes (FERPlus has)" }
        guard cleanLabels == nil else {
            return "the labels of \(name) are not its votes' majority (injected noise, or FER2013's original labels): vote targets would ignore them"
        }
        return nil
    }

    /// Changes sample `index`'s training label.
    public mutating func relabel(_ index: Int, to label: Int) {
        precondition((0..<classCount).contains(label), "relabel: class \(label) outside 0..<\(classCount)")
        labels[index] = label
    }

    /// Replaces all training labels (for example with a noisy copy), keeping the old ones as clean
    /// labels when `keepingCurrentAsClean` and none are known yet.
    public mutating func replaceLabels(_ newLabels: [Int], keepingCurrentAsClean: Bool) {
        precondition(newLabels.count == count && newLabels.allSatisfy { (0..<classCount).contains($0) })
        if keepingCurrentAsClean && cleanLabels == nil { cleanLabels = labels }
        labels = newLabels
        givenLabels = newLabels
    }

    /// The fraction of samples whose current label differs from a known clean label.
    public var noiseRate: Double? {
        guard let clean = cleanLabels else { return nil }
        let known = zip(labels, clean).filter { $0.1 >= 0 }
        return known.isEmpty ? nil : Double(known.filter { $0.0 != $0.1 }.count) / Double(known.count)
    }
}
