import Foundation

/// A teacher's class probabilities for image files, read from the JSON lines `scn predict --json` prints
/// (one object per image: `"image"`, its path, and `"probabilities"`, class name to probability), for
/// training a student against them (distillation: `scn train --distill-from`).
public struct TeacherPredictions: Sendable {
    /// The file the predictions were read from.
    public let file: String
    /// Probability rows in the dataset's class order, by canonical image path (`canonicalPath`).
    public let rows: [String: [Float]]
    /// A 64-bit FNV-1a hash of the file's bytes (hexadecimal), to tell whether a resumed run reads the same file.
    public let digest: String

    /// Reads the predictions in `url` for a dataset with `classNames`. Every line must be one JSON object
    /// with an image path and a probability for each of exactly these classes (non-negative, summing to 1
    /// within 1e-3); an image may appear once. Relative image paths are read against the current directory,
    /// as `scn predict` was given them.
    public static func read(_ url: URL, classNames: [String]) throws -> TeacherPredictions {
        let file = url.path
        let data = try JSONLines.contents(of: url)
        var rows: [String: [Float]] = [:]
        try JSONLines.forEachObject(in: data, file: file, expected: "a line of scn predict --json") { object, fail in
            guard let image = object["image"] as? String, !image.isEmpty else { throw fail("no \"image\" path") }
            guard let probabilities = object["probabilities"] as? [String: Any] else { throw fail("no \"probabilities\" object") }
            let unknown = Set(probabilities.keys).subtracting(classNames)
            guard unknown.isEmpty else {
                throw fail("class \(unknown.sorted().map { "'\($0)'" }.joined(separator: ", ")) is not one of the dataset's (\(classNames.joined(separator: ", ")))")
            }
            var row: [Float] = []
            for name in classNames {
                guard let value = (probabilities[name] as? NSNumber)?.doubleValue else { throw fail("no probability for class '\(name)'") }
                guard value.isFinite, value >= 0, value <= 1 else { throw fail("probability \(value) of class '\(name)' is not in [0, 1]") }
                row.append(Float(value))
            }
            let sum = row.reduce(0, +)
            guard abs(sum - 1) <= 1e-3 else { throw fail("the probabilities sum to \(sum), not 1") }
            let key = canonicalPath(image)
            guard rows.updateValue(row.map { $0 / sum }, forKey: key) == nil else { throw fail("image \(image) appears a second time") }
        }
        guard !rows.isEmpty else { throw DataError(file: file, reason: "holds no predictions") }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return TeacherPredictions(file: file, rows: rows, digest: String(hash, radix: 16))
    }

    /// The rows for `dataset`'s samples, in sample order; throws naming the first image the file has no
    /// prediction for, and how many it lacks.
    public func distributions(for dataset: ExpressionDataset) throws -> [[Float]] {
        var out: [[Float]] = []
        out.reserveCapacity(dataset.count)
        var missing: [String] = []
        for path in dataset.imagePaths {
            if let row = rows[Self.canonicalPath(path)] { out.append(row) } else { missing.append(path) }
        }
        guard missing.isEmpty else {
            throw DataError(file: file, reason: "has no prediction for \(missing.count) of the \(dataset.count) training images of \(dataset.name), "
                                + "the first \(missing[0]) (run scn predict --json on the training images)")
        }
        return out
    }

    /// `path` made absolute (against the current directory), with `.`, `..` and symbolic links resolved.
    public static func canonicalPath(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
}
