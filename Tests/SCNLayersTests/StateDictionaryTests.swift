import Foundation
import SCNLayers
import SCNTensor
import XCTest

final class StateDictionaryTests: XCTestCase {
    private func temporaryURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("scn-\(UUID().uuidString)-\(name)")
    }

    func testSaveAndLoadRoundTripsEveryTensorAndCounter() throws {
        let a = ResNet(depth: 18, classCount: 5, stem: .small, width: 4, seed: 1)
        a.train()
        _ = a(Tensor.ones([2, 3, 8, 8]))  // moves running statistics and counters
        let url = temporaryURL("model.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try a.save(to: url)
        let b = ResNet(depth: 18, classCount: 5, stem: .small, width: 4, seed: 2)
        try b.load(from: url)
        let sa = a.stateDictionary(), sb = b.stateDictionary()
        for (k, t) in sa.tensors { XCTAssertEqual(t.scalars, sb.tensors[k]!.scalars, k) }
        XCTAssertEqual(sa.integers, sb.integers)
        XCTAssertEqual(sb.integers["bn1.num_batches_tracked"], 1)
    }

    func testMismatchedStateIsRefusedWholeAndNamesEveryKey() throws {
        let source = ResNet(depth: 18, classCount: 5, width: 4, seed: 1)
        let url = temporaryURL("model.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try source.save(to: url)
        let other = ResNet(depth: 18, classCount: 7, width: 4, seed: 2)  // a different classifier
        let before = other.stateDictionary().tensors["conv1.weight"]!.scalars
        XCTAssertThrowsError(try other.load(from: url)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("fc.weight: model has shape [7, 32], file has [5, 32]"), text)
            XCTAssertTrue(text.contains("fc.bias"), text)
        }
        XCTAssertEqual(other.stateDictionary().tensors["conv1.weight"]!.scalars, before, "nothing loaded")
        try other.load(from: url, ignoring: ["fc.weight", "fc.bias"])
        XCTAssertEqual(other.stateDictionary().tensors["conv1.weight"]!.scalars,
                       source.stateDictionary().tensors["conv1.weight"]!.scalars)

        let small = ResNet(depth: 18, classCount: 5, stem: .small, width: 4)
        XCTAssertThrowsError(try small.load(from: url)) { XCTAssertTrue("\($0)".contains("conv1.weight")) }
        let deeper = ResNet(depth: 34, classCount: 5, width: 4)
        XCTAssertThrowsError(try deeper.load(from: url)) { error in
            XCTAssertTrue("\(error)".contains("missing keys"), "\(error)")
            XCTAssertTrue("\(error)".contains("layer3.5.conv1.weight"), "\(error)")
        }
    }
}
