import Foundation
import SCNData

/// One classifier's outputs for every sample of a dataset split, with the split's labels: what `scn eval
/// --predictions FILE` writes and `scn compare` reads. The file holds one JSON object per sample and line,
/// in sample order, with the keys of `scn predict --json` (`image`, `expression` and `label`: the predicted
/// class's name and index, `probabilities`: class name to probability, `certainty`: alpha) and `index`,
/// `true_label`, `true_expression` and `correct`. So it also serves `scn train --distill-from`.
public struct SplitPredictions: Equatable, Sendable {
    /// The file the predictions were read from, or nil where they were not read from one.
    public var file: String?
    public var classNames: [String]
    /// Per sample: its image file, its label in the split, the predicted class, the class probabilities
    /// (rows of `classNames.count`) and alpha.
    public var images: [String]
    public var trueLabels: [Int]
    public var predictedLabels: [Int]
    public var probabilities: [[Float]]
    public var certainties: [Float]

    public var count: Int { images.count }
    /// Per sample, whether the prediction is the split's label.
    public var correct: [Bool] { zip(predictedLabels, trueLabels).map { $0 == $1 } }

    /// The outputs `evaluation` holds for `dataset`'s samples (the same samples, in order).
    public init(dataset: ExpressionDataset, evaluation: Evaluation) {
        precondition(evaluation.predictions.count == dataset.count, "SplitPredictions: \(evaluation.predictions.count) outputs for \(dataset.count) samples")
        file = nil
        classNames = dataset.classNames
        images = dataset.imagePaths
        trueLabels = dataset.labels
        predictedLabels = evaluation.predictions
        probabilities = evaluation.probabilities
        certainties = evaluation.alphas
    }

    /// No predictions yet, to be read from `file`.
    private init(emptyFrom file: String) {
        self.file = file
        classNames = []
        images = []
        trueLabels = []
        predictedLabels = []
        probabilities = []
        certainties = []
    }

