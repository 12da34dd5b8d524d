import SCNTensor
import XCTest

final class ArgmaxTests: XCTestCase {
    func testArgmaxTakesTheFirstLargestAndCountsSliceIndicesFromTheBase() {
        XCTAssertEqual([0.1, 0.7, 0.2].argmax(), 1)
        XCTAssertEqual([3, 5, 5, 1].argmax(), 1, "the first of equal largest, as torch.argmax")
        XCTAssertEqual([Float.infinity, 2].argmax(), 0)
        let rows: [Float] = [0.9, 0.05, 0.05, 0.1, 0.2, 0.7]
        XCTAssertEqual(rows[3..<6].argmax(), 5)
        XCTAssertNil([Int]().argmax())
    }
}
