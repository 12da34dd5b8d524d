import Foundation
import SCNData
import SCNFormats
import SCNKernels
import SCNReports
import SCNTensor
import XCTest

/// The `scn` tool on bad input: one clear message and a non-zero exit status.
final class CommandLineTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("scn-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    /// Runs the built `scn` (the debug build beside the tests), with `settings` added to this process's
    /// environment, and returns its status and output.
    func scn(_ arguments: [String], settings: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let binary = Self.root.appendingPathComponent(".build/debug/scn")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw XCTSkip("no scn at \(binary.path); run swift build first") }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(settings) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Runs `scn` with `arguments` (and `settings` in its environment) and checks that it fails with a
    /// message containing `message`.
    func assertFails(_ arguments: [String], settings: [String: String] = [:], saying message: String,
                     file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try scn(arguments, settings: settings)
        XCTAssertNotEqual(result.status, 0, "\(arguments) succeeded", file: file, line: line)
        XCTAssertTrue(result.output.contains(message), "expected '\(message)' in: \(result.output)", file: file, line: line)
    }

    /// A folder dataset of drawn faces: `classes` class folders of `perClass` 16x16 PNGs.
    func faceFolder(_ name: String, classes: Int, perClass: Int) throws -> URL {
        let folder = scratch.appendingPathComponent(name)
        var g = RandomGenerator(seed: 1)
        for c in 0..<classes {
            let classFolder = folder.appendingPathComponent(SyntheticFaces.classNames[c])
            try FileManager.default.createDirectory(at: classFolder, withIntermediateDirectories: true)
            for i in 0..<perClass {
                let face = SyntheticFaces.draw(label: c, size: 16, generator: &g)
                try PNGEncoder.encode(face).write(to: classFolder.appendingPathComponent("\(i).png"))
            }
        }
        return folder
    }

    /// The options of a tiny run on `faces`: the data's (a quarter of the images for validation) and the
    /// model's (a ResNet 4 channels wide with the small stem, 16x16 inputs, batches of 4).
    func tinyRunOptions(_ faces: URL) -> (data: [String], model: [String]) {
        (["--dataset", "folder", "--data", faces.path, "--validation-fraction", "0.25"],
         ["--width", "4", "--stem", "small", "--input", "16", "--batch-size", "4"])
    }

    func testUnknownOptionAndMissingData() throws {
        try assertFails(["train", "--data", scratch.path, "--run", scratch.path, "--bogus"], saying: "Unknown option '--bogus'")
        try assertFails(["train", "--dataset", "ferplus", "--data", "/no/such/folder", "--run", scratch.path], saying: "--data /no/such/folder: no such folder")
    }

    func testMisspelledEngineSettingIsRefused() throws {
        try assertFails(["bench", "--steps", "1", "--input", "16"], settings: ["SCN_CONV_LAYOUT": "blocked"],
                        saying: "environment variable SCN_CONV_LAYOUT=blocked: expected channels-last or preferred")
        let twoProblems = try scn(["env"], settings: ["SCN_NUM_THREADS": "two", "SCN_SUBNORMALS": "kept"])
        XCTAssertEqual(twoProblems.status, 64)
        XCTAssertTrue(twoProblems.output.contains("SCN_NUM_THREADS=two: expected a whole number of threads, at least 1"), twoProblems.output)
        XCTAssertTrue(twoProblems.output.contains("SCN_SUBNORMALS=kept: expected keep or flush"), twoProblems.output)
        // An empty value counts as unset.
        let unset = try scn(["env"], settings: ["SCN_CONV_LAYOUT": ""])
        XCTAssertEqual(unset.status, 0, unset.output)
    }

    func testBFloat16IsRefusedWhereOneDNNCannotConvolveInIt() throws {
        try XCTSkipIf(ConvolutionPrecision.bfloat16.isSupported, "this CPU convolves in bf16 (KernelsMatchReferenceTests checks it)")
        try assertFails(["bench", "--precision", "bfloat16", "--steps", "1"], saying: "oneDNN has no bfloat16 convolution for this CPU")
        let o = tinyRunOptions(try faceFolder("bf16", classes: 2, perClass: 4))
        try assertFails(["train"] + o.data + o.model + ["--precision", "bfloat16", "--epochs", "1", "--run", scratch.appendingPathComponent("bf16-run").path],
                        saying: "oneDNN has no bfloat16 convolution for this CPU")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("bf16-run").path), "nothing written")
    }

    func testForeignCheckpointAndNonImage() throws {
        var writer = SafeTensorsWriter()
        writer.add("w", Tensor.zeros([2]))
        let foreign = scratch.appendingPathComponent("foreign.safetensors")
        try writer.write(to: foreign)
        let faces = try faceFolder("faces", classes: 2, perClass: 2)
        try assertFails(["eval", "--checkpoint", foreign.path, "--dataset", "folder", "--data", faces.path, "--split", "train"], saying: "not an SCN checkpoint")
        let truncated = scratch.appendingPathComponent("truncated.safetensors")
        try Data([1, 2, 3]).write(to: truncated)
        try assertFails(["predict", "--checkpoint", truncated.path, faces.path], saying: "truncated")
    }

    func testStopAfterThenResume() throws {
        let faces = try faceFolder("faces", classes: 2, perClass: 4)
        let run = scratch.appendingPathComponent("stopped-run")
        let options = ["--dataset", "folder", "--data", faces.path, "--run", run.path, "--epochs", "2", "--width", "4",
                       "--stem", "small", "--input", "16", "--batch-size", "4", "--validation-fraction", "0.25"]
        let epochLines = { try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n").count }
        try assertFails(["train"] + options + ["--stop-after", "0"], saying: "--stop-after 0: expected an epoch of at least 1")
        let first = try scn(["train"] + options + ["--stop-after", "1"])
        XCTAssertEqual(first.status, 0, first.output)
        XCTAssertTrue(first.output.contains("stopped after epoch 1 of 2; continue with --resume"), first.output)
        XCTAssertEqual(try epochLines(), 1)
        let rest = try scn(["train"] + options + ["--resume"])
        XCTAssertEqual(rest.status, 0, rest.output)
        XCTAssertFalse(rest.output.contains("stopped after"), rest.output)
        XCTAssertEqual(try epochLines(), 2)
    }

    func testKeptCheckpointThenForkWithOtherOptions() throws {
        let faces = try faceFolder("faces", classes: 2, perClass: 4)
        let run = scratch.appendingPathComponent("source-run"), forked = scratch.appendingPathComponent("forked-run")
        let (data, model) = tinyRunOptions(faces)
        try assertFails(["train"] + data + model + ["--run", run.path, "--keep-checkpoints", "1,x"], saying: "--keep-checkpoints '1,x': expected comma-separated epochs")
        let unvoted = try scn(["train"] + data + model + ["--run", run.path, "--targets", "votes"])
        XCTAssertNotEqual(unvoted.status, 0)
        XCTAssertTrue(unvoted.output.contains("--targets votes: ") && unvoted.output.contains("has no annotator votes (FERPlus has)"), unvoted.output)
        let source = try scn(["train"] + data + model + ["--run", run.path, "--epochs", "2", "--keep-checkpoints", "1"])
        XCTAssertEqual(source.status, 0, source.output)
        let kept = run.appendingPathComponent("epoch-1.safetensors").path
        XCTAssertTrue(FileManager.default.fileExists(atPath: kept))

        try assertFails(["train"] + data + ["--run", forked.path, "--fork", kept, "--seed", "9"], saying: "--fork: the seed decides the injected noise")
        try assertFails(["train"] + data + ["--run", forked.path, "--fork", kept, "--width", "8"], saying: "a fork must keep the checkpoint's width (4, not 8)")
        try assertFails(["train", "--dataset", "folder", "--data", faces.path, "--run", forked.path, "--fork", kept], saying: "--validation-fraction: the run has 0.25, this command 0.1")

        // The model options come from the checkpoint; the relabeling rule, the epoch count and the weight average change.
        let fork = try scn(["train"] + data + ["--run", forked.path, "--fork", kept, "--relabel-confidence", "0.99", "--epochs", "3",
                                               "--weight-average", "0.9"])
        XCTAssertEqual(fork.status, 0, fork.output)
        XCTAssertTrue(fork.output.contains("forked from \(kept) after epoch 1"), fork.output)
        XCTAssertTrue(fork.output.contains("(the trained weights, best-trained.safetensors)"), fork.output)
        for (name, averaged) in [("best.safetensors", true), ("best-trained.safetensors", false)] {
            let evaluated = try scn(["eval", "--checkpoint", forked.appendingPathComponent(name).path, "--dataset", "folder",
                                     "--data", faces.path, "--split", "train", "--json"])
            XCTAssertEqual(evaluated.status, 0, evaluated.output)
            let result = try JSONSerialization.jsonObject(with: Data(evaluated.output.utf8)) as? [String: Any]
            XCTAssertEqual(result?["averaged_weights"] as? Bool, averaged, "\(name): \(evaluated.output)")
        }
        let configuration = try JSONSerialization.jsonObject(with: Data(contentsOf: forked.appendingPathComponent("configuration.json"))) as? [String: Any]
        XCTAssertEqual(configuration?["width"] as? Int, 4)
        XCTAssertEqual(configuration?["relabelConfidence"] as? Double, 0.99)
        XCTAssertEqual(configuration?["epochs"] as? Int, 3)
        let lines = try String(contentsOf: forked.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 3, "the source's first epoch, then the fork's two")
        let sourceFirst = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n").first
        XCTAssertEqual(lines.first, sourceFirst)
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: forked.appendingPathComponent("data.json"))) as? [String: Any]
        XCTAssertEqual(record?["forkedFrom"] as? String, kept)
    }

    /// `scn predict` on a folder goes through the network in batches: the same probabilities as one image at a
    /// time, and an unreadable file named while the others are still predicted (exit status 1).
    func testFolderPredictionsInBatches() throws {
        let faces = try faceFolder("faces", classes: 2, perClass: 40)
        try Data("not a png".utf8).write(to: faces.appendingPathComponent("broken.png"))
        let run = scratch.appendingPathComponent("run")
        let (data, model) = tinyRunOptions(faces)
        let trained = try scn(["train"] + data + model + ["--run", run.path, "--epochs", "1", "--skip-bad-images"])
        XCTAssertEqual(trained.status, 0, trained.output)
        let checkpoint = run.appendingPathComponent("last.safetensors").path
        func predictions(_ output: String) -> [String: [String: Double]] {
            var rows: [String: [String: Double]] = [:]
            for line in output.split(separator: "\n") where line.hasPrefix("{") {
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                if let image = object?["image"] as? String { rows[image] = object?["probabilities"] as? [String: Double] }
            }
            return rows
        }
        let folder = try scn(["predict", "--checkpoint", checkpoint, "--json", "--mirror-average", faces.path])
        XCTAssertEqual(folder.status, 1, "one file is unreadable")
        XCTAssertTrue(folder.output.contains("broken.png"), folder.output)
        let batched = predictions(folder.output)
        XCTAssertEqual(batched.count, 80, "every readable image, past the first batch of 64")
        let singles = batched.keys.sorted().enumerated().filter { [0, 63, 64, 79].contains($0.offset) }.map(\.element)
        for image in singles {
            let single = try scn(["predict", "--checkpoint", checkpoint, "--json", "--mirror-average", image])
            XCTAssertEqual(single.status, 0, single.output)
            let alone = try XCTUnwrap(predictions(single.output)[image]), inBatch = try XCTUnwrap(batched[image])
            XCTAssertEqual(alone.keys.sorted(), inBatch.keys.sorted())
            for (name, probability) in alone { XCTAssertEqual(probability, inBatch[name]!, accuracy: 1e-5, "\(image) \(name)") }
        }
    }

    /// Distillation: a teacher's `scn predict --json` lines for the training images become part of the targets;
    /// the run records the file and its hash, and resumes only with the same file unchanged.
    func testDistillationFromPredictions() throws {
        let faces = try faceFolder("faces", classes: 2, perClass: 4)
        let teacherRun = scratch.appendingPathComponent("teacher"), student = scratch.appendingPathComponent("student")
        let (data, model) = tinyRunOptions(faces)
        let teacher = try scn(["train"] + data + model + ["--run", teacherRun.path, "--epochs", "1"])
        XCTAssertEqual(teacher.status, 0, teacher.output)
        let predicted = try scn(["predict", "--checkpoint", teacherRun.appendingPathComponent("last.safetensors").path, "--json", faces.path])
        XCTAssertEqual(predicted.status, 0, predicted.output)
        let predictions = scratch.appendingPathComponent("teacher.jsonl")
        try predicted.output.write(to: predictions, atomically: true, encoding: .utf8)

        try assertFails(["train"] + data + model + ["--run", student.path, "--distill-weight", "0.5"], saying: "--distill-weight: give the teacher's predictions with --distill-from")
        try assertFails(["train"] + data + model + ["--run", student.path, "--distill-from", predictions.path, "--distill-weight", "2"], saying: "--distill-weight 2.0: expected a share in [0, 1]")
        let lines = predicted.output.split(separator: "\n")
        XCTAssertEqual(lines.count, 8)
        let partial = scratch.appendingPathComponent("partial.jsonl")
        try (lines.dropFirst().joined(separator: "\n") + "\n").write(to: partial, atomically: true, encoding: .utf8)
        try assertFails(["train"] + data + model + ["--run", student.path, "--distill-from", partial.path], saying: "\(partial.path): has no prediction for 1 of the")

        let options = data + model + ["--run", student.path, "--epochs", "2", "--distill-from", predictions.path]
        let first = try scn(["train"] + options + ["--distill-weight", "0.7", "--stop-after", "1"])
        XCTAssertEqual(first.status, 0, first.output)
        XCTAssertTrue(first.output.contains("distillation: the teacher's probabilities for the 8 images of the training split from \(predictions.path), weight 0.7"),
                      first.output)
        let configuration = try JSONSerialization.jsonObject(with: Data(contentsOf: student.appendingPathComponent("configuration.json"))) as? [String: Any]
        XCTAssertEqual((configuration?["distillationWeight"] as? Double).map { Float($0) }, 0.7)
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: student.appendingPathComponent("data.json"))) as? [String: Any]
        XCTAssertEqual(record?["distillFrom"] as? String, predictions.path)
        XCTAssertNotNil(record?["distillFromDigest"] as? String)

        try assertFails(["train"] + data + model + ["--run", student.path, "--resume"], saying: "--distill-from: the run has \(predictions.path), this command none")
        let original = try Data(contentsOf: predictions)
        try (original + Data("\n".utf8)).write(to: predictions)
        try assertFails(["train"] + options + ["--resume"], saying: "the file has changed since the run started")
        try original.write(to: predictions)
        let resumed = try scn(["train"] + options + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertTrue(resumed.output.contains("weight 0.7"), "the run's weight, from its configuration: \(resumed.output)")
        XCTAssertEqual(try String(contentsOf: student.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n").count, 2)
    }

    /// `scn eval --calibrate` fits its temperature on the validation split with the same checkpoint: there, no nearby
    /// temperature (nor 1) gives a lower negative log-likelihood. `--temperature` scales `scn predict`'s probabilities.
    func testCalibratedTemperature() throws {
        let environment = ProcessInfo.processInfo.environment
        let shared = environment["SCN_SHARED_DATA"].map { URL(fileURLWithPath: $0) }
            ?? Self.root.deletingLastPathComponent().appendingPathComponent("shared/data")
        let ferplus = shared.appendingPathComponent("ferplus")
        guard FileManager.default.fileExists(atPath: ferplus.path) else {
            let message = "needs the shared test data at \(ferplus.path) (set SCN_SHARED_DATA to its folder)"
            if environment["CI"] == "true" { XCTFail(message) }
            throw XCTSkip(message)
        }
        let data = ["--dataset", "ferplus", "--data", ferplus.path, "--limit", "64"]
        let run = scratch.appendingPathComponent("run")
        let trained = try scn(["train"] + data + ["--run", run.path, "--epochs", "2", "--width", "4", "--stem", "small", "--input", "16",
                                                  "--batch-size", "16", "--lr", "0.05"])
        XCTAssertEqual(trained.status, 0, trained.output)
        let checkpoint = run.appendingPathComponent("last.safetensors").path
        func evaluation(_ options: [String]) throws -> [String: Any] {
            let result = try scn(["eval", "--checkpoint", checkpoint, "--json"] + data + options)
            XCTAssertEqual(result.status, 0, result.output)
            return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any], result.output)
        }
        let tested = try evaluation(["--split", "test", "--calibrate"])
        let temperature = try XCTUnwrap(tested["temperature"] as? Double, "\(tested)")
        XCTAssertEqual(tested["temperature_fitted_on"] as? String, "validation")
        XCTAssertNotNil((tested["calibrated"] as? [String: Double])?["expected_calibration_error"], "\(tested)")
        func validationLikelihood(_ temperature: Double) throws -> Double {
            let result = try evaluation(["--split", "validation", "--temperature", String(temperature)])
            XCTAssertNil(result["temperature_fitted_on"] as? String)
            return try XCTUnwrap((result["calibrated"] as? [String: Double])?["negative_log_likelihood"], "\(result)")
        }
        let fitted = try validationLikelihood(temperature)
        for other in [1, temperature * 1.2, temperature / 1.2] {
            XCTAssertLessThanOrEqual(fitted, try validationLikelihood(other) + 1e-9, "T = \(temperature) against \(other)")
        }
        XCTAssertEqual(try validationLikelihood(1), try evaluation(["--split", "validation"])["negative_log_likelihood"] as? Double)

        // Calibrating the ten-view average fits its own temperature.
        let tenViews = try evaluation(["--split", "test", "--calibrate", "--mirror-average", "--shift-average"])
        XCTAssertEqual(tenViews["shift_average"] as? Bool, true)
        XCTAssertEqual(tenViews["mirror_average"] as? Bool, true)
        XCTAssertNotEqual(tenViews["temperature"] as? Double, temperature)

        try assertFails(["eval", "--checkpoint", checkpoint, "--split", "validation", "--calibrate"] + data, saying: "--calibrate fits its temperature on the validation split")
        let faces = try faceFolder("faces", classes: 7, perClass: 1)
        let noValidation = try scn(["eval", "--checkpoint", checkpoint, "--dataset", "folder", "--data", faces.path, "--split", "train",
                                    "--calibrate"])
        XCTAssertNotEqual(noValidation.status, 0)
        XCTAssertTrue(noValidation.output.contains("folder has no validation split to fit a temperature on"), noValidation.output)
        try assertFails(["predict", "--checkpoint", checkpoint, "--temperature", "0", faces.path], saying: "--temperature 0.0: expected a positive number")

        // A very high temperature flattens the probabilities to uniform; the predicted expression stays.
        func prediction(_ options: [String]) throws -> [String: Any] {
            let result = try scn(["predict", "--checkpoint", checkpoint, "--json"] + options
                                 + [faces.appendingPathComponent("\(SyntheticFaces.classNames[0])/0.png").path])
            XCTAssertEqual(result.status, 0, result.output)
            return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any], result.output)
        }
        let plain = try prediction([]), flat = try prediction(["--temperature", "1e6"])
        XCTAssertEqual(flat["expression"] as? String, plain["expression"] as? String)
        for probability in (flat["probabilities"] as? [String: Double] ?? [:]).values { XCTAssertEqual(probability, 1.0 / 8, accuracy: 1e-4) }
        XCTAssertEqual((flat["probabilities"] as? [String: Double])?.count, 8)
    }

    func testConfigurationFileAndRelabelStop() throws {
        let faces = try faceFolder("faces", classes: 2, perClass: 4)
        let run = scratch.appendingPathComponent("configured-run")
        let options = ["--dataset", "folder", "--data", faces.path, "--run", run.path, "--epochs", "1", "--width", "4",
                       "--stem", "small", "--input", "16", "--batch-size", "4", "--validation-fraction", "0.25"]
        let file = scratch.appendingPathComponent("configuration.json")
        try Data(#"{"relabelStopEpoch": 12, "bogus": 1}"#.utf8).write(to: file)
        try assertFails(["train"] + options + ["--config", file.path], saying: "unknown key 'bogus'")
        try assertFails(["train"] + options + ["--relabel-stop", "10"], saying: "--relabel-stop 10 is not after the relabeling start (10)")
        try assertFails(["train"] + options + ["--weight-average", "1"], saying: "--weight-average 1.0: expected a decay in 0..<1")
        try assertFails(["train"] + options + ["--start-input", "32"], saying: "--start-input 32: expected a size from 8 to --input (16)")
        try assertFails(["train"] + options + ["--input-ramp-end", "1"], saying: "--input-ramp-end: give the first epoch's input size with --start-input")
        try assertFails(["train"] + options + ["--start-input", "8", "--input-ramp-end", "2"], saying: "--input-ramp-end 2: expected an epoch from 1 to --epochs (1)")
        try assertFails(["train"] + options + ["--no-importance-weighting", "--no-rank-regularization", "--relabel-start", "0"],
                        saying: "--no-importance-weighting --no-rank-regularization leave alpha untrained")

        // A setting that is nil by default (left out of configuration.json) is still a known key.
        try Data(#"{"relabelStopEpoch": 12, "relabelStartEpoch": 3, "weightAverageDecay": 0.5, "startInputSize": 8, "importanceWeighting": false}"#.utf8).write(to: file)
        let configured = try scn(["train"] + options + ["--config", file.path, "--no-rank-regularization", "--group-by", "loss"])
        XCTAssertEqual(configured.status, 0, configured.output)
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("configuration.json"))) as? [String: Any]
        XCTAssertEqual(saved?["relabelStopEpoch"] as? Int, 12)
        XCTAssertEqual(saved?["relabelStartEpoch"] as? Int, 3)
        XCTAssertEqual(saved?["weightAverageDecay"] as? Double, 0.5)
        XCTAssertEqual(saved?["startInputSize"] as? Int, 8)
        XCTAssertEqual(saved?["importanceWeighting"] as? Bool, false)
        XCTAssertEqual(saved?["rankRegularization"] as? Bool, false, "an option overrides the file's default")
        XCTAssertEqual(saved?["importanceGrouping"] as? String, "loss")
        XCTAssertEqual(saved?["inputRampEndEpoch"] as? Int, 1, "the ramp ends at half the epochs by default (at least 1)")
        let line = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        XCTAssertTrue(line.contains("validationAccuracyOfTrainedWeights"), "the average is validated beside the weights: \(line)")
    }

    func testTrainingThenClassCountMismatchAndNonImages() throws {
        let faces = try faceFolder("faces", classes: 2, perClass: 6)
        let run = scratch.appendingPathComponent("run")
        let trained = try scn(["train", "--dataset", "folder", "--data", faces.path, "--run", run.path, "--epochs", "1",
                               "--width", "4", "--stem", "small", "--input", "16", "--batch-size", "4", "--validation-fraction", "0.25"])
        XCTAssertEqual(trained.status, 0, trained.output)
        let checkpoint = run.appendingPathComponent("last.safetensors").path
        // Continuing a finished run without --resume is refused.
        try assertFails(["train", "--dataset", "folder", "--data", faces.path, "--run", run.path], saying: "already holds a run; add --resume")
        // The run records its data options, and resuming with other labels is refused by name.
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("data.json"))) as? [String: Any]
        XCTAssertEqual(record?["dataset"] as? String, "folder")
        XCTAssertEqual(record?["validationFraction"] as? Double, 0.25)
        XCTAssertEqual((record?["command"] as? [String])?.first.map { URL(fileURLWithPath: $0).lastPathComponent }, "scn")
        let noisier = try scn(["train", "--dataset", "folder", "--data", faces.path, "--run", run.path, "--resume",
                               "--noise", "0.3", "--validation-fraction", "0.25"])
        XCTAssertNotEqual(noisier.status, 0)
        XCTAssertTrue(noisier.output.contains("--noise: the run has none, this command 0.3"), noisier.output)
        // An ensemble of the checkpoint twice evaluates as the checkpoint; a missing member is named.
        func evaluation(_ checkpoints: [String]) throws -> [String: Any] {
            let result = try scn(["eval", "--dataset", "folder", "--data", faces.path, "--split", "train", "--json"]
                                 + checkpoints.flatMap { ["--checkpoint", $0] })
            XCTAssertEqual(result.status, 0, result.output)
            return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any], result.output)
        }
        let single = try evaluation([checkpoint]), pair = try evaluation([checkpoint, checkpoint])
        XCTAssertEqual(single["ensemble_size"] as? Int, 1)
        XCTAssertEqual(single["checkpoint"] as? String, checkpoint)
        XCTAssertEqual(pair["ensemble_size"] as? Int, 2)
        XCTAssertEqual(pair["checkpoint"] as? [String], [checkpoint, checkpoint])
        XCTAssertEqual(pair["accuracy"] as? Double, single["accuracy"] as? Double)
        XCTAssertEqual(pair["confusion_matrix"] as? [[Int]], single["confusion_matrix"] as? [[Int]])
        let missingMember = try scn(["eval", "--checkpoint", checkpoint, "--checkpoint", "/no/such.safetensors", "--dataset", "folder",
                                     "--data", faces.path])
        XCTAssertNotEqual(missingMember.status, 0)
        XCTAssertTrue(missingMember.output.contains("--checkpoint /no/such.safetensors: no such file"), missingMember.output)
        let ensemblePrediction = try scn(["predict", "--checkpoint", checkpoint, "--checkpoint", checkpoint, "--json",
                                          faces.appendingPathComponent("surprise/0.png").path])
        XCTAssertEqual(ensemblePrediction.status, 0, ensemblePrediction.output)
        XCTAssertTrue(ensemblePrediction.output.contains("\"certainty\""), ensemblePrediction.output)
        // Three classes against a two-class model.
        let more = try faceFolder("more", classes: 3, perClass: 2)
        try assertFails(["eval", "--checkpoint", checkpoint, "--dataset", "folder", "--data", more.path, "--split", "train"], saying: "the dataset has 3 classes")
        // An image that is not an image.
        let text = scratch.appendingPathComponent("notes.png")
        try "not a picture".write(to: text, atomically: true, encoding: .utf8)
        let predicted = try scn(["predict", "--checkpoint", checkpoint, text.path, faces.appendingPathComponent("surprise/0.png").path])
        XCTAssertEqual(predicted.status, 1)
        XCTAssertTrue(predicted.output.contains("notes.png: not a JPEG or PNG image"), predicted.output)
        XCTAssertTrue(predicted.output.contains("surprise/0.png"), "the good image is still predicted: \(predicted.output)")
        // An audit given another run's relabel log, with a label the checkpoint does not have.
        let otherRun = scratch.appendingPathComponent("other-run")
        try FileManager.default.createDirectory(at: otherRun, withIntermediateDirectories: true)
        try #"{"epoch":3,"file":"x.png","index":7,"margin":0.5,"newLabel":4,"oldLabel":1}"#.write(
            to: otherRun.appendingPathComponent("relabels.jsonl"), atomically: true, encoding: .utf8)
        let audit = try scn(["audit", "--checkpoint", checkpoint, "--dataset", "folder", "--data", faces.path, "--run", otherRun.path,
                             "--output", scratch.appendingPathComponent("audit").path])
        XCTAssertNotEqual(audit.status, 0)
        XCTAssertTrue(audit.output.contains("relabels.jsonl changes a label 1 -> 4 (epoch 3, sample 7), outside the checkpoint's 2 classes"),
                      audit.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("audit").path), "nothing written")
        // An audit ranks every sample; an ensemble of the checkpoint twice ranks them as the checkpoint alone.
        func suspects(_ checkpoints: [String], into name: String) throws -> [String] {
            let output = scratch.appendingPathComponent(name)
            let result = try scn(["audit", "--dataset", "folder", "--data", faces.path, "--split", "train", "--output", output.path,
                                  "--rank-by", "label-probability"] + checkpoints.flatMap { ["--checkpoint", $0] })
            XCTAssertEqual(result.status, 0, result.output)
            return try String(contentsOf: output.appendingPathComponent("suspects.csv"), encoding: .utf8)
                .split(separator: "\n").map(String.init)
        }
        let alone = try suspects([checkpoint], into: "audit-single"), twice = try suspects([checkpoint, checkpoint], into: "audit-pair")
        XCTAssertEqual(alone.first, "rank,index,file,label,suggested,margin,alpha,clean_label")
        XCTAssertEqual(alone.count, 1 + 12, "the header and the folder's 12 samples")
        XCTAssertEqual(twice, alone)
        // With another seed's checkpoint, each sample's alpha is the mean of the two models' alphas.
        let otherSeed = scratch.appendingPathComponent("run-seed2")
        let trainedAgain = try scn(["train", "--dataset", "folder", "--data", faces.path, "--run", otherSeed.path, "--epochs", "1", "--seed", "2",
                                    "--width", "4", "--stem", "small", "--input", "16", "--batch-size", "4", "--validation-fraction", "0.25"])
        XCTAssertEqual(trainedAgain.status, 0, trainedAgain.output)
        let other = otherSeed.appendingPathComponent("last.safetensors").path
        func alphas(_ rows: [String]) -> [Int: Double] {
            Dictionary(uniqueKeysWithValues: rows.dropFirst().map { row -> (Int, Double) in
                let fields = row.split(separator: ",", omittingEmptySubsequences: false)
                return (Int(fields[1])!, Double(fields[fields.count - 2])!)
            })
        }
        let first = alphas(alone), second = alphas(try suspects([other], into: "audit-seed2"))
        let mean = alphas(try suspects([checkpoint, other], into: "audit-mixed"))
        XCTAssertEqual(mean.count, 12)
        XCTAssertNotEqual(first, second, "two seeds give two models")
        for (index, alpha) in mean { XCTAssertEqual(alpha, (first[index]! + second[index]!) / 2, accuracy: 2e-4, "sample \(index)") }
        let missingAuditMember = try scn(["audit", "--checkpoint", checkpoint, "--checkpoint", "/no/such.safetensors", "--dataset", "folder",
                                          "--data", faces.path, "--output", scratch.appendingPathComponent("audit-missing").path])
        XCTAssertNotEqual(missingAuditMember.status, 0)
        XCTAssertTrue(missingAuditMember.output.contains("--checkpoint /no/such.safetensors: no such file"), missingAuditMember.output)
    }

    /// Two-fold cross-validation: each fold's run trains on the other fold; the audit and eval with
    /// --out-of-fold take every sample's outputs from the run that left it out; misuse is refused by name.
    /// `scn eval --predictions` then `scn compare`: the same accuracies as eval prints, and refusals of files
    /// of other samples or broken lines that name the file and line.
    func testPredictionFilesAndPairedComparison() throws {
        let faces = try faceFolder("faces", classes: 3, perClass: 6)
        let run = scratch.appendingPathComponent("run")
        let trained = try scn(["train", "--dataset", "folder", "--data", faces.path, "--run", run.path, "--epochs", "1", "--width", "4",
                               "--stem", "small", "--input", "16", "--batch-size", "4"])
        XCTAssertEqual(trained.status, 0, trained.output)
        let checkpoint = run.appendingPathComponent("last.safetensors").path
        func evaluate(_ options: [String], into name: String) throws -> (figures: [String: Any], file: String) {
            let file = scratch.appendingPathComponent(name).path
            let result = try scn(["eval", "--checkpoint", checkpoint, "--dataset", "folder", "--data", faces.path, "--split", "train",
                                  "--json", "--predictions", file] + options)
            XCTAssertEqual(result.status, 0, result.output)
            return (try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any], result.output), file)
        }
        let plain = try evaluate([], into: "plain.jsonl"), mirrored = try evaluate(["--mirror-average"], into: "mirrored.jsonl")
        let count = try XCTUnwrap(plain.figures["count"] as? Int)
        XCTAssertEqual(try String(contentsOfFile: plain.file, encoding: .utf8).split(separator: "\n").count, count)
        let interval = try XCTUnwrap(plain.figures["accuracy_interval"] as? [String: Double])
        let accuracy = try XCTUnwrap(plain.figures["accuracy"] as? Double)
        XCTAssertTrue(interval["lower"]! <= accuracy && accuracy <= interval["upper"]!, "\(interval) against \(accuracy)")

        let compared = try scn(["compare", plain.file, mirrored.file, "--json", "--resamples", "500"])
        XCTAssertEqual(compared.status, 0, compared.output)
        let comparison = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(compared.output.utf8)) as? [String: Any], compared.output)
        XCTAssertEqual(comparison["count"] as? Int, count)
        XCTAssertEqual(try XCTUnwrap(comparison["first_accuracy"] as? Double), accuracy, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(comparison["second_accuracy"] as? Double), try XCTUnwrap(mirrored.figures["accuracy"] as? Double), accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(comparison["first_mean_class_accuracy"] as? Double),
                       try XCTUnwrap(plain.figures["mean_class_accuracy"] as? Double), accuracy: 1e-12)
        XCTAssertNotNil(comparison["mc_nemar_p_value"] as? Double, compared.output)
        let text = try scn(["compare", plain.file, mirrored.file, "--resamples", "500"])
        XCTAssertEqual(text.status, 0, text.output)
        XCTAssertTrue(text.output.contains("\(count) images, the same in both files") && text.output.contains("McNemar's exact p ="), text.output)
        XCTAssertTrue(text.output.contains("per class (images, first, second") && text.output.contains("  " + SyntheticFaces.classNames[0].padding(toLength: 12, withPad: " ", startingAt: 0) + "    6  "), text.output)
        XCTAssertEqual((comparison["class_counts"] as? [Int])?.reduce(0, +), count, compared.output)

        // Two methods' runs of two seeds (here the same checkpoint twice): their pairs and the mean over them.
        let methods = try scn(["compare", "--first", plain.file, plain.file, "--second", mirrored.file, mirrored.file, "--json", "--resamples", "300"])
        XCTAssertEqual(methods.status, 0, methods.output)
        let overSeeds = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(methods.output.utf8)) as? [String: Any], methods.output)
        XCTAssertEqual((overSeeds["pairs"] as? [Any])?.count, 2, methods.output)
        XCTAssertEqual(overSeeds["first"] as? [String], [plain.file, plain.file])
        XCTAssertEqual(try XCTUnwrap(overSeeds["accuracy_difference"] as? Double), try XCTUnwrap(comparison["accuracy_difference"] as? Double), accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(overSeeds["accuracy_difference_standard_deviation"] as? Double), 0, methods.output)
        XCTAssertNotNil(overSeeds["accuracy_difference_bootstrap_interval"] as? [String: Double], methods.output)
        let methodsText = try scn(["compare", "--first", plain.file, plain.file, "--second", mirrored.file, mirrored.file, "--resamples", "300"])
        XCTAssertEqual(methodsText.status, 0, methodsText.output)
        for expected in ["2 pairs of runs", "pair 2: ", "over the seeds (Student t, 1 degree of freedom", "two-level bootstrap", "ahead in"] {
            XCTAssertTrue(methodsText.output.contains(expected), "\(expected) in \(methodsText.output)")
        }
        let onePair = try scn(["compare", "--first", plain.file, "--second", mirrored.file, "--json", "--resamples", "300"])
        XCTAssertEqual(onePair.status, 0, onePair.output)
        let onePairFigures = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(onePair.output.utf8)) as? [String: Any], onePair.output)
        XCTAssertTrue(onePairFigures["accuracy_difference_seed_interval"] is NSNull, onePair.output)
        XCTAssertTrue(onePairFigures["accuracy_difference_standard_deviation"] is NSNull, onePair.output)
        try assertFails(["compare", "--first", plain.file, plain.file, "--second", mirrored.file], saying: "--first has 2 files and --second 1")
        try assertFails(["compare", plain.file], saying: "expected two predictions files")

        // The training split's predictions file is also a teacher for distillation.
        let student = try scn(["train", "--dataset", "folder", "--data", faces.path, "--run", scratch.appendingPathComponent("student").path,
                               "--epochs", "1", "--width", "4", "--stem", "small", "--input", "16", "--batch-size", "4",
                               "--distill-from", plain.file])
        XCTAssertEqual(student.status, 0, student.output)

        // Predictions of fewer samples, a broken line, and options out of range are refused.
        let fewer = try scn(["eval", "--checkpoint", checkpoint, "--dataset", "folder", "--data", faces.path, "--split", "train", "--limit", "4",
                             "--predictions", scratch.appendingPathComponent("fewer.jsonl").path])
        XCTAssertEqual(fewer.status, 0, fewer.output)
        try assertFails(["compare", plain.file, scratch.appendingPathComponent("fewer.jsonl").path], saying: "not predictions for the same split")
        try assertFails(["compare", "--first", plain.file, plain.file, "--second", mirrored.file, scratch.appendingPathComponent("fewer.jsonl").path],
                        saying: "not predictions for the same split")
        var lines = try String(contentsOfFile: mirrored.file, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[1] = "{\"index\": 1"
        let broken = scratch.appendingPathComponent("broken.jsonl").path
        try lines.joined(separator: "\n").write(toFile: broken, atomically: true, encoding: .utf8)
        try assertFails(["compare", plain.file, broken], saying: "\(broken):2: not a JSON object")
        try assertFails(["compare", plain.file, scratch.appendingPathComponent("missing.jsonl").path], saying: "missing.jsonl: cannot be read")
        try assertFails(["compare", plain.file, mirrored.file, "--level", "95"], saying: "--level 95.0: expected a number between 0 and 1")
    }

    func testCrossValidationFoldsAndOutOfFoldAudit() throws {
        let faces = try faceFolder("faces", classes: 2, perClass: 8)
        let options = ["--dataset", "folder", "--data", faces.path, "--epochs", "1", "--width", "4", "--stem", "small", "--input", "16",
                       "--batch-size", "4", "--validation-fraction", "0.25", "--folds", "2", "--fold-seed", "3"]
        var checkpoints: [String] = []
        for fold in ["1", "2"] {
            let run = scratch.appendingPathComponent("fold\(fold)")
            let trained = try scn(["train", "--run", run.path, "--fold", fold] + options)
            XCTAssertEqual(trained.status, 0, trained.output)
            XCTAssertTrue(trained.output.contains("cross-validation: fold \(fold) of 2 (seed 3, 16 samples) left out, 8 samples left to train on"),
                          trained.output)
            XCTAssertTrue(trained.output.contains("loading 6 training and 2 validation images"), trained.output)
            checkpoints.append(run.appendingPathComponent("last.safetensors").path)
        }
        // Resuming a fold's run as another fold is refused.
        try assertFails(["train", "--run", scratch.appendingPathComponent("fold1").path, "--resume", "--fold", "2"] + options, saying: "--fold: the run has 1, this command 2")

        let evaluated = try scn(["eval", "--dataset", "folder", "--data", faces.path, "--split", "train", "--json", "--out-of-fold"]
                                + checkpoints.flatMap { ["--checkpoint", $0] })
        XCTAssertEqual(evaluated.status, 0, evaluated.output)
        let figures = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(evaluated.output.utf8)) as? [String: Any])
        XCTAssertEqual(figures["out_of_fold"] as? Bool, true)
        XCTAssertEqual(figures["count"] as? Int, 16)
        // The audit's alphas: each sample's is the alpha of the run that left it out (each run audited alone).
        func alphas(_ arguments: [String], into name: String) throws -> [Int: Double] {
            let output = scratch.appendingPathComponent(name)
            let result = try scn(["audit", "--dataset", "folder", "--data", faces.path, "--output", output.path] + arguments)
            XCTAssertEqual(result.status, 0, result.output)
            let rows = try String(contentsOf: output.appendingPathComponent("suspects.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
            return Dictionary(uniqueKeysWithValues: rows.map { row -> (Int, Double) in
                let fields = row.split(separator: ",", omittingEmptySubsequences: false)
                return (Int(fields[1])!, Double(fields[fields.count - 2])!)
            })
        }
        let outOfFold = try alphas(["--out-of-fold", "--checkpoint", checkpoints[1], "--checkpoint", checkpoints[0]], into: "audit-oof")
        let first = try alphas(["--checkpoint", checkpoints[0]], into: "audit-1"), second = try alphas(["--checkpoint", checkpoints[1]], into: "audit-2")
        let heldOutByFirst = CrossValidationFold(fold: 1, folds: 2, seed: 3, sampleCount: 16).heldOutIndices
        XCTAssertEqual(heldOutByFirst.count, 8)
        XCTAssertEqual(outOfFold.count, 16)
        XCTAssertNotEqual(first, second, "two folds, two models")
        for (index, alpha) in outOfFold { XCTAssertEqual(alpha, heldOutByFirst.contains(index) ? first[index]! : second[index]!, "sample \(index)") }

        let oneFold = try scn(["audit", "--dataset", "folder", "--data", faces.path, "--output", scratch.appendingPathComponent("audit-one").path,
                               "--out-of-fold", "--checkpoint", checkpoints[0]])
        XCTAssertNotEqual(oneFold.status, 0)
        XCTAssertTrue(oneFold.output.contains("out-of-fold outputs need all 2 folds' models; fold 2 missing"), oneFold.output)
        try assertFails(["train", "--run", scratch.appendingPathComponent("bad").path, "--dataset", "folder", "--data", faces.path, "--fold", "1"], saying: "--folds and --fold go together")
        try assertFails(["train", "--run", scratch.appendingPathComponent("bad").path, "--fold", "3"] + options, saying: "--folds 2 --fold 3: fold 3 of 2: expected 1 to 2")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("bad").path), "nothing written")
    }
}
