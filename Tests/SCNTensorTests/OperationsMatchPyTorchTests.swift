import Foundation
import SCNFormats
import SCNTensor
import SCNTestSupport
import XCTest

/// Every op's forward output and input gradients against PyTorch's (fixtures from
/// Tests/Fixtures/make_fixtures.py): the op runs on the fixture inputs, backward is seeded with the same
/// upstream gradient `gy`, and outputs and gradients are compared.
final class OperationsMatchPyTorchTests: XCTestCase {
    static let fixtures = try! loadFixture("ops", in: .module)

    private func check(_ prefix: String, inputs names: [String], tolerance: Float = 1e-4,
                       _ f: ([Tensor]) -> Tensor) throws {
        let file = Self.fixtures
        let inputs = try names.map { name -> Tensor in
            let t = try file.tensor("\(prefix).\(name)")
            t.requiresGrad = true
            return t
        }
        let y = f(inputs)
        let expected = try file.tensor("\(prefix).y")
        let seed = try file.tensor("\(prefix).gy")
        let output = y.rank == 0 ? y.reshaped([1]) : y
        assertClose(output, expected, tolerance: tolerance, "\(prefix) output")
        output.backward(seed: seed)
        for (name, x) in zip(names, inputs) {
            guard let g = x.grad else { XCTFail("\(prefix): no gradient for \(name)"); continue }
            assertClose(g, try file.tensor("\(prefix).grad_\(name)"), tolerance: tolerance, "\(prefix) d\(name)")
        }
    }

    func testConvolutionStride2Padding1WithBias() throws {
        try check("conv_s2p1", inputs: ["x", "w", "b"]) { conv2d($0[0], weight: $0[1], bias: $0[2], stride: (2, 2), padding: (1, 1)) }
    }

    func testConvolution1x1() throws {
        try check("conv_1x1", inputs: ["x", "w"]) { conv2d($0[0], weight: $0[1]) }
    }

    func testConvolution7x7Stem() throws {
        try check("conv_7x7", inputs: ["x", "w"]) { conv2d($0[0], weight: $0[1], stride: (2, 2), padding: (3, 3)) }
    }

    func testBatchNormTrainingUpdatesRunningStatistics() throws {
        let file = Self.fixtures
        let mean = try file.tensor("bn_train.running_mean_before")
        let variance = try file.tensor("bn_train.running_var_before")
        try check("bn_train", inputs: ["x", "w", "b"]) {
            batchNorm($0[0], weight: $0[1], bias: $0[2], runningMean: mean, runningVariance: variance, training: true)
        }
        assertClose(mean, try file.tensor("bn_train.running_mean_after"), tolerance: 1e-5, "running mean")
        assertClose(variance, try file.tensor("bn_train.running_var_after"), tolerance: 1e-5, "running variance")
    }

    func testBatchNormEvaluation() throws {
        let file = Self.fixtures
        let mean = try file.tensor("bn_eval.running_mean"), variance = try file.tensor("bn_eval.running_var")
        try check("bn_eval", inputs: ["x", "w", "b"]) {
            batchNorm($0[0], weight: $0[1], bias: $0[2], runningMean: mean, runningVariance: variance, training: false)
        }
    }

    func testPooling() throws {
        try check("maxpool", inputs: ["x"]) { maxPool2d($0[0], kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }
        try check("avgpool", inputs: ["x"]) { avgPool2d($0[0], kernel: (2, 2), stride: (2, 2)) }
        try check("avgpool_pad", inputs: ["x"]) { avgPool2d($0[0], kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }
        try check("gap", inputs: ["x"]) { globalAveragePool($0[0]) }
    }

    func testLinearAndMatmul() throws {
        try check("linear", inputs: ["x", "w", "b"]) { linear($0[0], weight: $0[1], bias: $0[2]) }
        try check("matmul", inputs: ["a", "b"]) { matmul($0[0], $0[1]) }
    }

    func testActivationsAndSoftmax() throws {
        try check("relu", inputs: ["x"]) { relu($0[0]) }
        try check("sigmoid", inputs: ["x"]) { sigmoid($0[0]) }
        try check("softmax", inputs: ["x"]) { softmax($0[0]) }
        try check("log_softmax", inputs: ["x"]) { logSoftmax($0[0]) }
    }

    func testCrossEntropy() throws {
        let labels = try Self.fixtures.integers("ce.labels").map { Int($0) }
        try check("ce", inputs: ["x"]) { crossEntropy($0[0], labels: labels) }
        try check("ce_none", inputs: ["x"]) { crossEntropy($0[0], labels: labels, reduction: .none) }
        try check("ce_soft", inputs: ["x", "t"]) { crossEntropy($0[0], targets: $0[1]) }
    }

    func testBroadcastingArithmeticAndReductions() throws {
        try check("mul_bcast", inputs: ["a", "b"]) { $0[0] * $0[1] }
        try check("add_bcast", inputs: ["a", "b"]) { $0[0] + $0[1] }
        try check("div", inputs: ["a", "b"]) { $0[0] / $0[1] }
        try check("mean", inputs: ["x"]) { $0[0].mean() }
        try check("sum_axis", inputs: ["x"]) { $0[0].sum(alongAxis: 1) }
    }

    func testSortDescending() throws {
        try check("sort", inputs: ["x"]) { $0[0].sorted(descending: true).values }
    }
}
