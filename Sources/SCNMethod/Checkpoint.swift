import Foundation
import SCNData
import SCNFormats
import SCNLayers
import SCNTensor

extension Trainer {
    /// Writes model, optimizer state, label table, epoch and configuration as one safetensors file,
    /// atomically (a crash or a full disk leaves the previous checkpoint as it was).
    ///
    /// Keys: `model.<name>` (parameters, buffers, `num_batches_tracked`), `optimizer.<name>.<slot>`,
    /// `optimizer.step`, `training.epochs_completed`, `training.labels` (I64, the current label of
    /// every sample), `training.relabel_proposals` (rows of index, label, epoch, streak), and with weight
    /// averaging `average.<name>` (the averaged model, keys as `model.`; left out with `includingWeightAverage`
    /// false, so that readers take the trained weights). Metadata: `format_version`, `kind` = `scn-checkpoint`,
    /// `configuration` (JSON), `class_names` (JSON), `best_validation_accuracy`, with weight averaging
    /// `best_trained_validation_accuracy`, and with a held-out fold `held_out_fold` (JSON).
    public func saveCheckpoint(to url: URL, includingWeightAverage: Bool = true) throws {
        let configurationJSON = String(decoding: try JSONEncoder.sorted.encode(configuration), as: UTF8.self)
        let classNames = String(decoding: try JSONEncoder().encode(dataset.classNames), as: UTF8.self)
        var metadata = ["format_version": "1", "kind": "scn-checkpoint", "configuration": configurationJSON,
                        "class_names": classNames, "best_validation_accuracy": "\(bestValidationAccuracy)"]
        if configuration.weightAverageDecay != nil { metadata["best_trained_validation_accuracy"] = "\(bestTrainedValidationAccuracy)" }
        if let heldOutFold { metadata["held_out_fold"] = String(decoding: try JSONEncoder.sorted.encode(heldOutFold), as: UTF8.self) }
        var writer = SafeTensorsWriter(metadata: metadata)
        let state = model.stateDictionary()
        for (key, tensor) in state.tensors { writer.add("model.\(key)", tensor) }
        for (key, value) in state.integers { writer.add("model.\(key)", integers: [Int64(value)], shape: []) }
        if includingWeightAverage, let averaged = weightAverage?.model.stateDictionary() {
            for (key, tensor) in averaged.tensors { writer.add("average.\(key)", tensor) }
            for (key, value) in averaged.integers { writer.add("average.\(key)", integers: [Int64(value)], shape: []) }
        }
        let optimizerState = optimizer.stateDictionary()
        for (key, tensor) in optimizerState.tensors { writer.add("optimizer.\(key)", tensor) }
        writer.add("optimizer.step", integers: [Int64(optimizerState.step)], shape: [])
        writer.add("training.epochs_completed", integers: [Int64(epochsCompleted)], shape: [])
        writer.add("training.labels", integers: dataset.labels.map(Int64.init))
        writer.add("training.relabel_proposals", integers: pendingProposals, shape: [pendingProposals.count / 4, 4])
        try writer.write(to: url)
    }

