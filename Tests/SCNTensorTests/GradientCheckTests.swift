import SCNTensor
import SCNTestSupport
import XCTest

/// Finite-difference checks of every differentiable op's backward rule.
final class GradientCheckTests: XCTestCase {
    private var generator = RandomGenerator(seed: 7)

    private func random(_ shape: [Int], scale: Float = 1) -> Tensor {
        Tensor.normal(shape, standardDeviation: scale, generator: &generator)
    }

    /// Values whose magnitudes stay away from 0 and from each other, so kinks (relu, max) are not crossed
    /// by the finite-difference step.
    private func separated(_ shape: [Int]) -> Tensor {
        let n = shape.reduce(1, *)
        var values = (0..<n).map { Float($0 - n / 2) * 0.37 + 0.05 }
        values.shuffle(using: &generator)
        return Tensor(values, shape: shape)
    }

    func testConvolution() {
        assertGradientsMatchFiniteDifferences([random([2, 3, 5, 4]), random([2, 3, 3, 3]), random([2])], "conv2d") {
            conv2d($0[0], weight: $0[1], bias: $0[2], stride: (2, 1), padding: (1, 1))
        }
    }

    func testBatchNormTraining() {
        let mean = Tensor.zeros([3]), variance = Tensor.ones([3])
        assertGradientsMatchFiniteDifferences([random([2, 3, 3, 3]), random([3]), random([3])], tolerance: 3e-2, "batchNorm") {
            batchNorm($0[0], weight: $0[1], bias: $0[2], runningMean: mean, runningVariance: variance, training: true)
        }
    }

    func testBatchNormEvaluation() {
        let mean = random([3]), variance = Tensor.full([3], value: 1.5)
        assertGradientsMatchFiniteDifferences([random([2, 3, 2, 2]), random([3]), random([3])], "batchNorm eval") {
            batchNorm($0[0], weight: $0[1], bias: $0[2], runningMean: mean, runningVariance: variance, training: false)
        }
    }

    func testPooling() {
        assertGradientsMatchFiniteDifferences([separated([1, 2, 5, 5])], "maxPool2d") {
            maxPool2d($0[0], kernel: (3, 3), stride: (2, 2), padding: (1, 1))
        }
        assertGradientsMatchFiniteDifferences([random([1, 2, 4, 4])], "avgPool2d") {
            avgPool2d($0[0], kernel: (2, 2), stride: (2, 2))
        }
        assertGradientsMatchFiniteDifferences([random([2, 3, 2, 3])], "globalAveragePool") { globalAveragePool($0[0]) }
    }

    func testLinearAlgebra() {
        assertGradientsMatchFiniteDifferences([random([3, 4]), random([5, 4]), random([5])], "linear") {
            linear($0[0], weight: $0[1], bias: $0[2])
        }
        assertGradientsMatchFiniteDifferences([random([3, 4]), random([4, 2])], "matmul") { matmul($0[0], $0[1]) }
    }

    func testElementwise() {
        assertGradientsMatchFiniteDifferences([separated([3, 4])], "relu") { relu($0[0]) }
        assertGradientsMatchFiniteDifferences([random([3, 4])], "sigmoid") { sigmoid($0[0]) }
        assertGradientsMatchFiniteDifferences([random([3, 4])], "exp") { exp($0[0]) }
        assertGradientsMatchFiniteDifferences([Tensor.full([2, 3], value: 1.5) + random([2, 3], scale: 0.2)], "log") { log($0[0]) }
        assertGradientsMatchFiniteDifferences([random([4, 1]), random([4, 3])], "multiply (broadcast)") { $0[0] * $0[1] }
        assertGradientsMatchFiniteDifferences([random([4, 3]), random([3])], "add (broadcast)") { $0[0] + $0[1] }
        assertGradientsMatchFiniteDifferences([random([4, 3]), random([1, 3])], "subtract (broadcast)") { $0[0] - $0[1] }
        assertGradientsMatchFiniteDifferences([random([2, 3]), Tensor.full([2, 3], value: 2) + random([2, 3], scale: 0.1)],
                                              "divide") { $0[0] / $0[1] }
        assertGradientsMatchFiniteDifferences([random([2, 3])], "scalar arithmetic") { 0.5 - ($0[0] * 3 + 1) }
    }

