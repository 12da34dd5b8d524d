import Foundation
import SCNLayers
import SCNTensor

/// An exponential moving average of a model's weights and batch-norm running statistics, kept in a
/// second model of the same architecture: after each training step, for every floating-point tensor,
/// `average = decay * average + (1 - decay) * weights`. Integer buffers (`num_batches_tracked`) are
/// copied. The averaged model predicts like an ensemble of the recent weights at the cost of one model.
public final class WeightAverage {
    /// The averaged weights, in evaluation mode.
    public let model: SCNModel
    public let decay: Float

    /// A copy of `model`'s current state (an architecture like `source`'s: `makeModel` builds it).
    init(copying source: SCNModel, decay: Float, makeModel: () -> SCNModel) {
        precondition((0...1).contains(decay), "WeightAverage: decay \(decay) outside 0...1")
        self.decay = decay
        model = makeModel()
        let state = source.stateDictionary()
        try! model.load(tensors: state.tensors, integers: state.integers, source: "the trained model")
        model.eval()
    }

    /// Moves the average toward `source`'s current state.
    public func update(from source: SCNModel) {
        let averaged = model.namedTensors(), current = source.namedTensors()
        precondition(averaged.count == current.count, "WeightAverage: the models differ")
        let keep = decay, take = 1 - decay
        for ((name, a), (otherName, w)) in zip(averaged, current) {
            precondition(name == otherName && a.shape == w.shape && a.memoryFormat == w.memoryFormat,
                         "WeightAverage: \(name) does not match \(otherName)")
            let count = a.count
            let x = a.data, y = w.data
            for i in 0..<count { x[i] = keep * x[i] + take * y[i] }
        }
        let integers = source.namedIntegerBuffers()
        if !integers.isEmpty {
            try! model.load(tensors: [:], integers: Dictionary(uniqueKeysWithValues: integers), ignoring: Set(averaged.map(\.0)), source: "the trained model")
        }
    }
}
