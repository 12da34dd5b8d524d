@testable import SCNKernels
import SCNTensor
import SCNTestSupport
import XCTest

/// The library-backed kernels (oneDNN, OpenBLAS) against the plain loops in `ReferenceKernels`, over
/// shapes like ResNet's (strides, 1x1 projections, odd sizes, the 7x7 stem).
final class KernelsMatchReferenceTests: XCTestCase {
    private var generator = RandomGenerator(seed: 21)

    private func random(_ shape: [Int]) -> Tensor { Tensor.normal(shape, generator: &generator) }

    func testConvolutionForwardAndBackward() {
        let cases: [(x: [Int], w: [Int], stride: Int, pad: Int, bias: Bool)] = [
            ([2, 3, 9, 9], [8, 3, 7, 7], 2, 3, false),
            ([2, 16, 6, 6], [16, 16, 3, 3], 1, 1, false),
            ([1, 16, 7, 5], [32, 16, 3, 3], 2, 1, true),
            ([3, 16, 6, 6], [32, 16, 1, 1], 2, 0, false),
            ([2, 5, 4, 4], [3, 5, 2, 2], 1, 0, true),
            // Small maps with 64+ channels take the per-tap matrix-product method.
            ([2, 64, 2, 2], [32, 64, 3, 3], 1, 1, false),
            ([3, 64, 3, 3], [16, 64, 3, 3], 1, 1, true),
            ([2, 64, 5, 4], [24, 64, 3, 3], 2, 1, false),
            ([1, 64, 4, 4], [8, 64, 5, 5], 2, 2, true),
        ]
        for c in cases {
            let x = random(c.x), w = random(c.w), b = c.bias ? random([c.w[0]]) : nil
            x.requiresGrad = true
            w.requiresGrad = true
            b?.requiresGrad = true
            let y = conv2d(x, weight: w, bias: b, stride: (c.stride, c.stride), padding: (c.pad, c.pad))
            let reference = ReferenceKernels.convolution(x: x.scalars, xShape: c.x, w: w.scalars, wShape: c.w,
                                                         bias: b?.scalars, stride: (c.stride, c.stride), padding: (c.pad, c.pad))
            assertClose(y, Tensor(reference.y, shape: reference.shape), tolerance: 1e-4, "conv forward \(c)")
            let dy = random(reference.shape)
            y.backward(seed: dy)
            let grads = ReferenceKernels.convolutionBackward(x: x.scalars, xShape: c.x, w: w.scalars, wShape: c.w,
                                                             dy: dy.scalars, stride: (c.stride, c.stride), padding: (c.pad, c.pad))
            assertClose(x.grad!, Tensor(grads.dx, shape: c.x), tolerance: 1e-4, "conv dx \(c)")
            assertClose(w.grad!, Tensor(grads.dw, shape: c.w), tolerance: 1e-4, "conv dw \(c)")
            if let b { assertClose(b.grad!, Tensor(grads.db, shape: [c.w[0]]), tolerance: 1e-4, "conv db \(c)") }
        }
    }

    func testTapMethodIsChosenForSmallMapsWithManyChannelsAndStridedPointwiseConvolutions() {
        func geometry(_ size: Int, _ channels: Int, kernel: Int = 3, stride: Int = 1) -> ConvolutionGeometry {
            ConvolutionGeometry(batch: 8, inputChannels: channels, inputHeight: size, inputWidth: size, outputChannels: 64,
                                kernelHeight: kernel, kernelWidth: kernel, strideHeight: stride, strideWidth: stride,
                                paddingHeight: kernel / 2, paddingWidth: kernel / 2)
        }
        XCTAssertTrue(TapConvolutionKernel.isPreferredForWeightGradient(of: geometry(24, 64, kernel: 1, stride: 2)), "a downsampling shortcut")
        XCTAssertFalse(TapConvolutionKernel.isPreferred(for: geometry(24, 64, kernel: 1, stride: 2)), "its forward stays with oneDNN")
        XCTAssertFalse(TapConvolutionKernel.isPreferredForWeightGradient(of: geometry(24, 64, kernel: 3, stride: 2)), "a strided 3x3 on a large map")
        XCTAssertTrue(TapConvolutionKernel.isPreferredForWeightGradient(of: geometry(2, 512)))
        XCTAssertTrue(TapConvolutionKernel.isPreferred(for: geometry(2, 512)))
        XCTAssertTrue(TapConvolutionKernel.isPreferred(for: geometry(4, 64)))
        XCTAssertFalse(TapConvolutionKernel.isPreferred(for: geometry(5, 512)), "25 output positions")
        XCTAssertFalse(TapConvolutionKernel.isPreferred(for: geometry(2, 32)), "few channels")
        XCTAssertFalse(TapConvolutionKernel.isPreferred(for: geometry(2, 512, kernel: 1)), "1x1: nothing to skip")
    }

