import Foundation

/// A range that holds an unknown figure with a stated confidence, such as a 95% interval for an accuracy.
public struct ConfidenceInterval: Codable, Equatable, Sendable {
    public var lower: Double
    public var upper: Double
    /// The confidence, in (0, 1): 0.95 for a 95% interval.
    public var level: Double

    public init(lower: Double, upper: Double, level: Double) {
        self.lower = lower
        self.upper = upper
        self.level = level
    }

    /// The Wilson score interval for a proportion of `successes` in `trials` (Wilson, 1927): unlike the
    /// normal approximation it stays inside [0, 1] and holds its level near 0 and 1. `trials` at least 1.
    public static func wilson(successes: Int, trials: Int, level: Double = 0.95) -> ConfidenceInterval {
        precondition(trials >= 1 && (0...trials).contains(successes) && level > 0 && level < 1)
        let z = standardNormalQuantile(0.5 + level / 2), n = Double(trials), p = Double(successes) / n
        let center = (p + z * z / (2 * n)) / (1 + z * z / n)
        let halfWidth = z / (1 + z * z / n) * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()
        return ConfidenceInterval(lower: max(0, center - halfWidth), upper: min(1, center + halfWidth), level: level)
    }
}

/// The standard normal distribution's quantile: the z with P(Z <= z) = `probability`, in (0, 1); to about
/// 1e-12 (bisection on `erfc`).
public func standardNormalQuantile(_ probability: Double) -> Double {
    precondition(probability > 0 && probability < 1)
    var low = -40.0, high = 40.0
    for _ in 0..<200 {
        let middle = (low + high) / 2
        if 0.5 * erfc(-middle / 2.0.squareRoot()) < probability { low = middle } else { high = middle }
    }
    return (low + high) / 2
}

/// Student's t distribution's quantile with `degreesOfFreedom` (at least 1): the t with P(T <= t) =
/// `probability`, in (0, 1); to about 1e-12 (bisection on the closed-form distribution function for whole
/// degrees of freedom, Abramowitz and Stegun 26.7.3-4). 12.706 for 0.975 and 1 degree of freedom.
public func studentTQuantile(_ probability: Double, degreesOfFreedom: Int) -> Double {
    precondition(probability > 0 && probability < 1 && degreesOfFreedom >= 1)
    let central = abs(2 * probability - 1)
    var low = 0.0, high = 1.0
    while studentTCentralProbability(high, degreesOfFreedom: degreesOfFreedom) < central { high *= 2 }
    for _ in 0..<200 {
        let middle = (low + high) / 2
        if studentTCentralProbability(middle, degreesOfFreedom: degreesOfFreedom) < central { low = middle } else { high = middle }
    }
    return probability < 0.5 ? -(low + high) / 2 : (low + high) / 2
}

/// P(-t <= T <= t) for Student's t with whole `degreesOfFreedom`: with theta = atan(|t| / sqrt(nu)),
/// (2 / pi) (theta + sin theta (cos theta + 2/3 cos^3 theta + ... + (2*4*...*(nu-3)) / (1*3*...*(nu-2))
/// cos^(nu-2) theta)) for odd nu, and sin theta (1 + 1/2 cos^2 theta + ... + (1*3*...*(nu-3)) /
/// (2*4*...*(nu-2)) cos^(nu-2) theta) for even nu.
func studentTCentralProbability(_ t: Double, degreesOfFreedom nu: Int) -> Double {
    let theta = atan(abs(t) / Double(nu).squareRoot()), sine = sin(theta), cosine = cos(theta)
    // The series' terms: each is the one before times cos^2 theta (power + 1) / (power + 2).
    func series(firstTerm: Double, firstPower: Int) -> Double {
        var term = firstTerm, sum = firstTerm, power = firstPower
        while power + 2 <= nu - 2 {
            term *= cosine * cosine * Double(power + 1) / Double(power + 2)
            sum += term
            power += 2
        }
        return sum
    }
    if nu % 2 == 0 { return sine * series(firstTerm: 1, firstPower: 0) }
    return 2 / Double.pi * (theta + (nu == 1 ? 0 : sine * series(firstTerm: cosine, firstPower: 1)))
}
