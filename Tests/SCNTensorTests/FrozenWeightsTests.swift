import Foundation
import SCNKernels
import SCNTensor
import XCTest

/// Convolution weights prepared once inside `FrozenWeights.whileFrozen`: the same bits as without it, for
/// the tap method and oneDNN's, prepared once per weight and geometry, and forgotten when the scope ends.
final class FrozenWeightsTests: XCTestCase {
    private var generator = RandomGenerator(seed: 5)

    private func packCalls(_ body: () -> Void) -> Int {
        KernelProfiler.reset()
        KernelProfiler.isEnabled = true
        body()
        KernelProfiler.isEnabled = false
        defer { KernelProfiler.reset() }
        return KernelProfiler.report().first { $0.0 == "conv pack weights (taps)" }?.2 ?? 0
    }

    func testFrozenConvolutionsAreBitIdenticalAndSeeChangedWeightsAfterwards() {
        let cases: [(x: [Int], w: [Int], stride: Int, pad: Int, bias: Bool, taps: Bool)] = [
            ([2, 64, 3, 3], [32, 64, 3, 3], 1, 1, false, true),    // a small map with many channels: the tap method
            ([2, 16, 9, 9], [32, 16, 3, 3], 1, 1, true, false),    // oneDNN
            ([2, 3, 12, 12], [16, 3, 7, 7], 2, 3, false, false),   // oneDNN, a stem
            ([2, 16, 8, 8], [32, 16, 1, 1], 2, 0, false, false),   // oneDNN, a downsampling shortcut
        ]
        // bf16 where the CPU has it: its weights are converted by the kept reorder (the tap method is fp32 only).
        let precisions = ConvolutionPrecision.allCases.filter(\.isSupported)
        for precision in precisions {
        for c in cases where precision == .float32 || !c.taps {
            let w = Tensor.normal(c.w, generator: &generator), b = c.bias ? Tensor.normal([c.w[0]], generator: &generator) : nil
            let inputs = (0..<3).map { _ in Tensor.normal(c.x, generator: &generator) }
            func run(_ x: Tensor) -> [Float] {
                GradientMode.withoutGradients {
                    conv2d(x, weight: w, bias: b, stride: (c.stride, c.stride), padding: (c.pad, c.pad), precision: precision).scalars
                }
            }
            var plain: [[Float]] = [], frozen: [[Float]] = []
            let plainPacks = packCalls { plain = inputs.map(run) }
            let frozenPacks = packCalls {
                frozen = FrozenWeights.whileFrozen {
                    XCTAssertTrue(FrozenWeights.isActive)
                    return inputs.map(run) + inputs.map(run)
                }
            }
            XCTAssertFalse(FrozenWeights.isActive)
            XCTAssertEqual(frozen, plain + plain, "\(precision) \(c)")
            XCTAssertEqual(plainPacks, c.taps ? 3 : 0, "\(c)")
            XCTAssertEqual(frozenPacks, c.taps ? 1 : 0, "six calls, one weight and geometry: \(c)")

            // Changed weights are seen after the scope, and in a new one.
            w.data[0] += 1
            let changed = run(inputs[0])
            XCTAssertNotEqual(changed, plain[0], "\(c)")
            XCTAssertEqual(FrozenWeights.whileFrozen { run(inputs[0]) }, changed, "\(c)")
            if c.taps {
                // Inside a scope a change is not seen: the promise the scope asks of its caller.
                let stale = FrozenWeights.whileFrozen { () -> [Float] in
                    _ = run(inputs[0])
                    w.data[0] += 1
                    return run(inputs[0])
                }
                XCTAssertEqual(stale, changed, "\(c)")
                XCTAssertNotEqual(run(inputs[0]), changed, "\(c)")
            }
        }
        }
    }

    func testScopesNestAndStayOnTheirThread() {
        FrozenWeights.whileFrozen {
            FrozenWeights.whileFrozen { XCTAssertTrue(FrozenWeights.isActive) }
            XCTAssertTrue(FrozenWeights.isActive, "the inner scope does not end the outer one")
            let done = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var activeThere = true
            let thread = Thread {
                activeThere = FrozenWeights.isActive
                done.signal()
            }
            thread.start()
            done.wait()
            XCTAssertFalse(activeThere, "another thread's convolutions are not frozen")
        }
        XCTAssertFalse(FrozenWeights.isActive)
    }
}