    func testBFloat16ConvolutionStaysCloseToFloat32() throws {
        try XCTSkipUnless(ConvolutionPrecision.bfloat16.isSupported, "oneDNN has no bf16 convolution for this CPU (AVX2 only)")
        let x = random([4, 16, 8, 8]), w = random([32, 16, 3, 3])
        x.requiresGrad = true
        w.requiresGrad = true
        let y32 = conv2d(x, weight: w, padding: (1, 1))
        let y16 = conv2d(x, weight: w, padding: (1, 1), precision: .bfloat16)
        // bf16 keeps 8 bits of mantissa: relative error about 2^-8 per product, accumulated in f32.
        let scale = y32.scalars.map(abs).max()!
        XCTAssertLessThan(maximumDifference(y32.scalars, y16.scalars) / scale, 0.03)
        let dy = random(y32.shape)
        y16.backward(seed: dy)
        let dx16 = x.grad!.scalars, dw16 = w.grad!.scalars
        x.grad = nil
        w.grad = nil
        y32.backward(seed: dy)
        XCTAssertLessThan(maximumDifference(x.grad!.scalars, dx16) / x.grad!.scalars.map(abs).max()!, 0.03)
        XCTAssertLessThan(maximumDifference(w.grad!.scalars, dw16) / w.grad!.scalars.map(abs).max()!, 0.03)
    }

    /// Each layout in each precision this CPU supports, whichever the process picks by default: oneDNN's
    /// plans called directly, forward and both gradients against the plain loops (float32 to 1e-4 of the
    /// largest value; bfloat16, 8 bits of mantissa, to 3%).
    func testEveryLayoutAndPrecisionMatchesTheReference() {
        let xShape = [3, 16, 7, 6], wShape = [24, 16, 3, 3], stride = (2, 1), padding = (1, 1)
        let g = ConvolutionGeometry(batch: 3, inputChannels: 16, inputHeight: 7, inputWidth: 6, outputChannels: 24,
                                    kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 1,
                                    paddingHeight: 1, paddingWidth: 1)
        let x = random(xShape), w = random(wShape), b = random([24])
        let reference = ReferenceKernels.convolution(x: x.scalars, xShape: xShape, w: w.scalars, wShape: wShape,
                                                     bias: b.scalars, stride: stride, padding: padding)
        let dy = random(reference.shape)
        let gradients = ReferenceKernels.convolutionBackward(x: x.scalars, xShape: xShape, w: w.scalars, wShape: wShape,
                                                             dy: dy.scalars, stride: stride, padding: padding)
        let input = x.toChannelsLast(), outputGradient = dy.toChannelsLast()
        for precision in ConvolutionPrecision.allCases where precision.isSupported {
            let tolerance: Float = precision == .float32 ? 1e-4 : 0.03
            for layout in [ConvolutionLayout.channelsLast, .preferred] {
                let plan = ConvolutionPlan(geometry: g, precision: precision, hasBias: true, layout: layout)
                let y = Tensor(uninitializedShape: reference.shape, memoryFormat: .channelsLast)
                plan.forward(input: input.data, weight: w.data, bias: b.data, output: y.data)
                assertClose(y, Tensor(reference.y, shape: reference.shape), tolerance: tolerance, "forward, \(precision), \(layout)")
                let dx = Tensor(uninitializedShape: xShape, memoryFormat: .channelsLast)
                plan.backwardData(outputGradient: outputGradient.data, weight: w.data, inputGradient: dx.data)
                assertClose(dx, Tensor(gradients.dx, shape: xShape), tolerance: tolerance, "dx, \(precision), \(layout)")
                let dw = Tensor(uninitializedShape: wShape), db = Tensor(uninitializedShape: [24])
                plan.backwardWeights(input: input.data, outputGradient: outputGradient.data, weightGradient: dw.data,
                                     biasGradient: db.data)
                assertClose(dw, Tensor(gradients.dw, shape: wShape), tolerance: tolerance, "dw, \(precision), \(layout)")
                assertClose(db, Tensor(gradients.db, shape: [24]), tolerance: tolerance, "db, \(precision), \(layout)")
            }
        }
    }

