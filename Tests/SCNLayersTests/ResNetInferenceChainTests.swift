import Foundation
import SCNKernels
import SCNLayers
import SCNTensor
import SCNTestSupport
import XCTest

/// Runs `body` and counts the fused convolutions it ran (`KernelProfiler`'s "fused conv inference", by
/// oneDNN or by taps).
func fusedConvolutionCalls<R>(_ body: () -> R) -> (R, Int) {
    KernelProfiler.reset()
    KernelProfiler.isEnabled = true
    let result = body()
    KernelProfiler.isEnabled = false
    defer { KernelProfiler.reset() }
    return (result, KernelProfiler.report().filter { $0.0.hasPrefix("fused conv inference") }.map(\.2).reduce(0, +))
}

/// The fused inference chain (`ResNet.features` inside `FrozenWeights.whileFrozen`, evaluation mode, no
/// gradients) against the layer-by-layer pass: the same features to float rounding for both stems and
/// trained batch-norm statistics, an image's features independent of the other images in its batch, and
/// the layer path wherever the chain does not apply.
final class ResNetInferenceChainTests: XCTestCase {
    private var generator = RandomGenerator(seed: 17)

    /// A ResNet-18 of `width` whose batch norms have statistics and affine maps far from the identity.
    private func trainedLookingResNet(stem: ResNet.Stem, width: Int) -> ResNet {
        let model = ResNet(depth: 18, classCount: 7, stem: stem, width: width, seed: 3)
        for (name, tensor) in model.stateDictionary().tensors where name.contains("bn") || name.contains("downsample.1") {
            let c = tensor.count
            var values: [Float]
            switch name.split(separator: ".").last! {
            case "weight": values = (0..<c).map { _ in Float.random(in: 0.5...1.5, using: &generator) }
            case "bias", "running_mean": values = (0..<c).map { _ in Float.random(in: -0.5...0.5, using: &generator) }
            case "running_var": values = (0..<c).map { _ in Float.random(in: 0.2...3, using: &generator) }
            default: continue
            }
            tensor.assign(Tensor(values, shape: tensor.shape))
        }
        model.eval()
        return model
    }

    func testFusedFeaturesMatchTheLayerPathForBothStems() {
        let cases: [(stem: ResNet.Stem, width: Int, size: Int)] = [(.imageNet, 16, 48), (.small, 16, 20), (.imageNet, 8, 37)]
        for c in cases {
            let model = trainedLookingResNet(stem: c.stem, width: c.width)
            let x = Tensor.normal([3, 3, c.size, c.size], generator: &generator)
            let layers = GradientMode.withoutGradients { model(x) }
            let (fused, convolutions) = fusedConvolutionCalls {
                GradientMode.withoutGradients { FrozenWeights.whileFrozen { model(x) } }
            }
            XCTAssertEqual(convolutions, 20, "\(c)")
            assertClose(fused, layers, tolerance: 1e-4, "fused against layer-by-layer logits, \(c)")
            let features = GradientMode.withoutGradients { FrozenWeights.whileFrozen { model.features(x) } }
            assertClose(features, GradientMode.withoutGradients { model.features(x) }, tolerance: 1e-4, "features, \(c)")
        }
    }

    func testAnImagesFeaturesDoNotDependOnTheOtherImagesInItsBatch() {
        let model = trainedLookingResNet(stem: .imageNet, width: 16)
        let x = Tensor.normal([5, 3, 32, 32], generator: &generator)
        GradientMode.withoutGradients { FrozenWeights.whileFrozen {
            let whole = model.features(x).scalars
            let featureCount = model.featureCount
            // The chain made for 5 images runs 2 and 1 padded; a later batch of 7 remakes it.
            let firstTwo = model.features(Tensor(Array(x.scalars[0..<(2 * 3 * 32 * 32)]), shape: [2, 3, 32, 32])).scalars
            let last = model.features(Tensor(Array(x.scalars[(4 * 3 * 32 * 32)...]), shape: [1, 3, 32, 32])).scalars
            // The same positions in the batch: the same bits, whatever the other images are.
            XCTAssertEqual(firstTwo, Array(whole[0..<(2 * featureCount)]))
            // Another position: the tap method's matrix products may round a row differently by where it is.
            let lastInWhole = Array(whole[(4 * featureCount)...])
            XCTAssertLessThanOrEqual(maximumDifference(last, lastInWhole), 1e-5 * max(1, lastInWhole.map(abs).max()!))
            let seven = model.features(Tensor.normal([7, 3, 32, 32], generator: &generator))
            XCTAssertEqual(seven.shape, [7, featureCount])
        } }
    }

    func testTheLayerPathRunsWhereTheChainDoesNotApply() {
        let model = trainedLookingResNet(stem: .small, width: 8)
        let x = Tensor.normal([2, 3, 12, 12], generator: &generator)
        let expected = GradientMode.withoutGradients { model(x) }.scalars
        // Gradients on, training mode, outside whileFrozen: each is the layer path, bit for bit.
        let (withGradients, c1) = fusedConvolutionCalls { FrozenWeights.whileFrozen { model(x) } }
        let (outside, c2) = fusedConvolutionCalls { GradientMode.withoutGradients { model(x) } }
        XCTAssertEqual(withGradients.scalars, expected)
        XCTAssertEqual(outside.scalars, expected)
        model.train()
        let (_, c3) = fusedConvolutionCalls { GradientMode.withoutGradients { FrozenWeights.whileFrozen { model(x) } } }
        XCTAssertEqual([c1, c2, c3], [0, 0, 0])
    }
}
