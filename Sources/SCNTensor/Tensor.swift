import SCNKernels

/// How a 4-D tensor's elements are laid out in memory. The logical shape is always PyTorch's
/// `[N, C, H, W]`; `channelsLast` stores it as `[N, H, W, C]`, the layout oneDNN convolves fastest
/// without blocked reorders between layers.
public enum MemoryFormat: Sendable {
    case contiguous
    case channelsLast
}

/// The float buffer behind a tensor. Buffers come from and return to `BufferPool.shared`.
public final class Storage {
    public let count: Int
    public let data: UnsafeMutablePointer<Float>
    private let capacity: Int

    /// An uninitialized buffer of `count` floats.
    public init(count: Int) {
        self.count = count
        (data, capacity) = BufferPool.shared.acquire(count)
    }

    deinit { BufferPool.shared.release(data, capacity: capacity) }
}

/// An n-dimensional array of `Float` that records the operations applied to it for reverse-mode
/// differentiation.
///
/// Tensors are reference types: a parameter is updated in place by an optimizer and every graph that
/// uses it sees the new values. Operations never modify their inputs.
public final class Tensor {
    /// Logical sizes, outermost first (PyTorch's order, `[N, C, H, W]` for images).
    public let shape: [Int]
    public let memoryFormat: MemoryFormat
    public let storage: Storage
    /// Whether gradients flow to this tensor. Set it on leaves (parameters); operation results
    /// inherit it from their inputs.
    public var requiresGrad: Bool
    /// The accumulated gradient of a leaf after `backward()`; same shape and format as the tensor.
    public var grad: Tensor?
    var gradientFunction: GradientFunction?

    /// A tensor over existing storage (no copy).
    public init(shape: [Int], storage: Storage, memoryFormat: MemoryFormat = .contiguous, requiresGrad: Bool = false) {
        precondition(shape.reduce(1, *) <= storage.count,
                     "Tensor: shape \(shape) needs \(shape.reduce(1, *)) elements, storage has \(storage.count)")
        precondition(memoryFormat == .contiguous || shape.count == 4,
                     "Tensor: channelsLast needs a 4-D shape, got \(shape)")
        self.shape = shape
        self.storage = storage
        self.memoryFormat = memoryFormat
        self.requiresGrad = requiresGrad
    }

    /// An uninitialized tensor.
    public convenience init(uninitializedShape shape: [Int], memoryFormat: MemoryFormat = .contiguous) {
        self.init(shape: shape, storage: Storage(count: shape.reduce(1, *)), memoryFormat: memoryFormat)
    }

    /// A contiguous tensor holding `values` in row-major order.
    public convenience init(_ values: [Float], shape: [Int], requiresGrad: Bool = false) {
        precondition(values.count == shape.reduce(1, *),
                     "Tensor: \(values.count) values do not fill shape \(shape)")
        self.init(uninitializedShape: shape)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: values.count) }
        self.requiresGrad = requiresGrad
    }

    /// A scalar (shape `[]`).
    public convenience init(scalar: Float) { self.init([scalar], shape: []) }

    public static func zeros(_ shape: [Int], memoryFormat: MemoryFormat = .contiguous) -> Tensor {
        full(shape, value: 0, memoryFormat: memoryFormat)
    }

    public static func ones(_ shape: [Int]) -> Tensor { full(shape, value: 1) }

    public static func full(_ shape: [Int], value: Float, memoryFormat: MemoryFormat = .contiguous) -> Tensor {
        let t = Tensor(uninitializedShape: shape, memoryFormat: memoryFormat)
        t.data.update(repeating: value, count: t.count)
        return t
    }

    /// Element count.
    public var count: Int { shape.reduce(1, *) }
    public var rank: Int { shape.count }
    /// The first element of the storage, in `memoryFormat` order.
    public var data: UnsafeMutablePointer<Float> { storage.data }
    /// Whether this tensor is the result of a recorded operation (not a leaf).
    public var hasGradientFunction: Bool { gradientFunction != nil }

    /// The elements in logical row-major order (converting from channels-last if needed).
    public var scalars: [Float] {
        let source = memoryFormat == .contiguous ? self : contiguous().detached()
        return Array(UnsafeBufferPointer(start: source.data, count: count))
    }

    /// The single element of a one-element tensor.
    public func item() -> Float {
        precondition(count == 1, "item(): tensor of shape \(shape) has \(count) elements")
        return data[0]
    }

    /// A tensor sharing this one's storage with gradients not tracked.
    public func detached() -> Tensor {
        Tensor(shape: shape, storage: storage, memoryFormat: memoryFormat)
    }

    /// A new tensor with a copy of the data, not tracked.
    public func copy() -> Tensor {
        let t = Tensor(uninitializedShape: shape, memoryFormat: memoryFormat)
        t.data.update(from: data, count: count)
        return t
    }

    /// Overwrites this tensor's elements with `other`'s (same shape), in place and untracked.
    public func assign(_ other: Tensor) {
        precondition(other.shape == shape, "assign: shape \(other.shape) into \(shape)")
        let source = other.memoryFormat == memoryFormat ? other
            : (memoryFormat == .contiguous ? other.contiguous() : other.toChannelsLast())
        data.update(from: source.data, count: count)
    }

    /// Sets this tensor's gradient to nil.
    public func zeroGrad() { grad = nil }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let values = scalars
        let shown = values.prefix(8).map { String(format: "%.5g", $0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(values.count > 8 ? ", ..." : "")])"
    }
}
