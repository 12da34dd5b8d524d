import Foundation
import SCNKernels

/// Convolution weights prepared once and reused while a model's weights cannot change: inside
/// `whileFrozen`, every `conv2d` on this thread packs its weights for the tap method, or reorders them
/// into oneDNN's layout, on the first call for a weight tensor and geometry and reuses them on the next,
/// instead of on every call. For inference over many batches (validation, `scn eval`, `predict`); the
/// results of `conv2d` are bit-identical to those without it. Models keep larger preparations here too
/// (`prepared(for:make:)`): a ResNet in evaluation mode runs as a fused chain inside `whileFrozen`, whose
/// results agree with the layer path to float rounding, not bit for bit (SCNLayers' `ResNetInferenceChain`).
public enum FrozenWeights {
    /// One thread's prepared weights, by weight tensor, geometry and precision. Each entry holds the
    /// weight's storage, so its address cannot be reused for other weights while the entry lives.
    final class Store {
        struct Key: Hashable {
            let weight: ObjectIdentifier
            let geometry: ConvolutionGeometry
            let precision: ConvolutionPrecision
        }
        var entries: [Key: (weight: Storage, cache: ConvolutionWeightCache)] = [:]
        /// Objects prepared from a model's weights (`prepared(for:make:)`), each with the model it was made from.
        var prepared: [ObjectIdentifier: (owner: AnyObject, object: AnyObject)] = [:]
    }

    private static let threadKey = "SCNTensor.FrozenWeights"

    /// Runs `body` with convolution weights prepared once per weight tensor and geometry, and frees the
    /// prepared copies (about one copy of the weights) when it returns. The caller promises that no weight a
    /// convolution inside reads changes while `body` runs (no optimizer step, no loading into the model);
    /// other threads are not affected. Nested calls share the outermost one's copies.
    public static func whileFrozen<R>(_ body: () throws -> R) rethrows -> R {
        let dictionary = Thread.current.threadDictionary
        if dictionary[threadKey] != nil { return try body() }
        dictionary[threadKey] = Store()
        defer { dictionary.removeObject(forKey: threadKey) }
        return try body()
    }

    /// Whether the calling thread is inside `whileFrozen`.
    public static var isActive: Bool { Thread.current.threadDictionary[threadKey] != nil }

    /// The object prepared from `owner`'s weights (a fused inference chain), made by `make` on the first
    /// request on this thread inside `whileFrozen` and kept, with `owner`, until the outermost `whileFrozen`
    /// returns; nil outside `whileFrozen`. One object per owner.
    public static func prepared<T: AnyObject>(for owner: AnyObject, make: () -> T) -> T? {
        guard let store = Thread.current.threadDictionary[threadKey] as? Store else { return nil }
        let key = ObjectIdentifier(owner)
        if let object = store.prepared[key]?.object as? T { return object }
        let object = make()
        store.prepared[key] = (owner, object)
        return object
    }

    /// The kept preparation of `weight` for `geometry` and `precision`, or nil outside `whileFrozen`.
    static func cache(for weight: Tensor, geometry: ConvolutionGeometry, precision: ConvolutionPrecision) -> ConvolutionWeightCache? {
        guard let store = Thread.current.threadDictionary[threadKey] as? Store else { return nil }
        let key = Store.Key(weight: ObjectIdentifier(weight.storage), geometry: geometry, precision: precision)
        if let entry = store.entries[key] { return entry.cache }
        let cache = ConvolutionWeightCache(keepsReorderedWeights: true)
        store.entries[key] = (weight.storage, cache)
        return cache
    }
}
