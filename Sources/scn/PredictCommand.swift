import ArgumentParser
import Foundation
import SCNData
import SCNMethod
import SCNTensor

/// `scn predict`: expressions, probabilities and certainty for image files and folders.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict the expression of face images (files or folders), with probabilities and certainty.",
        discussion: "Certainty is SCN's importance weight alpha in (0, 1): low for ambiguous or unclear faces.")

    @Option(help: ArgumentHelp("A checkpoint written by scn train; repeat it to predict with an ensemble (the mean of the checkpoints' probabilities and certainties).",
                               valueName: "file"))
    var checkpoint: [String]
    @Argument(help: "Image files (.jpg, .png) or folders of them.") var inputs: [String]
    @OptionGroup var viewOptions: TestTimeViewOptions
    @Option(help: ArgumentHelp("Scale the probabilities to this temperature: p^(1/T), normalized (fit one with scn eval --calibrate, with the same checkpoints and views). The predicted expression stays.",
                               valueName: "T"))
    var temperature: Double?
    @Flag(help: "Print one JSON object per image, one per line.") var json = false

    /// Images per forward pass.
    static let batchSize = 64

    func validate() throws {
        try checkTemperatureOption(temperature)
    }

    func run() throws {
        let ensemble = try ModelEnsemble(checkpointOptions: checkpoint)
        var files: [String] = []
        for input in inputs {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
                throw ValidationError("\(input): no such file or folder")
            }
            if isDirectory.boolValue {
                let enumerator = FileManager.default.enumerator(atPath: input)
                while let name = enumerator?.nextObject() as? String {
                    if ["jpg", "jpeg", "png"].contains((name as NSString).pathExtension.lowercased()) {
                        files.append((input as NSString).appendingPathComponent(name))
                    }
                }
            } else {
                files.append(input)
            }
        }
        var failures = 0
        func column(_ text: String, _ width: Int) -> String {
            text.count >= width ? String(text.suffix(width)) : text.padding(toLength: width, withPad: " ", startingAt: 0)
        }
        if !json { print(column("image", 40) + " " + column("expression", 10) + "   prob  certainty") }
        // Batches of images through the network (a folder of thousands, such as a teacher's predictions
        // for distillation, at batch speed); an unreadable file is reported and the others go on.
        // The models' weights are prepared for the convolutions once, not once per batch.
        let sorted = files.sorted()
        try FrozenWeights.whileFrozen { for start in stride(from: 0, to: sorted.count, by: Self.batchSize) {
            var decoded: [(file: String, image: DecodedImage)] = []
            for file in sorted[start..<min(start + Self.batchSize, sorted.count)] {
                do { decoded.append((file, try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: file)))) } catch {
                    failures += 1
                    printError("\(error)")
                }
            }
            let predictions = ensemble.predict(decoded.map(\.image), views: viewOptions.views)
            for ((file, _), prediction) in zip(decoded, predictions) {
                var p = prediction
                if let temperature { p.probabilities = TemperatureScaling(temperature: temperature).scaled(p.probabilities) }
                if json {
                    let object: [String: Any] = ["image": file, "expression": p.className, "label": p.label,
                                                 "probabilities": Dictionary(uniqueKeysWithValues: zip(ensemble.classNames, p.probabilities.map(Double.init))),
                                                 "certainty": Double(p.certainty)]
                    print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
                } else {
                    print(column(file, 40) + " " + column(p.className, 10)
                          + String(format: " %5.1f%%  %9.3f", 100 * p.probabilities[p.label], p.certainty))
                }
            }
        } }
        if failures > 0 { throw ExitCode(1) }
    }
}