    /// The JSON lines of the file, each ending in a newline.
    public func jsonLines() throws -> String {
        var text = ""
        for i in 0..<count {
            let object: [String: Any] = [
                "index": i, "image": images[i], "true_label": trueLabels[i], "true_expression": classNames[trueLabels[i]],
                "label": predictedLabels[i], "expression": classNames[predictedLabels[i]], "correct": predictedLabels[i] == trueLabels[i],
                "probabilities": Dictionary(uniqueKeysWithValues: zip(classNames, probabilities[i].map(Double.init))),
                "certainty": Double(certainties[i]),
            ]
            text += String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self) + "\n"
        }
        return text
    }

    /// Writes the file atomically (a temporary file beside `url`, renamed over it).
    public func write(to url: URL) throws {
        do { try jsonLines().write(to: url, atomically: true, encoding: .utf8) } catch {
            throw DataError(file: url.path, reason: "cannot be written (\(error.localizedDescription))")
        }
    }

    /// Reads a file `write(to:)` wrote. Every line must be one JSON object with `index` (its position),
    /// `image`, `true_expression` and `expression` (class names) and `probabilities` over the same classes
    /// as the first line's; an error names the file and line. `classNames` come out sorted, the labels
    /// indexing them.
    public static func read(_ url: URL) throws -> SplitPredictions {
        let file = url.path
        var result = SplitPredictions(emptyFrom: file)
        try JSONLines.forEachObject(in: try JSONLines.contents(of: url), file: file, expected: "a line of scn eval --predictions") { object, fail in
            guard let probabilities = object["probabilities"] as? [String: Any], !probabilities.isEmpty else {
                throw fail("no \"probabilities\" object")
            }
            if result.classNames.isEmpty {
                result.classNames = probabilities.keys.sorted()
            } else if Set(probabilities.keys) != Set(result.classNames) {
                throw fail("classes \(probabilities.keys.sorted()), but the first line has \(result.classNames)")
            }
            guard let number = object["index"] as? NSNumber, let index = Int(exactly: number.doubleValue) else { throw fail("no integer \"index\"") }
            guard index == result.count else { throw fail("\"index\" \(index), expected \(result.count): the lines are not the split's samples in order") }
            guard let image = object["image"] as? String, !image.isEmpty else { throw fail("no \"image\" path") }
            // Classes by name (the file's indices follow the dataset's class order; names do not depend on it).
            func classIndex(_ key: String) throws -> Int {
                guard let name = object[key] as? String else { throw fail("no \"\(key)\" class name") }
                guard let index = result.classNames.firstIndex(of: name) else {
                    throw fail("\"\(key)\" '\(name)' is not one of the classes (\(result.classNames.joined(separator: ", ")))")
                }
                return index
            }
            var row: [Float] = []
            for name in result.classNames {
                guard let value = (probabilities[name] as? NSNumber)?.doubleValue, value.isFinite, value >= 0, value <= 1 else {
                    throw fail("the probability of class '\(name)' is not a number in [0, 1]")
                }
                row.append(Float(value))
            }
            result.images.append(image)
            result.trueLabels.append(try classIndex("true_expression"))
            result.predictedLabels.append(try classIndex("expression"))
            result.probabilities.append(row)
            result.certainties.append(Float((object["certainty"] as? NSNumber)?.doubleValue ?? .nan))
        }
        guard result.count > 0 else { throw DataError(file: file, reason: "holds no predictions") }
        return result
    }

    /// The paired comparison of these predictions (first) with `other`'s (second), which must be of the
    /// same images with the same labels in the same order; the error names the first line that differs.
    public func compared(with other: SplitPredictions, level: Double = 0.95, resamples: Int = 10_000, seed: UInt64 = 1) throws -> PairedComparison {
        PairedComparison(firstCorrect: correct, secondCorrect: try correctness(of: other), labels: trueLabels, classCount: classNames.count,
                         level: level, resamples: resamples, seed: seed)
    }

    /// The comparison of two methods from runs of several seeds: `firsts[i]` and `seconds[i]` are the
    /// predictions of the first and the second method's run of the same seed, all of the same images
    /// with the same labels in the same order (checked against `firsts[0]`; the error names the file and line).
    public static func methodComparison(firsts: [SplitPredictions], seconds: [SplitPredictions], level: Double = 0.95,
                                        resamples: Int = 10_000, seed: UInt64 = 1) throws -> MethodComparison {
        precondition(!firsts.isEmpty && firsts.count == seconds.count, "methodComparison: as many second runs as first runs")
        let reference = firsts[0]
        let pairs = try zip(firsts, seconds).map { (firstCorrect: try reference.correctness(of: $0), secondCorrect: try reference.correctness(of: $1)) }
        return MethodComparison(pairs: pairs, labels: reference.trueLabels, classCount: reference.classNames.count,
                                level: level, resamples: resamples, seed: seed)
    }

    /// Per sample of these predictions, whether `other`'s prediction is right; `other` must hold the same
    /// images with the same labels in the same order (its classes may be listed in another order).
    func correctness(of other: SplitPredictions) throws -> [Bool] {
        let name = file ?? "the first predictions", otherName = other.file ?? "the second predictions"
        guard Set(classNames) == Set(other.classNames) else {
            throw TrainingError(reason: "\(otherName): classes \(other.classNames), but \(name) has \(classNames)")
        }
        guard count == other.count else {
            throw TrainingError(reason: "\(otherName) has \(other.count) samples, \(name) \(count): not predictions for the same split")
        }
        // Class indices follow each file's sorted class names; map the other's into this one's order.
        let remap = other.classNames.map { classNames.firstIndex(of: $0)! }
        let otherTrue = other.trueLabels.map { remap[$0] }, otherPredicted = other.predictedLabels.map { remap[$0] }
        for i in 0..<count where images[i] != other.images[i] || trueLabels[i] != otherTrue[i] {
            throw TrainingError(reason: "sample \(i) (line \(i + 1)): \(name) has \(images[i]) labelled \(classNames[trueLabels[i]]), "
                                    + "\(otherName) has \(other.images[i]) labelled \(classNames[otherTrue[i]]): not predictions for the same samples")
        }
        return zip(otherPredicted, otherTrue).map { $0 == $1 }
    }
}
