import ArgumentParser
import Foundation
import SCNFormats

/// What a training run read and how its labels were made: the data half of a run's configuration
/// (`configuration.json` holds the training half). Written as `data.json` in the run directory when a
/// run starts, and checked when it resumes, so a resumed run reads the same data with the same noise.
struct RunDataRecord: Codable, Equatable {
    var dataset: String
    /// The dataset root as given (a resumed run may read it from another path).
    var data: String
    var limit: Int?
    var skipBadImages: Bool
    /// Injected noise rate (nil: none).
    var noise: Double?
    var noiseMode: String?
    var noiseList: String?
    var noiseListBase: Int?
    var validationFraction: Double
    /// Cross-validation: the number of folds, the one left out of training, and the split's seed (nil: none).
    var folds: Int?
    var fold: Int?
    var foldSeed: UInt64?
    /// Distillation: the teacher's predictions (`scn train --distill-from`) and a hash of the file's bytes.
    var distillFrom: String?
    var distillFromDigest: String?
    var initFrom: String?
    var initDrop: String?
    /// The checkpoint of another run this run was forked from (`scn train --fork`).
    var forkedFrom: String?
    /// The command line that started the run.
    var command: [String]

    static let fileName = "data.json"

    /// The options that decide which samples and labels the run trains on, by their command-line names.
    private var labelDefiningOptions: [(String, String)] {
        [("--dataset", dataset), ("--limit", limit.map(String.init) ?? "none"), ("--skip-bad-images", String(skipBadImages)),
         ("--noise", noise.map { String($0) } ?? "none"), ("--noise-mode", noise == nil ? "none" : noiseMode ?? "none"),
         ("--noise-list", noiseList ?? "none"), ("--noise-list-base", noiseList == nil ? "none" : String(noiseListBase ?? 0)),
         ("--validation-fraction", String(validationFraction)), ("--folds", folds.map(String.init) ?? "none"),
         ("--fold", fold.map(String.init) ?? "none"), ("--fold-seed", foldSeed.map { String($0) } ?? "none"),
         ("--distill-from", distillFrom ?? "none")]
    }

    /// The label-defining options that differ between this (the run's record) and `current`, described for
    /// an error message; empty when the two read the same samples with the same labels.
    func differences(from current: RunDataRecord) -> [String] {
        zip(labelDefiningOptions, current.labelDefiningOptions).compactMap { saved, now in
            saved.1 == now.1 ? nil : "\(saved.0): the run has \(saved.1), this command \(now.1)"
        }
    }

    func write(to runDirectory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: runDirectory.appendingPathComponent(Self.fileName))
    }

    /// The record in `runDirectory`, or nil for runs started before records were written.
    static func read(from runDirectory: URL) throws -> RunDataRecord? {
        let url = runDirectory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try JSONDecoder().decode(RunDataRecord.self, from: Data(contentsOf: url))
        } catch {
            throw ValidationError("\(url.path): not a readable data record (\(error))")
        }
    }
}
