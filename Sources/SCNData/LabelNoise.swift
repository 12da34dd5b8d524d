import SCNTensor

/// Synthetic label noise by the SCN paper's protocol (section 4.2): in every class, exactly
/// `round(rate * n_c)` samples, chosen at random, get a wrong label.
public enum LabelNoise {
    public enum Mode: String, Sendable, CaseIterable {
        /// A label drawn uniformly from the other classes.
        case symmetric
        /// Class `c` becomes `(c + 1) % C`.
        case pairFlip
    }

    /// The noisy labels for `labels`, seeded.
    public static func inject(into labels: [Int], classCount: Int, rate: Double, mode: Mode = .symmetric,
                              seed: UInt64) -> [Int] {
        precondition(rate >= 0 && rate <= 1, "LabelNoise: rate \(rate) outside 0...1")
        precondition(classCount >= 2, "LabelNoise: needs at least 2 classes")
        var generator = RandomGenerator(seed: seed)
        var noisy = labels
        for c in 0..<classCount {
            var members = labels.indices.filter { labels[$0] == c }
            let flips = Int((rate * Double(members.count)).rounded())
            // A seeded partial Fisher-Yates shuffle picks the samples to flip.
            for i in 0..<flips {
                let j = i + Int(generator.next() % UInt64(members.count - i))
                members.swapAt(i, j)
                switch mode {
                case .symmetric:
                    let other = Int(generator.next() % UInt64(classCount - 1))
                    noisy[members[i]] = other >= c ? other + 1 : other
                case .pairFlip:
                    noisy[members[i]] = (c + 1) % classCount
                }
            }
        }
        return noisy
    }

    /// The fraction of `noisy` that differs from `clean`, overall and per clean class.
    public static func realizedRates(noisy: [Int], clean: [Int], classCount: Int) -> (overall: Double, perClass: [Double]) {
        var flipped = [Int](repeating: 0, count: classCount), total = [Int](repeating: 0, count: classCount)
        for (n, c) in zip(noisy, clean) where c >= 0 {
            total[c] += 1
            if n != c { flipped[c] += 1 }
        }
        let overall = Double(flipped.reduce(0, +)) / Double(max(1, total.reduce(0, +)))
        return (overall, (0..<classCount).map { total[$0] == 0 ? 0 : Double(flipped[$0]) / Double(total[$0]) })
    }
}