    /// Restores a checkpoint written by `saveCheckpoint` into this trainer, which must have been made
    /// with the same configuration (the epoch count may be larger) and dataset. Nothing changes unless
    /// everything matches.
    ///
    /// - Parameter asFork: restore into a trainer whose configuration may differ from the checkpoint's in
    ///   everything but what shapes the saved state (`TrainingConfiguration.stateShapeDifferences`), to
    ///   go on with other options (for example another relabeling rule).
    public func restore(from url: URL, asFork: Bool = false) throws {
        let file = try SafeTensorsFile(contentsOf: url)
        let saved = try Self.configuration(ofCheckpoint: file, at: url)
        if asFork {
            let differences = saved.stateShapeDifferences(from: configuration)
            guard differences.isEmpty else {
                throw TrainingError(reason: "\(url.path): a fork must keep the checkpoint's " + differences.joined(separator: ", "))
            }
        } else {
            var same = saved
            same.epochs = configuration.epochs
            guard same == configuration else {
                throw TrainingError(reason: "\(url.path): the checkpoint was trained with a different configuration; "
                                        + "resume with its configuration.json")
            }
        }
        let labels = try file.integers("training.labels").map { Int($0) }
        guard labels.count == dataset.count else {
            throw TrainingError(reason: "\(url.path): the checkpoint's label table has \(labels.count) samples, the dataset \(dataset.count)")
        }
        guard labels.allSatisfy({ (0..<dataset.classCount).contains($0) }) else {
            throw TrainingError(reason: "\(url.path): key 'training.labels' holds a class outside 0..<\(dataset.classCount)")
        }
        let (modelTensors, modelIntegers) = try Self.modelState(in: file, prefix: "model.")
        var optimizerTensors: [String: Tensor] = [:]
        for key in file.keys where key.hasPrefix("optimizer.") && key != "optimizer.step" {
            optimizerTensors[String(key.dropFirst(10))] = try file.tensor(key)
        }
        // A fork that stops learning the margin drops its optimizer state: the margin is no parameter here.
        if asFork && !model.margin.requiresGrad { optimizerTensors = optimizerTensors.filter { !$0.key.hasPrefix("margin.") } }
        // Validate everything before changing anything.
        let probe = configuration.makeModel(classCount: dataset.classCount)
        try probe.load(tensors: modelTensors, integers: modelIntegers, source: url.path)
        // The weight average: this run's (or, in a fork, none yet: it starts from the weights at its start epoch).
        let averageState = try configuration.weightAverageDecay == nil ? nil : Self.modelState(in: file, prefix: "average.")
        let average = averageState?.tensors.isEmpty == false ? averageState : nil
        if let average {
            try probe.load(tensors: average.tensors, integers: average.integers, source: url.path + " (average.*)")
        }
        let step = try file.integer("optimizer.step")
        let proposals = file.entries["training.relabel_proposals"] == nil ? [] : try file.integers("training.relabel_proposals")
        let epochs = try file.integer("training.epochs_completed")
        guard epochs <= configuration.epochs else {
            throw TrainingError(reason: "\(url.path): the checkpoint is \(epochs) epochs in, past this run's \(configuration.epochs)")
        }
        if configuration.weightAverageDecay != nil, !asFork, average == nil, epochs > configuration.weightAverageStartEpoch {
            throw TrainingError(reason: "\(url.path): no 'average.*' keys, but the weight average started after epoch \(configuration.weightAverageStartEpoch)")
        }
        do {
            try optimizer.load(tensors: optimizerTensors, step: step)  // all or nothing
        } catch {
            throw TrainingError(reason: "\(url.path): \(error)")
        }
        try model.load(tensors: modelTensors, integers: modelIntegers, source: url.path)
        // A fixed margin is this configuration's (a fork may set another); a learned one goes on from the
        // checkpoint's value where that run learned it too.
        if !(configuration.learnsMargin && saved.learnsMargin) { model.margin.data[0] = configuration.margin }
        weightAverage = nil
        if let decay = configuration.weightAverageDecay, let average {
            startWeightAverage(decay: decay)
            try weightAverage!.model.load(tensors: average.tensors, integers: average.integers, source: url.path)
        }
        for (index, label) in labels.enumerated() where dataset.labels[index] != label { relabelSample(index, to: label) }
        pendingProposals = proposals
        let bestValidationAccuracy = Double(file.metadata["best_validation_accuracy"] ?? "") ?? -1
        // A checkpoint written before the trained weights' best was recorded: until the average starts, the two are one.
        let bestTrainedValidationAccuracy = Double(file.metadata["best_trained_validation_accuracy"] ?? "")
            ?? (average == nil ? bestValidationAccuracy : -1)
        setProgress(epochsCompleted: epochs, bestValidationAccuracy: bestValidationAccuracy,
                    bestTrainedValidationAccuracy: bestTrainedValidationAccuracy)
    }

