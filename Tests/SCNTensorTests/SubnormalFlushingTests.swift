import SCNKernels
import SCNTensor
import XCTest

/// Subnormal flushing reaches every thread the engine computes on: the caller, the Swift thread pool
/// (elementwise operations), oneDNN's OpenMP threads (convolution) and OpenBLAS's threads (products).
final class SubnormalFlushingTests: XCTestCase {
    /// Large enough that both the pool and oneDNN split the work over all threads.
    private let shape = [4, 8, 64, 64]
    private let subnormal = Float.leastNormalMagnitude / 16

    override func tearDown() {
        SubnormalFlushing.setEnabled(false)
    }

    /// The identity `n`x`n` matrix.
    private func identity(_ n: Int) -> [Float] { (0..<(n * n)).map { $0 / n == $0 % n ? 1 : 0 } }

    /// Products of tensors full of `subnormal` with 1: elementwise (the pool), a 1x1 convolution with the
    /// identity (oneDNN) and a matrix product with the identity (OpenBLAS, large enough to be threaded).
    private func identityProducts() -> (scaled: [Float], convolved: [Float], multiplied: [Float]) {
        let x = Tensor.full(shape, value: subnormal)
        let weight = Tensor(identity(8), shape: [8, 8, 1, 1])
        let matrix = Tensor.full([512, 256], value: subnormal)
        return ((x * 1).scalars, conv2d(x, weight: weight).scalars,
                matmul(matrix, Tensor(identity(256), shape: [256, 256])).scalars)
    }

    func testFlushingTurnsSubnormalProductsIntoZerosOnEveryThread() throws {
        XCTAssertTrue(subnormal.isSubnormal)
        guard SubnormalFlushing.setEnabled(false) else { throw XCTSkip("no subnormal mode on this CPU") }
        XCTAssertFalse(SubnormalFlushing.isEnabledOnCurrentThread)
        let kept = identityProducts()
        XCTAssertTrue(kept.scaled.allSatisfy { $0 == subnormal }, "without flushing the products stay subnormal")
        XCTAssertTrue(kept.convolved.allSatisfy { $0 == subnormal })
        XCTAssertTrue(kept.multiplied.allSatisfy { $0 == subnormal })

        XCTAssertTrue(SubnormalFlushing.setEnabled(true))
        XCTAssertTrue(SubnormalFlushing.isEnabledOnCurrentThread)
        let flushed = identityProducts()
        // Bit patterns: with flushing on, this thread would also read a subnormal as zero in a comparison.
        XCTAssertEqual(flushed.scaled.filter { $0.bitPattern != 0 }.count, 0, "pool threads flush")
        XCTAssertEqual(flushed.convolved.filter { $0.bitPattern != 0 }.count, 0, "oneDNN's threads flush")
        XCTAssertEqual(flushed.multiplied.filter { $0.bitPattern != 0 }.count, 0, "OpenBLAS's threads flush")

        SubnormalFlushing.setEnabled(false)
        let keptAgain = identityProducts()
        XCTAssertTrue(keptAgain.scaled.allSatisfy { $0 == subnormal }, "turned off again everywhere")
        XCTAssertTrue(keptAgain.convolved.allSatisfy { $0 == subnormal })
        XCTAssertTrue(keptAgain.multiplied.allSatisfy { $0 == subnormal })
    }

    func testNormalValuesAreUnchangedByFlushing() {
        var generator = RandomGenerator(seed: 3)
        let x = Tensor.normal(shape, generator: &generator)
        let expected = (x * 0.5).scalars
        SubnormalFlushing.setEnabled(true)
        XCTAssertEqual((x * 0.5).scalars.map(\.bitPattern), expected.map(\.bitPattern))
    }
}