    func testLayoutFollowsTheCPUAndPrecision() {
        XCTAssertEqual(ConvolutionLayout.automatic(cpuHasAVX512: true), .channelsLast)
        XCTAssertEqual(ConvolutionLayout.automatic(cpuHasAVX512: false), .preferred)
        XCTAssertEqual(ConvolutionLayout.automatic(cpuHasAVX512: true, precision: .bfloat16), .preferred)
    }

    /// The same convolution twice gives the same bits, forward and backward (on two threads): bit-identical
    /// resumption depends on it. Shapes of the small test networks, which reach oneDNN's direct, 1x1 and
    /// GEMM-based kernels.
    func testConvolutionIsRunToRunDeterministic() {
        let cases: [(x: [Int], w: [Int], stride: Int, pad: Int)] = [
            ([16, 4, 8, 8], [4, 4, 3, 3], 1, 1), ([16, 3, 8, 8], [4, 3, 3, 3], 1, 1), ([16, 4, 8, 8], [8, 4, 3, 3], 2, 1),
            ([16, 8, 4, 4], [8, 8, 3, 3], 1, 1), ([16, 16, 2, 2], [16, 16, 3, 3], 1, 1), ([16, 16, 2, 2], [32, 16, 3, 3], 2, 1),
            ([16, 32, 1, 1], [32, 32, 3, 3], 1, 1), ([16, 4, 8, 8], [8, 4, 1, 1], 2, 0), ([16, 64, 12, 12], [64, 64, 3, 3], 1, 1),
        ]
        for c in cases {
            let x = random(c.x), w = random(c.w)
            let dy = random(conv2d(x, weight: w, stride: (c.stride, c.stride), padding: (c.pad, c.pad)).shape)
            var first: (y: [Float], dx: [Float], dw: [Float])?
            for _ in 0..<4 {
                x.requiresGrad = true
                w.requiresGrad = true
                x.grad = nil
                w.grad = nil
                let y = conv2d(x, weight: w, stride: (c.stride, c.stride), padding: (c.pad, c.pad))
                y.backward(seed: dy)
                let run = (y: y.scalars, dx: x.grad!.scalars, dw: w.grad!.scalars)
                guard let first else { first = run; continue }
                XCTAssertEqual(run.y, first.y, "forward differs between runs: input \(c.x), weights \(c.w), stride \(c.stride)")
                XCTAssertEqual(run.dx, first.dx, "backward data differs between runs: input \(c.x), weights \(c.w), stride \(c.stride)")
                XCTAssertEqual(run.dw, first.dw, "backward weights differ between runs: input \(c.x), weights \(c.w), stride \(c.stride)")
            }
        }
    }

