import Foundation
import SCNKernels
import SCNTensor

/// An optimizer updates parameters in place from their `grad`, with per-parameter state keyed like the
/// parameters (so it can be saved and restored by name).
public protocol Optimizer: AnyObject {
    /// The learning rate of the next `step()`; schedules set it.
    var learningRate: Float { get set }
    /// Applies one update to every parameter that has a gradient.
    func step()
    /// State tensors keyed `<parameter>.<slot>` (`layer1.0.conv1.weight.momentum_buffer`), plus the
    /// step count.
    func stateDictionary() -> (tensors: [String: Tensor], step: Int)
    /// Restores `stateDictionary()`'s output; throws on a missing or mis-shaped entry.
    func load(tensors: [String: Tensor], step: Int) throws
}

/// Why optimizer state did not load.
public struct OptimizerStateError: Error, CustomStringConvertible {
    public let key: String
    public let reason: String
    public var description: String { "optimizer state '\(key)': \(reason)" }
}

/// Checks optimizer state keys before loading: every key must be `<parameter>.<slot>` of a known parameter
/// and slot, and after `step > 0` steps at least one parameter must have state (an empty state after
/// training steps is a truncated or foreign file, not a fresh optimizer).
private func checkStateKeys(_ tensors: [String: Tensor], step: Int, slots: [String], parameters: [(String, Tensor)]) throws {
    let known = Set(parameters.flatMap { p in slots.map { "\(p.0).\($0)" } })
    if let unknown = tensors.keys.sorted().first(where: { !known.contains($0) }) {
        throw OptimizerStateError(key: unknown, reason: "no such parameter and slot in this optimizer")
    }
    if step > 0 && !slots.isEmpty && tensors.isEmpty {
        throw OptimizerStateError(key: "\(parameters.first?.0 ?? "?").\(slots[0])",
                                  reason: "missing: no state for any parameter after \(step) steps")
    }
}

/// Runs `body` over element ranges of a parameter in parallel.
@inline(__always)
private func forEachChunk(_ count: Int, _ body: (Range<Int>) -> Void) {
    ThreadPool.shared.parallelFor(count, minimumChunk: 32_768, body)
}

/// Stochastic gradient descent with PyTorch's `torch.optim.SGD` semantics:
/// `g = grad + wd * p`; `buf = momentum * buf + (1 - dampening) * g` (`buf = g` on the first step);
/// `g = nesterov ? g + momentum * buf : buf`; `p -= lr * g`.
public final class SGD: Optimizer {
    public let parameters: [(String, Tensor)]
    public var learningRate: Float
    public let momentum: Float
    public let dampening: Float
    public let weightDecay: Float
    public let nesterov: Bool
    private var buffers: [String: Tensor] = [:]
    private var steps = 0

    public init(_ parameters: [(String, Tensor)], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov needs momentum and no dampening")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    public func step() {
        steps += 1
        let (lr, mu, damp, wd, nesterov) = (learningRate, momentum, dampening, weightDecay, self.nesterov)
        for (name, p) in parameters {
            guard let grad = p.grad else { continue }
            let g = grad.memoryFormat == p.memoryFormat ? grad : grad.contiguous()
            let pp = p.data, pg = g.data
            if mu == 0 {
                forEachChunk(p.count) { r in for i in r { pp[i] -= lr * (pg[i] + wd * pp[i]) } }
                continue
            }
            if let buffer = buffers[name] {
                let pb = buffer.data
                forEachChunk(p.count) { r in
                    for i in r {
                        let d = pg[i] + wd * pp[i]
                        pb[i] = mu * pb[i] + (1 - damp) * d
                        pp[i] -= lr * (nesterov ? d + mu * pb[i] : pb[i])
                    }
                }
            } else {
                let buffer = Tensor(uninitializedShape: p.shape)
                let pb = buffer.data
                forEachChunk(p.count) { r in
                    for i in r {
                        let d = pg[i] + wd * pp[i]
                        pb[i] = d
                        pp[i] -= lr * (nesterov ? d + mu * d : d)
                    }
                }
                buffers[name] = buffer
            }
        }
    }

    public func stateDictionary() -> (tensors: [String: Tensor], step: Int) {
        (Dictionary(uniqueKeysWithValues: buffers.map { ("\($0.key).momentum_buffer", $0.value) }), steps)
    }

