import ArgumentParser
import Foundation
import SCNMethod

extension ModelEnsemble {
    /// The ensemble of the checkpoint files given as repeated `--checkpoint` options (one file: that
    /// model alone); a missing file is named before any is read.
    init(checkpointOptions paths: [String]) throws {
        guard !paths.isEmpty else { throw ValidationError("--checkpoint: expected at least one checkpoint file") }
        for path in paths where !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("--checkpoint \(path): no such file")
        }
        try self.init(checkpoints: paths.map { URL(fileURLWithPath: $0) })
    }
}