    /// The model tensors and integer buffers stored under `prefix` (`model.`, `average.`), keyed without it.
    static func modelState(in file: SafeTensorsFile, prefix: String) throws -> (tensors: [String: Tensor], integers: [String: Int]) {
        var tensors: [String: Tensor] = [:], integers: [String: Int] = [:]
        for key in file.keys where key.hasPrefix(prefix) {
            let name = String(key.dropFirst(prefix.count))
            if file.entries[key]!.dtype.isFloatingPoint { tensors[name] = try file.tensor(key) } else { integers[name] = try file.integer(key) }
        }
        return (tensors, integers)
    }

    /// The training configuration a checkpoint file was written with.
    public static func configuration(ofCheckpoint url: URL) throws -> TrainingConfiguration {
        try configuration(ofCheckpoint: try SafeTensorsFile(contentsOf: url), at: url)
    }

    private static func configuration(ofCheckpoint file: SafeTensorsFile, at url: URL) throws -> TrainingConfiguration {
        guard file.metadata["kind"] == "scn-checkpoint", let configurationText = file.metadata["configuration"] else {
            throw TrainingError(reason: "\(url.path): not an SCN training checkpoint (no 'kind: scn-checkpoint' metadata)")
        }
        do {
            return try JSONDecoder().decode(TrainingConfiguration.self, from: Data(configurationText.utf8))
        } catch {
            throw TrainingError(reason: "\(url.path): metadata 'configuration' is not a training configuration (\(error))")
        }
    }

    /// Starts a new run in `runDirectory` from `checkpoint`, a checkpoint of another run: its weights,
    /// optimizer state, labels (with their relabels), pending relabel proposals and epoch, trained on with
    /// this trainer's configuration (which may change, for example, the relabeling rule; see
    /// `restore(from:asFork:)`). The new run's logs start with the other run's lines up to the checkpoint's
    /// epoch (from the files beside it), so its history is whole; its best checkpoint is chosen among the
    /// epochs after the fork.
    public func fork(from checkpoint: URL, into runDirectory: URL, stoppingAfterEpoch lastEpoch: Int? = nil) throws {
        let manager = FileManager.default
        guard !manager.fileExists(atPath: runDirectory.appendingPathComponent("last.safetensors").path) else {
            throw TrainingError(reason: "\(runDirectory.path) already holds a run; fork into a new directory")
        }
        try restore(from: checkpoint, asFork: true)
        setProgress(epochsCompleted: epochsCompleted, bestValidationAccuracy: -1, bestTrainedValidationAccuracy: -1)
        try manager.createDirectory(at: runDirectory, withIntermediateDirectories: true)
        let source = checkpoint.deletingLastPathComponent()
        for name in ["metrics.jsonl", "relabels.jsonl"] {
            let from = source.appendingPathComponent(name), to = runDirectory.appendingPathComponent(name)
            guard manager.fileExists(atPath: from.path) else { continue }
            try AtomicFile.write(try Data(contentsOf: from), to: to)
            try truncateLog(to, keepingEpochsThrough: epochsCompleted)
        }
        log("forked from \(checkpoint.path) after epoch \(epochsCompleted)")
        try run(in: runDirectory, stoppingAfterEpoch: lastEpoch)
    }

    /// Resumes the run in `runDirectory` from its last checkpoint (if any), dropping log lines of
    /// epochs the checkpoint does not include, and trains the remaining epochs (up to `lastEpoch`).
    public func resume(in runDirectory: URL, stoppingAfterEpoch lastEpoch: Int? = nil) throws {
        let last = runDirectory.appendingPathComponent("last.safetensors")
        if FileManager.default.fileExists(atPath: last.path) {
            try restore(from: last)
            for name in ["metrics.jsonl", "relabels.jsonl"] {
                try truncateLog(runDirectory.appendingPathComponent(name), keepingEpochsThrough: epochsCompleted)
            }
            log("resumed from \(last.path) after epoch \(epochsCompleted)")
        }
        try run(in: runDirectory, stoppingAfterEpoch: lastEpoch)
    }