    /// A parameter without a buffer is one that has had no gradient yet (PyTorch keeps no state for
    /// it either, as for a head that a warm-up leaves untrained); it starts its buffer at its first gradient.
    public func load(tensors: [String: Tensor], step: Int) throws {
        try checkStateKeys(tensors, step: step, slots: momentum == 0 ? [] : ["momentum_buffer"], parameters: parameters)
        var restored: [String: Tensor] = [:]
        for (name, p) in parameters {
            let key = "\(name).momentum_buffer"
            guard let t = tensors[key] else { continue }
            guard t.shape == p.shape else {
                throw OptimizerStateError(key: key, reason: "shape \(t.shape), parameter has \(p.shape)")
            }
            restored[name] = t.copy()
        }
        buffers = restored
        steps = step
    }
}

/// Adam and AdamW with PyTorch's semantics (`torch.optim.Adam`, `torch.optim.AdamW`).
///
/// Adam adds `weightDecay * p` to the gradient (L2); AdamW multiplies `p` by `1 - lr * weightDecay`
/// before the update (decoupled). Update: `m = b1 m + (1 - b1) g`, `v = b2 v + (1 - b2) g^2`,
/// `p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`.
public final class Adam: Optimizer {
    public let parameters: [(String, Tensor)]
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float
    public let decoupledWeightDecay: Bool
    private var firstMoments: [String: Tensor] = [:]
    private var secondMoments: [String: Tensor] = [:]
    private var steps = 0

    public init(_ parameters: [(String, Tensor)], learningRate: Float = 1e-3, beta1: Float = 0.9,
                beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    /// AdamW: Adam with decoupled weight decay (PyTorch's default decay 0.01).
    public static func adamW(_ parameters: [(String, Tensor)], learningRate: Float = 1e-3, beta1: Float = 0.9,
                             beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01) -> Adam {
        Adam(parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
             weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    public func step() {
        steps += 1
        let t = Float(steps)
        let correction1 = 1 - Foundation.pow(beta1, t)
        let correction2Root = (1 - Foundation.pow(beta2, t)).squareRoot()
        let (lr, b1, b2, eps, wd, decoupled) = (learningRate, beta1, beta2, epsilon, weightDecay, decoupledWeightDecay)
        let stepSize = lr / correction1
        for (name, p) in parameters {
            guard let grad = p.grad else { continue }
            let g = grad.memoryFormat == p.memoryFormat ? grad : grad.contiguous()
            let m = firstMoments[name] ?? Tensor.zeros(p.shape)
            let v = secondMoments[name] ?? Tensor.zeros(p.shape)
            firstMoments[name] = m
            secondMoments[name] = v
            let pp = p.data, pg = g.data, pm = m.data, pv = v.data
            forEachChunk(p.count) { r in
                for i in r {
                    var d = pg[i]
                    if decoupled { pp[i] *= 1 - lr * wd } else { d += wd * pp[i] }
                    pm[i] = b1 * pm[i] + (1 - b1) * d
                    pv[i] = b2 * pv[i] + (1 - b2) * d * d
                    pp[i] -= stepSize * pm[i] / (pv[i].squareRoot() / correction2Root + eps)
                }
            }
        }
    }

    public func stateDictionary() -> (tensors: [String: Tensor], step: Int) {
        var out: [String: Tensor] = [:]
        for (k, v) in firstMoments { out["\(k).exp_avg"] = v }
        for (k, v) in secondMoments { out["\(k).exp_avg_sq"] = v }
        return (out, steps)
    }

    /// A parameter without moments is one that has had no gradient yet; it starts them at its first
    /// gradient. Its two moments are present together or not at all.
    public func load(tensors: [String: Tensor], step: Int) throws {
        try checkStateKeys(tensors, step: step, slots: ["exp_avg", "exp_avg_sq"], parameters: parameters)
        var first: [String: Tensor] = [:], second: [String: Tensor] = [:]
        for (name, p) in parameters {
            if tensors["\(name).exp_avg"] == nil && tensors["\(name).exp_avg_sq"] == nil { continue }
            for (slot, isFirst) in [("exp_avg", true), ("exp_avg_sq", false)] {
                let key = "\(name).\(slot)"
                guard let t = tensors[key] else { throw OptimizerStateError(key: key, reason: "missing (its other moment is present)") }
                guard t.shape == p.shape else {
                    throw OptimizerStateError(key: key, reason: "shape \(t.shape), parameter has \(p.shape)")
                }
                if isFirst { first[name] = t.copy() } else { second[name] = t.copy() }
            }
        }
        firstMoments = first
        secondMoments = second
        steps = step
    }
}
