import Foundation
import SCNFormats
import SCNTensor

/// Why a state dictionary did not load into a module: every missing, unexpected and mis-shaped key.
public struct StateDictionaryError: Error, CustomStringConvertible {
    public var source: String
    public var missing: [String] = []
    public var unexpected: [String] = []
    public var mismatched: [(key: String, expected: [Int], found: [Int])] = []

    public var description: String {
        var lines = ["\(source): the state dictionary does not match the model"]
        if !missing.isEmpty { lines.append("  missing keys (\(missing.count)): " + missing.joined(separator: ", ")) }
        if !unexpected.isEmpty { lines.append("  unexpected keys (\(unexpected.count)): " + unexpected.joined(separator: ", ")) }
        for m in mismatched { lines.append("  \(m.key): model has shape \(m.expected), file has \(m.found)") }
        return lines.joined(separator: "\n")
    }
}

extension Module {
    /// Parameters and buffers (float) and integer buffers, PyTorch-named.
    public func stateDictionary() -> (tensors: [String: Tensor], integers: [String: Int]) {
        (Dictionary(uniqueKeysWithValues: namedTensors()), Dictionary(uniqueKeysWithValues: namedIntegerBuffers()))
    }

    /// Copies `tensors` into this module's parameters and buffers. Nothing is changed unless every
    /// key matches in name and shape (keys in `ignoring` may be absent or extra).
    public func load(tensors: [String: Tensor], integers: [String: Int] = [:], ignoring: Set<String> = [],
                     source: String) throws {
        let own = namedTensors()
        var error = StateDictionaryError(source: source)
        let ownKeys = Set(own.map(\.0))
        for (key, tensor) in own where !ignoring.contains(key) {
            guard let value = tensors[key] else { error.missing.append(key); continue }
            if value.shape != tensor.shape { error.mismatched.append((key, tensor.shape, value.shape)) }
        }
        let integerKeys = Set(namedIntegerBuffers().map(\.0))
        error.unexpected = tensors.keys.filter { !ownKeys.contains($0) && !ignoring.contains($0) && !integerKeys.contains($0) }.sorted()
        guard error.missing.isEmpty, error.unexpected.isEmpty, error.mismatched.isEmpty else { throw error }
        for (key, tensor) in own where !ignoring.contains(key) { if let value = tensors[key] { tensor.assign(value) } }
        func setIntegers(_ module: Module, prefix: String) {
            if let holder = module as? IntegerBufferHolding {
                for (name, _) in holder.integerBuffers {
                    let key = prefix.isEmpty ? name : "\(prefix).\(name)"
                    if let v = integers[key] { holder.setIntegerBuffer(name, v) }
                }
            }
            for (name, child) in module.namedChildren() { setIntegers(child, prefix: prefix.isEmpty ? name : "\(prefix).\(name)") }
        }
        setIntegers(self, prefix: "")
    }

    /// Saves parameters and buffers as safetensors (integer buffers as I64 scalars), atomically.
    public func save(to url: URL, metadata: [String: String] = [:]) throws {
        var writer = SafeTensorsWriter(metadata: metadata.merging(["format_version": "1"]) { a, _ in a })
        let state = stateDictionary()
        for (k, t) in state.tensors { writer.add(k, t) }
        for (k, v) in state.integers { writer.add(k, integers: [Int64(v)], shape: []) }
        try writer.write(to: url)
    }

    /// Loads a safetensors file written by `save(to:)` (or by PyTorch's `safetensors.torch.save_file`
    /// from a state dict with the same names). Refuses a partial load.
    public func load(from url: URL, ignoring: Set<String> = []) throws {
        let file = try SafeTensorsFile(contentsOf: url)
        var tensors: [String: Tensor] = [:], integers: [String: Int] = [:]
        for key in file.keys {
            if file.entries[key]!.dtype.isFloatingPoint {
                tensors[key] = try file.tensor(key)
            } else {
                integers[key] = Int(try file.integers(key).first ?? 0)
            }
        }
        try load(tensors: tensors, integers: integers, ignoring: ignoring, source: url.path)
    }
}
