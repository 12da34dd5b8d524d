import ArgumentParser
import Foundation
import SCNData

/// The dataset a command reads.
enum DatasetKind: String, ExpressibleByArgument, CaseIterable {
    /// FERPlus majority labels (Microsoft layout).
    case ferplus
    /// FER2013's original labels on the FERPlus images; clean labels = FERPlus majority.
    case fer2013
    /// RAF-DB basic expressions.
    case rafdb
    /// AffectNet's manually annotated set, 8 classes.
    case affectnet
    /// AffectNet without contempt, 7 classes.
    case affectnet7
    /// An image folder `root/<class>/<image>`.
    case folder
}

struct DatasetOptions: ParsableArguments {
    @Option(help: "Dataset: \(DatasetKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var dataset: DatasetKind = .ferplus

    @Option(help: "The dataset's root folder (FERPlus: the folder holding FER2013Train/; RAF-DB: the folder holding EmoLabel/ and Image/).")
    var data: String

    @Option(help: "Use only the first N samples of each split (quick runs).")
    var limit: Int?

    @Flag(help: "Skip images that cannot be decoded (reported) instead of stopping.")
    var skipBadImages = false

    func validate() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: data, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--data \(data): no such folder. Point it at the dataset's root folder.")
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    var root: URL { URL(fileURLWithPath: data) }

    /// The named split; `validation` where the dataset has none is carved from train by the caller.
    func load(split: String) throws -> ExpressionDataset? {
        var set: ExpressionDataset?
        switch (dataset, split) {
        case (.ferplus, "train"): set = try FERPlus.load(root: root, split: .train)
        case (.ferplus, "validation"): set = try FERPlus.load(root: root, split: .valid)
        case (.ferplus, "test"): set = try FERPlus.load(root: root, split: .test)
        case (.fer2013, "train"): set = try FERPlus.load(root: root, split: .train, labels: .fer2013Original)
        // Model selection and testing use the FERPlus majority: the point is to learn past FER2013's noise.
        case (.fer2013, "validation"): set = try FERPlus.load(root: root, split: .valid)
        case (.fer2013, "test"): set = try FERPlus.load(root: root, split: .test)
        case (.rafdb, "train"): set = try RAFDB.load(root: root, split: .train)
        case (.rafdb, "test"): set = try RAFDB.load(root: root, split: .test)
        case (.affectnet, "train"): set = try AffectNet.load(root: root, split: .training)
        // AffectNet's published validation set is its test set; selection carves from training.
        case (.affectnet, "test"): set = try AffectNet.load(root: root, split: .validation)
        case (.affectnet7, "train"): set = try AffectNet.load(root: root, split: .training, classCount: 7)
        case (.affectnet7, "test"): set = try AffectNet.load(root: root, split: .validation, classCount: 7)
        case (.folder, "train"): set = try ImageFolder.load(root: root)
        default: set = nil
        }
        if let limit, let s = set, s.count > limit { set = s.subset(Array(0..<limit)) }
        return set
    }

    /// Decodes `dataset`'s images as RGB, reporting skipped ones.
    func images(for dataset: inout ExpressionDataset) throws -> ImageStore {
        let store = try ImageStore.load(&dataset, mode: .rgb, skippingBadImages: skipBadImages)
        if !store.skipped.isEmpty {
            printError("skipped \(store.skipped.count) unreadable images of \(dataset.name):")
            for (_, error) in store.skipped.prefix(20) { printError("  \(error)") }
        }
        return store
    }
}

/// Writes a line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
