import Foundation
import SCNData
import SCNFormats
import SCNMethod
import SCNTensor
import XCTest

/// Training end to end on a small generated dataset: learning, relabeling, metrics files, checkpoints,
/// and a resumed run ending bit-identical to an uninterrupted one.
final class TrainerTests: XCTestCase {
    /// 4 classes of 8x8 grayscale images, each class a bright quadrant, with pixel noise; 25% of the
    /// labels flipped (clean labels kept).
    static func syntheticData(count: Int, seed: UInt64) -> (ExpressionDataset, ImageStore) {
        var g = RandomGenerator(seed: seed)
        var images: [DecodedImage] = [], labels: [Int] = []
        for i in 0..<count {
            let c = i % 4
            var pixels = [UInt8](repeating: 0, count: 64)
            for y in 0..<8 {
                for x in 0..<8 {
                    let inQuadrant = (y / 4) == c / 2 && (x / 4) == c % 2
                    pixels[y * 8 + x] = UInt8(max(0, min(255, (inQuadrant ? 200 : 40) + Int(g.nextNormal() * 30))))
                }
            }
            images.append(DecodedImage(width: 8, height: 8, channels: 1, pixels: pixels).rgb())
            labels.append(c)
        }
        var dataset = ExpressionDataset(name: "quadrants", classNames: ["a", "b", "c", "d"],
                                        imagePaths: (0..<count).map { "synthetic/\($0).png" }, labels: labels)
        dataset.replaceLabels(LabelNoise.inject(into: labels, classCount: 4, rate: 0.25, seed: seed), keepingCurrentAsClean: true)
        return (dataset, ImageStore(images: images))
    }

    /// The ROC AUC of 1 - alpha for finding the dataset's wrong labels (`alphas` in sample order; nil without both kinds).
    static func wrongLabelAUC(ofAlphas alphas: [Float], in dataset: ExpressionDataset) -> Double? {
        rocAUC(scores: alphas.map { 1 - Double($0) }, positives: zip(dataset.labels, dataset.cleanLabels!).map { $0 != $1 })
    }