    func testSoftmaxFamily() {
        assertGradientsMatchFiniteDifferences([random([3, 5])], "softmax") { softmax($0[0]) }
        assertGradientsMatchFiniteDifferences([random([3, 5])], "logSoftmax") { logSoftmax($0[0]) }
        assertGradientsMatchFiniteDifferences([random([4, 5])], "crossEntropy") { crossEntropy($0[0], labels: [1, 0, 4, 2]) }
        assertGradientsMatchFiniteDifferences([random([4, 5])], "crossEntropy per sample") {
            crossEntropy($0[0], labels: [1, 0, 4, 2], reduction: .none)
        }
        let targets = softmax(random([2, 5]))
        assertGradientsMatchFiniteDifferences([random([2, 5])], "crossEntropy soft") { crossEntropy($0[0], targets: targets) }
    }

    /// SCN's logit weighting with batch-mean scaling: `CE((alpha / mean(alpha)) * logits)`, through a sigmoid
    /// head, exactly as the trainer composes it (the division broadcasts a `[]` mean over `[N, 1]`).
    func testBatchMeanWeightedCrossEntropy() {
        assertGradientsMatchFiniteDifferences([random([4, 1]), random([4, 5])], "batch-mean weighted cross-entropy") {
            let alpha = sigmoid($0[0])
            return crossEntropy((alpha / alpha.mean()) * $0[1], labels: [1, 0, 4, 2])
        }
    }

    func testReductionsAndShapes() {
        assertGradientsMatchFiniteDifferences([random([3, 4])], "sum") { $0[0].sum() }
        assertGradientsMatchFiniteDifferences([random([3, 4])], "mean") { $0[0].mean() }
        assertGradientsMatchFiniteDifferences([random([2, 3, 4])], "sum along axis") { $0[0].sum(alongAxis: 1) }
        assertGradientsMatchFiniteDifferences([random([2, 3, 4])], "mean along axis") { $0[0].mean(alongAxis: 2, keepingDimension: true) }
        assertGradientsMatchFiniteDifferences([random([2, 3, 2, 2])], "reshape of channels-last") {
            $0[0].toChannelsLast().reshaped([2, -1])
        }
        assertGradientsMatchFiniteDifferences([random([5, 2])], "rows") { $0[0].rows(1..<4) }
        assertGradientsMatchFiniteDifferences([random([5, 2])], "gatheringRows") { $0[0].gatheringRows([4, 0, 0, 2]) }
    }

    func testSortingAndTopK() {
        assertGradientsMatchFiniteDifferences([separated([7])], "sorted") { $0[0].sorted(descending: true).values }
        assertGradientsMatchFiniteDifferences([separated([6, 1])], "topK") { $0[0].topK(3).values }
    }

    func testDropoutScalesKeptElements() {
        var g = RandomGenerator(seed: 3)
        let x = Tensor.ones([1000])
        let y = dropout(x, probability: 0.25, training: true, generator: &g).scalars
        let kept = y.filter { $0 != 0 }
        XCTAssertTrue(kept.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 })
        XCTAssertEqual(Double(kept.count) / 1000, 0.75, accuracy: 0.05)
        var g2 = RandomGenerator(seed: 3)
        XCTAssertEqual(y, dropout(x, probability: 0.25, training: true, generator: &g2).scalars, "seeded: repeats")
        XCTAssertEqual(dropout(x, probability: 0.25, training: false, generator: &g).scalars, x.scalars)
        assertGradientsMatchFiniteDifferences([random([20])], "dropout") {
            var fixed = RandomGenerator(seed: 11)
            return dropout($0[0], probability: 0.3, training: true, generator: &fixed)
        }
    }
}
