import Foundation
import SCNData
import SCNFormats
import SCNKernels
import SCNLayers
import SCNTensor

/// What went wrong in training: names the run, epoch and step where there is one.
public struct TrainingError: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

/// Figures for one epoch, written as one JSON line to `metrics.jsonl`.
public struct EpochMetrics: Codable, Sendable {
    public var epoch: Int
    public var learningRate: Float
    public var loss: Double
    public var weightedCrossEntropy: Double
    public var rankRegularization: Double
    public var trainAccuracy: Double
    public var validationAccuracy: Double?
    public var validationMeanClassAccuracy: Double?
    /// With weight averaging, the validation accuracy of the trained (not averaged) weights; the two
    /// fields above are the average's.
    public var validationAccuracyOfTrainedWeights: Double?
    public var alphaMean: Double
    public var alphaStd: Double
    /// 5%, 25%, 50%, 75%, 95%.
    public var alphaQuantiles: [Double]
    /// The fraction of batches whose rank-regularization hinge was active.
    public var rankRegularizationActiveFraction: Double
    public var margin: Float
    public var relabels: Int
    /// Relabels whose new label is the clean one, of those with a known clean label.
    public var relabelPrecision: Double?
    /// Of the relabels of samples with annotator votes, the share whose new label at least two
    /// annotators chose (FERPlus): a relabel that misses the majority may still pick a plausible class.
    public var relabelVoteSupport: Double?
    /// Wrong labels corrected this epoch, of the wrong labels at its start.
    public var relabelRecall: Double?
    /// Wrong labels among the known at the epoch's end.
    public var noiseRate: Double?
    /// Of the samples whose label was wrong when they were seen, the share the network predicted as that
    /// wrong label (in training mode, augmented): how far it has memorized its wrong labels.
    public var wrongLabelsFitted: Double?
    /// ROC AUC of 1 - alpha for "the current label is wrong", over the epoch's samples (SCN only).
    public var wrongLabelAUC: Double?
    /// The same for 1 - p(label) under the plain logits: the small-loss criterion, for comparison.
    public var wrongLabelAUCFromProbability: Double?
    /// Counts of the epoch's alphas in 20 equal bins over [0, 1].
    public var alphaHistogram: [Int]?
    public var seconds: Double
    public var imagesPerSecond: Double
    public var loaderImagesPerSecond: Double
    /// The epoch's training input size in pixels a side (`TrainingConfiguration.trainingInputSize(atEpoch:)`);
    /// nil in metrics written before progressive resizing.
    public var inputSize: Int?
}

/// Trains an SCN model (or the plain cross-entropy baseline) on an in-memory dataset, with seeded,
/// resumable epochs.
public final class Trainer {
    public let configuration: TrainingConfiguration
    public let model: SCNModel
    /// The training set; its labels change as SCN relabels.
    public private(set) var dataset: ExpressionDataset
    public let trainStore: ImageStore
    public let validation: (dataset: ExpressionDataset, store: ImageStore)?
    public let optimizer: Optimizer
    /// Epochs completed.
    public private(set) var epochsCompleted = 0
    /// The best validation accuracy of the selected model (`evaluatedModel`) so far; -1 before any.
    public private(set) var bestValidationAccuracy = -1.0
    /// With weight averaging, the best validation accuracy of the trained weights so far (before the average
    /// starts, the same as `bestValidationAccuracy`); -1 before any.
    public private(set) var bestTrainedValidationAccuracy = -1.0
    public private(set) var history: [EpochMetrics] = []
    public private(set) var relabelLog: [RelabelEvent] = []
    /// The moving average of the weights (`configuration.weightAverageDecay`), once its start epoch is reached.
    public internal(set) var weightAverage: WeightAverage?
    /// The model that is validated, selected and evaluated: the weight average where there is one.
    public var evaluatedModel: SCNModel { weightAverage?.model ?? model }
    /// Epochs after which `run` also keeps a copy of the checkpoint, as `epoch-<N>.safetensors` (for
    /// example the epoch before relabeling starts, to fork variants of the rest of the run from it).
    public var keptCheckpointEpochs: Set<Int> = []
    /// The cross-validation fold of the training split left out of `dataset` (nil: none), recorded in the
    /// checkpoints so that an audit can use the model only on the samples it did not train on.
    public var heldOutFold: CrossValidationFold?
    /// Receives one line per epoch and progress notes.
    public var log: (String) -> Void = { print($0) }
    /// Called after every training step with (step, steps in the epoch, images per second so far).
    public var onStep: ((Int, Int, Double) -> Void)?
    /// Called after every epoch with its figures (after the checkpoint is written, in `run`).
    public var onEpoch: ((EpochMetrics) -> Void)?

