import Foundation

/// A seeded xoshiro256** generator: every random choice in the package draws from one of these, so a
/// run with the same seed repeats exactly. Its state can be saved and restored (checkpoints).
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable {
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var s = seed
        func splitMix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// Restores a generator from `stateWords` (four words from `stateWords` of another generator).
    public init(stateWords: [UInt64]) {
        precondition(stateWords.count == 4, "RandomGenerator: 4 state words needed")
        state = (stateWords[0], stateWords[1], stateWords[2], stateWords[3])
    }

    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    public mutating func next() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = state.3 << 45 | state.3 >> 19
        return result
    }

    /// Uniform in `[0, 1)` with 24 random bits.
    public mutating func nextUniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Standard normal (Box-Muller).
    public mutating func nextNormal() -> Float {
        let u1 = max(Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0), 1e-300)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return Float(Foundation.sqrt(-2 * Foundation.log(u1)) * Foundation.cos(2 * Double.pi * u2))
    }

    public static func == (a: RandomGenerator, b: RandomGenerator) -> Bool { a.stateWords == b.stateWords }
}

extension Tensor {
    /// Uniform values in `[low, high)`.
    public static func uniform(_ shape: [Int], low: Float, high: Float, generator: inout RandomGenerator) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        for i in 0..<t.count { t.data[i] = low + (high - low) * generator.nextUniform() }
        return t
    }

    /// Normal values with mean `mean` and standard deviation `standardDeviation`.
    public static func normal(_ shape: [Int], mean: Float = 0, standardDeviation: Float = 1,
                              generator: inout RandomGenerator) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        for i in 0..<t.count { t.data[i] = mean + standardDeviation * generator.nextNormal() }
        return t
    }
}

/// Zeroes each element with probability `p` and scales the rest by `1 / (1 - p)` when `training`;
/// identity otherwise.
public func dropout(_ x: Tensor, probability p: Float, training: Bool, generator: inout RandomGenerator) -> Tensor {
    guard training, p > 0 else { return x }
    precondition(p < 1, "dropout: probability \(p) must be below 1")
    let mask = Tensor(uninitializedShape: x.shape, memoryFormat: x.memoryFormat)
    let keep = 1 / (1 - p)
    for i in 0..<mask.count { mask.data[i] = generator.nextUniform() < p ? 0 : keep }
    return x.zipped(mask) { $0 * $1 }.recording("dropout", [x]) { g in [g.zipped(mask) { $0 * $1 }] }
}
