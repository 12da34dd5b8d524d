import Foundation
import SCNFormats
import SCNLayers
import SCNTensor

/// The layouts of pretrained files this package reads.
public enum PretrainedLayout: String, Sendable, CaseIterable {
    /// A torchvision ResNet state dict (`conv1.weight`, `layer1.0.bn1.running_mean`, `fc.weight`, ...).
    case torchvisionResNet
    /// The authors' SCN checkpoint: `{'iter', 'model_state_dict', 'optimizer_state_dict'}` with
    /// `features.N.*` (N = 0 conv1, 1 bn1, 4-7 layer1-4), `fc.*`, `alpha.0.*`.
    case officialSCN
    /// The MS-Celeb-1M ResNet-18 (`resnet18_msceleb.pth`): `{'state_dict': ...}` with `module.` prefixes,
    /// plus a 256-d `feature` layer and a face-identity classifier `fc`, both dropped.
    case msCelebResNet18
    /// A safetensors file saved by this package (`Module.save` or a training checkpoint's `model.*`).
    case project
}

/// What loading pretrained weights did.
public struct PretrainedLoadReport: CustomStringConvertible {
    public var layout: PretrainedLayout
    /// Model keys that received values.
    public var loaded: [String]
    /// File keys dropped on purpose (the layout's, and the user's).
    public var dropped: [String]
    /// Model keys left as initialized (class-specific heads; the margin, which is the new run's setting).
    public var initialized: [String]

    public var description: String {
        "\(layout.rawValue): loaded \(loaded.count) tensors; dropped \(dropped.count)"
            + (dropped.isEmpty ? "" : " (\(dropped.joined(separator: ", ")))")
            + "; left as initialized: " + (initialized.isEmpty ? "none" : initialized.joined(separator: ", "))
    }
}

/// Why pretrained weights did not load: every mismatch, with what to do.
public struct PretrainedLoadError: Error, CustomStringConvertible {
    public var file: String
    public var missing: [String] = []
    public var unexpected: [String] = []
    public var mismatched: [String] = []
    public var note: String?

    public var description: String {
        var lines = ["\(file): the weights do not match the model; nothing was loaded"]
        if !missing.isEmpty { lines.append("  missing in the file (\(missing.count)): " + missing.joined(separator: ", ")) }
        if !unexpected.isEmpty { lines.append("  not used by the model (\(unexpected.count)): " + unexpected.joined(separator: ", ")) }
        lines += mismatched.map { "  \($0)" }
        lines.append(note ?? "  to skip keys on purpose, name them with --init-drop (for example fc.weight,fc.bias)")
        return lines.joined(separator: "\n")
    }
}

/// Reads a pretrained file and maps its keys onto an `SCNModel`, refusing partial loads.
public enum PretrainedWeights {
    /// The file's tensors under their own keys (float32; integer buffers as integers), and its layout.
    public static func read(_ url: URL) throws -> (layout: PretrainedLayout, tensors: [String: Tensor], integers: [String: Int]) {
        if url.pathExtension == "safetensors" {
            let file = try SafeTensorsFile(contentsOf: url)
            var tensors: [String: Tensor] = [:], integers: [String: Int] = [:]
            // A training checkpoint: its weight average where it has one (what the run validated), else its model.
            let prefix = file.metadata["kind"] != "scn-checkpoint" ? "" : file.keys.contains { $0.hasPrefix("average.") } ? "average." : "model."
            for key in file.keys where key.hasPrefix(prefix) {
                let name = String(key.dropFirst(prefix.count))
                if file.entries[key]!.dtype.isFloatingPoint { tensors[name] = try file.tensor(key) } else {
                    integers[name] = Int(try file.integers(key).first ?? 0)
                }
            }
            if prefix.isEmpty && tensors.keys.contains("conv1.weight") { return (.torchvisionResNet, tensors, integers) }
            return (.project, tensors, integers)
        }
        let file = try PyTorchFile(contentsOf: url)
        var layout = PretrainedLayout.torchvisionResNet
        var dictionary = file.root
        if let inner = file.root["model_state_dict"] {
            layout = .officialSCN
            dictionary = inner
        } else if let inner = file.root["state_dict"] {
            layout = .msCelebResNet18
            dictionary = inner
        }
        guard let entries = dictionary.stringKeyedEntries else {
            throw SafeTensorsError(file: url.path, reason: "no state dictionary at the top level, in 'model_state_dict' or in 'state_dict'")
        }
        var tensors: [String: Tensor] = [:], integers: [String: Int] = [:]
        for (key, value) in entries {
            guard case .tensor(let t) = value else { continue }
            switch t.dtype {
            case .float32, .float64, .float16, .bfloat16: tensors[key] = try file.floatTensor(t, key: key)
            case .int64, .int32:
                let values = try file.integers(t, key: key)
                guard values.count == 1 else { throw SafeTensorsError(file: url.path, key: key, reason: "integer tensor of \(values.count) elements") }
                integers[key] = Int(values[0])
            default:
                throw SafeTensorsError(file: url.path, key: key, reason: "dtype \(t.dtype) is not a weight type")
            }
        }
        if layout == .torchvisionResNet, tensors.keys.contains(where: { $0.hasPrefix("module.") }) { layout = .msCelebResNet18 }
        return (layout, tensors, integers)
    }

