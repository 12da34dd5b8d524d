import ArgumentParser
import Foundation
import SCNData

/// `scn noise`: writes a noisy copy of a dataset's training labels as a list file.
struct NoiseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "noise",
        abstract: "Write a label list with injected noise (the SCN paper's per-class protocol), clean labels beside.",
        discussion: """
            In every class exactly round(rate * n) samples, chosen with the seed, get a wrong label: one drawn \
            uniformly from the other classes (symmetric) or the next class (pairFlip). Each row is \
            '<image> <noisy label> <clean label>'; RAF-DB lists use its 1-7 labels, others 0-based. Train on it \
            with scn train --noise-list FILE. Prints the realized rate overall and per class.
            """)

    @OptionGroup var data: DatasetOptions
    @Option(help: "Fraction of every class to mislabel, in [0, 1).") var rate: Double
    @Option(help: "symmetric or pairFlip.") var mode: LabelNoise.Mode = .symmetric
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "The list file to write.") var output: String

    func run() throws {
        guard rate >= 0 && rate < 1 else { throw ValidationError("--rate must be in [0, 1)") }
        guard let train = try data.load(split: "train") else { throw ValidationError("\(data.dataset) has no training split") }
        let noisy = LabelNoise.inject(into: train.labels, classCount: train.classCount, rate: rate, mode: mode, seed: seed)
        let base = data.dataset == .rafdb ? 1 : 0
        let rows = train.imagePaths.indices.map { i -> (path: String, label: Int, cleanLabel: Int?) in
            let path = data.dataset == .rafdb
                ? ((train.imagePaths[i] as NSString).lastPathComponent as NSString).deletingPathExtension
                    .replacingOccurrences(of: "_aligned", with: "") + ".jpg"
                : String(train.imagePaths[i].dropFirst(data.root.path.count + 1))
            return (path, noisy[i], train.labels[i])
        }
        try ListFile.write(rows, to: URL(fileURLWithPath: output), labelBase: base)
        let rates = LabelNoise.realizedRates(noisy: noisy, clean: train.labels, classCount: train.classCount)
        print(String(format: "wrote %d rows to %@: %.2f%% of labels changed", rows.count, output, 100 * rates.overall))
        for (name, r) in zip(train.classNames, rates.perClass) {
            print("  " + name.padding(toLength: 12, withPad: " ", startingAt: 0) + String(format: "%.2f%%", 100 * r))
        }
    }
}
