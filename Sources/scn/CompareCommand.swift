import ArgumentParser
import Foundation
import SCNMethod

/// `scn compare`: is one model more accurate than another on the same split, or is the difference chance?
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two models' predictions on the same split (the accuracy difference, its interval, McNemar's test), or two methods' runs of several seeds.",
        discussion: """
            Reads two files written by scn eval --predictions FILE (the same split, the same images in the \
            same order) and prints each model's accuracy with its Wilson interval, the difference (second \
            minus first) in accuracy and in mean class accuracy with paired bootstrap intervals (resampling \
            the images, seeded), the images only one model gets right, McNemar's exact p-value for them, and \
            both models' accuracy per class. \
            Paired intervals are narrower than the two accuracies' own: both models see the same \
            images. They speak of these two trained models on this split; whether a method is better than \
            another needs runs of several seeds: give them with --first and --second, the runs in the same \
            order of seeds (scn compare --first base-1.jsonl base-2.jsonl --second scn-1.jsonl scn-2.jsonl), \
            and it prints each pair's comparison, the mean difference over the pairs with a Student t interval \
            over the seeds and a two-level bootstrap interval (resampling the pairs and the images), and how \
            many pairs each method wins.
            """)

    @Argument(help: ArgumentHelp("Two predictions files (scn eval --predictions) of the same split: the first model's and the second's.",
                                 valueName: "first second"))
    var files: [String] = []
    @Option(parsing: .upToNextOption, help: ArgumentHelp("Instead of two files: the first method's runs' predictions, one per seed.", valueName: "file"))
    var first: [String] = []
    @Option(parsing: .upToNextOption, help: ArgumentHelp("The second method's runs' predictions, of the same seeds in the same order.", valueName: "file"))
    var second: [String] = []
    @Option(help: "The intervals' confidence, in (0, 1).") var level = 0.95
    @Option(help: "Bootstrap resamples (of the images; with --first and --second also of the pairs).") var resamples = 10_000
    @Option(help: "The bootstrap's random seed.") var seed: UInt64 = 1
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        if first.isEmpty && second.isEmpty {
            guard files.count == 2 else { throw ValidationError("expected two predictions files (or --first and --second), got \(files.count)") }
        } else {
            guard files.isEmpty else { throw ValidationError("give either two files or --first and --second, not both") }
            guard first.count == second.count else {
                throw ValidationError("--first has \(first.count) files and --second \(second.count): give one per seed to each, in the same order")
            }
        }
        guard level > 0 && level < 1 else { throw ValidationError("--level \(level): expected a number between 0 and 1, such as 0.95") }
        guard resamples >= 100 else { throw ValidationError("--resamples \(resamples): expected at least 100 (10,000 gives 2-3 significant digits)") }
    }

    func run() throws {
        guard files.count == 2 else { return try compareMethods() }
        let (first, second) = (files[0], files[1])
        let firstPredictions = try SplitPredictions.read(URL(fileURLWithPath: first))
        let secondPredictions = try SplitPredictions.read(URL(fileURLWithPath: second))
        let comparison = try firstPredictions.compared(with: secondPredictions, level: level, resamples: resamples, seed: seed)
        let classNames = firstPredictions.classNames
        if json { return try printJSON(comparison, first: first, second: second, classNames: classNames) }
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
        printClassAccuracies(classNames: classNames, counts: comparison.classCounts, first: comparison.firstClassAccuracies,
                             second: comparison.secondClassAccuracies, heading: "per class (images, first, second, second - first in points):")
    }

    /// `--first` and `--second`: the two methods' runs, pair by pair and over the pairs.
    private func compareMethods() throws {
        let firsts = try first.map { try SplitPredictions.read(URL(fileURLWithPath: $0)) }
        let seconds = try second.map { try SplitPredictions.read(URL(fileURLWithPath: $0)) }
        let comparison = try SplitPredictions.methodComparison(firsts: firsts, seconds: seconds, level: level, resamples: resamples, seed: seed)
        let classNames = firsts[0].classNames
        if json {
            // With one pair there is no spread over seeds: null, not a missing key.
            return try printJSON(comparison, first: first, second: second, classNames: classNames,
                                 nullWhereMissing: ["accuracy_difference_standard_deviation", "accuracy_difference_seed_interval",
                                                    "mean_class_accuracy_difference_seed_interval"])
        }
        let k = comparison.pairs.count
        print("\(comparison.count) images, the same in every file; \(k) pair\(k == 1 ? "" : "s") of runs (--first i against --second i)")
        for (i, pair) in comparison.pairs.enumerated() {
            print(String(format: "pair %d: first %.2f%%, second %.2f%%: ", i + 1, 100 * pair.firstAccuracy, 100 * pair.secondAccuracy)
                  + "\(points(pair.accuracyDifference)) (\(percent) paired interval \(interval(pair.accuracyDifferenceInterval, signed: true)), "
                  + String(format: "McNemar p = %.3g)", pair.mcNemarPValue))
            print("  first:  \(first[i])\n  second: \(second[i])")
        }
        print(String(format: "mean over the pairs: first %.2f%%, second %.2f%% (mean class accuracy %.2f%% and %.2f%%)", 100 * comparison.firstAccuracy,
                     100 * comparison.secondAccuracy, 100 * comparison.firstMeanClassAccuracy, 100 * comparison.secondMeanClassAccuracy))
        print("second - first: \(points(comparison.accuracyDifference)) points of accuracy, \(points(comparison.meanClassAccuracyDifference)) of mean class accuracy")
        if let seedInterval = comparison.accuracyDifferenceSeedInterval, let classInterval = comparison.meanClassAccuracyDifferenceSeedInterval,
           let deviation = comparison.accuracyDifferenceStandardDeviation {
            print("  over the seeds (Student t, \(k - 1) degree\(k == 2 ? "" : "s") of freedom; the pairs' differences spread "
                  + String(format: "%.2f", 100 * deviation) + " points): \(percent) interval \(interval(seedInterval, signed: true)); "
                  + "mean class \(interval(classInterval, signed: true))")
        } else {
            print("  over the seeds: needs two pairs or more")
        }
        print("  resampling the pairs and the images (two-level bootstrap, \(resamples) resamples, seed \(seed)): \(percent) interval "
              + "\(interval(comparison.accuracyDifferenceBootstrapInterval, signed: true)); mean class "
              + "\(interval(comparison.meanClassAccuracyDifferenceBootstrapInterval, signed: true))")
        print("the second method ahead in \(comparison.secondAheadCount) of \(k) pairs, the first in \(comparison.firstAheadCount)")
        printClassAccuracies(classNames: classNames, counts: comparison.pairs[0].classCounts, first: comparison.firstClassAccuracies,
                             second: comparison.secondClassAccuracies, heading: "per class, averaged over the runs (images, first, second, second - first in points):")
    }

    /// `comparison` as one JSON object (snake-case keys) with the files compared and the class names;
    /// `nullWhereMissing` keys the encoder left out (nil) are written as null.
    private func printJSON<Comparison: Encodable>(_ comparison: Comparison, first: Any, second: Any, classNames: [String],
                                                  nullWhereMissing: [String] = []) throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        var object = try JSONSerialization.jsonObject(with: try encoder.encode(comparison)) as! [String: Any]
        object["first"] = first
        object["second"] = second
        object["class_names"] = classNames
        for key in nullWhereMissing where object[key] == nil { object[key] = NSNull() }
        print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self))
    }

    private var percent: String { String(format: "%g%%", 100 * level) }
    private func points(_ value: Double) -> String { String(format: "%+.2f", 100 * value) }
    private func interval(_ range: ConfidenceInterval, signed: Bool) -> String {
        signed ? "\(points(range.lower)) to \(points(range.upper))" : String(format: "%.2f-%.2f%%", 100 * range.lower, 100 * range.upper)
    }

    private func printClassAccuracies(classNames: [String], counts: [Int], first: [Double?], second: [Double?], heading: String) {
        print(heading)
        for (c, name) in classNames.enumerated() {
            guard let firstClass = first[c], let secondClass = second[c] else { continue }
            print("  " + name.padding(toLength: 12, withPad: " ", startingAt: 0)
                  + String(format: "%5d  %6.2f%%  %6.2f%%  %+6.2f", counts[c], 100 * firstClass, 100 * secondClass, 100 * (secondClass - firstClass)))
        }
    }
}
