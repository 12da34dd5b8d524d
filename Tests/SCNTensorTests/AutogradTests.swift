import SCNTensor
import XCTest

final class AutogradTests: XCTestCase {
    func testGradientsAccumulateOverReusedTensorsAndBackwardCalls() {
        let x = Tensor([1, 2, 3], shape: [3], requiresGrad: true)
        // y = sum(x * x + x) -> dy/dx = 2x + 1
        (x * x + x).sum().backward()
        XCTAssertEqual(x.grad!.scalars, [3, 5, 7])
        (x * 2).sum().backward()
        XCTAssertEqual(x.grad!.scalars, [5, 7, 9], "a second backward adds to grad")
    }

    func testNoRecordingWithoutGradientsOrOutsideGradientMode() {
        let x = Tensor([1, 2], shape: [2])
        XCTAssertFalse((x * 3).requiresGrad)
        let w = Tensor([1, 2], shape: [2], requiresGrad: true)
        let y = GradientMode.withoutGradients { w * 3 }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertFalse(y.hasGradientFunction)
    }

    func testBackwardReleasesTheGraph() {
        let w = Tensor([1, 2], shape: [2], requiresGrad: true)
        let hidden = w * 3
        let loss = hidden.sum()
        XCTAssertTrue(hidden.hasGradientFunction)
        loss.backward()
        XCTAssertFalse(hidden.hasGradientFunction, "intermediate nodes are freed after backward")
        XCTAssertFalse(loss.hasGradientFunction)
    }

    func testChannelsLastRoundTripKeepsValues() {
        var g = RandomGenerator(seed: 1)
        let x = Tensor.normal([2, 3, 4, 5], generator: &g)
        let cl = x.toChannelsLast()
        XCTAssertEqual(cl.memoryFormat, .channelsLast)
        XCTAssertEqual(cl.scalars, x.scalars)
        XCTAssertEqual(cl.data[1], x.data[20], "element (0,1,0,0) follows (0,0,0,0) in channels-last memory")
        XCTAssertEqual(cl.contiguous().scalars, x.scalars)
    }

    func testShapeErrorsNameTheOperationAndBothShapes() {
        guard case .failure(let error) = broadcastShape([4, 3], [2, 3], operation: "add") else {
            return XCTFail("[4, 3] and [2, 3] do not broadcast")
        }
        XCTAssertEqual(error.description, "add: shapes [4, 3] and [2, 3] do not fit: dimension 0 is 4 against 2")
        guard case .success(let shape) = broadcastShape([5, 1], [3], operation: "multiply") else {
            return XCTFail("[5, 1] and [3] broadcast")
        }
        XCTAssertEqual(shape, [5, 3])
    }

    func testSortIsStableForTies() {
        let x = Tensor([0.5, 0.9, 0.5, 0.1, 0.9], shape: [5])
        XCTAssertEqual(x.sorted(descending: true).indices, [1, 4, 0, 2, 3])
        XCTAssertEqual(x.sorted(descending: false).indices, [3, 0, 2, 1, 4])
        XCTAssertEqual(x.topK(2).indices, [1, 4])
    }

    func testRandomGeneratorRepeatsAndRestores() {
        var a = RandomGenerator(seed: 42)
        _ = a.next()
        let saved = a.stateWords
        let next = (0..<5).map { _ in a.next() }
        var b = RandomGenerator(stateWords: saved)
        XCTAssertEqual((0..<5).map { _ in b.next() }, next)
        var c = RandomGenerator(seed: 42), d = RandomGenerator(seed: 43)
        XCTAssertNotEqual(c.next(), d.next())
    }
}
