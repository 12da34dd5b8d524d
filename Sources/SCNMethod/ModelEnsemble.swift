import Foundation
import SCNData
import SCNTensor

/// Several trained models of the same classes whose outputs are averaged: per sample, the mean of their
/// class probabilities (softmax of each model's logits) and of their alphas. For example several seeds,
/// the baseline beside SCN, or one run's kept epoch checkpoints. Each member keeps its own input size
/// and preprocessing.
public struct ModelEnsemble {
    public let members: [TrainedModel]
    /// What each member was read from (its file), or "member N", to name it in errors.
    public let sources: [String]
    /// The members' class names (all the same).
    public var classNames: [String] { members[0].classNames }

    /// An ensemble of `members`; refuses none, and members whose class names differ from the first's.
    /// - Parameter sources: what each member was read from, to name it in an error (default: its position).
    public init(members: [TrainedModel], sources: [String]? = nil) throws {
        guard let first = members.first else { throw TrainingError(reason: "an ensemble needs at least one checkpoint") }
        let sources = sources ?? members.indices.map { "member \($0 + 1)" }
        for (position, member) in members.enumerated() where member.classNames != first.classNames {
            throw TrainingError(reason: "\(sources[position]): classes \(member.classNames), but \(sources[0]) has \(first.classNames)")
        }
        self.members = members
        self.sources = sources
    }

    /// Reads every checkpoint (as `TrainedModel(checkpoint:)`) into one ensemble.
    public init(checkpoints: [URL]) throws {
        try self.init(members: checkpoints.map { try TrainedModel(checkpoint: $0) }, sources: checkpoints.map(\.path))
    }

    /// Refuses a dataset whose classes are not the members' (as `TrainedModel.checkClasses(of:)`).
    public func checkClasses(of dataset: ExpressionDataset) throws {
        try members[0].checkClasses(of: dataset)
    }

    /// The figures of the averaged outputs on `dataset` (whose classes must be the members'); with
    /// `views`, every member also averages each image's views.
    public func evaluate(_ dataset: ExpressionDataset, store: ImageStore, views: TestTimeViews = .single) throws -> Evaluation {
        let evaluations = try members.map { try $0.evaluate(dataset, store: store, views: views) }
        return evaluations.count == 1 ? evaluations[0] : Evaluation(averaging: evaluations, labels: dataset.labels)
    }

    /// The out-of-fold figures on `dataset`, the split the members were cross-validated on (`scn train
    /// --folds K --fold k`: one member per fold, in any order): each sample's outputs come from the member
    /// that did not train on it, so that its label is judged by a model that never fitted it. Refuses
    /// members without a held-out fold, folds of other splits (another count or seed), and a missing or
    /// repeated fold, naming the member.
    public func evaluateOutOfFold(_ dataset: ExpressionDataset, store: ImageStore, views: TestTimeViews = .single) throws -> Evaluation {
        try checkClasses(of: dataset)
        let folds = try zip(members, sources).map { member, source in
            guard let fold = member.heldOutFold else {
                throw TrainingError(reason: "\(source): trained on the whole split (no held-out fold); train each fold with --folds K --fold k")
            }
            return fold
        }
        let split = folds[0]
        var holders: [Int: String] = [:]
        for (fold, source) in zip(folds, sources) {
            guard fold.folds == split.folds, fold.seed == split.seed, fold.sampleCount == split.sampleCount else {
                throw TrainingError(reason: "\(source): \(fold), but \(sources[0]): \(split); the folds of one cross-validation share "
                                        + "their count, seed and samples")
            }
            if let other = holders[fold.fold] { throw TrainingError(reason: "\(source) and \(other) both hold out fold \(fold.fold)") }
            holders[fold.fold] = source
        }
        guard holders.count == split.folds else {
            let missing = (1...split.folds).filter { holders[$0] == nil }
            throw TrainingError(reason: "out-of-fold outputs need all \(split.folds) folds' models; fold\(missing.count == 1 ? "" : "s") "
                                    + missing.map(String.init).joined(separator: ", ") + " missing")
        }
        guard split.sampleCount == dataset.count else {
            throw TrainingError(reason: "the members split \(split.sampleCount) samples, \(dataset.name) has \(dataset.count) here: "
                                    + "give the split (and --limit) they were trained on")
        }
        var probabilities = [[Float]](repeating: [], count: dataset.count), alphas = [Float](repeating: 0, count: dataset.count)
        for (member, fold) in zip(members, folds) {
            let indices = fold.heldOutIndices
            let part = try member.evaluate(dataset.subset(indices), store: ImageStore(images: indices.map { store.images[$0] }),
                                           views: views)
            for (position, index) in indices.enumerated() {
                probabilities[index] = part.probabilities[position]
                alphas[index] = part.alphas[position]
            }
        }
        return Evaluation(probabilities: probabilities, alphas: alphas, labels: dataset.labels, classCount: dataset.classCount)
    }

    /// The averaged predictions for decoded images, in order (as `TrainedModel.predict`).
    public func predict(_ images: [DecodedImage], views: TestTimeViews = .single) -> [Prediction] {
        let predictions = members.map { $0.predict(images, views: views) }
        guard predictions.count > 1 else { return predictions[0] }
        return images.indices.map { i in
            let probabilities = elementwiseMean(predictions.map { $0[i].probabilities })
            let certainty = elementwiseMean(predictions.map { [$0[i].certainty] })[0]
            let label = probabilities.argmax()!
            return Prediction(label: label, className: classNames[label], probabilities: probabilities, certainty: certainty)
        }
    }

    /// Predicts from a JPEG or PNG file.
    public func predict(contentsOf url: URL, views: TestTimeViews = .single) throws -> Prediction {
        predict([try ImageDecoder.decode(contentsOf: url)], views: views)[0]
    }
}
