import ArgumentParser
import Foundation
import SCNData
import SCNKernels
import SCNLayers
import SCNMethod
import SCNReports
import SCNTensor

/// `scn train`: trains SCN or the cross-entropy baseline and writes a run directory.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a Self-Cure Network (or the plain cross-entropy baseline) on a face dataset.",
        discussion: """
            Writes the run directory: configuration.json (training options), data.json (dataset, noise and the \
            command line; a resumed run must give the same), metrics.jsonl (one line per epoch), relabels.jsonl \
            (every label change), last.safetensors and best.safetensors (by validation accuracy; never \
            selected on the test split; with --weight-average, of the average, and best-trained.safetensors \
            the trained weights at their best, as the run without an average would select). A killed run continues with --resume. Defaults are the paper's \
            (beta 0.7, margin 0.15, delta2 0.2, gamma 0.5, relabel from epoch 10, SGD 0.1 with steps at 15 \
            and 30); --config FILE reads a JSON configuration that the options given here override.
            """)

    @OptionGroup var data: DatasetOptions

    @Option(name: .customLong("run"), help: "Run directory (created).") var runPath: String
    @Flag(help: "Continue the run in --run from its last checkpoint.") var resume = false
    @Option(help: ArgumentHelp("Start --run from this checkpoint of another run (weights, optimizer, labels and epoch) and train on with "
                               + "its configuration changed by the options given here (not the model or optimizer kind): for example "
                               + "another relabeling rule from a checkpoint kept with --keep-checkpoints.", valueName: "checkpoint"))
    var fork: String?
    @Option(help: ArgumentHelp("Also keep the checkpoint after these epochs, comma separated, as epoch-N.safetensors.", valueName: "epochs"))
    var keepCheckpoints: String?
    @Option(help: ArgumentHelp("Stop once this many epochs are done; the schedule stays that of --epochs. Continue with --resume.",
                               valueName: "epoch"))
    var stopAfter: Int?
    @Option(help: "A JSON configuration file (keys as in a run's configuration.json); options given here override it.")
    var config: String?

    @Option(help: "scn or baseline.") var method: TrainingConfiguration.Method?
    @Option(help: "Inject symmetric label noise at this rate (per class, the paper's protocol) into the training labels.")
    var noise: Double?
    @Option(help: "Noise mode: symmetric or pairFlip.") var noiseMode: LabelNoise.Mode = .symmetric
    @Option(help: "Train on the labels of this list file ('<image> <label> [<clean label>]' rows, matched by file name: scn noise's output, or SCN's and EAC's RAF-DB noise lists).")
    var noiseList: String?
    @Option(help: "The smallest label in --noise-list: 0 (SCN's RAF-DB lists, scn noise) or 1 (RAF-DB's own numbering).")
    var noiseListBase = 0
    @Option(help: "Fraction of train carved out for validation where the dataset has no validation split.")
    var validationFraction = 0.1
    @Option(help: ArgumentHelp("Cross-validation: split the training samples into this many folds (with --fold) and train on all but one; "
                               + "`scn audit --out-of-fold` then judges every label by the model that did not train on it.", valueName: "K"))
    var folds: Int?
    @Option(help: ArgumentHelp("Cross-validation: the fold (1 to --folds) left out of training.", valueName: "k")) var fold: Int?
    @Option(help: "Cross-validation: the seed of the split into folds (the same for every fold's run).") var foldSeed: UInt64 = 0

    @Option(help: "ResNet depth: 18 or 34.") var depth: Int?
    @Option(help: "Stem: imageNet (7x7/2 + max pool) or small (3x3/1).") var stem: ResNet.Stem?
    @Option(help: "Width of the first stage (64 in torchvision).") var width: Int?
    @Option(help: "What the cross-entropy is computed against: labels, or votes (each image's annotator vote distribution: FERPlus, without --noise; a relabeled image's new label).")
    var targets: TrainingConfiguration.Targets?
    @Option(help: ArgumentHelp("Distillation: a teacher's probabilities for the training images, as scn predict --json prints them "
                               + "(for example an ensemble's: --checkpoint A --checkpoint B; soften them with --temperature). Each image's "
                               + "target is --distill-weight of the teacher's row and the rest its --targets one. Give it again with --resume.",
                               valueName: "file"))
    var distillFrom: String?
    @Option(help: ArgumentHelp("Distillation: the teacher's share of each target, in [0, 1] (default 0.5).", valueName: "w"))
    var distillWeight: Float?
    @Option(help: "Input size in pixels (images are resized).") var input: Int?
    @Option(help: ArgumentHelp("Progressive resizing: the first epoch's training input size; it grows in steps of 16 pixels to --input "
                               + "at epoch --input-ramp-end (validation and evaluation always at --input).", valueName: "pixels"))
    var startInput: Int?
    @Option(help: ArgumentHelp("Progressive resizing: the first epoch (0-based) trained at --input (default: half the epochs).", valueName: "epoch"))
    var inputRampEnd: Int?
    @Option(help: "Epochs.") var epochs: Int?
    @Option(help: "Batch size.") var batchSize: Int?
    @Option(help: "Optimizer: sgd, adam or adamw.") var optimizer: TrainingConfiguration.OptimizerKind?
    @Option(help: "Learning rate.") var lr: Float?
    @Option(help: "Weight decay.") var weightDecay: Float?
    @Option(help: "Schedule: multistep, exponential or cosine.") var schedule: TrainingConfiguration.ScheduleKind?
    @Option(help: "Multi-step milestones in epochs, comma separated (e.g. 15,30).") var milestones: String?
    @Option(help: "Schedule decay: the multi-step factor or the exponential rate per epoch.") var decay: Float?
    @Option(help: "Linear warm-up length in epochs.") var warmup: Double?
    @Option(help: "Augmentation: none, crop-flip, official or affine-flip-erase.") var augmentation: TrainingConfiguration.Augmentation?
    @Flag(inversion: .prefixedNo, help: "SCN: alpha scales the logits of the cross-entropy (on by default; off for the paper's ablation of its modules).")
    var importanceWeighting: Bool?
    @Flag(inversion: .prefixedNo, help: "SCN: the rank-regularization loss (on by default; off for the paper's ablation of its modules).")
    var rankRegularization: Bool?
    @Option(help: "SCN: fraction of the batch in the high-importance group (beta).") var beta: Float?
    @Option(help: "SCN: rank-regularization margin delta1.") var margin: Float?
    @Option(help: "SCN: what splits each batch into the high- and low-importance groups (of the rank loss and of relabeling): alpha (paper) or loss (the network's cross-entropy of the label, or of the soft targets with --targets votes or --distill-from; the lowest-loss beta share is the high group).")
    var groupBy: ImportanceGrouping?
    @Flag(help: "SCN: learn the margin.") var learnMargin = false
    @Option(help: "SCN: relabeling threshold delta2.") var relabelThreshold: Float?
    @Option(help: "SCN: weight gamma of the rank loss in the paper's form.") var gamma: Float?
    @Option(help: "SCN: first epoch (0-based) in which relabeling happens.") var relabelStart: Int?
    @Option(help: "SCN: first epoch (0-based) in which relabeling no longer happens (default: it goes on to the end).")
    var relabelStop: Int?
    @Option(help: "SCN: lowImportance (paper) or all (official code).") var relabelScope: RelabelScope?
    @Option(help: "SCN: logits (paper), weightedLogits (official code) or averagedLogits (the weight average's, with --weight-average).")
    var relabelProbabilities: RelabelProbabilities?
    @Option(help: "SCN: paper (gamma-weighted) or official (WCE + RR).") var lossForm: LossForm?
    @Option(help: "SCN: how alpha scales the logits: raw (paper), batch-mean (alpha / its batch mean) or class-mean (alpha / the batch mean of its label's samples).") var alphaScaling: AlphaScaling?
    @Option(help: "SCN: epochs of plain cross-entropy before SCN's losses start.") var baselineWarmup: Int?
    @Option(help: "SCN: relabel only where the proposed class has at least this probability.") var relabelConfidence: Float?
    @Option(help: "SCN: relabel only after the same proposal in this many consecutive epochs.") var relabelPatience: Int?
    @Option(help: "SCN: what the importance head reads: features (paper) or features+label-probability (also the network's probability of the sample's label).")
    var importanceInput: ImportanceInput?
    @Option(help: "Keep an exponential moving average of the weights with this per-step decay (0.999: a time constant of 1,000 steps), and validate, select and evaluate the average instead of the trained weights.")
    var weightAverage: Float?
    @Option(help: "Epoch (0-based) at whose start the weight average begins, as a copy of the weights (default 0).")
    var weightAverageStart: Int?
    @Option(help: "Random seed.") var seed: UInt64?
    @Option(help: "Start from pretrained weights: a torchvision ResNet state dict, the official SCN checkpoint, resnet18_msceleb.pth (.pth), or a safetensors file.")
    var initFrom: String?
    @Option(help: "Keys of the --init file to skip on purpose, comma separated (for example fc.weight,fc.bias).")
    var initDrop: String?
    @Option(help: "Convolution precision: float32 or bfloat16.") var precision: ConvolutionPrecision?

    /// The configuration: `base` (the defaults, or a forked checkpoint's), then --config, then the options.
    func effectiveConfiguration(base: TrainingConfiguration = TrainingConfiguration()) throws -> TrainingConfiguration {
        var c = base
        if let config {
            let url = URL(fileURLWithPath: config)
            guard let data = try? Data(contentsOf: url) else { throw ValidationError("--config \(config): cannot be read") }
            guard let given = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ValidationError("--config \(config): not a JSON object")
            }
            var merged = try JSONSerialization.jsonObject(with: JSONEncoder().encode(c)) as! [String: Any]
            for (key, value) in given {
                guard TrainingConfiguration.keys.contains(key) else { throw ValidationError("--config \(config): unknown key '\(key)'") }
                merged[key] = value
            }
            do { c = try JSONDecoder().decode(TrainingConfiguration.self, from: JSONSerialization.data(withJSONObject: merged)) } catch {
                throw ValidationError("--config \(config): \(error)")
            }
        }
        if let method { c.method = method }
        if let targets { c.targets = targets }
        if let depth { c.depth = depth }
        if let stem { c.stem = stem }
        if let width { c.width = width }
        if let input { c.inputSize = input }
        if let startInput { c.startInputSize = startInput }
        if let inputRampEnd {
            guard c.startInputSize != nil else { throw ValidationError("--input-ramp-end: give the first epoch's input size with --start-input") }
            c.inputRampEndEpoch = inputRampEnd
        }
        if let epochs { c.epochs = epochs }
        if let stopAfter, stopAfter < 1 { throw ValidationError("--stop-after \(stopAfter): expected an epoch of at least 1") }
        if let batchSize { c.batchSize = batchSize }
        if let optimizer { c.optimizer = optimizer }
        if let lr { c.learningRate = lr }
        if let weightDecay { c.weightDecay = weightDecay }
        if let schedule { c.schedule = schedule }
        if let milestones {
            let values = milestones.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !values.isEmpty else { throw ValidationError("--milestones '\(milestones)': expected comma-separated epochs") }
            c.milestones = values
        }
        if let warmup { c.warmupEpochs = warmup }
        if let decay { c.decay = decay }
        if let augmentation { c.augmentation = augmentation }
        if let importanceWeighting { c.importanceWeighting = importanceWeighting }
        if let rankRegularization { c.rankRegularization = rankRegularization }
        if let beta { c.beta = beta }
        if let margin { c.margin = margin }
        if let groupBy { c.importanceGrouping = groupBy }
        if learnMargin { c.learnsMargin = true }
        if let relabelThreshold { c.relabelThreshold = relabelThreshold }
        if let gamma { c.gamma = gamma }
        if let relabelStart { c.relabelStartEpoch = relabelStart }
        if let relabelStop { c.relabelStopEpoch = relabelStop }
        if let relabelScope { c.relabelScope = relabelScope }
        if let relabelProbabilities { c.relabelProbabilities = relabelProbabilities }
        if let lossForm { c.lossForm = lossForm }
        if let alphaScaling { c.alphaScaling = alphaScaling }
        if let baselineWarmup { c.baselineWarmupEpochs = baselineWarmup }
        if let relabelConfidence { c.relabelConfidence = relabelConfidence }
        if let relabelPatience { c.relabelPatience = max(1, relabelPatience) }
        if let weightAverage {
            guard (0..<1).contains(weightAverage) else { throw ValidationError("--weight-average \(weightAverage): expected a decay in 0..<1, such as 0.999") }
            c.weightAverageDecay = weightAverage
        }
        if let weightAverageStart {
            guard weightAverageStart >= 0 else { throw ValidationError("--weight-average-start \(weightAverageStart): expected an epoch of at least 0") }
            c.weightAverageStartEpoch = weightAverageStart
        }
        if let distillWeight {
            guard distillFrom != nil else { throw ValidationError("--distill-weight: give the teacher's predictions with --distill-from") }
            guard (0...1).contains(distillWeight) else { throw ValidationError("--distill-weight \(distillWeight): expected a share in [0, 1]") }
        }
        if distillFrom != nil { c.distillationWeight = distillWeight ?? c.distillationWeight ?? 0.5 }
        if let importanceInput { c.importanceInput = importanceInput }
        if let seed { c.seed = seed }
        if let precision { c.precision = precision }
        if let reason = c.precision.unsupportedReason { throw ValidationError("--precision \(c.precision.rawValue): \(reason); use float32") }
        if c.method == .scn, c.relabelProbabilities == .averagedLogits {
            guard c.weightAverageDecay != nil else { throw ValidationError("--relabel-probabilities averagedLogits needs --weight-average") }
            guard c.weightAverageStartEpoch <= c.relabelStartEpoch else {
                throw ValidationError("--relabel-probabilities averagedLogits: the weight average starts (epoch \(c.weightAverageStartEpoch)) after relabeling (\(c.relabelStartEpoch))")
            }
        }
        guard [18, 34].contains(c.depth) else { throw ValidationError("--depth must be 18 or 34") }
        guard c.epochs >= 1, c.batchSize >= 2, c.inputSize >= 8 else {
            throw ValidationError("--epochs must be at least 1, --batch-size at least 2, --input at least 8")
        }
        if let start = c.startInputSize {
            if c.inputRampEndEpoch == 0 { c.inputRampEndEpoch = max(1, c.epochs / 2) }
            guard (8...c.inputSize).contains(start) else {
                throw ValidationError("--start-input \(start): expected a size from 8 to --input (\(c.inputSize))")
            }
            guard (1...c.epochs).contains(c.inputRampEndEpoch) else {
                throw ValidationError("--input-ramp-end \(c.inputRampEndEpoch): expected an epoch from 1 to --epochs (\(c.epochs))")
            }
        }
        guard c.beta > 0 && c.beta < 1 else { throw ValidationError("--beta must be between 0 and 1") }
        if c.method == .scn, !c.importanceWeighting, !c.rankRegularization, c.relabelScope == .lowImportance, c.importanceGrouping == .alpha,
           c.relabelStartEpoch < min(c.epochs, c.relabelStopEpoch ?? .max) {
            throw ValidationError("--no-importance-weighting --no-rank-regularization leave alpha untrained, so its low-importance group "
                                  + "is arbitrary: relabel every sample (--relabel-scope all), the high-loss group (--group-by loss) "
                                  + "or none (--relabel-start \(c.epochs))")
        }
        if let stop = c.relabelStopEpoch, stop <= c.relabelStartEpoch {
            throw ValidationError("--relabel-stop \(stop) is not after the relabeling start (\(c.relabelStartEpoch)): nothing would be relabeled")
        }
        return c
    }

    /// The data half of this command's configuration.
    var dataRecord: RunDataRecord {
        RunDataRecord(dataset: data.dataset.rawValue, data: data.data, limit: data.limit, skipBadImages: data.skipBadImages,
                      noise: noise, noiseMode: noise == nil ? nil : noiseMode.rawValue, noiseList: noiseList,
                      noiseListBase: noiseList == nil ? nil : noiseListBase, validationFraction: validationFraction,
                      folds: folds, fold: fold, foldSeed: folds == nil ? nil : foldSeed,
                      distillFrom: distillFrom, initFrom: initFrom, initDrop: initDrop, forkedFrom: fork, command: CommandLine.arguments)
    }

    /// The fold of --folds and --fold left out of a training split of `sampleCount` samples (nil: none).
    func heldOutFold(sampleCount: Int) throws -> CrossValidationFold? {
        switch (folds, fold) {
        case (nil, nil): return nil
        case let (folds?, fold?):
            let heldOut = CrossValidationFold(fold: fold, folds: folds, seed: foldSeed, sampleCount: sampleCount)
            if let problem = heldOut.problem { throw ValidationError("--folds \(folds) --fold \(fold): \(problem)") }
            return heldOut
        default: throw ValidationError("--folds and --fold go together: the number of folds and the one left out")
        }
    }

    /// The epochs of --keep-checkpoints.
    func keptCheckpointEpochs() throws -> Set<Int> {
        guard let keepCheckpoints else { return [] }
        let parts = keepCheckpoints.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let epochs = parts.compactMap { Int($0) }.filter { $0 >= 1 }
        guard epochs.count == parts.count else {
            throw ValidationError("--keep-checkpoints '\(keepCheckpoints)': expected comma-separated epochs of at least 1")
        }
        return Set(epochs)
    }

    func run() throws {
        let forkedCheckpoint = fork.map { URL(fileURLWithPath: $0) }
        var configuration = try effectiveConfiguration(base: try forkedCheckpoint.map { try Trainer.configuration(ofCheckpoint: $0) }
                                                         ?? TrainingConfiguration())
        let keptEpochs = try keptCheckpointEpochs()
        let runDirectory = URL(fileURLWithPath: runPath)
        if let forkedCheckpoint {
            guard !resume && initFrom == nil else { throw ValidationError("--fork starts a new run: use it without --resume and --init") }
            let forkedSeed = try Trainer.configuration(ofCheckpoint: forkedCheckpoint).seed
            guard configuration.seed == forkedSeed else {
                throw ValidationError("--fork: the seed decides the injected noise and the validation split; keep the checkpoint's (\(forkedSeed))")
            }
            // The fork trains on the same samples and labels as the run it comes from.
            if let saved = try RunDataRecord.read(from: forkedCheckpoint.deletingLastPathComponent()) {
                let differences = saved.differences(from: dataRecord)
                guard differences.isEmpty else {
                    throw ValidationError("--fork: \(forkedCheckpoint.path) comes from a run with other data options; "
                                          + "give the same ones: " + differences.joined(separator: "; "))
                }
            }
        }
        // The data record the run was started with (nil: a new run, or one started before records were written).
        let savedRecord = resume ? try RunDataRecord.read(from: runDirectory) : nil
        if resume {
            if let saved = savedRecord {
                let differences = saved.differences(from: dataRecord)
                guard differences.isEmpty else {
                    throw ValidationError("--resume: \(runPath) was started with other data options (its \(RunDataRecord.fileName)); "
                                          + "give the same ones: " + differences.joined(separator: "; "))
                }
            }
            let saved = runDirectory.appendingPathComponent("configuration.json")
            guard let data = try? Data(contentsOf: saved) else {
                throw ValidationError("--resume: \(saved.path) does not exist; start the run without --resume")
            }
            var savedConfiguration = try JSONDecoder().decode(TrainingConfiguration.self, from: data)
            if let epochs { savedConfiguration.epochs = epochs }
            if let reason = savedConfiguration.precision.unsupportedReason {
                throw ValidationError("--resume: \(saved.path) trains in \(savedConfiguration.precision.rawValue): \(reason); continue the run on such a CPU")
            }
            configuration = savedConfiguration
        } else if FileManager.default.fileExists(atPath: runDirectory.appendingPathComponent("last.safetensors").path) {
            throw ValidationError("--run \(runPath) already holds a run; add --resume to continue it or choose another directory")
        }

        guard var train = try data.load(split: "train") else { throw ValidationError("\(data.dataset) has no training split") }
        var teacherDigest: String?
        if let distillFrom {
            let teacher = try TeacherPredictions.read(URL(fileURLWithPath: distillFrom), classNames: train.classNames)
            train.teacherDistributions = try teacher.distributions(for: train)
            if let savedDigest = savedRecord?.distillFromDigest, savedDigest != teacher.digest {
                throw ValidationError("--distill-from \(distillFrom): the file has changed since the run started (hash \(teacher.digest), "
                                      + "the run's \(savedDigest)); resume with the same predictions")
            }
            teacherDigest = teacher.digest
            print("distillation: the teacher's probabilities for the \(train.count) images of the training split from \(distillFrom), weight \(configuration.distillationWeight ?? 0)")
        } else if configuration.distillationWeight != nil {
            throw ValidationError("the configuration distills (distillationWeight \(configuration.distillationWeight!)): give the teacher's predictions with --distill-from")
        }
        if let noise {
            guard noise >= 0 && noise < 1 else { throw ValidationError("--noise must be in [0, 1)") }
            let noisy = LabelNoise.inject(into: train.labels, classCount: train.classCount, rate: noise, mode: noiseMode,
                                          seed: configuration.seed &+ 101)
            train.replaceLabels(noisy, keepingCurrentAsClean: true)
            let rates = LabelNoise.realizedRates(noisy: noisy, clean: train.cleanLabels!, classCount: train.classCount)
            print(String(format: "injected %@ noise: %.2f%% of labels changed; per class ", noiseMode.rawValue, 100 * rates.overall)
                  + rates.perClass.map { String(format: "%.1f%%", 100 * $0) }.joined(separator: " "))
        }
        if let noiseList {
            guard noise == nil else { throw ValidationError("use --noise or --noise-list, not both") }
            let url = URL(fileURLWithPath: noiseList)
            let rows = try ListFile.read(url, labelBase: noiseListBase, classCount: train.classCount)
            let labels = try ListFile.labels(from: rows, matching: train, listName: url.path)
            train.replaceLabels(labels, keepingCurrentAsClean: true)
            print(String(format: "labels from %@: %.2f%% differ from the dataset's", noiseList, 100 * (train.noiseRate ?? 0)))
        }
        let heldOut = try heldOutFold(sampleCount: train.count)
        if let heldOut {
            train = train.subset(heldOut.trainingIndices)
            print("cross-validation: \(heldOut) left out, \(train.count) samples left to train on")
        }
        var validation = try data.load(split: "validation")
        if validation == nil {
            var generator = RandomGenerator(seed: configuration.seed &+ 7)
            let order = Array(0..<train.count).shuffled(using: &generator)
            let cut = Int(Double(train.count) * validationFraction)
            validation = train.subset(Array(order[..<cut]).sorted())
            train = train.subset(Array(order[cut...]).sorted())
            // Validation scores the given labels; with injected noise use the clean ones.
            if let clean = validation!.cleanLabels { validation!.replaceLabels(clean, keepingCurrentAsClean: false) }
        }
        if configuration.targets == .votes, let problem = train.problemWithVoteTargets {
            throw ValidationError("--targets votes: \(problem)")
        }
        print("loading \(train.count) training and \(validation!.count) validation images of \(train.name)...")
        let trainStore = try data.images(for: &train)
        var validationSet = validation!
        let validationStore = try data.images(for: &validationSet)
        let trainer = Trainer(configuration: configuration, dataset: train, store: trainStore,
                              validation: (validationSet, validationStore))
        print("\(configuration.method == .scn ? "SCN" : "baseline"), ResNet-\(configuration.depth) (\(trainer.model.parameterCount) parameters), "
              + "\(configuration.epochs) epochs, batch \(configuration.batchSize), input \(configuration.inputSize)"
              + (configuration.startInputSize.map { " (from \($0), reached at epoch \(configuration.inputRampEndEpoch + 1))" } ?? "") + ", "
              + (configuration.targets == .votes ? "vote targets, " : "")
              + (configuration.weightAverageDecay.map { "weight average \($0) from epoch \(configuration.weightAverageStartEpoch + 1)\(fork == nil ? "" : " or the fork"), " } ?? "")
              + "run \(runDirectory.path)")
        trainer.keptCheckpointEpochs = keptEpochs
        trainer.heldOutFold = heldOut
        if let initFrom, !resume {
            let drop = Set((initDrop ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            let report = try PretrainedWeights.load(URL(fileURLWithPath: initFrom), into: trainer.model, dropping: drop)
            print("initialized from \(initFrom): \(report)")
        }
        if !resume {
            try FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true)
            var record = dataRecord
            record.distillFromDigest = teacherDigest
            try record.write(to: runDirectory)
        }
        let board: TensorBoardWriter?
        do { board = try TensorBoardWriter(directory: runDirectory.appendingPathComponent("tensorboard")) } catch {
            board = nil
            print("warning: no TensorBoard events for this run: \(error)")
        }
        let classNames = train.classNames
        trainer.onEpoch = { m in
            // The run's report (charts as SVG files beside it), rewritten after every epoch.
            do {
                try RunReport.write(to: runDirectory, title: "SCN run \(runDirectory.lastPathComponent)", classNames: classNames,
                                    metrics: try RunReport.metrics(in: runDirectory), relabels: try RunReport.relabels(in: runDirectory),
                                    confusion: nil, suspects: [], thumbnails: [:], summary: [("configuration", "configuration.json")])
            } catch {
                // The report is a view of the run: training goes on without it, but says why.
                print("warning: report.html not updated: \(error)")
            }
            guard let board else { return }
            var scalars: [(String, Double?)] = [("loss/total", m.loss), ("loss/weighted_cross_entropy", m.weightedCrossEntropy),
                                                ("loss/rank_regularization", m.rankRegularization), ("accuracy/train", m.trainAccuracy),
                                                ("accuracy/validation", m.validationAccuracy),
                                                ("accuracy/validation_trained_weights", m.validationAccuracyOfTrainedWeights), ("learning_rate", Double(m.learningRate)),
                                                ("alpha/mean", m.alphaMean), ("alpha/std", m.alphaStd), ("relabels", Double(m.relabels)),
                                                ("relabels/precision", m.relabelPrecision), ("noise_rate", m.noiseRate),
                                                ("wrong_label_auc/alpha", m.wrongLabelAUC), ("images_per_second", m.imagesPerSecond)]
            scalars.append(("rank_regularization/active_fraction", m.rankRegularizationActiveFraction))
            for case let (tag, value?) in scalars { try? board.scalar(tag, value, step: m.epoch) }
            if let histogram = m.alphaHistogram {
                let values = histogram.enumerated().flatMap { [Double](repeating: Double($0.offset) / 20 + 0.025, count: $0.element) }
                try? board.histogram("alpha", values, edges: (1...20).map { Double($0) / 20 }, step: m.epoch)
            }
        }
        let progress = ProgressDisplay(isTerminal: isatty(STDOUT_FILENO) != 0, batchSize: configuration.batchSize)
        trainer.onStep = { step, total, rate in progress.update(step: step, total: total, imagesPerSecond: rate) }
        if resume {
            try trainer.resume(in: runDirectory, stoppingAfterEpoch: stopAfter)
        } else if let forkedCheckpoint {
            try trainer.fork(from: forkedCheckpoint, into: runDirectory, stoppingAfterEpoch: stopAfter)
        } else {
            try trainer.run(in: runDirectory, stoppingAfterEpoch: stopAfter)
        }
        // The whole run's relabels, from the log (a resumed trainer holds only its own).
        do {
            let relabels = try RunReport.relabels(in: runDirectory)
            if !relabels.isEmpty {
                print("relabels: " + RelabelSummary(events: relabels, classCount: classNames.count).description(classNames: classNames))
            }
        } catch {
            print("warning: no relabel summary: \(error)")
        }
        if configuration.weightAverageDecay != nil {
            print(String(format: "best validation accuracy %.2f%% (the weight average, best.safetensors), %.2f%% (the trained weights, "
                         + "best-trained.safetensors); checkpoints in %@",
                         100 * trainer.bestValidationAccuracy, 100 * trainer.bestTrainedValidationAccuracy, runDirectory.path))
        } else {
            print(String(format: "best validation accuracy %.2f%%; checkpoints in %@", 100 * trainer.bestValidationAccuracy, runDirectory.path))
        }
        if trainer.epochsCompleted < configuration.epochs {
            print("stopped after epoch \(trainer.epochsCompleted) of \(configuration.epochs); continue with --resume")
        }
    }
}

extension TrainingConfiguration.Method: ExpressibleByArgument {}
extension TrainingConfiguration.Targets: ExpressibleByArgument {}
extension TrainingConfiguration.OptimizerKind: ExpressibleByArgument {}
extension TrainingConfiguration.ScheduleKind: ExpressibleByArgument {}
extension TrainingConfiguration.Augmentation: ExpressibleByArgument {}
extension ResNet.Stem: ExpressibleByArgument {}
extension RelabelScope: ExpressibleByArgument {}
extension ImportanceGrouping: ExpressibleByArgument {}
extension RelabelProbabilities: ExpressibleByArgument {}
extension LossForm: ExpressibleByArgument {}
extension AlphaScaling: ExpressibleByArgument {}
extension ImportanceInput: ExpressibleByArgument {}
extension ConvolutionPrecision: ExpressibleByArgument {}
extension LabelNoise.Mode: ExpressibleByArgument {}
