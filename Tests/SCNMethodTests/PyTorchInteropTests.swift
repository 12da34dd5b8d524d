import Foundation
import SCNFormats
import SCNLayers
import SCNMethod
import SCNTensor
import SCNTestSupport
import XCTest

/// Reading PyTorch files (Fixtures/make_pytorch_fixtures.py) and exporting to PyTorch.
final class PyTorchInteropTests: XCTestCase {
    static let expected = try! loadFixture("expected", in: .module)

    private func fixture(_ name: String) -> URL {
        Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")!
    }

    private func model(classes: Int = 7, width: Int = 8, stem: ResNet.Stem = .imageNet) -> SCNModel {
        let m = SCNModel(backbone: ResNet(depth: 18, classCount: classes, stem: stem, width: width, seed: 9), seed: 9)
        m.eval()
        return m
    }

    func testTorchvisionResNetStateDict() throws {
        let m = model()
        let report = try PretrainedWeights.load(fixture("resnet18_w8.pth"), into: m)
        XCTAssertEqual(report.layout, .torchvisionResNet)
        XCTAssertEqual(report.initialized, ["importance.bias", "importance.weight", "margin"])
        let x = try Self.expected.tensor("x")
        assertClose(GradientMode.withoutGradients { m.backbone(x) }, try Self.expected.tensor("resnet18_w8.logits"), tolerance: 1e-4, "logits")
        XCTAssertEqual(m.stateDictionary().integers["backbone.layer1.0.bn1.num_batches_tracked"], 7)
    }

    func testOfficialSCNCheckpoint() throws {
        let m = model()
        let report = try PretrainedWeights.load(fixture("official_scn.pth"), into: m)
        XCTAssertEqual(report.layout, .officialSCN)
        XCTAssertEqual(report.initialized, ["margin"])
        let output = GradientMode.withoutGradients { m(try! Self.expected.tensor("x")) }
        assertClose(output.logits, try Self.expected.tensor("official_scn.logits"), tolerance: 1e-4, "logits")
        assertClose(output.alpha, try Self.expected.tensor("official_scn.alpha"), tolerance: 1e-5, "alpha")
    }

    func testMSCelebDropsItsFeatureLayerAndClassifierAndSaysSo() throws {
        let m = model()
        let report = try PretrainedWeights.load(fixture("msceleb_w8.pth"), into: m)
        XCTAssertEqual(report.layout, .msCelebResNet18)
        XCTAssertEqual(report.dropped, ["module.fc.bias", "module.fc.weight", "module.feature.bias", "module.feature.weight"])
        XCTAssertTrue(report.initialized.contains("backbone.fc.weight"))
        XCTAssertTrue("\(report)".contains("dropped 4"))
        assertClose(GradientMode.withoutGradients { m.backbone.features(try! Self.expected.tensor("x")) },
                    try Self.expected.tensor("msceleb_w8.features"), tolerance: 1e-4, "features")
    }

