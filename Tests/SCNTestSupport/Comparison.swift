import Foundation
import SCNFormats
import SCNTensor
import XCTest

/// The largest absolute difference between two equally long arrays.
public func maximumDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "compared arrays have \(a.count) and \(b.count) elements")
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// Asserts `actual` equals `expected` elementwise within `tolerance * max(1, max|expected|)`, reporting
/// the first values and the largest difference (as llm.c's test does).
public func assertClose(_ actual: Tensor, _ expected: Tensor, tolerance: Float, _ what: String,
                        file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, expected.shape, "\(what): shape", file: file, line: line)
    guard actual.shape == expected.shape else { return }
    let a = actual.scalars, e = expected.scalars
    let scale = max(1, e.reduce(0) { max($0, abs($1)) })
    let difference = maximumDifference(a, e)
    XCTAssertLessThanOrEqual(difference, tolerance * scale,
                             "\(what): max |difference| \(difference) (scale \(scale)); first values "
                                 + "\(a.prefix(4)) against \(e.prefix(4))", file: file, line: line)
}

/// A fixture file in a test bundle.
public func loadFixture(_ name: String, in bundle: Bundle) throws -> SafeTensorsFile {
    guard let url = bundle.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures") else {
        throw SafeTensorsError(file: name, reason: "fixture not found in the test bundle")
    }
    return try SafeTensorsFile(contentsOf: url)
}

/// Central finite-difference check of every input's gradient of `sum(f(inputs) * weights)` for fixed
/// random weights. Float32 arithmetic: use inputs of order 1, `step` around 1e-2.
public func assertGradientsMatchFiniteDifferences(
    _ inputs: [Tensor], step: Float = 1e-2, tolerance: Float = 2e-2, _ what: String,
    file: StaticString = #filePath, line: UInt = #line, _ f: @escaping ([Tensor]) -> Tensor
) {
    var generator = RandomGenerator(seed: 99)
    for x in inputs { x.requiresGrad = true; x.grad = nil }
    let probe = GradientMode.withoutGradients { f(inputs) }
    let weights = Tensor.normal(probe.shape, generator: &generator)
    let objective = { () -> Double in
        let y = GradientMode.withoutGradients { f(inputs) }.scalars
        return zip(y, weights.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    let y = f(inputs)
    (y * weights).sum().backward()
    for (n, x) in inputs.enumerated() {
        guard let analytic = x.grad?.scalars else { XCTFail("\(what): input \(n) got no gradient", file: file, line: line); continue }
        for i in 0..<x.count {
            let original = x.data[i]
            x.data[i] = original + step
            let plus = objective()
            x.data[i] = original - step
            let minus = objective()
            x.data[i] = original
            let numeric = Float((plus - minus) / Double(2 * step))
            let a = analytic[i]  // contiguous inputs: storage order is logical order
            if abs(a - numeric) > tolerance * max(1, abs(numeric)) {
                XCTFail("\(what): d/d input\(n)[\(i)] analytic \(a), finite difference \(numeric)", file: file, line: line)
                return
            }
        }
    }
}