    private let schedule: LearningRateSchedule
    /// The training batches at each input size used so far (one without progressive resizing).
    private var loaders: [Int: BatchLoader] = [:]
    /// The last relabel proposal per sample: label, epoch, consecutive epochs proposed.
    private var proposals: [Int: (label: Int, epoch: Int, streak: Int)] = [:]

    public init(configuration: TrainingConfiguration, dataset: ExpressionDataset, store: ImageStore,
                validation: (dataset: ExpressionDataset, store: ImageStore)? = nil) {
        precondition(dataset.count == store.images.count, "Trainer: \(dataset.count) samples, \(store.images.count) images")
        precondition(store.images.allSatisfy { $0.channels == 3 }, "Trainer: images must be RGB (load them with mode .rgb)")
        self.configuration = configuration
        self.dataset = dataset
        trainStore = store
        self.validation = validation
        model = configuration.makeModel(classCount: dataset.classCount, seed: configuration.seed, precision: configuration.precision)
        model.margin.requiresGrad = configuration.learnsMargin && configuration.method == .scn
        let parameters = model.namedParameters()
        switch configuration.optimizer {
        case .sgd:
            optimizer = SGD(parameters, learningRate: configuration.learningRate, momentum: configuration.momentum,
                            weightDecay: configuration.weightDecay)
        case .adam:
            optimizer = Adam(parameters, learningRate: configuration.learningRate, weightDecay: configuration.weightDecay)
        case .adamw:
            optimizer = Adam.adamW(parameters, learningRate: configuration.learningRate, weightDecay: configuration.weightDecay)
        }
        schedule = configuration.learningRateSchedule()
    }

    /// The training batches at `size` pixels a side, made at the first epoch that needs them (the same seed
    /// at every size, so the sample order and augmentation draws do not depend on the size).
    private func loader(size: Int) -> BatchLoader {
        if let loader = loaders[size] { return loader }
        let loader = BatchLoader(store: trainStore, batchSize: configuration.batchSize,
                                 transforms: configuration.trainingTransforms(channels: 3, size: size), seed: configuration.seed,
                                 dropsLastPartialBatch: true)
        loaders[size] = loader
        return loader
    }

