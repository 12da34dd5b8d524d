import Foundation
import SCNData
import SCNTensor

/// Several trained models of the same classes whose outputs are averaged: per sample, the mean of their
/// class probabilities (softmax of each model's logits) and of their alphas. For example several seeds,
/// the baseline beside SCN, or one run's kept epoch checkpoints. Each member keeps its own input size
/// and preprocessing.
public struct ModelEnsemble {
    public let members: [TrainedModel]
    /// The members' class names (all the same).
    public var classNames: [String] { members[0].classNames }

    /// An ensemble of `members`; refuses none, and members whose class names differ from the first's.
    /// - Parameter sources: what each member was read from, to name it in an error (default: its position).
    public init(members: [TrainedModel], sources: [String]? = nil) throws {
        guard let first = members.first else { throw TrainingError(reason: "an ensemble needs at least one checkpoint") }
        for (position, member) in members.enumerated() where member.classNames != first.classNames {
            let name = sources?[position] ?? "member \(position + 1)"
            let firstName = sources?[0] ?? "member 1"
            throw TrainingError(reason: "\(name): classes \(member.classNames), but \(firstName) has \(first.classNames)")
        }
        self.members = members
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
    /// `averagingMirrorImages`, every member also averages each image with its mirror image.
    public func evaluate(_ dataset: ExpressionDataset, store: ImageStore, averagingMirrorImages: Bool = false) throws -> Evaluation {
        let evaluations = try members.map { try $0.evaluate(dataset, store: store, averagingMirrorImages: averagingMirrorImages) }
        return evaluations.count == 1 ? evaluations[0] : Evaluation(averaging: evaluations, labels: dataset.labels)
    }

    /// The averaged predictions for decoded images, in order (as `TrainedModel.predict`).
    public func predict(_ images: [DecodedImage], averagingMirrorImages: Bool = false) -> [Prediction] {
        let predictions = members.map { $0.predict(images, averagingMirrorImages: averagingMirrorImages) }
        guard predictions.count > 1 else { return predictions[0] }
        let count = Float(predictions.count)
        return images.indices.map { i in
            var probabilities = predictions[0][i].probabilities, certainty = predictions[0][i].certainty
            for other in predictions.dropFirst() {
                for k in probabilities.indices { probabilities[k] += other[i].probabilities[k] }
                certainty += other[i].certainty
            }
            probabilities = probabilities.map { $0 / count }
            let label = probabilities.argmax()!
            return Prediction(label: label, className: classNames[label], probabilities: probabilities, certainty: certainty / count)
        }
    }

    /// Predicts from a JPEG or PNG file.
    public func predict(contentsOf url: URL, averagingMirrorImages: Bool = false) throws -> Prediction {
        predict([try ImageDecoder.decode(contentsOf: url)], averagingMirrorImages: averagingMirrorImages)[0]
    }
}