    /// The model key for a file key under `layout`, or nil when the layout drops the key.
    public static func modelKey(_ key: String, layout: PretrainedLayout) -> String? {
        switch layout {
        case .project: return key
        case .torchvisionResNet: return "backbone." + key
        case .msCelebResNet18:
            let name = key.hasPrefix("module.") ? String(key.dropFirst(7)) : key
            if name.hasPrefix("feature.") || name.hasPrefix("fc.") { return nil }  // 256-d embedding, identity classifier
            return "backbone." + name
        case .officialSCN:
            if key.hasPrefix("alpha.0.") { return "importance." + key.dropFirst(8) }
            if key.hasPrefix("fc.") { return "backbone." + key }
            guard key.hasPrefix("features.") else { return "?" + key }
            let rest = key.dropFirst(9)
            guard let dot = rest.firstIndex(of: "."), let n = Int(rest[..<dot]) else { return "?" + key }
            let names = [0: "conv1", 1: "bn1", 4: "layer1", 5: "layer2", 6: "layer3", 7: "layer4"]
            guard let name = names[n] else { return "?" + key }
            return "backbone.\(name)" + rest[dot...]
        }
    }

    /// Loads `url` into `model`. Every file key must map to a model key of the same shape (or be dropped by
    /// the layout or by `dropping`), and every backbone key except the classifier must be given; otherwise
    /// nothing changes and the error lists every mismatch.
    @discardableResult
    public static func load(_ url: URL, into model: SCNModel, dropping: Set<String> = []) throws -> PretrainedLoadReport {
        let (layout, tensors, integers) = try read(url)
        let own = Dictionary(uniqueKeysWithValues: model.namedTensors())
        let ownIntegers = Set(model.namedIntegerBuffers().map(\.0))
        var error = PretrainedLoadError(file: url.path)
        var mapped: [String: Tensor] = [:], mappedIntegers: [String: Int] = [:], dropped: [String] = []
        for (key, tensor) in tensors.sorted(by: { $0.key < $1.key }) {
            if dropping.contains(key) { dropped.append(key); continue }
            // The rank loss's margin is a setting of the run that starts here (--margin), not a weight.
            guard let target = modelKey(key, layout: layout), target != "margin" else { dropped.append(key); continue }
            guard let mine = own[target] else { error.unexpected.append(key); continue }
            guard mine.shape == tensor.shape else {
                error.mismatched.append("\(key) -> \(target): file has shape \(tensor.shape), model \(mine.shape)")
                continue
            }
            mapped[target] = tensor
        }
        for (key, value) in integers {
            if let target = modelKey(key, layout: layout), ownIntegers.contains(target) { mappedIntegers[target] = value }
        }
        // Heads that a pretrained backbone does not have, or that are class-specific.
        let optional: Set<String> = ["importance.weight", "importance.bias", "importance_label_weight", "margin", "backbone.fc.weight", "backbone.fc.bias"]
        let required = own.keys.filter { !optional.contains($0) }
        error.missing = required.filter { mapped[$0] == nil }.sorted()
        if layout == .msCelebResNet18 && !error.mismatched.isEmpty {
            error.note = "  the MS-Celeb file's backbone must be a ResNet-18 of the standard width with the ImageNet stem"
        }
        guard error.missing.isEmpty, error.unexpected.isEmpty, error.mismatched.isEmpty else { throw error }
        for (key, tensor) in mapped { own[key]!.assign(tensor) }
        // The batch-norm layers' num_batches_tracked counters.
        try model.load(tensors: [:], integers: mappedIntegers, ignoring: Set(own.keys), source: url.path)
        return PretrainedLoadReport(layout: layout, loaded: mapped.keys.sorted(), dropped: dropped,
                                    initialized: own.keys.filter { mapped[$0] == nil }.sorted())
    }
}
