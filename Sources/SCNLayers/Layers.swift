import Foundation
import SCNKernels
import SCNTensor

/// 2-D convolution with PyTorch's parameter names (`weight` `[O, I, kH, kW]`, `bias` `[O]`) and
/// initialization (Kaiming-uniform with a = sqrt(5)).
public final class Conv2d: Module, Layer {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: (Int, Int)
    public let padding: (Int, Int)
    /// The multiply format; set to `.bfloat16` for faster convolutions on CPUs with AVX-512 BF16.
    public var precision: ConvolutionPrecision = .float32

    public init(_ inputChannels: Int, _ outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, generator: inout RandomGenerator) {
        let fanIn = Float(inputChannels * kernelSize * kernelSize)
        let bound = 1 / fanIn.squareRoot()  // kaiming_uniform(a=sqrt(5)) gives sqrt(6/((1+5) fanIn))
        weight = Tensor.uniform([outputChannels, inputChannels, kernelSize, kernelSize], low: -bound, high: bound,
                                generator: &generator)
        weight.requiresGrad = true
        if bias {
            let b = Tensor.uniform([outputChannels], low: -bound, high: bound, generator: &generator)
            b.requiresGrad = true
            self.bias = b
        } else {
            self.bias = nil
        }
        self.stride = (stride, stride)
        self.padding = (padding, padding)
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, precision: precision)
    }
}

/// Batch normalization over channels of `[N, C, H, W]`, with PyTorch's names: `weight`, `bias`,
/// `running_mean`, `running_var`, `num_batches_tracked`.
public final class BatchNorm2d: Module, Layer, IntegerBufferHolding {
    public let weight: Tensor
    public let bias: Tensor
    public let runningMean: Tensor
    public let runningVar: Tensor
    public let momentum: Float
    public let epsilon: Float
    public private(set) var batchesTracked = 0

    public init(_ channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        weight = Tensor.ones([channels])
        weight.requiresGrad = true
        bias = Tensor.zeros([channels])
        bias.requiresGrad = true
        runningMean = Tensor.zeros([channels])
        runningVar = Tensor.ones([channels])
        self.momentum = momentum
        self.epsilon = epsilon
        super.init()
    }

    public override func namedMembers() -> [(String, Any)] {
        [("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVar)]
    }

    public var integerBuffers: [(String, Int)] { [("num_batches_tracked", batchesTracked)] }
    public func setIntegerBuffer(_ name: String, _ value: Int) { if name == "num_batches_tracked" { batchesTracked = value } }

    public func callAsFunction(_ x: Tensor) -> Tensor { callAsFunction(x, applyingReLU: false) }

    /// Normalizes `x`, then applies ReLU in the same pass when `applyingReLU`.
    public func callAsFunction(_ x: Tensor, applyingReLU: Bool) -> Tensor {
        if isTraining { batchesTracked += 1 }
        return batchNorm(x, weight: weight, bias: bias, runningMean: runningMean, runningVariance: runningVar,
                         training: isTraining, momentum: momentum, epsilon: epsilon, applyingReLU: applyingReLU)
    }
}

/// `x W^T + b` with `weight` `[out, in]` and `bias` `[out]`, PyTorch's initialization.
public final class Linear: Module, Layer {
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ inputFeatures: Int, _ outputFeatures: Int, bias: Bool = true, generator: inout RandomGenerator) {
        let bound = 1 / Float(inputFeatures).squareRoot()
        weight = Tensor.uniform([outputFeatures, inputFeatures], low: -bound, high: bound, generator: &generator)
        weight.requiresGrad = true
        if bias {
            let b = Tensor.uniform([outputFeatures], low: -bound, high: bound, generator: &generator)
            b.requiresGrad = true
            self.bias = b
        } else {
            self.bias = nil
        }
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { linear(x, weight: weight, bias: bias) }
}

/// `max(x, 0)`.
public final class ReLU: Module, Layer {
    public override init() { super.init() }
    public func callAsFunction(_ x: Tensor) -> Tensor { relu(x) }
}

/// Max pooling with a square window.
public final class MaxPool2d: Module, Layer {
    public let kernelSize: Int, stride: Int, padding: Int
    public init(kernelSize: Int, stride: Int, padding: Int = 0) {
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        super.init()
    }
    public override func namedMembers() -> [(String, Any)] { [] }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        maxPool2d(x, kernel: (kernelSize, kernelSize), stride: (stride, stride), padding: (padding, padding))
    }
}

/// Dropout with its own seeded generator.
public final class Dropout: Module, Layer {
    public let probability: Float
    public var generator: RandomGenerator
    public init(probability: Float, seed: UInt64) {
        self.probability = probability
        generator = RandomGenerator(seed: seed)
        super.init()
    }
    public override func namedMembers() -> [(String, Any)] { [] }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        dropout(x, probability: probability, training: isTraining, generator: &generator)
    }
}
