import Foundation

/// A learning rate as a function of training progress, in epochs (fractional within an epoch, so a
/// schedule can change every step).
public protocol LearningRateSchedule: Sendable {
    func learningRate(atEpoch epoch: Double) -> Float
}

/// `base * gamma^(number of milestones <= epoch)`, as PyTorch's `MultiStepLR` stepped per epoch.
public struct MultiStepSchedule: LearningRateSchedule {
    public var base: Float, milestones: [Int], gamma: Float
    public init(base: Float, milestones: [Int], gamma: Float = 0.1) {
        self.base = base
        self.milestones = milestones
        self.gamma = gamma
    }
    public func learningRate(atEpoch epoch: Double) -> Float {
        let passed = milestones.filter { Double($0) <= floor(epoch) }.count
        return base * Foundation.pow(gamma, Float(passed))
    }
}

/// `base * gamma^floor(epoch)`, as PyTorch's `ExponentialLR` stepped per epoch.
public struct ExponentialSchedule: LearningRateSchedule {
    public var base: Float, gamma: Float
    public init(base: Float, gamma: Float) {
        self.base = base
        self.gamma = gamma
    }
    public func learningRate(atEpoch epoch: Double) -> Float { base * Foundation.pow(gamma, Float(floor(epoch))) }
}

/// Cosine annealing from `base` to `minimum` over `epochs` (continuous in the epoch).
public struct CosineSchedule: LearningRateSchedule {
    public var base: Float, minimum: Float, epochs: Double
    public init(base: Float, minimum: Float = 0, epochs: Double) {
        self.base = base
        self.minimum = minimum
        self.epochs = epochs
    }
    public func learningRate(atEpoch epoch: Double) -> Float {
        let t = min(max(epoch / epochs, 0), 1)
        return minimum + (base - minimum) * Float(1 + Foundation.cos(Double.pi * t)) / 2
    }
}

/// A linear ramp from `startFactor * rate` to the wrapped schedule's rate over `warmupEpochs`, then
/// the wrapped schedule.
public struct LinearWarmup<Wrapped: LearningRateSchedule>: LearningRateSchedule {
    public var wrapped: Wrapped, warmupEpochs: Double, startFactor: Float
    public init(_ wrapped: Wrapped, warmupEpochs: Double, startFactor: Float = 0.01) {
        self.wrapped = wrapped
        self.warmupEpochs = warmupEpochs
        self.startFactor = startFactor
    }
    public func learningRate(atEpoch epoch: Double) -> Float {
        let rate = wrapped.learningRate(atEpoch: epoch)
        guard epoch < warmupEpochs, warmupEpochs > 0 else { return rate }
        let t = Float(epoch / warmupEpochs)
        return rate * (startFactor + (1 - startFactor) * t)
    }
}