    func testBatchNormForwardAndBackward() {
        for shape in [[4, 16, 5, 5], [2, 3, 7, 3], [8, 64, 1, 1]] {
            let c = shape[1]
            let x = random(shape), weight = random([c]), bias = random([c])
            x.requiresGrad = true
            weight.requiresGrad = true
            bias.requiresGrad = true
            let y = batchNorm(x, weight: weight, bias: bias, runningMean: .zeros([c]), runningVariance: .ones([c]),
                              training: true)
            let reference = ReferenceKernels.batchNorm(x: x.scalars, shape: shape, weight: weight.scalars,
                                                       bias: bias.scalars, epsilon: 1e-5)
            assertClose(y, Tensor(reference.y, shape: shape), tolerance: 1e-4, "bn forward \(shape)")
            let dy = random(shape)
            y.backward(seed: dy)
            let grads = ReferenceKernels.batchNormBackward(x: x.scalars, shape: shape, weight: weight.scalars,
                                                           dy: dy.scalars, epsilon: 1e-5)
            assertClose(x.grad!, Tensor(grads.dx, shape: shape), tolerance: 2e-4, "bn dx \(shape)")
            assertClose(weight.grad!, Tensor(grads.dweight, shape: [c]), tolerance: 1e-4, "bn dweight \(shape)")
            assertClose(bias.grad!, Tensor(grads.dbias, shape: [c]), tolerance: 1e-4, "bn dbias \(shape)")
        }
    }

    func testMaxPoolForwardAndBackward() {
        let shape = [2, 8, 9, 7]
        let x = random(shape)
        x.requiresGrad = true
        let y = maxPool2d(x, kernel: (3, 3), stride: (2, 2), padding: (1, 1))
        let reference = ReferenceKernels.maxPool(x: x.scalars, shape: shape, kernel: (3, 3), stride: (2, 2), padding: (1, 1))
        assertClose(y, Tensor(reference.y, shape: reference.shape), tolerance: 0, "maxpool forward")
        // Without gradients the inference primitive (no argmax workspace) gives the same maxima.
        let inferred = GradientMode.withoutGradients { maxPool2d(x, kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }
        XCTAssertEqual(inferred.scalars, reference.y, "maxpool inference")
        let dy = random(reference.shape)
        y.backward(seed: dy)
        var dx = [Float](repeating: 0, count: x.count)
        for (o, i) in reference.argmax.enumerated() { dx[i] += dy.scalars[o] }
        assertClose(x.grad!, Tensor(dx, shape: shape), tolerance: 1e-6, "maxpool dx")
    }

    func testAveragePoolForwardAndBackward() {
        for (shape, kernel, stride, padding) in [([2, 8, 9, 7], 3, 2, 1), ([1, 16, 6, 6], 2, 2, 0)] {
            let x = random(shape)
            x.requiresGrad = true
            let y = avgPool2d(x, kernel: (kernel, kernel), stride: (stride, stride), padding: (padding, padding))
            let dy = random(y.shape)
            let reference = ReferenceKernels.averagePool(x: x.scalars, shape: shape, kernel: (kernel, kernel), stride: (stride, stride),
                                                         padding: (padding, padding), dy: dy.scalars)
            assertClose(y, Tensor(reference.y, shape: reference.shape), tolerance: 1e-5, "avgpool forward \(shape)")
            y.backward(seed: dy)
            assertClose(x.grad!, Tensor(reference.dx, shape: shape), tolerance: 1e-5, "avgpool dx \(shape)")
        }
    }

    func testMatrixMultiplyShapes() {
        for (m, k, n) in [(1, 1, 1), (7, 13, 5), (64, 512, 7), (3, 1, 4)] {
            let a = random([m, k]), b = random([k, n])
            assertClose(matmul(a, b), Tensor(ReferenceKernels.matrixProduct(a.scalars, b.scalars, m: m, k: k, n: n), shape: [m, n]),
                        tolerance: 1e-5, "matmul \(m)x\(k)x\(n)")
        }
    }

    func testThreadPoolCoversEveryIndexOnce() {
        let pool = ThreadPool(threadCount: 3)
        for count in [0, 1, 5, 100_000] {
            var hits = [Int](repeating: 0, count: count)
            hits.withUnsafeMutableBufferPointer { buffer in
                let p = buffer.baseAddress
                pool.parallelFor(count, minimumChunk: 7) { range in for i in range { p![i] += 1 } }
            }
            XCTAssertTrue(hits.allSatisfy { $0 == 1 }, "count \(count)")
        }
    }
}