    static func configuration(epochs: Int) -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.stem = .small
        c.width = 4
        c.inputSize = 8
        c.batchSize = 16
        c.epochs = epochs
        c.learningRate = 0.05
        c.milestones = [100]
        c.augmentation = .none  // a flip would swap the quadrant classes
        c.relabelStartEpoch = 1
        c.learnsMargin = true
        c.relabelPatience = 2
        c.alphaScaling = .batchMean
        c.seed = 3
        return c
    }

    /// A new empty directory, removed when the test ends.
    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("scn-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// A trainer that logs nothing.
    private func quietTrainer(_ configuration: TrainingConfiguration, _ dataset: ExpressionDataset, _ store: ImageStore,
                              validation: (dataset: ExpressionDataset, store: ImageStore)? = nil) -> Trainer {
        let trainer = Trainer(configuration: configuration, dataset: dataset, store: store, validation: validation)
        trainer.log = { _ in }
        return trainer
    }

    func testTrainingLearnsAndWritesTheRunDirectory() throws {
        let (train, store) = Self.syntheticData(count: 128, seed: 1)
        let (validation, validationStore) = Self.syntheticData(count: 64, seed: 2)
        var cleanValidation = validation
        cleanValidation.replaceLabels(validation.cleanLabels!, keepingCurrentAsClean: false)
        let trainer = quietTrainer(Self.configuration(epochs: 6), train, store, validation: (cleanValidation, validationStore))
        let directory = try temporaryDirectory()
        try trainer.run(in: directory)

        let metrics = try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONDecoder().decode(EpochMetrics.self, from: Data($0.utf8)) }
        XCTAssertEqual(metrics.map(\.epoch), [1, 2, 3, 4, 5, 6])
        XCTAssertGreaterThan(metrics.last!.validationAccuracy!, 0.6, "learns the quadrants despite 25% wrong labels")
        XCTAssertNotNil(metrics.last!.wrongLabelAUC)
        // Trained on the quadrants, the network predicts the true class of most wrongly labelled samples.
        XCTAssertLessThan(metrics.last!.wrongLabelsFitted!, 0.4, "few wrong labels memorized in 6 epochs")
        XCTAssertGreaterThan(metrics.last!.trainAccuracy, 0.6)
        XCTAssertEqual(metrics.last!.alphaQuantiles.count, 5)
        XCTAssertEqual(metrics[0].relabels, 0, "no relabeling before the start epoch")
        let relabels = trainer.relabelLog
        if !relabels.isEmpty {
            let lines = try String(contentsOf: directory.appendingPathComponent("relabels.jsonl"), encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(lines.count, relabels.count)
            XCTAssertTrue(relabels.allSatisfy { $0.epoch >= 2 && $0.oldLabel != $0.newLabel })
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("configuration.json").path))
        let checkpoint = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("last.safetensors"))
        XCTAssertEqual(checkpoint.metadata["kind"], "scn-checkpoint")
        XCTAssertEqual(try checkpoint.integers("training.epochs_completed"), [6])
        XCTAssertEqual(try checkpoint.integers("training.labels").map { Int($0) }, trainer.dataset.labels)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("best.safetensors").path))
    }

    func testResumedRunEndsBitIdenticalToAnUninterruptedOne() throws {
        try checkResumeIsBitIdentical(Self.configuration(epochs: 3))
    }

    /// The baseline never trains the importance head and a warm-up leaves it untrained for its first
    /// epochs: the checkpoint then has no optimizer state for it, and the run still resumes exactly.
    func testBaselineAndWarmUpRunsResumeBitIdentically() throws {
        var baseline = Self.configuration(epochs: 3)
        baseline.method = .baseline
        try checkResumeIsBitIdentical(baseline)
        var warmUp = Self.configuration(epochs: 3)
        warmUp.baselineWarmupEpochs = 2
        try checkResumeIsBitIdentical(warmUp)
    }

    /// The paper's ablation of SCN's modules (its Table 5). With the importance weighting and the rank loss
    /// both off and no relabeling, SCN trains exactly the baseline's network, bit for bit; each module on
    /// its own moves the weights away from it; relabeling alone (every sample a candidate) relabels.
    func testEachSCNModuleCanBeSwitchedOff() throws {
        let (train, store) = Self.syntheticData(count: 96, seed: 5)
        func trained(_ change: (inout TrainingConfiguration) -> Void) throws -> Trainer {
            var c = Self.configuration(epochs: 3)
            c.relabelStartEpoch = 100
            change(&c)
            let trainer = quietTrainer(c, train, store)
            try trainer.run(in: try temporaryDirectory())
            return trainer
        }
        func maximumDifference(_ a: Trainer, _ b: Trainer) -> Float {
            let x = a.model.stateDictionary().tensors, y = b.model.stateDictionary().tensors
            XCTAssertEqual(Set(x.keys), Set(y.keys))
            return x.keys.map { key in zip(x[key]!.scalars, y[key]!.scalars).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
        }
        let baseline = try trained { $0.method = .baseline }
        let neither = try trained { $0.importanceWeighting = false; $0.rankRegularization = false }
        XCTAssertEqual(maximumDifference(baseline, neither), 0, "SCN without its modules is the baseline")
        XCTAssertEqual(neither.history.map(\.rankRegularization), [0, 0, 0])
        XCTAssertEqual(neither.history.map(\.loss), baseline.history.map(\.loss))

        let weightingOnly = try trained { $0.rankRegularization = false }
        XCTAssertGreaterThan(maximumDifference(baseline, weightingOnly), 1e-3, "alpha scales the logits")
        XCTAssertEqual(weightingOnly.history.map(\.rankRegularization), [0, 0, 0], "no rank loss is reported where it is off")
        XCTAssertEqual(weightingOnly.history.map(\.rankRegularizationActiveFraction), [0, 0, 0])
        XCTAssertTrue(weightingOnly.summaryLine(weightingOnly.history[2]).contains("RR off"), weightingOnly.summaryLine(weightingOnly.history[2]))
        let rankOnly = try trained { $0.importanceWeighting = false }
        XCTAssertGreaterThan(maximumDifference(baseline, rankOnly), 1e-3, "the rank loss reaches the backbone through alpha")
        XCTAssertTrue(rankOnly.history.contains { $0.rankRegularization > 0 }, "\(rankOnly.history.map(\.rankRegularization))")
        XCTAssertTrue(rankOnly.summaryLine(rankOnly.history[2]).contains("RR active"), rankOnly.summaryLine(rankOnly.history[2]))
        // Without the rank loss, the weighted cross-entropy is the whole loss.
        XCTAssertEqual(weightingOnly.history.map(\.loss), weightingOnly.history.map(\.weightedCrossEntropy))

        let relabelingOnly = try trained {
            $0.importanceWeighting = false; $0.rankRegularization = false
            $0.relabelStartEpoch = 1; $0.relabelScope = .all; $0.relabelPatience = 1
        }
        XCTAssertFalse(relabelingOnly.relabelLog.isEmpty, "relabeling alone relabels")
        XCTAssertEqual(Set(relabelingOnly.relabelLog.map(\.epoch)).min(), 2, "from its start epoch")
        // Relabeling alone within the high-loss group: the loss grouping needs no trained alpha.
        let relabelingHighLoss = try trained {
            $0.importanceWeighting = false; $0.rankRegularization = false; $0.importanceGrouping = .loss
            $0.relabelStartEpoch = 1; $0.relabelPatience = 1
        }
        XCTAssertEqual(relabelingHighLoss.history.map(\.rankRegularization), [0, 0, 0])
        // An untrained alpha's low group (refused by `scn train`) is an arbitrary 30% of each batch.
        let relabelingLowAlpha = try trained {
            $0.importanceWeighting = false; $0.rankRegularization = false; $0.relabelStartEpoch = 1; $0.relabelPatience = 1
        }
        // Up to the first relabeling epoch's end the three runs train alike, so that epoch's changes compare: the
        // rule's proposals (a low p(label)) lie in the high-loss group, and only some in an arbitrary one.
        func firstEpochChanges(_ trainer: Trainer) -> Set<Int> { Set(trainer.relabelLog.filter { $0.epoch == 2 }.map(\.index)) }
        let all = firstEpochChanges(relabelingOnly), lowAlpha = firstEpochChanges(relabelingLowAlpha)
        XCTAssertFalse(all.isEmpty)
        XCTAssertEqual(firstEpochChanges(relabelingHighLoss), all)
        XCTAssertTrue(lowAlpha.isStrictSubset(of: all), "\(lowAlpha.count) of \(all.count)")
    }

    /// A run with a weight average that started before the interruption (epoch 1) and one where it starts
    /// after (epoch 2, the checkpoint has none yet) resume exactly, average included.
    func testRunsWithAWeightAverageResumeBitIdentically() throws {
        for start in [1, 2] {
            var averaged = Self.configuration(epochs: 3)
            averaged.weightAverageDecay = 0.9
            averaged.weightAverageStartEpoch = start
            try checkResumeIsBitIdentical(averaged)
        }
    }

    /// Progressive resizing: the input size grows in steps of 16 pixels to the full size at the ramp's end
    /// epoch; each epoch trains at its size (recorded in the metrics), and such a run resumes exactly.
    func testProgressiveResizingGrowsTheInputAndResumesBitIdentically() throws {
        var ramp = TrainingConfiguration()
        ramp.inputSize = 96
        XCTAssertEqual((0..<26).map(ramp.trainingInputSize(atEpoch:)), [Int](repeating: 96, count: 26), "no ramp: every epoch at the input size")
        ramp.startInputSize = 48
        ramp.inputRampEndEpoch = 24
        XCTAssertEqual((0..<26).map(ramp.trainingInputSize(atEpoch:)),
                       [Int](repeating: 48, count: 8) + [Int](repeating: 64, count: 8) + [Int](repeating: 80, count: 8) + [96, 96])
        let decoded = try JSONDecoder().decode(TrainingConfiguration.self, from: JSONEncoder().encode(ramp))
        XCTAssertEqual(decoded, ramp, "the ramp is saved with the run's configuration")

        var c = Self.configuration(epochs: 3)
        c.inputSize = 40
        c.startInputSize = 8
        c.inputRampEndEpoch = 2
        let (train, store) = Self.syntheticData(count: 64, seed: 6)
        let trainer = quietTrainer(c, train, store, validation: (train, store))
        var lines: [String] = []
        trainer.log = { lines.append($0) }
        try trainer.run(in: try temporaryDirectory())
        XCTAssertEqual(trainer.history.map(\.inputSize), [8, 24, 40])
        XCTAssertTrue(lines.contains { $0.contains("at 24x24") }, "the epoch line names the size: \(lines)")
        let epochLines = lines.filter { $0.hasPrefix("epoch ") }
        XCTAssertEqual(epochLines.map { $0.contains("2 epochs left, about 0:0") }, [true, false, false], "\(epochLines)")
        XCTAssertEqual(epochLines.map { $0.contains("1 epoch left, about 0:0") }, [false, true, false],
                       "the time left is shown until the last epoch: \(epochLines)")
        // Each size's batches are the images at that size: the step count per epoch is the same.
        XCTAssertEqual(Set(trainer.history.map { Int(($0.imagesPerSecond * $0.seconds).rounded()) }).count, 1)
        try checkResumeIsBitIdentical(c)
    }

    func testTimeLeftScalesTheLastEpochByThePixelsOfTheEpochsToCome() {
        var c = TrainingConfiguration()
        c.epochs = 40
        c.inputSize = 48
        XCTAssertEqual(c.estimatedSecondsLeft(afterEpoch: 10, lastEpochSeconds: 100), 3000, accuracy: 1e-9)
        XCTAssertEqual(c.estimatedSecondsLeft(afterEpoch: 40, lastEpochSeconds: 100), 0, "nothing left after the last epoch")
        c.epochs = 20
        c.inputSize = 96
        c.startInputSize = 48
        c.inputRampEndEpoch = 12
        // After epoch 9 (80x80, 480 s): epochs 10-12 at 80x80, then 8 at 96x96, each (96/80)^2 = 1.44 times as long.
        XCTAssertEqual(c.estimatedSecondsLeft(afterEpoch: 9, lastEpochSeconds: 480), 3 * 480 + 8 * 480 * 1.44, accuracy: 1e-6)
        // After epoch 1 (48x48, 180 s): 3 more at 48, 4 at 64, 4 at 80, 8 at 96.
        let pixels48: Double = 48 * 48, pixels64: Double = 64 * 64, pixels80: Double = 80 * 80, pixels96: Double = 96 * 96
        let expected: Double = 180 * (3 + 4 * pixels64 / pixels48 + 4 * pixels80 / pixels48 + 8 * pixels96 / pixels48)
        XCTAssertEqual(c.estimatedSecondsLeft(afterEpoch: 1, lastEpochSeconds: 180), expected, accuracy: 1e-6)
    }

    /// Trains `configuration` whole and, separately, for 2 epochs then resumed to its end; the weights,
    /// labels and metrics lines must match bit for bit.
    private func checkResumeIsBitIdentical(_ configuration: TrainingConfiguration, file: StaticString = #filePath,
                                           line: UInt = #line) throws {
        let (train, store) = Self.syntheticData(count: 96, seed: 5)
        let whole = quietTrainer(configuration, train, store)
        let wholeDirectory = try temporaryDirectory(), partDirectory = try temporaryDirectory()
        try whole.run(in: wholeDirectory)

        // Stopped after 2 epochs (as if killed then): a new process (trainer) resumes from the run directory.
        let first = quietTrainer(configuration, train, store)
        try first.run(in: partDirectory, stoppingAfterEpoch: 2)
        XCTAssertEqual(first.epochsCompleted, 2, file: file, line: line)
        let resumed = quietTrainer(configuration, train, store)
        try resumed.resume(in: partDirectory)

        let a = whole.model.stateDictionary().tensors, b = resumed.model.stateDictionary().tensors
        XCTAssertEqual(Set(a.keys), Set(b.keys), file: file, line: line)
        for (key, tensor) in a {
            XCTAssertEqual(tensor.scalars, b[key]!.scalars, "\(configuration.method): \(key) differs after resuming", file: file, line: line)
        }
        XCTAssertEqual(whole.weightAverage == nil, resumed.weightAverage == nil, file: file, line: line)
        if let average = whole.weightAverage?.model.stateDictionary().tensors, let other = resumed.weightAverage?.model.stateDictionary().tensors {
            for (key, tensor) in average {
                XCTAssertEqual(tensor.scalars, other[key]!.scalars, "the weight average's \(key) differs after resuming", file: file, line: line)
            }
        }
        XCTAssertEqual(whole.dataset.labels, resumed.dataset.labels, file: file, line: line)
        XCTAssertEqual(whole.model.stateDictionary().integers, resumed.model.stateDictionary().integers, file: file, line: line)
        let lines = try String(contentsOf: partDirectory.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 3, "one metrics line per epoch across the interruption", file: file, line: line)
    }

    /// Symmetric noise does not depend on the image, so the paper's head (image features only) cannot tell
    /// wrong labels from right ones; the label-aware head can, and it survives a checkpoint round trip.
    func testALabelAwareImportanceHeadFindsWrongLabels() throws {
        let (train, store) = Self.syntheticData(count: 128, seed: 11)
        var aucs: [ImportanceInput: Double] = [:]
        for input in ImportanceInput.allCases {
            var c = Self.configuration(epochs: 6)
            c.relabelStartEpoch = 100
            c.importanceInput = input
            let trainer = quietTrainer(c, train, store)
            let directory = try temporaryDirectory()
            try trainer.run(in: directory)
            let alphas = trainer.evaluate(train, store: store).alphas
            aucs[input] = Self.wrongLabelAUC(ofAlphas: alphas, in: train)
            let checkpoint = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("last.safetensors"))
            XCTAssertEqual(checkpoint.keys.contains("model.importance_label_weight"), input == .featuresAndLabelProbability)
            let trained = try TrainedModel(checkpoint: directory.appendingPathComponent("last.safetensors"))
            XCTAssertEqual(try trained.evaluate(train, store: store).alphas, alphas)
        }
        XCTAssertGreaterThan(aucs[.featuresAndLabelProbability]!, 0.8, "\(aucs)")
        XCTAssertGreaterThan(aucs[.featuresAndLabelProbability]!, aucs[.features]! + 0.2, "\(aucs)")
    }

    /// With the rank loss alone (no weighting, so only the rank loss trains alpha) and a head that sees the
    /// label's probability, grouping by the loss teaches alpha to find the wrong labels; grouping by alpha
    /// itself gives the head no such signal.
    func testGroupingByTheLossTeachesAlphaTheWrongLabels() throws {
        let (train, store) = Self.syntheticData(count: 128, seed: 11)
        var aucs: [ImportanceGrouping: Double] = [:]
        for grouping in ImportanceGrouping.allCases {
            var c = Self.configuration(epochs: 6)
            (c.relabelStartEpoch, c.importanceWeighting) = (100, false)
            (c.importanceInput, c.importanceGrouping) = (.featuresAndLabelProbability, grouping)
            let trainer = quietTrainer(c, train, store)
            try trainer.run(in: try temporaryDirectory())
            aucs[grouping] = Self.wrongLabelAUC(ofAlphas: trainer.evaluate(train, store: store).alphas, in: train)
        }
        XCTAssertGreaterThan(aucs[.loss]!, 0.7, "\(aucs)")
        XCTAssertGreaterThan(aucs[.loss]!, aucs[.alpha]! + 0.2, "\(aucs)")
    }

    /// With vote targets, `--group-by loss` ranks each batch by the cross-entropy against the votes, the loss it
    /// trains: a one-step epoch's rank loss is the one the votes' scores give on the untrained network's
    /// outputs for that batch, and not the one p(label) gives.
    func testGroupingByTheLossRanksVoteTargetsByTheirCrossEntropy() throws {
        let (noisy, store) = Self.syntheticData(count: 16, seed: 41)
        var g = RandomGenerator(seed: 41)
        // Each face's label holds 40% of its votes, the other classes 13-30% each at random.
        let votes = noisy.cleanLabels!.map { label -> [Float] in
            let shares = (0..<4).map { _ in 1 + g.nextUniform() }
            let others = shares.enumerated().filter { $0.offset != label }.map(\.element).reduce(0, +)
            return shares.enumerated().map { $0.offset == label ? 0.4 : 0.6 * $0.element / others }
        }
        let voted = ExpressionDataset(name: "quadrants", classNames: noisy.classNames, imagePaths: noisy.imagePaths,
                                      labels: noisy.cleanLabels!, voteDistributions: votes)
        var c = Self.configuration(epochs: 1)
        (c.targets, c.importanceGrouping, c.importanceWeighting, c.relabelStartEpoch) = (.votes, .loss, false, 100)
        (c.margin, c.lossForm) = (1, .official)  // the hinge is always active, so the loss reads the groups' gap
        let trainer = quietTrainer(c, voted, store)
        try trainer.trainEpoch()

        // The same batch through an identical untrained network.
        let untrained = quietTrainer(c, voted, store)
        let loader = BatchLoader(store: store, batchSize: c.batchSize, transforms: c.trainingTransforms(channels: 3),
                                 seed: c.seed, dropsLastPartialBatch: true)
        let batch = try XCTUnwrap(loader.batches(epoch: 0, labels: voted.labels).next())
        untrained.model.train()
        let output = untrained.model(batch.images, labels: batch.labels)
        let probabilities = softmax(output.logits.detached()).scalars
        func rankLoss(_ targets: [[Float]]?) -> Double {
            let scores = targetProbabilities(probabilities, classCount: 4, labels: batch.labels, softTargets: targets)
            return Double(RankRegularization(alpha: output.alpha, datasetIndices: batch.indices, beta: c.beta,
                                             margin: untrained.model.margin, scores: scores).loss.item())
        }
        let byVotes = rankLoss(voted.targetDistributions(of: batch.indices)), byLabel = rankLoss(nil)
        XCTAssertGreaterThan(abs(byVotes - byLabel), 1e-4, "the two rankings must differ for the test to tell them apart")
        XCTAssertEqual(trainer.history[0].rankRegularization, byVotes, accuracy: 1e-6)
    }

    func testANonFiniteLossStopsWithTheLastCheckpointIntact() throws {
        let (train, store) = Self.syntheticData(count: 64, seed: 9)
        let directory = try temporaryDirectory()
        let first = quietTrainer(Self.configuration(epochs: 1), train, store)
        try first.run(in: directory)
        let last = directory.appendingPathComponent("last.safetensors")
        let lastBefore = try Data(contentsOf: last)

        // The continuation's weights go bad (as after a diverging step): the next loss is NaN.
        let second = quietTrainer(Self.configuration(epochs: 2), train, store)
        try second.restore(from: last)
        second.model.parameters[0].data[0] = .nan
        XCTAssertThrowsError(try second.run(in: directory)) { error in
            XCTAssertTrue("\(error)".contains("the loss became NaN at epoch 2, step 1"), "\(error)")
            XCTAssertTrue("\(error)".contains("the last checkpoint is intact"), "\(error)")
        }
        XCTAssertEqual(try Data(contentsOf: last), lastBefore)
        let lines = try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "no metrics line for the failed epoch")
    }

    func testATrainedCheckpointPredictsLikeTheTrainer() throws {
        let (train, store) = Self.syntheticData(count: 64, seed: 11)
        let trainer = quietTrainer(Self.configuration(epochs: 2), train, store)
        let directory = try temporaryDirectory()
        try trainer.run(in: directory)
        let trained = try TrainedModel(checkpoint: directory.appendingPathComponent("last.safetensors"))
        XCTAssertEqual(trained.classNames, ["a", "b", "c", "d"])
        let expected = trainer.evaluate(train, store: store)
        let evaluated = try trained.evaluate(train, store: store)
        XCTAssertEqual(evaluated.predictions, expected.predictions)
        XCTAssertEqual(evaluated.alphas, expected.alphas)
        let image = store.images[5]
        let prediction = trained.predict(pixels: image.pixels, width: image.width, height: image.height, channels: image.channels)
        XCTAssertEqual(prediction.label, expected.predictions[5])
        XCTAssertEqual(prediction.certainty, expected.alphas[5], accuracy: 1e-6)
        XCTAssertEqual(Double(prediction.probabilities.reduce(0, +)), 1, accuracy: 1e-5)
        var sevenClasses = ExpressionDataset(name: "x", classNames: (0..<7).map { "c\($0)" }, imagePaths: ["p"], labels: [0])
        sevenClasses.name = "seven"
        XCTAssertThrowsError(try trained.evaluate(sevenClasses, store: ImageStore(images: [image]))) { error in
            XCTAssertTrue("\(error)".contains("the dataset has 7 classes"), "\(error)")
        }
    }

    func testMirrorAveragingIsTheMeanOverEachImageAndItsMirrorImage() throws {
        let (train, store) = Self.syntheticData(count: 48, seed: 5)
        let trainer = quietTrainer(Self.configuration(epochs: 1), train, store)
        let directory = try temporaryDirectory()
        try trainer.run(in: directory)
        let trained = try TrainedModel(checkpoint: directory.appendingPathComponent("last.safetensors"))
        let mirroredStore = ImageStore(images: store.images.map { image in
            var pixels = image.pixels
            for y in 0..<image.height {
                for x in 0..<image.width {
                    for c in 0..<image.channels {
                        pixels[(y * image.width + x) * image.channels + c] = image.pixels[(y * image.width + image.width - 1 - x) * image.channels + c]
                    }
                }
            }
            return DecodedImage(width: image.width, height: image.height, channels: image.channels, pixels: pixels)
        })
        let plain = try trained.evaluate(train, store: store)
        let mirrored = try trained.evaluate(train, store: mirroredStore)
        let averaged = try trained.evaluate(train, store: store, views: .mirror)
        XCTAssertNotEqual(plain.probabilities, mirrored.probabilities, "the synthetic faces are not left-right symmetric")
        for i in train.labels.indices {
            for k in 0..<train.classCount {
                XCTAssertEqual(averaged.probabilities[i][k], (plain.probabilities[i][k] + mirrored.probabilities[i][k]) / 2, accuracy: 1e-6)
            }
            XCTAssertEqual(averaged.alphas[i], (plain.alphas[i] + mirrored.alphas[i]) / 2, accuracy: 1e-6)
            let row = averaged.probabilities[i]
            XCTAssertEqual(averaged.predictions[i], row.indices.max { row[$0] < row[$1] }!)
        }
        let mirroredAveraged = try trained.evaluate(train, store: mirroredStore, views: .mirror)
        XCTAssertEqual(mirroredAveraged.predictions, averaged.predictions)
        let predicted = trained.predict(store.images, views: .mirror)
        for i in [0, 7, 30] {
            XCTAssertEqual(predicted[i].label, averaged.predictions[i])
            XCTAssertEqual(predicted[i].certainty, averaged.alphas[i], accuracy: 1e-6)
            for k in 0..<train.classCount { XCTAssertEqual(predicted[i].probabilities[k], averaged.probabilities[i][k], accuracy: 1e-6) }
        }
    }

    /// With shifts and mirror images, each sample's outputs are the mean of the ten views' (the plain image, four
    /// shifts by 1/16 of its size, and the same of its mirror image), in evaluation and in prediction alike.
    func testShiftAndMirrorAveragingIsTheMeanOverTheTenViews() throws {
        let (train, store) = Self.syntheticData(count: 32, seed: 6)
        let directory = try temporaryDirectory()
        try quietTrainer(Self.configuration(epochs: 1), train, store).run(in: directory)
        let trained = try TrainedModel(checkpoint: directory.appendingPathComponent("last.safetensors"))
        let views = TestTimeViews(mirrors: true, shifts: true)
        XCTAssertEqual(views.count, 10)
        XCTAssertEqual(TestTimeViews(shifts: true).prefixes.count, 5)
        let d = TestTimeViews.shiftFraction
        let expected: [[ImageTransform]] = [[], [.shift(x: -d, y: 0)], [.shift(x: d, y: 0)], [.shift(x: 0, y: -d)], [.shift(x: 0, y: d)]]
            .flatMap { shift in [shift, [.horizontalFlip(p: 1)] + shift] }
        let transforms = trained.configuration.evaluationTransforms(channels: 3)
        let perView = expected.map {
            Evaluator.outputs(model: trained.model, store: store, labels: train.labels, transforms: $0 + transforms, batchSize: 16)
        }
        let averaged = try trained.evaluate(train, store: store, views: views)
        let predicted = trained.predict(store.images, views: views)
        XCTAssertNotEqual(perView[0].probabilities, perView[2].probabilities, "a shift changes the outputs")
        for i in train.labels.indices {
            for k in 0..<train.classCount {
                let mean = perView.map { $0.probabilities[i][k] }.reduce(0, +) / 10
                XCTAssertEqual(averaged.probabilities[i][k], mean, accuracy: 1e-6)
                XCTAssertEqual(predicted[i].probabilities[k], mean, accuracy: 1e-6)
            }
            XCTAssertEqual(averaged.alphas[i], perView.map { $0.alphas[i] }.reduce(0, +) / 10, accuracy: 1e-6)
            XCTAssertEqual(predicted[i].label, averaged.predictions[i])
        }
    }

    /// An ensemble's outputs are the mean of its members' (two runs of other seeds); an ensemble of one
    /// checkpoint twice is that checkpoint; members with other classes are refused by name.
    func testAnEnsembleAveragesItsMembersOutputs() throws {
        let (train, store) = Self.syntheticData(count: 48, seed: 13)
        var checkpoints: [URL] = []
        for seed: UInt64 in [3, 4] {
            var c = Self.configuration(epochs: 1)
            c.seed = seed
            let directory = try temporaryDirectory()
            try quietTrainer(c, train, store).run(in: directory)
            checkpoints.append(directory.appendingPathComponent("last.safetensors"))
        }
        let members = try checkpoints.map { try TrainedModel(checkpoint: $0) }
        let outputs = try members.map { try $0.evaluate(train, store: store, views: .mirror) }
        XCTAssertNotEqual(outputs[0].probabilities, outputs[1].probabilities, "two seeds, two models")
        let ensemble = try ModelEnsemble(checkpoints: checkpoints)
        let averaged = try ensemble.evaluate(train, store: store, views: .mirror)
        let predicted = ensemble.predict(store.images, views: .mirror)
        for i in train.labels.indices {
            for k in 0..<train.classCount {
                let mean = (outputs[0].probabilities[i][k] + outputs[1].probabilities[i][k]) / 2
                XCTAssertEqual(averaged.probabilities[i][k], mean, accuracy: 1e-6)
                XCTAssertEqual(predicted[i].probabilities[k], mean, accuracy: 1e-6)
            }
            XCTAssertEqual(averaged.alphas[i], (outputs[0].alphas[i] + outputs[1].alphas[i]) / 2, accuracy: 1e-6)
            XCTAssertEqual(predicted[i].certainty, averaged.alphas[i], accuracy: 1e-6)
            let row = averaged.probabilities[i]
            XCTAssertEqual(averaged.predictions[i], row.indices.max { row[$0] < row[$1] }!)
            XCTAssertEqual(predicted[i].label, averaged.predictions[i])
        }
        XCTAssertEqual(averaged.report, ClassificationReport(predictions: averaged.predictions, labels: train.labels, classCount: 4))
        let twice = try ModelEnsemble(checkpoints: [checkpoints[0], checkpoints[0]]).evaluate(train, store: store, views: .mirror)
        XCTAssertEqual(twice.probabilities, outputs[0].probabilities)
        XCTAssertEqual(twice.report, outputs[0].report)

        var renamed = train
        renamed.classNames = ["a", "b", "c", "e"]
        let renamedDirectory = try temporaryDirectory()
        try quietTrainer(Self.configuration(epochs: 1), renamed, store).run(in: renamedDirectory)
        let other = renamedDirectory.appendingPathComponent("last.safetensors")
        XCTAssertThrowsError(try ModelEnsemble(checkpoints: [checkpoints[0], other])) { error in
            XCTAssertTrue("\(error)".contains("\(other.path): classes [\"a\", \"b\", \"c\", \"e\"], but \(checkpoints[0].path) has"), "\(error)")
        }
        XCTAssertThrowsError(try ModelEnsemble(checkpoints: [])) { XCTAssertTrue("\($0)".contains("at least one checkpoint"), "\($0)") }
    }

    /// Out-of-fold outputs: each sample's are those of the fold run that held it out (three folds of 48
    /// samples, each run trained on the other two); the checkpoints record their fold. Members without a
    /// fold, a missing or repeated fold, folds of another split and another sample count are refused by name.
    func testOutOfFoldOutputsComeFromTheRunThatHeldEachSampleOut() throws {
        let (train, store) = Self.syntheticData(count: 48, seed: 13)
        var checkpoints: [URL] = []
        for k in 1...3 {
            let fold = CrossValidationFold(fold: k, folds: 3, seed: 5, sampleCount: train.count)
            let indices = fold.trainingIndices
            let trainer = quietTrainer(Self.configuration(epochs: 1), train.subset(indices), ImageStore(images: indices.map { store.images[$0] }))
            trainer.heldOutFold = fold
            let directory = try temporaryDirectory()
            try trainer.run(in: directory)
            checkpoints.append(directory.appendingPathComponent("last.safetensors"))
        }
        let members = try checkpoints.map { try TrainedModel(checkpoint: $0) }
        XCTAssertEqual(members.map { $0.heldOutFold?.fold }, [1, 2, 3])
        let whole = try members.map { try $0.evaluate(train, store: store) }
        // Given in another order than the folds'.
        let outOfFold = try ModelEnsemble(checkpoints: [checkpoints[2], checkpoints[0], checkpoints[1]]).evaluateOutOfFold(train, store: store)
        var fromEach = [0, 0, 0]
        for i in train.labels.indices {
            let k = members.firstIndex { $0.heldOutFold!.heldOutIndices.contains(i) }!
            fromEach[k] += 1
            XCTAssertEqual(outOfFold.probabilities[i], whole[k].probabilities[i], "sample \(i)")
            XCTAssertEqual(outOfFold.alphas[i], whole[k].alphas[i], "sample \(i)")
        }
        XCTAssertEqual(fromEach, [16, 16, 16])
        XCTAssertNotEqual(whole[0].probabilities, whole[1].probabilities, "three runs, three models")
        XCTAssertEqual(outOfFold.report, ClassificationReport(predictions: outOfFold.predictions, labels: train.labels, classCount: 4))

        func refusal(_ urls: [URL], _ dataset: ExpressionDataset? = nil) -> String {
            do {
                _ = try ModelEnsemble(checkpoints: urls).evaluateOutOfFold(dataset ?? train, store: store)
                return "accepted"
            } catch { return "\(error)" }
        }
        XCTAssertTrue(refusal([checkpoints[0], checkpoints[1]]).contains("fold 3 missing"), refusal([checkpoints[0], checkpoints[1]]))
        XCTAssertTrue(refusal([checkpoints[0], checkpoints[1], checkpoints[1]]).contains("both hold out fold 2"))
        let limited = train.subset(Array(0..<40))
        XCTAssertTrue(refusal(checkpoints, limited).contains("the members split 48 samples"), refusal(checkpoints, limited))
        let whole3 = try temporaryDirectory()
        try quietTrainer(Self.configuration(epochs: 1), train, store).run(in: whole3)
        let unfolded = whole3.appendingPathComponent("last.safetensors")
        XCTAssertNil(try TrainedModel(checkpoint: unfolded).heldOutFold)
        XCTAssertTrue(refusal([checkpoints[0], unfolded, checkpoints[2]]).contains("\(unfolded.path): trained on the whole split"))
        let otherSplit = try temporaryDirectory()
        let trainer = quietTrainer(Self.configuration(epochs: 1), train, store)
        trainer.heldOutFold = CrossValidationFold(fold: 2, folds: 3, seed: 6, sampleCount: train.count)
        try trainer.run(in: otherSplit)
        let reseeded = otherSplit.appendingPathComponent("last.safetensors")
        XCTAssertTrue(refusal([checkpoints[0], reseeded, checkpoints[2]]).contains("fold 2 of 3 (seed 6, 48 samples), but"))
    }

    /// After every step from its start epoch the average is `decay * average + (1 - decay) * weights`
    /// (a convolution weight, the importance head and a batch-norm running mean checked); the average is
    /// what is validated, saved as `average.*` and loaded by `TrainedModel`.
    func testTheWeightAverageFollowsTheWeightsAndIsWhatIsEvaluated() throws {
        let (train, store) = Self.syntheticData(count: 64, seed: 17)
        let (validation, validationStore) = Self.syntheticData(count: 32, seed: 18)
        var c = Self.configuration(epochs: 3)
        c.weightAverageDecay = 0.75
        c.weightAverageStartEpoch = 1
        let trainer = quietTrainer(c, train, store, validation: (validation, validationStore))
        let keys = ["backbone.layer1.0.conv1.weight", "importance.weight", "backbone.bn1.running_mean"]
        func values(_ model: SCNModel) -> [String: [Float]] {
            let state = model.stateDictionary().tensors
            return Dictionary(uniqueKeysWithValues: keys.map { ($0, state[$0]!.scalars) })
        }
        var previous: [String: [Float]]?, checkedSteps = 0
        trainer.onEpoch = { m in
            if m.epoch == 1 {
                XCTAssertNil(trainer.weightAverage, "the average starts at the start of epoch index 1")
                XCTAssertNil(m.validationAccuracyOfTrainedWeights)
                previous = values(trainer.model)  // the copy the average starts from
            }
        }
        trainer.onStep = { _, _, _ in
            guard let average = trainer.weightAverage, let before = previous else { return }
            let now = values(average.model), weights = values(trainer.model)
            for key in keys {
                XCTAssertNotEqual(weights[key], before[key], "\(key): the weights move")
                for i in now[key]!.indices {
                    XCTAssertEqual(now[key]![i], 0.75 * before[key]![i] + 0.25 * weights[key]![i], accuracy: 1e-6, key)
                }
            }
            previous = now
            checkedSteps += 1
        }
        let directory = try temporaryDirectory()
        try trainer.run(in: directory)
        XCTAssertEqual(checkedSteps, 2 * (64 / 16))
        let averageEvaluation = trainer.evaluate(validation, store: validationStore)
        XCTAssertEqual(trainer.history.last?.validationAccuracy, averageEvaluation.report.accuracy)
        XCTAssertNotNil(trainer.history.last?.validationAccuracyOfTrainedWeights)
        let plainEvaluation = Evaluator.evaluate(model: trainer.model, dataset: validation, store: validationStore,
                                                 transforms: c.evaluationTransforms(channels: 3), batchSize: c.batchSize)
        XCTAssertEqual(trainer.history.last?.validationAccuracyOfTrainedWeights, plainEvaluation.report.accuracy)
        XCTAssertNotEqual(averageEvaluation.probabilities, plainEvaluation.probabilities, "the average is not the weights")

        let last = directory.appendingPathComponent("last.safetensors")
        XCTAssertNotNil(try SafeTensorsFile(contentsOf: last).entries["average.importance.weight"])
        let trained = try TrainedModel(checkpoint: last)
        XCTAssertTrue(trained.usesAveragedWeights)
        XCTAssertEqual(try trained.evaluate(validation, store: validationStore).probabilities, averageEvaluation.probabilities)
        XCTAssertEqual(try PretrainedWeights.read(last).tensors["importance.weight"]?.scalars,
                       trainer.weightAverage?.model.importance.weight.scalars, "scn convert writes the average")

        // A fork from a checkpoint without an average starts one at the fork.
        let plainRun = try temporaryDirectory()
        let plain = quietTrainer(Self.configuration(epochs: 3), train, store)
        plain.keptCheckpointEpochs = [2]
        try plain.run(in: plainRun)
        XCTAssertFalse(try TrainedModel(checkpoint: plainRun.appendingPathComponent("last.safetensors")).usesAveragedWeights)
        var forkConfiguration = Self.configuration(epochs: 3)
        forkConfiguration.weightAverageDecay = 0.75
        let fork = quietTrainer(forkConfiguration, train, store)
        let forkRun = try temporaryDirectory()
        try fork.fork(from: plainRun.appendingPathComponent("epoch-2.safetensors"), into: forkRun)
        XCTAssertNotNil(fork.weightAverage)
        XCTAssertTrue(try TrainedModel(checkpoint: forkRun.appendingPathComponent("last.safetensors")).usesAveragedWeights)
    }

    /// Distillation trains against the teacher's rows: with all the weight on the teacher, a teacher that
    /// gives each label's one-hot row trains as the labels do (the same loss and weights, to rounding), one
    /// that names another class does not; a distilling configuration without teacher rows is refused.
    func testDistillationTrainsAgainstTheTeachersRows() throws {
        var (train, store) = Self.syntheticData(count: 64, seed: 31)
        var c = Self.configuration(epochs: 1)
        c.method = .baseline
        let plain = quietTrainer(c, train, store)
        let plainLoss = try plain.trainEpoch().loss
        c.distillationWeight = 1
        XCTAssertThrowsError(try quietTrainer(c, train, store).trainEpoch()) { error in
            XCTAssertTrue("\(error)".contains("the training set has no teacher predictions"), "\(error)")
        }
        func oneHot(_ label: Int) -> [Float] { (0..<4).map { $0 == label ? 1 : 0 } }
        train.teacherDistributions = train.labels.map(oneHot)
        let labelTeacher = quietTrainer(c, train, store)
        XCTAssertEqual(try labelTeacher.trainEpoch().loss, plainLoss, accuracy: 1e-5)
        let plainState = plain.model.stateDictionary().tensors, labelTeacherState = labelTeacher.model.stateDictionary().tensors
        for (key, value) in plainState {
            let difference = zip(value.scalars, labelTeacherState[key]!.scalars).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(difference, 1e-4, key)
        }
        train.teacherDistributions = train.labels.map { oneHot(($0 + 1) % 4) }
        XCTAssertGreaterThan(abs(try quietTrainer(c, train, store).trainEpoch().loss - plainLoss), 0.01, "another class's teacher")
    }

    /// The model tensors of a checkpoint (keys starting with `prefix`), as floats.
    private func tensors(in url: URL, prefix: String) throws -> [String: [Float]] {
        let file = try SafeTensorsFile(contentsOf: url)
        var values: [String: [Float]] = [:]
        for key in file.keys where key.hasPrefix(prefix) {
            values[key] = file.entries[key]!.dtype.isFloatingPoint ? try file.tensor(key).scalars : try file.integers(key).map(Float.init)
        }
        return values
    }

    /// Fails unless the two checkpoints hold the same keys starting with `prefix`, bit for bit (naming the
    /// differing keys, not printing the tensors).
    private func assertSameTensors(_ a: URL, _ b: URL, prefix: String, _ message: String,
                                   file: StaticString = #filePath, line: UInt = #line) throws {
        let x = try tensors(in: a, prefix: prefix), y = try tensors(in: b, prefix: prefix)
        XCTAssertEqual(x.keys.sorted(), y.keys.sorted(), message, file: file, line: line)
        let differing = x.keys.filter { y[$0] != nil && x[$0] != y[$0] }.sorted()
        XCTAssertTrue(differing.isEmpty, "\(message): \(differing.count) tensors differ, such as \(differing.prefix(3))", file: file, line: line)
    }

    /// With a weight average, best.safetensors holds the average's best epoch and best-trained.safetensors
    /// the trained weights' best epoch (without the average, so readers take the trained weights); both, and
    /// the best figures in last.safetensors, are the same when the run is stopped and resumed after every epoch.
    func testBestCheckpointsOfTheAverageAndTheTrainedWeightsSurviveInterruptions() throws {
        let (train, store) = Self.syntheticData(count: 64, seed: 21)
        let (validation, validationStore) = Self.syntheticData(count: 48, seed: 22)
        var c = Self.configuration(epochs: 5)
        c.weightAverageDecay = 0.7
        c.weightAverageStartEpoch = 2
        let whole = quietTrainer(c, train, store, validation: (validation, validationStore))
        whole.keptCheckpointEpochs = Set(1...5)
        let wholeRun = try temporaryDirectory()
        try whole.run(in: wholeRun)

        let selected = whole.history.map { $0.validationAccuracy! }
        let trained = whole.history.map { $0.validationAccuracyOfTrainedWeights ?? $0.validationAccuracy! }
        XCTAssertEqual(whole.history.map { $0.validationAccuracyOfTrainedWeights == nil }, [true, true, false, false, false])
        let bestEpoch = selected.firstIndex(of: selected.max()!)! + 1, bestTrainedEpoch = trained.firstIndex(of: trained.max()!)! + 1
        func epochFile(_ epoch: Int) -> URL { wholeRun.appendingPathComponent("epoch-\(epoch).safetensors") }
        let best = wholeRun.appendingPathComponent("best.safetensors"), bestTrained = wholeRun.appendingPathComponent("best-trained.safetensors")
        try assertSameTensors(best, epochFile(bestEpoch), prefix: "model.", "best.safetensors: the average's best epoch \(bestEpoch)")
        try assertSameTensors(best, epochFile(bestEpoch), prefix: "average.", "best.safetensors: the average's best epoch \(bestEpoch)")
        try assertSameTensors(bestTrained, epochFile(bestTrainedEpoch), prefix: "model.",
                              "best-trained.safetensors: the trained weights' best epoch \(bestTrainedEpoch)")
        XCTAssertEqual(try tensors(in: bestTrained, prefix: "average."), [:], "no average: readers take the trained weights")
        XCTAssertFalse(try TrainedModel(checkpoint: bestTrained).usesAveragedWeights)
        XCTAssertEqual(try TrainedModel(checkpoint: bestTrained).evaluate(validation, store: validationStore).report.accuracy, trained.max())
        let lastMetadata = try SafeTensorsFile(contentsOf: wholeRun.appendingPathComponent("last.safetensors")).metadata
        XCTAssertEqual(Double(lastMetadata["best_validation_accuracy"] ?? ""), selected.max(), "the last epoch's best included")
        XCTAssertEqual(Double(lastMetadata["best_trained_validation_accuracy"] ?? ""), trained.max())

        // Stopped after every epoch, each time resumed by a new trainer (a new process).
        let partRun = try temporaryDirectory()
        for epoch in 1...5 {
            try quietTrainer(c, train, store, validation: (validation, validationStore)).resume(in: partRun, stoppingAfterEpoch: epoch)
        }
        for (name, prefix) in [("best.safetensors", "model."), ("best.safetensors", "average."), ("best-trained.safetensors", "model.")] {
            try assertSameTensors(partRun.appendingPathComponent(name), wholeRun.appendingPathComponent(name), prefix: prefix,
                                  "\(name) \(prefix)* after resuming every epoch")
        }
    }

    /// With vote targets the network learns the votes, not the labels: here the votes favour the next
    /// class (0.8) over the labelled one (0.2), and the trained network predicts the next class; trained on
    /// the labels, it predicts the labelled one. Labels that are not the votes' (noise) are refused.
    func testVoteTargetsAreWhatTheNetworkLearns() throws {
        let (noisy, store) = Self.syntheticData(count: 128, seed: 31)
        let truth = noisy.cleanLabels!
        let votes = truth.map { c -> [Float] in
            var row = [Float](repeating: 0, count: 4)
            row[c] = 0.2
            row[(c + 1) % 4] = 0.8
            return row
        }
        let voted = ExpressionDataset(name: "quadrants", classNames: noisy.classNames, imagePaths: noisy.imagePaths, labels: truth,
                                      voteDistributions: votes)
        let next = ExpressionDataset(name: "quadrants", classNames: noisy.classNames, imagePaths: noisy.imagePaths,
                                     labels: truth.map { ($0 + 1) % 4 })
        var accuracyOnNextClass: [TrainingConfiguration.Targets: Double] = [:]
        for targets in [TrainingConfiguration.Targets.votes, .labels] {
            for method in [TrainingConfiguration.Method.baseline, .scn] {
                var c = Self.configuration(epochs: 6)
                c.method = method
                c.targets = targets
                c.relabelStartEpoch = 100
                let trainer = quietTrainer(c, voted, store)
                for _ in 0..<6 { try trainer.trainEpoch() }
                let accuracy = trainer.evaluate(next, store: store).report.accuracy
                if method == .baseline { accuracyOnNextClass[targets] = accuracy }
                if targets == .votes { XCTAssertGreaterThan(accuracy, 0.8, "\(method) learns the votes' class") }
            }
        }
        XCTAssertLessThan(accuracyOnNextClass[.labels]!, 0.2, "trained on the labels, it predicts the labelled class")

        var relabeledByNoise = voted
        relabeledByNoise.replaceLabels(LabelNoise.inject(into: truth, classCount: 4, rate: 0.25, seed: 1), keepingCurrentAsClean: true)
        var c = Self.configuration(epochs: 1)
        c.targets = .votes
        XCTAssertThrowsError(try quietTrainer(c, relabeledByNoise, store).trainEpoch()) { error in
            XCTAssertTrue("\(error)".contains("training on vote targets: the labels of quadrants are not its votes' majority"), "\(error)")
        }
        XCTAssertThrowsError(try quietTrainer(c, noisy, store).trainEpoch()) { error in
            XCTAssertTrue("\(error)".contains("quadrants has no annotator votes"), "\(error)")
        }
    }

    /// Relabeling from the weight average: every relabel's new label and margin are those of the average's
    /// probabilities (evaluation mode) after one of that epoch's steps; without an average, a clear error.
    func testRelabelingFromTheWeightAverageUsesItsProbabilities() throws {
        let (train, store) = Self.syntheticData(count: 96, seed: 5)
        var c = Self.configuration(epochs: 4)
        c.relabelPatience = 1
        c.relabelProbabilities = .averagedLogits
        c.weightAverageDecay = 0.5
        let trainer = quietTrainer(c, train, store)
        var teacherByEpoch: [Int: [[[Float]]]] = [:]  // epoch -> per step, the average's probabilities of every sample
        trainer.onStep = { _, _, _ in
            guard let average = trainer.weightAverage else { return }
            let outputs = Evaluator.outputs(model: average.model, store: store, labels: trainer.dataset.labels,
                                            transforms: c.evaluationTransforms(channels: 3), batchSize: c.batchSize)
            teacherByEpoch[trainer.epochsCompleted, default: []].append(outputs.probabilities)
        }
        try trainer.run(in: try temporaryDirectory())
        XCTAssertGreaterThan(trainer.relabelLog.count, 3, "the test needs relabels")
        for event in trainer.relabelLog {
            let steps = teacherByEpoch[event.epoch - 1] ?? []
            let matching = steps.contains { p in
                let row = p[event.index]
                return row.indices.max { row[$0] < row[$1] } == event.newLabel
                    && abs(row[event.newLabel] - row[event.oldLabel] - event.margin) < 1e-5
            }
            XCTAssertTrue(matching, "relabel of sample \(event.index) in epoch \(event.epoch) (margin \(event.margin)) is not the average's")
        }

        var late = c
        late.weightAverageStartEpoch = 2
        XCTAssertThrowsError(try quietTrainer(late, train, store).run(in: try temporaryDirectory())) {
            XCTAssertTrue("\($0)".contains("relabeling from the weight average at epoch 2, which has none yet"), "\($0)")
        }
    }

    func testForeignAndMismatchedCheckpointsAreRefused() throws {
        let (train, store) = Self.syntheticData(count: 32, seed: 7)
        let trainer = Trainer(configuration: Self.configuration(epochs: 1), dataset: train, store: store)
        let directory = try temporaryDirectory()
        let foreign = directory.appendingPathComponent("weights.safetensors")
        try trainer.model.save(to: foreign)
        XCTAssertThrowsError(try trainer.restore(from: foreign)) { XCTAssertTrue("\($0)".contains("not an SCN training checkpoint")) }

        let own = directory.appendingPathComponent("last.safetensors")
        try trainer.saveCheckpoint(to: own)
        var other = Self.configuration(epochs: 1)
        other.width = 8
        let wider = Trainer(configuration: other, dataset: train, store: store)
        XCTAssertThrowsError(try wider.restore(from: own)) { XCTAssertTrue("\($0)".contains("different configuration"), "\($0)") }
        let smaller = train.subset(Array(0..<16))
        let fewer = Trainer(configuration: Self.configuration(epochs: 1), dataset: smaller, store: ImageStore(images: Array(store.images.prefix(16))))
        XCTAssertThrowsError(try fewer.restore(from: own)) { XCTAssertTrue("\($0)".contains("label table has 32 samples"), "\($0)") }
    }

    /// A kept checkpoint, forked with the same configuration, ends bit-identical to the uninterrupted run
    /// (a fork is a resume into a new directory); forked with another relabeling rule, the run takes the
    /// checkpoint's labels and history and follows the new rule from there.
    func testAKeptCheckpointForksBitIdenticallyAndWithAnotherRelabelingRule() throws {
        let (train, store) = Self.syntheticData(count: 96, seed: 5)
        let configuration = Self.configuration(epochs: 4)
        let wholeDirectory = try temporaryDirectory(), sameDirectory = try temporaryDirectory(), ruleDirectory = try temporaryDirectory()
        let whole = quietTrainer(configuration, train, store)
        whole.keptCheckpointEpochs = [2]
        try whole.run(in: wholeDirectory)
        let kept = wholeDirectory.appendingPathComponent("epoch-2.safetensors")
        XCTAssertEqual(try SafeTensorsFile(contentsOf: kept).integers("training.epochs_completed"), [2])
        XCTAssertFalse(FileManager.default.fileExists(atPath: wholeDirectory.appendingPathComponent("epoch-3.safetensors").path))
        XCTAssertTrue(whole.relabelLog.contains { $0.epoch > 2 }, "the test needs relabels after the fork point")

        let same = quietTrainer(configuration, train, store)
        try same.fork(from: kept, into: sameDirectory)
        for (key, tensor) in whole.model.stateDictionary().tensors {
            XCTAssertEqual(tensor.scalars, same.model.stateDictionary().tensors[key]!.scalars, "\(key) differs after the fork")
        }
        XCTAssertEqual(same.dataset.labels, whole.dataset.labels)
        let lines = { (d: URL, name: String) in
            try String(contentsOf: d.appendingPathComponent(name), encoding: .utf8).split(separator: "\n").map(String.init)
        }
        XCTAssertEqual(try lines(sameDirectory, "relabels.jsonl"), try lines(wholeDirectory, "relabels.jsonl"))
        XCTAssertEqual(try lines(sameDirectory, "metrics.jsonl").count, 4)
        XCTAssertThrowsError(try same.fork(from: kept, into: sameDirectory)) { XCTAssertTrue("\($0)".contains("already holds a run"), "\($0)") }

        var strict = configuration
        strict.relabelConfidence = 2  // no class is that probable: no relabels after the fork
        let ruled = quietTrainer(strict, train, store)
        try ruled.fork(from: kept, into: ruleDirectory)
        let before = try lines(wholeDirectory, "relabels.jsonl").filter { $0.contains("\"epoch\":1,") || $0.contains("\"epoch\":2,") }
        XCTAssertEqual(try lines(ruleDirectory, "relabels.jsonl"), before, "the history up to the fork, then nothing")
        XCTAssertEqual(Array(try lines(ruleDirectory, "metrics.jsonl").prefix(2)), Array(try lines(wholeDirectory, "metrics.jsonl").prefix(2)))
        XCTAssertEqual(ruled.epochsCompleted, 4)
        XCTAssertEqual(ruled.history.map(\.relabels), [0, 0])

        // A fork that sets another fixed margin trains with it, not with the checkpoint's.
        var fixedMargin = configuration
        fixedMargin.learnsMargin = false
        let fixedDirectory = try temporaryDirectory()
        try quietTrainer(fixedMargin, train, store).run(in: fixedDirectory, stoppingAfterEpoch: 2)
        let fixedCheckpoint = fixedDirectory.appendingPathComponent("last.safetensors")
        XCTAssertEqual(try SafeTensorsFile(contentsOf: fixedCheckpoint).tensor("model.margin").scalars, [0.15])
        fixedMargin.margin = 0.4
        let refixed = quietTrainer(fixedMargin, train, store)
        try refixed.fork(from: fixedCheckpoint, into: try temporaryDirectory())
        XCTAssertEqual(refixed.model.margin.scalars, [0.4])
        XCTAssertEqual(refixed.history.map(\.margin), [0.4, 0.4])
        // So does a fork of a run that learned its margin (its optimizer state for the margin is dropped).
        XCTAssertNotNil(try SafeTensorsFile(contentsOf: kept).entries["optimizer.margin.momentum_buffer"])
        let unlearned = quietTrainer(fixedMargin, train, store)
        try unlearned.fork(from: kept, into: try temporaryDirectory())
        XCTAssertEqual(unlearned.model.margin.scalars, [0.4])
        XCTAssertEqual(unlearned.history.map(\.margin), [0.4, 0.4])

        var wider = configuration
        wider.width = 8
        let refused = Trainer(configuration: wider, dataset: train, store: store)
        XCTAssertThrowsError(try refused.fork(from: kept, into: try temporaryDirectory())) {
            XCTAssertTrue("\($0)".contains("a fork must keep the checkpoint's width (4, not 8)"), "\($0)")
        }
        let shorter = Trainer(configuration: Self.configuration(epochs: 1), dataset: train, store: store)
        XCTAssertThrowsError(try shorter.fork(from: kept, into: try temporaryDirectory())) {
            XCTAssertTrue("\($0)".contains("2 epochs in, past this run's 1"), "\($0)")
        }
    }

    /// Relabeling happens from the start epoch up to, not including, the stop epoch.
    func testRelabelingStopsAtTheStopEpoch() throws {
        let (train, store) = Self.syntheticData(count: 96, seed: 5)
        var relabelEpochs: [Int?: Set<Int>] = [:]
        for stop in [nil, 3] as [Int?] {
            var c = Self.configuration(epochs: 4)
            c.relabelStopEpoch = stop
            let trainer = quietTrainer(c, train, store)
            let directory = try temporaryDirectory()
            try trainer.run(in: directory)
            relabelEpochs[stop] = Set(trainer.relabelLog.map(\.epoch))
        }
        // Events are numbered from 1: 0-based epochs 1..<3 are events' epochs 2 and 3.
        XCTAssertTrue(relabelEpochs[nil]!.contains(4), "the test needs relabels in the last epoch: \(relabelEpochs)")
        XCTAssertFalse(relabelEpochs[3]!.isEmpty)
        XCTAssertTrue(relabelEpochs[3]!.isSubset(of: [2, 3]), "\(relabelEpochs)")
    }

    /// Where the dataset has annotator votes, every relabel records its new label's vote share, and each
    /// epoch's vote support is the share of its relabels to a class with votes.
    func testRelabelsRecordTheirVoteShare() throws {
        var (train, store) = Self.syntheticData(count: 96, seed: 5)
        // Votes: the clean class 0.7, the next class 0.3, the others none.
        train.voteDistributions = train.cleanLabels!.map { clean in
            (0..<4).map { $0 == clean ? 0.7 : $0 == (clean + 1) % 4 ? 0.3 : 0 }
        }
        let trainer = quietTrainer(Self.configuration(epochs: 4), train, store)
        let directory = try temporaryDirectory()
        try trainer.run(in: directory)
        XCTAssertFalse(trainer.relabelLog.isEmpty)
        for event in trainer.relabelLog {
            XCTAssertEqual(event.newLabelVoteShare, train.voteDistributions![event.index][event.newLabel])
        }
        for m in trainer.history {
            let events = trainer.relabelLog.filter { $0.epoch == m.epoch }
            XCTAssertEqual(m.relabelVoteSupport,
                           events.isEmpty ? nil : Double(events.filter { $0.newLabelVoteShare! > 0 }.count) / Double(events.count))
        }
        let withoutVotes = quietTrainer(Self.configuration(epochs: 2), Self.syntheticData(count: 96, seed: 5).0, store)
        try withoutVotes.run(in: try temporaryDirectory())
        XCTAssertTrue(withoutVotes.relabelLog.allSatisfy { $0.newLabelVoteShare == nil })
        XCTAssertTrue(withoutVotes.history.allSatisfy { $0.relabelVoteSupport == nil })
    }
}
