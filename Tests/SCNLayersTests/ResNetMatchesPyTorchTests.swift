import Foundation
import SCNFormats
import SCNKernels
import SCNLayers
import SCNTensor
import SCNTestSupport
import XCTest

/// A narrow ResNet-18 (width 8) against the same network in PyTorch: names, logits, every parameter
/// gradient and evaluation mode (ImageNet stem, 24x24 inputs), and the losses and final weights of 10
/// SGD steps with Nesterov momentum and weight decay (small stem, 16x16 inputs).
final class ResNetMatchesPyTorchTests: XCTestCase {
    static let fixtures = try! loadFixture("resnet18", in: .module)

    private func pytorchInitialModel(prefix: String = "init.", stem: ResNet.Stem = .imageNet) throws -> ResNet {
        let file = Self.fixtures
        let model = ResNet(depth: 18, classCount: 7, stem: stem, width: 8)
        var tensors: [String: Tensor] = [:], integers: [String: Int] = [:]
        for key in file.keys where key.hasPrefix(prefix) {
            let name = String(key.dropFirst(prefix.count))
            if file.entries[key]!.dtype.isFloatingPoint { tensors[name] = try file.tensor(key) } else {
                integers[name] = Int(try file.integers(key)[0])
            }
        }
        try model.load(tensors: tensors, integers: integers, source: "resnet18 fixture")
        return model
    }

    func testParameterAndBufferNamesAreTorchvisions() throws {
        let model = ResNet(depth: 18, classCount: 7, width: 8)
        let expected = Set(Self.fixtures.keys.filter { $0.hasPrefix("init.") }.map { String($0.dropFirst(5)) })
        let state = model.stateDictionary()
        XCTAssertEqual(Set(state.tensors.keys).union(state.integers.keys), expected)
        XCTAssertEqual(model.namedParameters().count, 62, "ResNet-18 has 62 parameter tensors")
        XCTAssertTrue(state.tensors.keys.contains("layer2.0.downsample.0.weight"))
        XCTAssertTrue(state.integers.keys.contains("layer4.1.bn2.num_batches_tracked"))
        XCTAssertEqual(ResNet(depth: 18, classCount: 7).parameterCount, 11_180_103, "torchvision resnet18 with 7 classes")
        XCTAssertEqual(ResNet(depth: 34, classCount: 1000).parameterCount, 21_797_672, "torchvision resnet34")
    }

    func testForwardAndGradientsMatch() throws {
        let file = Self.fixtures
        let model = try pytorchInitialModel()
        let x = try file.tensor("x")
        let labels = try file.integers("labels").map { Int($0) }
        let logits = model(x)
        assertClose(logits, try file.tensor("logits"), tolerance: 1e-4, "logits")
        let loss = crossEntropy(logits, labels: labels)
        XCTAssertEqual(loss.item(), try file.tensor("loss").item(), accuracy: 1e-4)
        loss.backward()
        for (name, p) in model.namedParameters() {
            assertClose(p.grad!, try file.tensor("grad.\(name)"), tolerance: 2e-4, "grad \(name)")
        }
        model.eval()
        let evalLogits = GradientMode.withoutGradients { model(x) }
        assertClose(evalLogits, try file.tensor("eval_logits"), tolerance: 1e-4, "eval logits")
        // The fused inference chain (batch norm folded into the convolutions) against PyTorch's evaluation.
        let (fusedLogits, fusedConvolutions) = fusedConvolutionCalls {
            GradientMode.withoutGradients { FrozenWeights.whileFrozen { model(x) } }
        }
        XCTAssertEqual(fusedConvolutions, 20, "ResNet-18 runs as one chain of 20 fused convolutions")
        assertClose(fusedLogits, try file.tensor("eval_logits"), tolerance: 1e-4, "fused eval logits")
    }

    func testTenSGDStepsGiveTheSameLosses() throws {
        let file = Self.fixtures
        let model = try pytorchInitialModel(prefix: "sgd_init.", stem: .small)
        let optimizer = SGD(model.namedParameters(), learningRate: 0.01, momentum: 0.9, weightDecay: 5e-4, nesterov: true)
        let expected = try file.tensor("sgd.losses").scalars
        var losses: [Float] = []
        for step in 0..<10 {
            let x = try file.tensor("sgd.x\(step)")
            let y = try file.integers("sgd.y\(step)").map { Int($0) }
            model.zeroGrad()
            let loss = crossEntropy(model(x), labels: y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        }
        for (step, (mine, theirs)) in zip(losses, expected).enumerated() {
            XCTAssertEqual(mine, theirs, accuracy: 2e-3 * max(1, abs(theirs)), "loss of step \(step)")
        }
        // PyTorch's own float32 and float64 runs of these 10 steps end up to 2.2e-3 apart (conv1.weight).
        let state = model.stateDictionary().tensors
        for (name, tensor) in state {
            assertClose(tensor, try file.tensor("final.\(name)"), tolerance: 5e-3, "after 10 steps: \(name)")
        }
        XCTAssertEqual(model.stateDictionary().integers["bn1.num_batches_tracked"],
                       Int(try file.integers("final.bn1.num_batches_tracked")[0]))
    }
}
