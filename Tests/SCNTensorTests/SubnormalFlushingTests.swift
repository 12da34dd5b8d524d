import SCNKernels
import SCNTensor
import XCTest

/// Subnormal flushing reaches every thread the engine computes on: the caller, the Swift thread pool
/// (elementwise operations) and oneDNN's OpenMP threads (convolution).
final class SubnormalFlushingTests: XCTestCase {
    /// Large enough that both the pool and oneDNN split the work over all threads.
    private let shape = [4, 8, 64, 64]
    private let subnormal = Float.leastNormalMagnitude / 16

    override func tearDown() {
        SubnormalFlushing.setEnabled(false)
    }

    /// The elementwise product and a 1x1 convolution with weight 1, both of a tensor full of `subnormal`.
    private func identityProducts() -> (scaled: [Float], convolved: [Float]) {
        let x = Tensor.full(shape, value: subnormal)
        let identity = (0..<64).map { $0 / 8 == $0 % 8 ? Float(1) : 0 }
        let weight = Tensor(identity, shape: [8, 8, 1, 1])
        return ((x * 1).scalars, conv2d(x, weight: weight).scalars)
    }

    func testFlushingTurnsSubnormalProductsIntoZerosOnEveryThread() throws {
        XCTAssertTrue(subnormal.isSubnormal)
        guard SubnormalFlushing.setEnabled(false) else { throw XCTSkip("no subnormal mode on this CPU") }
        XCTAssertFalse(SubnormalFlushing.isEnabledOnCurrentThread)
        let kept = identityProducts()
        XCTAssertTrue(kept.scaled.allSatisfy { $0 == subnormal }, "without flushing the products stay subnormal")
        XCTAssertTrue(kept.convolved.allSatisfy { $0 == subnormal })

        XCTAssertTrue(SubnormalFlushing.setEnabled(true))
        XCTAssertTrue(SubnormalFlushing.isEnabledOnCurrentThread)
        let flushed = identityProducts()
        // Bit patterns: with flushing on, this thread would also read a subnormal as zero in a comparison.
        XCTAssertEqual(flushed.scaled.filter { $0.bitPattern != 0 }.count, 0, "pool threads flush")
        XCTAssertEqual(flushed.convolved.filter { $0.bitPattern != 0 }.count, 0, "oneDNN's threads flush")

        SubnormalFlushing.setEnabled(false)
        XCTAssertTrue(identityProducts().convolved.allSatisfy { $0 == subnormal }, "turned off again everywhere")
    }

    func testNormalValuesAreUnchangedByFlushing() {
        var generator = RandomGenerator(seed: 3)
        let x = Tensor.normal(shape, generator: &generator)
        let expected = (x * 0.5).scalars
        SubnormalFlushing.setEnabled(true)
        XCTAssertEqual((x * 0.5).scalars.map(\.bitPattern), expected.map(\.bitPattern))
    }
}