    /// Trains one epoch and returns its figures (validation included when there is a validation set).
    @discardableResult
    public func trainEpoch() throws -> EpochMetrics {
        let epoch = epochsCompleted
        let c = configuration
        let isSCN = c.method == .scn && epoch >= c.baselineWarmupEpochs
        let relabeling = isSCN && epoch >= c.relabelStartEpoch && epoch < c.relabelStopEpoch ?? .max
        let relabeler = Relabeler(threshold: c.relabelThreshold, confidence: c.relabelConfidence)
        if c.targets == .votes, let problem = dataset.problemWithVoteTargets {
            throw TrainingError(reason: "training on vote targets: \(problem); train on the labels (targets 'labels')")
        }
        if c.distillationWeight != nil, dataset.teacherDistributions == nil {
            throw TrainingError(reason: "distillation: the training set has no teacher predictions (scn train --distill-from FILE)")
        }
        if let decay = c.weightAverageDecay, weightAverage == nil, epoch >= c.weightAverageStartEpoch { startWeightAverage(decay: decay) }
        model.train()
        let start = DispatchTime.now().uptimeNanoseconds
        let inputSize = c.trainingInputSize(atEpoch: epoch)
        let loader = loader(size: inputSize)
        let loaderBefore = loader.preparationStatistics
        let wrongAtStart = wrongLabelCount()
        var lossSum = 0.0, wceSum = 0.0, rrSum = 0.0, correct = 0, seen = 0, batches = 0, activeBatches = 0
        var alphaBySample: [Int: Float] = [:], wrongBySample: [Int: Bool] = [:], labelProbabilityBySample: [Int: Float] = [:]
        var wrongSeen = 0, wrongFitted = 0
        var events: [RelabelEvent] = []
        let stepsPerEpoch = max(1, dataset.count / c.batchSize)
        for (step, batch) in loader.batches(epoch: epoch, labels: dataset.labels).enumerated() {
            optimizer.learningRate = schedule.learningRate(atEpoch: Double(epoch) + Double(step) / Double(stepsPerEpoch))
            model.zeroGrad()
            let output = model(batch.images, labels: batch.labels)
            let weightedLogits = isSCN && c.importanceWeighting ? c.alphaScaling.scale(output.alpha, labels: batch.labels) * output.logits : output.logits
            // Soft targets where votes or a teacher give them (both checked at the epoch's start), else the labels.
            let softTargets: [[Float]]?
            if let teacherWeight = c.distillationWeight {
                softTargets = dataset.distillationTargets(of: batch.indices, teacherWeight: teacherWeight, votes: c.targets == .votes)
            } else {
                softTargets = c.targets == .votes ? dataset.targetDistributions(of: batch.indices) : nil
            }
            let wce = softTargets.map { crossEntropy(weightedLogits, targets: Tensor($0.flatMap { $0 }, shape: [$0.count, dataset.classCount])) }
                ?? crossEntropy(weightedLogits, labels: batch.labels)
            var loss = wce
            let k = dataset.classCount
            // The plain logits' probabilities, `[N, k]`: p(label) is logged, the probability of each sample's target
            // orders the loss grouping, and the paper's relabeling compares them.
            let logitProbabilities = softmax(output.logits.detached())
            let probabilities = logitProbabilities.scalars
            let labelProbabilities = targetProbabilities(probabilities, classCount: k, labels: batch.labels, softTargets: nil)
            // The batch's ranking by alpha (or by the probability of each sample's target, its training loss): its loss where
            // rank regularization is on, its low-importance group (the paper's relabeling candidates) where relabeling is.
            let ranking = isSCN && (c.rankRegularization || relabeling)
                ? RankRegularization(alpha: output.alpha, datasetIndices: batch.indices, beta: c.beta, margin: model.margin,
                                     scores: c.importanceGrouping == .loss
                                        ? targetProbabilities(probabilities, classCount: k, labels: batch.labels, softTargets: softTargets) : nil)
                : nil
            let rankLoss = c.rankRegularization ? ranking : nil
            if let rr = rankLoss {
                loss = c.lossForm == .paper ? c.gamma * rr.loss + (1 - c.gamma) * wce : wce + rr.loss
                if rr.isActive { activeBatches += 1 }
            }
            let lossValue = loss.item()
            guard lossValue.isFinite else {
                throw TrainingError(reason: "the loss became \(lossValue.isNaN ? "NaN" : "\(lossValue)") at epoch \(epoch + 1), step \(step + 1); "
                                        + "the last checkpoint is intact (try a lower learning rate)")
            }
            loss.backward()
            optimizer.step()
            if c.learnsMargin { model.margin.data[0] = max(0, model.margin.data[0]) }
            weightAverage?.update(from: model)

            lossSum += Double(lossValue)
            wceSum += Double(wce.item())
            rrSum += Double(rankLoss?.loss.item() ?? 0)
            batches += 1
            let logits = output.logits.scalars
            let alphas = output.alpha.scalars
            for (position, index) in batch.indices.enumerated() {
                let row = logits[(position * k)..<((position + 1) * k)]
                let fitted = row.argmax()! - position * k == batch.labels[position]
                if fitted { correct += 1 }
                alphaBySample[index] = alphas[position]
                labelProbabilityBySample[index] = labelProbabilities[position]
                if let clean = dataset.cleanLabels?[index], clean >= 0 {
                    let wrong = batch.labels[position] != clean
                    wrongBySample[index] = wrong
                    if wrong {
                        wrongSeen += 1
                        if fitted { wrongFitted += 1 }
                    }
                }
            }
            seen += batch.indices.count
            if let onStep {
                onStep(step + 1, stepsPerEpoch, Double(seen) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
            }
            if relabeling, let rr = ranking {
                let probabilities: Tensor
                switch c.relabelProbabilities {
                case .logits: probabilities = logitProbabilities
                case .weightedLogits: probabilities = softmax(output.weightedLogits.detached())
                case .averagedLogits:
                    guard let average = weightAverage else {
                        throw TrainingError(reason: "relabeling from the weight average at epoch \(epoch + 1), which has none yet: "
                                                + "start the average (weightAverageStartEpoch) no later than relabeling")
                    }
                    probabilities = softmax(GradientMode.withoutGradients { average.model(batch.images, labels: batch.labels).logits })
                }
                let candidates = c.relabelScope == .lowImportance ? rr.lowGroup : Array(0..<batch.indices.count)
                for change in relabeler.proposals(probabilities: probabilities, labels: batch.labels, candidates: candidates) {
                    let index = batch.indices[change.position]
                    // Patience: the same proposal in consecutive epochs before the label changes.
                    let previous = proposals[index]
                    let streak = previous?.label == change.label && previous?.epoch == epoch - 1 ? previous!.streak + 1 : 1
                    proposals[index] = (change.label, epoch, streak)
                    guard streak >= c.relabelPatience else { continue }
                    let event = RelabelEvent(epoch: epoch + 1, index: index, file: dataset.imagePaths[index],
                                             oldLabel: dataset.labels[index], newLabel: change.label, margin: change.margin,
                                             cleanLabel: dataset.cleanLabels.flatMap { $0[index] >= 0 ? $0[index] : nil },
                                             newLabelVoteShare: voteShare(of: change.label, forSample: index))
                    dataset.relabel(index, to: change.label)
                    events.append(event)
                }
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        // In sample order: a dictionary's order changes from process to process, and so would the sums' last bits.
        let alphas = alphaBySample.keys.sorted().map { alphaBySample[$0]! }
        let alphaMean = alphas.isEmpty ? 0 : Double(alphas.reduce(0, +)) / Double(alphas.count)
        let alphaVariance = alphas.isEmpty ? 0 : alphas.reduce(0.0) { $0 + pow(Double($1) - alphaMean, 2) } / Double(alphas.count)
        let judged = events.filter { $0.cleanLabel != nil }
        let corrected = judged.filter { $0.newLabel == $0.cleanLabel && $0.oldLabel != $0.cleanLabel }.count
        let wrongKeys = wrongBySample.keys.sorted()
        var metrics = EpochMetrics(
            epoch: epoch + 1, learningRate: optimizer.learningRate, loss: lossSum / Double(max(1, batches)),
            weightedCrossEntropy: wceSum / Double(max(1, batches)), rankRegularization: rrSum / Double(max(1, batches)),
            trainAccuracy: Double(correct) / Double(max(1, seen)), validationAccuracy: nil, validationMeanClassAccuracy: nil,
            alphaMean: alphaMean, alphaStd: alphaVariance.squareRoot(),
            alphaQuantiles: quantiles(alphas, [0.05, 0.25, 0.5, 0.75, 0.95]),
            rankRegularizationActiveFraction: Double(activeBatches) / Double(max(1, batches)), margin: model.margin.data[0],
            relabels: events.count,
            relabelPrecision: judged.isEmpty ? nil : Double(judged.filter { $0.newLabel == $0.cleanLabel }.count) / Double(judged.count),
            relabelVoteSupport: { () -> Double? in
                let voted = events.compactMap(\.newLabelVoteShare)
                return voted.isEmpty ? nil : Double(voted.filter { $0 > 0 }.count) / Double(voted.count)
            }(),
            relabelRecall: wrongAtStart.map { $0 == 0 ? 0 : Double(corrected) / Double($0) },
            noiseRate: dataset.noiseRate,
            wrongLabelsFitted: wrongSeen == 0 ? nil : Double(wrongFitted) / Double(wrongSeen),
            wrongLabelAUC: c.method == .scn ? rocAUC(scores: wrongKeys.map { 1 - Double(alphaBySample[$0]!) }, positives: wrongKeys.map { wrongBySample[$0]! }) : nil,
            wrongLabelAUCFromProbability: rocAUC(scores: wrongKeys.map { 1 - Double(labelProbabilityBySample[$0]!) },
                                                 positives: wrongKeys.map { wrongBySample[$0]! }),
            alphaHistogram: alphas.reduce(into: [Int](repeating: 0, count: 20)) { $0[min(19, max(0, Int($1 * 20)))] += 1 },
            seconds: seconds, imagesPerSecond: Double(seen) / seconds,
            loaderImagesPerSecond: { () -> Double in
                let now = loader.preparationStatistics
                return now.images > loaderBefore.images ? Double(now.images - loaderBefore.images) / (now.seconds - loaderBefore.seconds) : 0
            }(),
            inputSize: inputSize)
        if let validation {
            let report = evaluate(validation.dataset, store: validation.store).report
            metrics.validationAccuracy = report.accuracy
            metrics.validationMeanClassAccuracy = report.meanClassAccuracy
            if weightAverage != nil {
                metrics.validationAccuracyOfTrainedWeights = evaluate(validation.dataset, store: validation.store, model: model).report.accuracy
            }
        }
        relabelLog += events
        history.append(metrics)
        epochsCompleted += 1
        return metrics
    }

    func relabelSample(_ index: Int, to label: Int) { dataset.relabel(index, to: label) }

    /// `label`'s share of sample `index`'s votes; nil where the dataset has no votes for it (a sample
    /// whose clean label is unknown has none: its row is a placeholder).
    private func voteShare(of label: Int, forSample index: Int) -> Float? {
        guard let votes = dataset.voteDistributions, dataset.cleanLabels.map({ $0[index] >= 0 }) ?? true else { return nil }
        return votes[index][label]
    }

    /// Pending relabel proposals as rows of (index, label, epoch, streak), for checkpoints.
    var pendingProposals: [Int64] {
        get { proposals.sorted { $0.key < $1.key }.flatMap { [Int64($0.key), Int64($0.value.label), Int64($0.value.epoch), Int64($0.value.streak)] } }
        set {
            proposals = [:]
            for i in stride(from: 0, to: newValue.count - 3, by: 4) {
                proposals[Int(newValue[i])] = (Int(newValue[i + 1]), Int(newValue[i + 2]), Int(newValue[i + 3]))
            }
        }
    }

    func setProgress(epochsCompleted: Int, bestValidationAccuracy: Double, bestTrainedValidationAccuracy: Double) {
        self.epochsCompleted = epochsCompleted
        self.bestValidationAccuracy = bestValidationAccuracy
        self.bestTrainedValidationAccuracy = bestTrainedValidationAccuracy
    }

    private func wrongLabelCount() -> Int? {
        guard let clean = dataset.cleanLabels else { return nil }
        return zip(dataset.labels, clean).filter { $0.1 >= 0 && $0.0 != $0.1 }.count
    }

    /// Starts the weight average as a copy of the current weights.
    func startWeightAverage(decay: Float) {
        let c = configuration, classCount = dataset.classCount
        weightAverage = WeightAverage(copying: model, decay: decay) { c.makeModel(classCount: classCount, precision: c.precision) }
    }

    /// Predictions, certainty and figures of `evaluatedModel` on `dataset` (evaluation mode, no gradients).
    public func evaluate(_ dataset: ExpressionDataset, store: ImageStore) -> Evaluation {
        evaluate(dataset, store: store, model: evaluatedModel)
    }

    private func evaluate(_ dataset: ExpressionDataset, store: ImageStore, model: SCNModel) -> Evaluation {
        Evaluator.evaluate(model: model, dataset: dataset, store: store, transforms: configuration.evaluationTransforms(channels: store.images.first?.channels ?? 3),
                           batchSize: configuration.batchSize)
    }

    /// Trains the remaining epochs, writing metrics, relabels and checkpoints into `runDirectory`:
    /// `last.safetensors` every epoch, `best.safetensors` at the best validation accuracy of `evaluatedModel`,
    /// `epoch-<N>.safetensors` after `keptCheckpointEpochs`, and with a weight average `best-trained.safetensors`:
    /// the trained weights (no `average.*` keys) at their best validation accuracy, the checkpoint the same run
    /// without an average would have selected (the average does not change the training).
    ///
    /// - Parameter lastEpoch: stop once this many epochs are done (the schedule stays that of
    ///   `configuration.epochs`), to go on later with `resume(in:stoppingAfterEpoch:)`; nil trains to the end.
    public func run(in runDirectory: URL, stoppingAfterEpoch lastEpoch: Int? = nil) throws {
        let manager = FileManager.default
        try manager.createDirectory(at: runDirectory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(configuration), to: runDirectory.appendingPathComponent("configuration.json"))
        while epochsCompleted < min(configuration.epochs, lastEpoch ?? .max) {
            let relabelsBefore = relabelLog.count
            let m = try trainEpoch()
            try appendLine(to: runDirectory.appendingPathComponent("metrics.jsonl"), try JSONEncoder.sorted.encode(m))
            for event in relabelLog[relabelsBefore...] {
                try appendLine(to: runDirectory.appendingPathComponent("relabels.jsonl"), try JSONEncoder.sorted.encode(event))
            }
            // The other checkpoints before last.safetensors: a run killed between them resumes from the previous
            // epoch's, trains this epoch again identically and writes them again; the other way round, the best
            // figures in last.safetensors would lag an epoch behind and a kept epoch would be skipped.
            if let accuracy = m.validationAccuracy, accuracy > bestValidationAccuracy {
                bestValidationAccuracy = accuracy
                try saveCheckpoint(to: runDirectory.appendingPathComponent("best.safetensors"))
            }
            if configuration.weightAverageDecay != nil,
               let accuracy = m.validationAccuracyOfTrainedWeights ?? m.validationAccuracy, accuracy > bestTrainedValidationAccuracy {
                bestTrainedValidationAccuracy = accuracy
                try saveCheckpoint(to: runDirectory.appendingPathComponent("best-trained.safetensors"), includingWeightAverage: false)
            }
            if keptCheckpointEpochs.contains(epochsCompleted) {
                try saveCheckpoint(to: runDirectory.appendingPathComponent("epoch-\(epochsCompleted).safetensors"))
            }
            try saveCheckpoint(to: runDirectory.appendingPathComponent("last.safetensors"))
            onEpoch?(m)
            log(summaryLine(m))
        }
    }

    /// One line per epoch for the console.
    public func summaryLine(_ m: EpochMetrics) -> String {
        var parts = [String(format: "epoch %d/%d", m.epoch, configuration.epochs), String(format: "loss %.4f", m.loss),
                     String(format: "train %.2f%%", 100 * m.trainAccuracy)
                     + (configuration.startInputSize != nil ? m.inputSize.map { " at \($0)x\($0)" } ?? "" : "")]
        if let v = m.validationAccuracy {
            parts.append(String(format: "val %.2f%%", 100 * v)
                         + (m.validationAccuracyOfTrainedWeights.map { String(format: " (averaged; trained weights %.2f%%)", 100 * $0) } ?? ""))
        }
        if configuration.method == .scn {
            parts.append(String(format: "alpha %.3f±%.3f", m.alphaMean, m.alphaStd))
            parts.append(configuration.rankRegularization ? String(format: "RR active %.0f%%", 100 * m.rankRegularizationActiveFraction) : "RR off")
            let judged = [m.relabelPrecision.map { String(format: "%.0f%% right", 100 * $0) },
                          m.relabelVoteSupport.map { String(format: "%.0f%% to a class 2+ annotators chose", 100 * $0) }].compactMap { $0 }
            parts.append("relabels \(m.relabels)" + (judged.isEmpty ? "" : " (\(judged.joined(separator: ", ")))"))
        }
        if let auc = m.wrongLabelAUC { parts.append(String(format: "wrong-label AUC %.3f", auc)) }
        if let auc = m.wrongLabelAUCFromProbability { parts.append(String(format: "(1-p AUC %.3f)", auc)) }
        if let fitted = m.wrongLabelsFitted { parts.append(String(format: "wrong labels fitted %.1f%%", 100 * fitted)) }
        parts.append(String(format: "lr %.2g", m.learningRate))
        parts.append(String(format: "%.0f img/s (loader %.0f)", m.imagesPerSecond, m.loaderImagesPerSecond))
        let secondsLeft = configuration.estimatedSecondsLeft(afterEpoch: m.epoch, lastEpochSeconds: m.seconds)
        if secondsLeft > 0 {
            let minutes = Int(secondsLeft / 60 + 0.5)
            let epochsLeft = configuration.epochs - m.epoch
            parts.append("\(epochsLeft) epoch\(epochsLeft == 1 ? "" : "s") left, about " + String(format: "%d:%02d h", minutes / 60, minutes % 60))
        }
        return parts.joined(separator: "  ")
    }

    private func appendLine(to url: URL, _ data: Data) throws {
        var line = data
        line.append(0x0A)
        if let handle = try? FileHandle(forWritingTo: url) {
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: line)
        } else {
            try line.write(to: url)
        }
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }
}

/// Batched evaluation of a model on a dataset.
public enum Evaluator {
    /// Class probabilities (softmax of the logits) and alpha for every sample, in dataset order (in evaluation
    /// mode; the model is left in the mode it was in).
    public static func outputs(model: SCNModel, store: ImageStore, labels: [Int], transforms: [ImageTransform],
                               batchSize: Int) -> (probabilities: [[Float]], alphas: [Float]) {
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        let loader = BatchLoader(store: store, batchSize: batchSize, transforms: transforms, seed: 0, shuffles: false)
        var probabilities = [[Float]](repeating: [], count: labels.count), alphas = [Float](repeating: 0, count: labels.count)
        GradientMode.withoutGradients { FrozenWeights.whileFrozen {
            for batch in loader.batches(epoch: 0, labels: labels) {
                let output = model(batch.images, labels: batch.labels)
                let p = softmax(output.logits).scalars, a = output.alpha.scalars
                let k = output.logits.shape[1]
                for (position, index) in batch.indices.enumerated() {
                    probabilities[index] = Array(p[(position * k)..<((position + 1) * k)])
                    alphas[index] = a[position]
                }
            }
        } }
        return (probabilities, alphas)
    }

    /// Figures of `model` on `dataset`: each sample's probabilities and alpha are the mean over `views` of it
    /// (test-time augmentation; the time grows with `views.count`).
    public static func evaluate(model: SCNModel, dataset: ExpressionDataset, store: ImageStore, transforms: [ImageTransform],
                                batchSize: Int, views: TestTimeViews = .single) -> Evaluation {
        let evaluations = views.prefixes.map { prefix in
            let (probabilities, alphas) = outputs(model: model, store: store, labels: dataset.labels, transforms: prefix + transforms,
                                                  batchSize: batchSize)
            return Evaluation(probabilities: probabilities, alphas: alphas, labels: dataset.labels, classCount: dataset.classCount)
        }
        return evaluations.count == 1 ? evaluations[0] : Evaluation(averaging: evaluations, labels: dataset.labels)
    }
}

/// The element-wise mean of equally long arrays (at least one), summed in order and then divided, so that two
/// give `(a + b) / 2` exactly: the average of test-time views and of ensemble members.
func elementwiseMean(_ arrays: [[Float]]) -> [Float] {
    guard arrays.count > 1 else { return arrays[0] }
    var sum = arrays[0]
    for array in arrays.dropFirst() { for i in sum.indices { sum[i] += array[i] } }
    let count = Float(arrays.count)
    return sum.map { $0 / count }
}

/// A model's outputs on a dataset, in dataset order, and the figures they give.
public struct Evaluation {
    public var report: ClassificationReport
    /// The most probable class of each sample.
    public var predictions: [Int]
    /// Each sample's importance weight, in (0, 1).
    public var alphas: [Float]
    /// Each sample's class probabilities (softmax of the logits).
    public var probabilities: [[Float]]

    /// The figures of `probabilities` (one row of `classCount` per sample) and `alphas` against `labels`.
    public init(probabilities: [[Float]], alphas: [Float], labels: [Int], classCount: Int) {
        predictions = probabilities.map { row in row.argmax()! }
        report = ClassificationReport(predictions: predictions, labels: labels, classCount: classCount)
        self.alphas = alphas
        self.probabilities = probabilities
    }

    /// The evaluation of the per-sample mean probabilities and alphas of `evaluations` (at least one, all
    /// of the same samples) against `labels`: a mirror-image average, an ensemble.
    public init(averaging evaluations: [Evaluation], labels: [Int]) {
        precondition(!evaluations.isEmpty, "nothing to average")
        let probabilities = evaluations[0].probabilities.indices.map { i in elementwiseMean(evaluations.map { $0.probabilities[i] }) }
        let alphas = elementwiseMean(evaluations.map(\.alphas))
        self.init(probabilities: probabilities, alphas: alphas, labels: labels, classCount: evaluations[0].report.perClassAccuracy.count)
    }

    /// The ROC AUCs of 1 - alpha and of 1 - p(label) for telling the samples whose `labels` differ from
    /// `cleanLabels` (-1: unknown, left out); nil where there are not both kinds.
    public func wrongLabelAUCs(labels: [Int], cleanLabels: [Int]) -> WrongLabelAUCs {
        let known = labels.indices.filter { cleanLabels[$0] >= 0 }
        let positives = known.map { labels[$0] != cleanLabels[$0] }
        let alphaScores = known.map { 1 - Double(alphas[$0]) }
        let withinLabel = rocAUC(scores: alphaScores, positives: positives, groups: known.map { labels[$0] },
                                 groupCount: report.perClassAccuracy.count)
        return WrongLabelAUCs(alpha: rocAUC(scores: alphaScores, positives: positives),
                              labelProbability: rocAUC(scores: known.map { 1 - Double(probabilities[$0][labels[$0]]) }, positives: positives),
                              alphaWithinLabel: withinLabel.withinGroups, alphaByLabel: withinLabel.byGroup)
    }
}

/// How well a score finds wrong labels: ROC AUCs (0.5 is chance), nil where there are not both kinds.
public struct WrongLabelAUCs: Equatable {
    /// 1 - alpha over all samples.
    public var alpha: Double?
    /// 1 - p(given label) over all samples.
    public var labelProbability: Double?
    /// 1 - alpha comparing only samples that carry the same given label, so that alpha's level differing
    /// between classes does not count.
    public var alphaWithinLabel: Double?
    /// 1 - alpha among the samples of each given label, indexed by class.
    public var alphaByLabel: [Double?]
}