    private func truncateLog(_ url: URL, keepingEpochsThrough epochs: Int) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        let text = try String(contentsOf: url, encoding: .utf8)
        // An epoch's log lines are written before its checkpoint, so a line torn by a crash (one that does
        // not parse) belongs to an epoch after the checkpoint and goes with the others.
        let kept = text.split(separator: "\n").filter { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let epoch = object["epoch"] as? Int else { return false }
            return epoch <= epochs
        }
        try AtomicFile.write(Data((kept.joined(separator: "\n") + (kept.isEmpty ? "" : "\n")).utf8), to: url)
    }
}

/// A trained model read from a checkpoint, ready to predict.
public struct TrainedModel {
    public let model: SCNModel
    public let configuration: TrainingConfiguration
    public let classNames: [String]
    /// Whether the model holds the checkpoint's weight average (trained with `weightAverageDecay`), which
    /// is what the run validated and selected, rather than its trained weights.
    public let usesAveragedWeights: Bool
    /// The cross-validation fold of the training split the model was not trained on (nil: it saw all of it).
    public let heldOutFold: CrossValidationFold?

    /// Reads a checkpoint written by `Trainer` (`last.safetensors`, `best.safetensors`, `best-trained.safetensors`), refusing a file
    /// of another kind or with any missing, unexpected or mis-shaped key. Where the checkpoint has a
    /// weight average, the model is the average.
    public init(checkpoint url: URL) throws {
        let file = try SafeTensorsFile(contentsOf: url)
        guard file.metadata["kind"] == "scn-checkpoint", let configurationText = file.metadata["configuration"],
              let namesText = file.metadata["class_names"] else {
            throw TrainingError(reason: "\(url.path): not an SCN checkpoint (written by 'scn train'); convert other files with 'scn convert'")
        }
        configuration = try JSONDecoder().decode(TrainingConfiguration.self, from: Data(configurationText.utf8))
        classNames = try JSONDecoder().decode([String].self, from: Data(namesText.utf8))
        model = configuration.makeModel(classCount: classNames.count)
        usesAveragedWeights = file.keys.contains { $0.hasPrefix("average.") }
        if let foldText = file.metadata["held_out_fold"] {
            let fold = try? JSONDecoder().decode(CrossValidationFold.self, from: Data(foldText.utf8))
            guard let fold, fold.problem == nil else {
                throw TrainingError(reason: "\(url.path): metadata 'held_out_fold' is not a fold of a split: "
                                        + (fold?.problem ?? "'\(foldText)'"))
            }
            heldOutFold = fold
        } else {
            heldOutFold = nil
        }
        let (tensors, integers) = try Trainer.modelState(in: file, prefix: usesAveragedWeights ? "average." : "model.")
        try model.load(tensors: tensors, integers: integers, source: url.path)
        model.eval()
    }

    /// Refuses a dataset whose class count is not the model's (call it before loading its images to fail early).
    public func checkClasses(of dataset: ExpressionDataset) throws {
        guard dataset.classCount == classNames.count else {
            throw TrainingError(reason: "the dataset has \(dataset.classCount) classes \(dataset.classNames), the model \(classNames.count) \(classNames)")
        }
    }

    /// Figures on `dataset` (whose classes must be the model's), each sample's outputs averaged over `views` of it.
    public func evaluate(_ dataset: ExpressionDataset, store: ImageStore, views: TestTimeViews = .single) throws -> Evaluation {
        try checkClasses(of: dataset)
        return Evaluator.evaluate(model: model, dataset: dataset, store: store, transforms: configuration.evaluationTransforms(channels: 3),
                                  batchSize: configuration.batchSize, views: views)
    }
}
