import SCNTensor

/// A network building block. Parameters, buffers and child modules are found by reflection over stored
/// properties and named with PyTorch's dotted keys: a property `runningMean` of child `bn1` is
/// `bn1.running_mean`, the third module of a `Sequential` stored as `layer1` is `layer1.2`.
///
/// Tensors with `requiresGrad` are parameters; other tensors are buffers (running statistics).
open class Module {
    /// Training mode (batch statistics, dropout) or evaluation mode.
    public private(set) var isTraining = true

    public init() {}

    /// Child modules and tensors under their PyTorch names, in declaration order.
    open func namedMembers() -> [(String, Any)] {
        var members: [(String, Any)] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        var levels: [[(String, Any)]] = []
        while let m = mirror {
            levels.append(m.children.compactMap { child in
                guard let label = child.label, label != "isTraining" else { return nil }
                return (snakeCase(label), child.value)
            })
            mirror = m.superclassMirror
        }
        for level in levels.reversed() { members += level }
        return members
    }

    /// Every child module with its key, direct children only.
    public func namedChildren() -> [(String, Module)] {
        namedMembers().compactMap { name, value in
            if let module = value as? Module { return (name, module) }
            if let optional = value as? Module?, let module = optional { return (name, module) }
            return nil
        }
    }

    /// Every tensor of this module and its descendants, keyed by dotted path.
    public func namedTensors(prefix: String = "") -> [(String, Tensor)] {
        var result: [(String, Tensor)] = []
        for (name, value) in namedMembers() {
            let key = prefix.isEmpty ? name : "\(prefix).\(name)"
            if let tensor = value as? Tensor {
                result.append((key, tensor))
            } else if let optional = value as? Tensor?, let tensor = optional {
                result.append((key, tensor))
            } else if let module = value as? Module {
                result += module.namedTensors(prefix: key)
            } else if let optional = value as? Module?, let module = optional {
                result += module.namedTensors(prefix: key)
            }
        }
        return result
    }

    /// Trainable tensors, keyed by dotted path.
    public func namedParameters() -> [(String, Tensor)] { namedTensors().filter { $0.1.requiresGrad } }

    /// Non-trainable state (running statistics), keyed by dotted path.
    public func namedBuffers() -> [(String, Tensor)] { namedTensors().filter { !$0.1.requiresGrad } }

    public var parameters: [Tensor] { namedParameters().map(\.1) }

    /// Integer state that PyTorch stores beside the tensors (`num_batches_tracked`), keyed by path.
    public func namedIntegerBuffers(prefix: String = "") -> [(String, Int)] {
        var result: [(String, Int)] = []
        if let counting = self as? IntegerBufferHolding {
            for (name, value) in counting.integerBuffers {
                result.append((prefix.isEmpty ? name : "\(prefix).\(name)", value))
            }
        }
        for (name, child) in namedChildren() {
            result += child.namedIntegerBuffers(prefix: prefix.isEmpty ? name : "\(prefix).\(name)")
        }
        return result
    }

    /// Sets training or evaluation mode here and in every descendant.
    public func train(_ on: Bool = true) {
        isTraining = on
        for (_, child) in namedChildren() { child.train(on) }
    }

    /// Evaluation mode (`train(false)`).
    public func eval() { train(false) }

    /// Clears every parameter's gradient.
    public func zeroGrad() { for p in parameters { p.grad = nil } }

    /// The number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
}

/// A module with integer state saved beside its tensors.
public protocol IntegerBufferHolding: AnyObject {
    var integerBuffers: [(String, Int)] { get }
    func setIntegerBuffer(_ name: String, _ value: Int)
}

/// `runningMean` -> `running_mean`.
func snakeCase(_ name: String) -> String {
    var out = ""
    for ch in name {
        if ch.isUppercase {
            out += "_" + ch.lowercased()
        } else {
            out.append(ch)
        }
    }
    return out
}

/// A module that maps one tensor to one tensor.
public protocol Layer: Module {
    func callAsFunction(_ x: Tensor) -> Tensor
}

/// Layers applied in order; children are named `0`, `1`, ... as in PyTorch's `nn.Sequential`.
public final class Sequential: Module, Layer {
    public let layers: [any Layer]

    public init(_ layers: [any Layer]) {
        self.layers = layers
        super.init()
    }

    public convenience init(_ layers: any Layer...) { self.init(layers) }

    public override func namedMembers() -> [(String, Any)] {
        layers.enumerated().map { (String($0.offset), $0.element as Any) }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { layers.reduce(x) { $1($0) } }
}