    func testMismatchesAreRefusedWholeWithEveryKeyNamed() throws {
        let wide = model(width: 16)
        let before = wide.backbone.conv1.weight.scalars
        XCTAssertThrowsError(try PretrainedWeights.load(fixture("resnet18_w8.pth"), into: wide)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("nothing was loaded"), text)
            XCTAssertTrue(text.contains("conv1.weight -> backbone.conv1.weight: file has shape [8, 3, 7, 7], model [16, 3, 7, 7]"), text)
            XCTAssertTrue(text.contains("--init-drop"), text)
        }
        XCTAssertEqual(wide.backbone.conv1.weight.scalars, before, "nothing changed")
        let fiveClasses = model(classes: 5)
        XCTAssertThrowsError(try PretrainedWeights.load(fixture("resnet18_w8.pth"), into: fiveClasses)) {
            XCTAssertTrue("\($0)".contains("fc.weight -> backbone.fc.weight: file has shape [7, 64], model [5, 64]"), "\($0)")
        }
        let report = try PretrainedWeights.load(fixture("resnet18_w8.pth"), into: fiveClasses, dropping: ["fc.weight", "fc.bias"])
        XCTAssertEqual(report.dropped, ["fc.bias", "fc.weight"])
    }

    func testDtypesStridesAndOffsets() throws {
        let file = try PyTorchFile(contentsOf: fixture("mixed_dtypes.pth"))
        func tensor(_ key: String) throws -> PyTorchTensor {
            guard case .tensor(let t) = file.root[key] else { throw SafeTensorsError(file: "mixed", key: key, reason: "missing") }
            return t
        }
        XCTAssertEqual(try file.floatTensor(tensor("half"), key: "half").scalars, [1, -2, 0.5])
        XCTAssertEqual(try file.floatTensor(tensor("bf16"), key: "bf16").scalars, [1, -0.5, 3])
        XCTAssertEqual(try file.floatTensor(tensor("double"), key: "double").scalars, [1.5, 2.5])
        XCTAssertEqual(try file.integers(tensor("long"), key: "long"), [42])
        let transposed = try file.floatTensor(tensor("transposed"), key: "transposed")
        XCTAssertEqual(transposed.shape, [4, 3])
        XCTAssertEqual(transposed.scalars, [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
        XCTAssertEqual(try file.floatTensor(tensor("slice"), key: "slice").scalars, [4, 5, 6, 7])
    }

    func testHostileFilesAreRefused() {
        let cases = [("hostile_truncated.pth", "truncated"), ("hostile_os_system.pth", "forbidden global 'os.system'"),
                     ("hostile_dtype.pth", "forbidden global 'torch.ComplexFloatStorage'"), ("hostile_offset.pth", "runs past the storage")]
        for (name, message) in cases {
            XCTAssertThrowsError(try PretrainedWeights.load(fixture(name), into: model())) { error in
                XCTAssertTrue("\(error)".contains(message), "\(name): \(error)")
                XCTAssertTrue("\(error)".contains(name), "\(name): names the file: \(error)")
            }
        }
    }

    /// `PyTorchWriter`'s files read back (torch.load also reads them: checked by hand with torch 2.15,
    /// see docs/INTEROP.md).
    func testWrittenPthFilesRoundTrip() throws {
        let m = model(classes: 5)
        try PretrainedWeights.load(fixture("resnet18_w8.pth"), into: m, dropping: ["fc.weight", "fc.bias"])
        var writer = PyTorchWriter()
        let state = m.backbone.stateDictionary()
        for (k, t) in state.tensors { writer.add(k, t) }
        for (k, v) in state.integers { writer.add(k, integers: [Int64(v)], shape: []) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("scn-\(UUID().uuidString).pth")
        defer { try? FileManager.default.removeItem(at: url) }
        try writer.write(to: url)
        let copy = model(classes: 5)
        let report = try PretrainedWeights.load(url, into: copy)
        XCTAssertEqual(report.layout, .torchvisionResNet)
        for (k, t) in m.backbone.stateDictionary().tensors {
            XCTAssertEqual(copy.backbone.stateDictionary().tensors[k]!.scalars, t.scalars, k)
        }
        XCTAssertEqual(copy.backbone.stateDictionary().integers, state.integers)
    }

    /// A project file loads whole, but for the rank loss's margin: that is the new run's setting.
    func testAProjectFileLoadsWithoutItsMargin() throws {
        let saved = model()
        saved.margin.data[0] = 0.9
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("scn-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try saved.save(to: url)
        let m = SCNModel(backbone: ResNet(depth: 18, classCount: 7, stem: .imageNet, width: 8, seed: 4), initialMargin: 0.07, seed: 4)
        let report = try PretrainedWeights.load(url, into: m)
        XCTAssertEqual(report.layout, .project)
        XCTAssertEqual(report.dropped, ["margin"])
        XCTAssertEqual(report.initialized, ["margin"])
        XCTAssertEqual(m.margin.scalars, [0.07])
        XCTAssertEqual(m.importance.weight.scalars, saved.importance.weight.scalars)
    }

    /// A Swift model saved with `Module.save` loads into the PyTorch definition in
    /// Tests/Fixtures/reference_models.py (`SCNModel.load_state_dict`) and gives the same outputs.
    func testExportedModelGivesPyTorchsOutputs() throws {
        let m = SCNModel(backbone: ResNet(depth: 18, classCount: 5, stem: .small, width: 8, seed: 21), seed: 21)
        m.eval()
        if ProcessInfo.processInfo.environment["SCN_WRITE_FIXTURES"] == "1" {
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/swift_scn_w8.safetensors")
            try m.save(to: url)
            throw XCTSkip("wrote \(url.path); now run make_pytorch_fixtures.py")
        }
        let committed = try SafeTensorsFile(contentsOf: fixture("swift_scn_w8.safetensors"))
        for (key, tensor) in m.stateDictionary().tensors {
            XCTAssertEqual(try committed.tensor(key).scalars, tensor.scalars, "the seeded model is the committed one: \(key)")
        }
        let output = GradientMode.withoutGradients { m(try! Self.expected.tensor("x")) }
        assertClose(output.logits, try Self.expected.tensor("swift_scn_w8.logits"), tolerance: 1e-4, "logits in PyTorch")
        assertClose(output.alpha, try Self.expected.tensor("swift_scn_w8.alpha"), tolerance: 1e-5, "alpha in PyTorch")
    }
}
