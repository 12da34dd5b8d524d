import ArgumentParser
import Foundation
import SCNData
import SCNMethod

/// `scn eval`: accuracy, mean class accuracy, per-class accuracy and confusion matrix of a checkpoint.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a trained checkpoint, or an ensemble of checkpoints, on a dataset split.",
        discussion: """
            Prints accuracy (with its 95% Wilson interval), mean class accuracy, per-class accuracy, the confusion matrix (rows: true \
            class, columns: predicted) and calibration: mean confidence, expected calibration error (15 \
            bins) and negative log-likelihood. Where the dataset knows which of its labels are wrong \
            (fer2013's train split, against the FERPlus majority), also the ROC AUC of 1 - alpha for \
            finding them: over all samples, within each given label (wrong_label_auc_within_label: only \
            samples with the same label compared) and per label; and over all samples that of 1 - p(label). \
            With --calibrate, fits a temperature on the validation split (temperature scaling: p^(1/T), \
            normalized) and adds the calibration at that temperature; pass it to scn predict --temperature. With --predictions FILE, also writes each \
            image's outputs, for comparing two models with scn compare.
            """)

    @Option(help: ArgumentHelp("A checkpoint written by scn train (last.safetensors or best.safetensors); repeat it to evaluate an ensemble: the mean of the checkpoints' class probabilities and alphas.",
                               valueName: "file"))
    var checkpoint: [String]
    @OptionGroup var data: DatasetOptions
    @Option(help: "Split: train, validation or test.") var split = "test"
    @OptionGroup var viewOptions: TestTimeViewOptions
    @Flag(help: "The checkpoints are the folds of one cross-validation of this split (scn train --folds K --fold k): take each sample's outputs from the one that did not train on it.")
    var outOfFold = false
    @Flag(help: "Fit a temperature on the validation split (with the same checkpoints and views) and add the split's calibration at that temperature.")
    var calibrate = false
    @Option(help: ArgumentHelp("Add the split's calibration at this temperature (for example one --calibrate fitted).", valueName: "T"))
    var temperature: Double?
    @Option(help: ArgumentHelp("Also write each image's outputs and label to this file, one JSON line per image (for scn compare).",
                               valueName: "file"))
    var predictions: String?
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        try checkTemperatureOption(temperature)
        if calibrate && temperature != nil { throw ValidationError("--calibrate fits a temperature; it cannot be given one with --temperature") }
        if calibrate && split == "validation" {
            throw ValidationError("--calibrate fits its temperature on the validation split: evaluate another split (such as test) with it")
        }
        if calibrate && outOfFold { throw ValidationError("--calibrate cannot be combined with --out-of-fold: the folds' checkpoints differ per sample") }
    }

    func run() throws {
        let ensemble = try ModelEnsemble(checkpointOptions: checkpoint)
        let scaling = try calibrate ? fitTemperature(ensemble) : temperature.map(TemperatureScaling.init(temperature:))
        let urls = checkpoint.map { URL(fileURLWithPath: $0) }
        guard var dataset = try data.load(split: split) else {
            throw ValidationError("\(data.dataset.rawValue) has no '\(split)' split")
        }
        let store = try data.images(for: &dataset)
        let evaluation = outOfFold ? try ensemble.evaluateOutOfFold(dataset, store: store, views: viewOptions.views)
                                   : try ensemble.evaluate(dataset, store: store, views: viewOptions.views)
        let report = evaluation.report
        if let predictions { try SplitPredictions(dataset: dataset, evaluation: evaluation).write(to: URL(fileURLWithPath: predictions)) }
        let accuracyInterval = ConfidenceInterval.wilson(successes: report.correctCount, trials: max(1, report.count))
        let calibration = Calibration(probabilities: evaluation.probabilities, labels: dataset.labels)
        let scaledCalibration = scaling.map { Calibration(probabilities: $0.scaled(evaluation.probabilities), labels: dataset.labels) }
        var result: [String: Any] = [
            "checkpoint": urls.count == 1 ? urls[0].path as Any : urls.map(\.path), "ensemble_size": urls.count,
            // Per checkpoint, whether its weights are the run's weight average (best.safetensors of a --weight-average run).
            "averaged_weights": urls.count == 1 ? ensemble.members[0].usesAveragedWeights as Any : ensemble.members.map(\.usesAveragedWeights),
            "out_of_fold": outOfFold, "dataset": dataset.name, "split": split, "count": report.count,
            "mirror_average": viewOptions.mirrorAverage, "shift_average": viewOptions.shiftAverage,
            "accuracy": report.accuracy, "mean_class_accuracy": report.meanClassAccuracy,
            "accuracy_interval": ["lower": accuracyInterval.lower, "upper": accuracyInterval.upper, "level": accuracyInterval.level],
            "per_class_accuracy": Dictionary(uniqueKeysWithValues: zip(dataset.classNames, report.perClassAccuracy.map { $0 ?? -1 })),
            "confusion_matrix": report.confusionMatrix, "class_names": dataset.classNames,
            "mean_confidence": calibration.meanConfidence, "expected_calibration_error": calibration.expectedCalibrationError,
            "negative_log_likelihood": calibration.negativeLogLikelihood,
        ]
        if let scaling, let scaledCalibration {
            result["temperature"] = scaling.temperature
            result["temperature_fitted_on"] = calibrate ? "validation" as Any : NSNull()
            result["calibrated"] = ["mean_confidence": scaledCalibration.meanConfidence,
                                    "expected_calibration_error": scaledCalibration.expectedCalibrationError,
                                    "negative_log_likelihood": scaledCalibration.negativeLogLikelihood]
        }
        if let clean = dataset.cleanLabels {
            let aucs = evaluation.wrongLabelAUCs(labels: dataset.labels, cleanLabels: clean)
            result["wrong_label_auc"] = aucs.alpha ?? NSNull()
            result["wrong_label_auc_label_probability"] = aucs.labelProbability ?? NSNull()
            result["wrong_label_auc_within_label"] = aucs.alphaWithinLabel ?? NSNull()
            result["wrong_label_auc_by_label"] = Dictionary(uniqueKeysWithValues: zip(dataset.classNames, aucs.alphaByLabel.map { $0 ?? NSNull() as Any }))
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            let averaging = (outOfFold ? ", out-of-fold over \(urls.count) folds" : urls.count > 1 ? ", mean of \(urls.count) checkpoints" : "")
                + (urls.count == 1 && ensemble.members[0].usesAveragedWeights ? ", the run's weight average" : "")
                + (viewOptions.mirrorAverage ? ", averaged with mirror images" : "") + (viewOptions.shiftAverage ? ", averaged with shifted copies" : "")
            print(String(format: "%@ %@: accuracy %.2f%% (95%% interval %.2f-%.2f%%), mean class accuracy %.2f%% (%d images%@)", dataset.name, split,
                         100 * report.accuracy, 100 * accuracyInterval.lower, 100 * accuracyInterval.upper, 100 * report.meanClassAccuracy,
                         report.count, averaging))
            print(String(format: "mean confidence %.3f, expected calibration error %.3f, negative log-likelihood %.3f nats",
                         calibration.meanConfidence, calibration.expectedCalibrationError, calibration.negativeLogLikelihood))
            if let scaling, let scaledCalibration {
                print(String(format: "at temperature %.3f%@: mean confidence %.3f, expected calibration error %.3f, negative log-likelihood %.3f nats",
                             scaling.temperature, calibrate ? " (fitted on validation)" : "", scaledCalibration.meanConfidence,
                             scaledCalibration.expectedCalibrationError, scaledCalibration.negativeLogLikelihood))
            }
            for (name, accuracy) in zip(dataset.classNames, report.perClassAccuracy) {
                print("  " + name.padding(toLength: 12, withPad: " ", startingAt: 0) + (accuracy.map { String(format: "%.2f%%", 100 * $0) } ?? "-"))
            }
            if let auc = result["wrong_label_auc"] as? Double { print(String(format: "wrong-label ROC AUC of 1-alpha: %.3f", auc)) }
            if let auc = result["wrong_label_auc_within_label"] as? Double {
                print(String(format: "wrong-label ROC AUC of 1-alpha within each given label: %.3f", auc))
            }
            if let auc = result["wrong_label_auc_label_probability"] as? Double {
                print(String(format: "wrong-label ROC AUC of 1-p(label): %.3f", auc))
            }
        }
    }

    /// The temperature minimizing the negative log-likelihood of the validation split's labels.
    private func fitTemperature(_ ensemble: ModelEnsemble) throws -> TemperatureScaling {
        guard var validation = try data.load(split: "validation") else {
            throw ValidationError("--calibrate: \(data.dataset.rawValue) has no validation split to fit a temperature on "
                                  + "(it needs labelled images the checkpoints did not train on); pass one with --temperature")
        }
        let store = try data.images(for: &validation)
        let evaluation = try ensemble.evaluate(validation, store: store, views: viewOptions.views)
        return TemperatureScaling(fitting: evaluation.probabilities, labels: validation.labels)
    }
}

/// Refuses a `--temperature` that is not a positive number (eval and predict).
func checkTemperatureOption(_ temperature: Double?) throws {
    if let temperature, !(temperature > 0 && temperature.isFinite) {
        throw ValidationError("--temperature \(temperature): expected a positive number")
    }
}
