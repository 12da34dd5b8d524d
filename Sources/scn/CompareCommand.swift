import ArgumentParser
import Foundation
import SCNMethod

/// `scn compare`: is one model more accurate than another on the same split, or is the difference chance?
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two models' predictions on the same split: the accuracy difference, its interval, and McNemar's test.",
        discussion: """
            Reads two files written by scn eval --predictions FILE (the same split, the same images in the \
            same order) and prints each model's accuracy with its Wilson interval, the difference (second \
            minus first) in accuracy and in mean class accuracy with paired bootstrap intervals (resampling \
            the images, seeded), the images only one model gets right, McNemar's exact p-value for them, and \
            both models' accuracy per class. \
            Paired intervals are narrower than the two accuracies' own: both models see the same \
            images. They speak of these two trained models on this split; whether a method is better than \
            another needs runs of several seeds.
            """)

    @Argument(help: ArgumentHelp("The first model's predictions (scn eval --predictions).", valueName: "first"))
    var first: String
    @Argument(help: ArgumentHelp("The second model's predictions, of the same split.", valueName: "second"))
    var second: String
    @Option(help: "The intervals' confidence, in (0, 1).") var level = 0.95
    @Option(help: "Bootstrap resamples of the images.") var resamples = 10_000
    @Option(help: "The bootstrap's random seed.") var seed: UInt64 = 1
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard level > 0 && level < 1 else { throw ValidationError("--level \(level): expected a number between 0 and 1, such as 0.95") }
        guard resamples >= 100 else { throw ValidationError("--resamples \(resamples): expected at least 100 (10,000 gives 2-3 significant digits)") }
    }

    func run() throws {
        let firstPredictions = try SplitPredictions.read(URL(fileURLWithPath: first))
        let secondPredictions = try SplitPredictions.read(URL(fileURLWithPath: second))
        let comparison = try firstPredictions.compared(with: secondPredictions, level: level, resamples: resamples, seed: seed)
        let classNames = firstPredictions.classNames
        if json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.sortedKeys]
            var object = try JSONSerialization.jsonObject(with: try encoder.encode(comparison)) as! [String: Any]
            object["first"] = first
            object["second"] = second
            object["class_names"] = classNames
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self))
            return
        }
        let percent = String(format: "%g%%", 100 * level)
        func points(_ value: Double) -> String { String(format: "%+.2f", 100 * value) }
        func interval(_ range: ConfidenceInterval, signed: Bool) -> String {
            signed ? "\(points(range.lower)) to \(points(range.upper))" : String(format: "%.2f-%.2f%%", 100 * range.lower, 100 * range.upper)
        }
        let width = max(first.count, second.count)
        print("\(comparison.count) images, the same in both files")
        for (name, accuracy, range, meanClass) in [(first, comparison.firstAccuracy, comparison.firstAccuracyInterval, comparison.firstMeanClassAccuracy),
                                                   (second, comparison.secondAccuracy, comparison.secondAccuracyInterval, comparison.secondMeanClassAccuracy)] {
            print(name.padding(toLength: width, withPad: " ", startingAt: 0)
                  + String(format: "  accuracy %.2f%% (%@ interval %@), mean class accuracy %.2f%%", 100 * accuracy, percent,
                           interval(range, signed: false), 100 * meanClass))
        }
        print("second - first: \(points(comparison.accuracyDifference)) points of accuracy (\(percent) paired bootstrap interval "
              + "\(interval(comparison.accuracyDifferenceInterval, signed: true))), \(points(comparison.meanClassAccuracyDifference)) of mean "
              + "class accuracy (\(interval(comparison.meanClassAccuracyDifferenceInterval, signed: true))); \(resamples) resamples, seed \(seed)")
        print("only the first right on \(comparison.onlyFirstCorrect) images, only the second on \(comparison.onlySecondCorrect): "
              + String(format: "McNemar's exact p = %.3g", comparison.mcNemarPValue))
        print("per class (images, first, second, second - first in points):")
        for (c, name) in classNames.enumerated() {
            guard let firstClass = comparison.firstClassAccuracies[c], let secondClass = comparison.secondClassAccuracies[c] else { continue }
            print("  " + name.padding(toLength: 12, withPad: " ", startingAt: 0)
                  + String(format: "%5d  %6.2f%%  %6.2f%%  %+6.2f", comparison.classCounts[c], 100 * firstClass, 100 * secondClass,
                           100 * (secondClass - firstClass)))
        }
    }
}
