import Foundation
import SCNLayers
import SCNTensor
import SCNTestSupport
import XCTest

/// Optimizers and schedules against PyTorch's (`torch.optim`, `lr_scheduler`) on fixed gradients.
final class OptimizerTests: XCTestCase {
    static let fixtures = try! loadFixture("optimizers", in: .module)

    private func run(_ name: String, _ make: ([(String, Tensor)]) -> Optimizer) throws {
        let file = Self.fixtures
        let p = try file.tensor("p0")
        p.requiresGrad = true
        let grads = try file.tensor("grads")
        let optimizer = make([("p", p)])
        for step in 0..<5 {
            p.grad = grads.rows(step..<(step + 1)).reshaped([6])
            optimizer.step()
        }
        assertClose(p, try file.tensor("\(name).final"), tolerance: 1e-6, name)
    }

    func testOptimizersMatchPyTorch() throws {
        try run("sgd") { SGD($0, learningRate: 0.1) }
        try run("sgd_momentum_wd") { SGD($0, learningRate: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01) }
        try run("sgd_nesterov") { SGD($0, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-3, nesterov: true) }
        try run("adam") { Adam($0, learningRate: 0.01, weightDecay: 1e-4) }
        try run("adamw") { Adam.adamW($0, learningRate: 0.01, weightDecay: 0.05) }
    }

    func testOptimizerStateRoundTripContinuesIdentically() throws {
        for make in [{ SGD($0, learningRate: 0.1, momentum: 0.9) } as ([(String, Tensor)]) -> Optimizer,
                     { Adam($0, learningRate: 0.01) }] {
            let a = Tensor([1, 2, 3], shape: [3], requiresGrad: true)
            let b = Tensor([1, 2, 3], shape: [3], requiresGrad: true)
            let first = make([("a", a)])
            for _ in 0..<3 { a.grad = a * 0.5; first.step() }
            b.assign(a)
            let state = first.stateDictionary()
            let second = make([("a", b)])
            try second.load(tensors: state.tensors, step: state.step)
            for _ in 0..<3 {
                a.grad = a * 0.5; first.step()
                b.grad = b * 0.5; second.step()
            }
            XCTAssertEqual(a.scalars, b.scalars)
        }
    }

    func testOptimizerStateWithWrongShapeIsRefused() {
        let p = Tensor([1, 2], shape: [2], requiresGrad: true)
        let sgd = SGD([("w", p)], learningRate: 0.1, momentum: 0.9)
        XCTAssertThrowsError(try sgd.load(tensors: ["w.momentum_buffer": Tensor.zeros([3])], step: 1)) { error in
            XCTAssertTrue("\(error)".contains("w.momentum_buffer"))
        }
        XCTAssertThrowsError(try sgd.load(tensors: [:], step: 4)) { error in
            XCTAssertTrue("\(error)".contains("missing"))
        }
        XCTAssertThrowsError(try sgd.load(tensors: ["v.momentum_buffer": Tensor.zeros([2])], step: 1)) { error in
            XCTAssertTrue("\(error)".contains("'v.momentum_buffer': no such parameter"), "\(error)")
        }
        let adam = Adam([("w", p)])
        XCTAssertThrowsError(try adam.load(tensors: ["w.exp_avg": Tensor.zeros([2])], step: 1)) { error in
            XCTAssertTrue("\(error)".contains("'w.exp_avg_sq': missing"), "\(error)")
        }
    }

    /// A parameter that has had no gradient has no state (a head frozen during a warm-up): a checkpoint
    /// without it loads, and the optimizer continues exactly as the one that saved it.
    func testStateOfAParameterWithoutGradientsMayBeAbsent() throws {
        for make in [{ SGD($0, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01) } as ([(String, Tensor)]) -> Optimizer,
                     { Adam($0, learningRate: 0.01) }] {
            let trained = Tensor([1, 2, 3], shape: [3], requiresGrad: true), frozen = Tensor([4, 5], shape: [2], requiresGrad: true)
            let first = make([("trained", trained), ("frozen", frozen)])
            for _ in 0..<2 { trained.grad = trained * 0.5; first.step() }
            let state = first.stateDictionary()
            XCTAssertFalse(state.tensors.keys.contains { $0.hasPrefix("frozen.") })
            let trainedCopy = Tensor(trained.scalars, shape: [3], requiresGrad: true)
            let frozenCopy = Tensor(frozen.scalars, shape: [2], requiresGrad: true)
            let second = make([("trained", trainedCopy), ("frozen", frozenCopy)])
            try second.load(tensors: state.tensors, step: state.step)
            for _ in 0..<3 {  // the frozen parameter starts training
                trained.grad = trained * 0.5; frozen.grad = frozen * 0.25; first.step()
                trainedCopy.grad = trainedCopy * 0.5; frozenCopy.grad = frozenCopy * 0.25; second.step()
            }
            XCTAssertEqual(trained.scalars, trainedCopy.scalars)
            XCTAssertEqual(frozen.scalars, frozenCopy.scalars)
        }
    }

    func testSchedulesMatchPyTorch() throws {
        let file = Self.fixtures
        let schedules: [(String, LearningRateSchedule)] = [
            ("multistep", MultiStepSchedule(base: 0.1, milestones: [3, 7], gamma: 0.1)),
            ("exponential", ExponentialSchedule(base: 0.1, gamma: 0.9)),
            ("cosine", CosineSchedule(base: 0.1, minimum: 0.001, epochs: 12)),
        ]
        for (name, schedule) in schedules {
            let expected = try file.tensor("schedule.\(name)").scalars
            let mine = (0..<12).map { schedule.learningRate(atEpoch: Double($0)) }
            XCTAssertLessThan(maximumDifference(mine, expected), 1e-6, "\(name): \(mine) against \(expected)")
        }
        let warm = LinearWarmup(CosineSchedule(base: 0.1, epochs: 10), warmupEpochs: 2, startFactor: 0.1)
        XCTAssertEqual(warm.learningRate(atEpoch: 0), 0.01, accuracy: 1e-7)
        XCTAssertEqual(warm.learningRate(atEpoch: 1), 0.1 * (1 + cos(.pi * 0.1)) / 2 * 0.55, accuracy: 1e-6)
        XCTAssertEqual(warm.learningRate(atEpoch: 5), CosineSchedule(base: 0.1, epochs: 10).learningRate(atEpoch: 5))
    }
}
