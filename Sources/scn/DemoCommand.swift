import ArgumentParser
import Foundation
import SCNData
import SCNMethod
import SCNReports
import SCNTensor

/// `scn demo`: SCN against the baseline on drawn faces with wrong labels, in a few minutes.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Train the baseline and SCN on generated faces with 30% wrong labels, and compare them.",
        discussion: """
            Draws faces of the seven basic expressions (varied pose, size, lighting and occlusion), gives 30% \
            of the training labels a wrong class by the paper's protocol, trains the cross-entropy baseline \
            and SCN on them with the same seed, and reports test accuracy of both, alpha of wrongly versus \
            correctly labelled samples, relabel precision, and an HTML report (report.html in --output).
            """)

    @Option(help: "Output folder for the runs and the report.") var output = "demo-run"
    @Option(help: "Training faces per class.") var perClass = 300
    @Option(help: "Fraction of training labels made wrong.") var noise = 0.3
    @Option(help: "Epochs for each model.") var epochs = 12
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Only write a PNG grid of sample faces to this file and stop.") var preview: String?

    func run() throws {
        if let preview {
            var g = RandomGenerator(seed: seed)
            let size = 48, columns = 7, rows = 6
            var grid = [UInt8](repeating: 255, count: rows * columns * (size + 2) * (size + 2))
            let stride = columns * (size + 2)
            for r in 0..<rows {
                for c in 0..<columns {
                    let face = SyntheticFaces.draw(label: c, size: size, generator: &g)
                    for y in 0..<size { for x in 0..<size { grid[(r * (size + 2) + y + 1) * stride + c * (size + 2) + x + 1] = face.pixels[y * size + x] } }
                }
            }
            let image = DecodedImage(width: stride, height: rows * (size + 2), channels: 1, pixels: grid)
            try PNGEncoder.encode(image).write(to: URL(fileURLWithPath: preview))
            print("wrote \(preview): columns are " + SyntheticFaces.classNames.joined(separator: ", "))
            return
        }
        let root = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        print("drawing \(perClass * 7) training and \(100 * 7) test faces...")
        var (train, trainStore) = SyntheticFaces.dataset(name: "faces-train", perClass: perClass, size: 48, seed: seed)
        let (test, testStore) = SyntheticFaces.dataset(name: "faces-test", perClass: 100, size: 48, seed: seed &+ 1000)
        let (validation, validationStore) = SyntheticFaces.dataset(name: "faces-validation", perClass: 40, size: 48, seed: seed &+ 2000)
        let noisy = LabelNoise.inject(into: train.labels, classCount: 7, rate: noise, seed: seed &+ 7)
        train.replaceLabels(noisy, keepingCurrentAsClean: true)
        print(String(format: "made %.1f%% of the training labels wrong", 100 * (train.noiseRate ?? 0)))

        var results: [(String, Trainer, ClassificationReport)] = []
        for method in [TrainingConfiguration.Method.baseline, .scn] {
            var c = TrainingConfiguration()
            c.method = method
            c.width = 32
            c.stem = .imageNet
            c.inputSize = 48
            c.epochs = epochs
            c.learningRate = 0.1
            c.schedule = .cosine
            c.warmupEpochs = 1
            c.augmentation = .none
            c.relabelStartEpoch = epochs / 2
            c.alphaScaling = .batchMean
            c.baselineWarmupEpochs = 2
            c.seed = seed
            print("\ntraining \(method == .scn ? "SCN" : "the baseline") (ResNet-18 at width 32, \(epochs) epochs)...")
            let trainer = Trainer(configuration: c, dataset: train, store: trainStore, validation: (validation, validationStore))
            let progress = ProgressDisplay(isTerminal: isatty(STDOUT_FILENO) != 0, batchSize: c.batchSize)
            trainer.onStep = { progress.update(step: $0, total: $1, imagesPerSecond: $2) }
            try trainer.run(in: root.appendingPathComponent(method.rawValue))
            let report = trainer.evaluate(test, store: testStore).report
            results.append((method.rawValue, trainer, report))
        }

        print("\nresults on \(test.count) clean test faces:")
        for (name, trainer, report) in results {
            print(String(format: "  %@ test accuracy %.1f%% (best validation %.1f%%)", name.padding(toLength: 8, withPad: " ", startingAt: 0),
                         100 * report.accuracy, 100 * trainer.bestValidationAccuracy))
        }
        let scn = results[1].1
        let outputs = Evaluator.outputs(model: scn.model, store: trainStore, labels: scn.dataset.givenLabels,
                                        transforms: scn.configuration.evaluationTransforms(channels: 3), batchSize: 64)
        let clean = train.cleanLabels!
        let wrong = train.givenLabels.indices.filter { train.givenLabels[$0] != clean[$0] }
        let right = train.givenLabels.indices.filter { train.givenLabels[$0] == clean[$0] }
        func mean(_ ids: [Int]) -> Double { ids.reduce(0.0) { $0 + Double(outputs.alphas[$1]) } / Double(max(1, ids.count)) }
        print(String(format: "  SCN alpha: %.3f on wrongly labelled training faces, %.3f on correctly labelled ones", mean(wrong), mean(right)))
        if let auc = rocAUC(scores: train.givenLabels.indices.map { 1 - Double(outputs.alphas[$0]) }, positives: train.givenLabels.indices.map { train.givenLabels[$0] != clean[$0] }) {
            print(String(format: "  ROC AUC of 1 - alpha for finding the wrong labels: %.3f", auc))
        }
        let judged = scn.relabelLog.filter { $0.cleanLabel != nil }
        if !judged.isEmpty {
            let right = judged.filter { $0.newLabel == $0.cleanLabel }.count
            print(String(format: "  SCN relabeled %d samples; %.1f%% of the new labels are correct", judged.count, 100 * Double(right) / Double(judged.count)))
        }
        // The report: SCN's run, its test confusion matrix, and the lowest-alpha training faces.
        let suspects = Array(SuspectLabel.ranking(probabilities: outputs.probabilities, alphas: outputs.alphas,
                                                  labels: train.givenLabels, files: train.imagePaths, cleanLabels: clean).prefix(42))
        let summary: [(String, String)] = results.map { ("\($0.0) test accuracy", String(format: "%.1f%%", 100 * $0.2.accuracy)) }
            + [("wrong training labels", String(format: "%.1f%%", 100 * noise)),
               ("mean alpha, wrong / right labels", String(format: "%.3f / %.3f", mean(wrong), mean(right)))]
        try RunReport.write(to: root, title: "SCN demo: drawn faces with \(Int(noise * 100))% wrong labels", classNames: train.classNames,
                            metrics: scn.history, relabels: scn.relabelLog, confusion: results[1].2.confusionMatrix,
                            suspects: suspects, thumbnails: Dictionary(uniqueKeysWithValues: suspects.map { ($0.index, trainStore.images[$0.index]) }),
                            summary: summary)
        print("\nreport: \(root.appendingPathComponent("report.html").path)")
    }
}
