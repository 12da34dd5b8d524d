import SCNData
@testable import SCNMethod

/// Predictions of three classes (neutral, happiness, surprise) for `labels.count` images named
/// `imagePrefix/i.png`: probability 0.5 for the `predicted` class, 0.25 for the others; alpha 0.75.
func samplePredictions(labels: [Int], predicted: [Int], imagePrefix: String = "/faces") -> SplitPredictions {
    let classes = ["neutral", "happiness", "surprise"]
    let dataset = ExpressionDataset(name: "test", classNames: classes, imagePaths: labels.indices.map { "\(imagePrefix)/\($0).png" }, labels: labels)
    let probabilities = predicted.map { p in (0..<3).map { $0 == p ? Float(0.5) : 0.25 } }
    return SplitPredictions(dataset: dataset, evaluation: Evaluation(probabilities: probabilities, alphas: labels.map { _ in 0.75 },
                                                                     labels: labels, classCount: 3))
}
