import SCNKernels

/// The backward rule recorded for one operation result: its inputs, and a closure that maps the
/// result's gradient to one gradient per input (nil where an input needs none).
final class GradientFunction {
    let name: String
    var inputs: [Tensor]
    var backward: ((Tensor) -> [Tensor?])?

    init(name: String, inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }
}

/// Whether operations record their backward rules. Turn it off for evaluation to save memory.
public enum GradientMode {
    nonisolated(unsafe) public private(set) static var isEnabled = true

    /// Runs `body` with recording off.
    public static func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
        let previous = isEnabled
        isEnabled = false
        defer { isEnabled = previous }
        return try body()
    }
}

extension Tensor {
    /// Records `backward` as the rule that produced `self` from `inputs`, when any input needs
    /// gradients. Returns `self`.
    @discardableResult
    func recording(_ name: String, _ inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        guard GradientMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return self }
        requiresGrad = true
        gradientFunction = GradientFunction(name: name, inputs: inputs, backward: backward)
        return self
    }

    /// Computes the gradient of this tensor with respect to every leaf that requires gradients,
    /// adding it to the leaves' `grad`. The recorded graph is released as it is walked.
    ///
    /// - Parameter seed: the gradient of the final objective with respect to `self`; defaults to 1 for
    ///   a one-element tensor.
    public func backward(seed: Tensor? = nil) {
        let initial = seed ?? {
            precondition(count == 1, "backward(): a seed is needed for a tensor of shape \(shape)")
            return Tensor.full(shape, value: 1)
        }()
        precondition(initial.shape == shape, "backward(): seed shape \(initial.shape) for tensor \(shape)")

        // Topological order by an iterative depth-first search.
        var order: [Tensor?] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (tensor, expanded) = stack.popLast() {
            if expanded { order.append(tensor); continue }
            guard visited.insert(ObjectIdentifier(tensor)).inserted else { continue }
            stack.append((tensor, true))
            for input in tensor.gradientFunction?.inputs ?? [] where input.requiresGrad {
                if !visited.contains(ObjectIdentifier(input)) { stack.append((input, false)) }
            }
        }

        var gradients: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): initial.matchingFormat(of: self)]
        GradientMode.withoutGradients {
            // Each entry is dropped once processed, so an intermediate result's storage is freed as soon
            // as no later backward rule needs it.
            for position in stride(from: order.count - 1, through: 0, by: -1) {
                let tensor = order[position]!
                order[position] = nil
                guard let gradient = gradients.removeValue(forKey: ObjectIdentifier(tensor)) else { continue }
                guard let function = tensor.gradientFunction else {
                    if let existing = tensor.grad {
                        existing.addInPlace(gradient)
                    } else {
                        tensor.grad = gradient.copy()
                    }
                    continue
                }
                let inputGradients = KernelProfiler.measure("backward \(function.name)") { function.backward!(gradient) }
                precondition(inputGradients.count == function.inputs.count,
                             "\(function.name) backward returned \(inputGradients.count) gradients")
                for (input, g) in zip(function.inputs, inputGradients) {
                    guard let g, input.requiresGrad else { continue }
                    precondition(g.shape == input.shape,
                                 "\(function.name) backward: gradient \(g.shape) for input \(input.shape)")
                    let key = ObjectIdentifier(input)
                    let g2 = g.matchingFormat(of: input)
                    if let existing = gradients[key] {
                        gradients[key] = KernelProfiler.measure("backward accumulate") { existing + g2 }
                    } else {
                        gradients[key] = g2
                    }
                }
                tensor.gradientFunction = nil
            }
        }
    }

    /// This tensor in `other`'s memory format (self when it already is).
    func matchingFormat(of other: Tensor) -> Tensor {
        if memoryFormat == other.memoryFormat { return self }
        return other.memoryFormat == .channelsLast ? toChannelsLast() : contiguous()
    }

    /// `self += other`, untracked; `other` has the same shape.
    func addInPlace(_ other: Tensor) {
        let o = other.matchingFormat(of: self)
        let a = data, b = o.data
        ThreadPool.shared.parallelFor(count) { r in for i in r { a[i] += b[i] } }
    }
}
