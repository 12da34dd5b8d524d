import SCNTensor
import SCNTestSupport
import XCTest

/// The fused operations give what their unfused compositions give, forward and backward.
final class FusedOperationsTests: XCTestCase {
    private var generator = RandomGenerator(seed: 5)

    private func leaf(_ shape: [Int]) -> Tensor {
        let t = Tensor.normal(shape, generator: &generator)
        t.requiresGrad = true
        return t
    }

    private func gradients(_ inputs: [Tensor], seed: Tensor, _ f: () -> Tensor) -> (Tensor, [Tensor]) {
        for x in inputs { x.grad = nil }
        let y = f()
        y.backward(seed: seed)
        return (y.detached(), inputs.map { $0.grad! })
    }

    func testBatchNormWithReLUEqualsReLUOfBatchNorm() {
        for training in [true, false] {
            let x = leaf([4, 6, 5, 3]), w = leaf([6]), b = leaf([6])
            let seed = Tensor.normal([4, 6, 5, 3], generator: &generator)
            let (m1, v1) = (Tensor.zeros([6]), Tensor.ones([6]))
            let (m2, v2) = (Tensor.zeros([6]), Tensor.ones([6]))
            let (fused, gf) = gradients([x, w, b], seed: seed) {
                batchNorm(x, weight: w, bias: b, runningMean: m1, runningVariance: v1, training: training, applyingReLU: true)
            }
            let (plain, gp) = gradients([x, w, b], seed: seed) {
                relu(batchNorm(x, weight: w, bias: b, runningMean: m2, runningVariance: v2, training: training))
            }
            assertClose(fused, plain, tolerance: 1e-5, "output (training \(training))")
            for (a, e) in zip(gf, gp) { assertClose(a, e, tolerance: 1e-4, "gradient (training \(training))") }
            XCTAssertEqual(m1.scalars, m2.scalars)
        }
    }

    func testReLUOfSumEqualsReLUOfAdd() {
        let a = leaf([2, 3, 4, 4]), b = leaf([2, 3, 4, 4])
        let seed = Tensor.normal([2, 3, 4, 4], generator: &generator)
        let (fused, gf) = gradients([a, b], seed: seed) { reluOfSum(a.toChannelsLast(), b) }
        let (plain, gp) = gradients([a, b], seed: seed) { relu(a + b) }
        assertClose(fused, plain, tolerance: 1e-6, "output")
        for (x, y) in zip(gf, gp) { assertClose(x, y, tolerance: 1e-6, "gradient") }
    }
}
