import Foundation
import SCNTensor

/// A float image, rows top to bottom, channels interleaved (`[H, W, C]`), values in 0-255 before
/// normalization.
public struct FloatImage: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var values: [Float]

    public init(width: Int, height: Int, channels: Int, values: [Float]) {
        precondition(values.count == width * height * channels)
        self.width = width
        self.height = height
        self.channels = channels
        self.values = values
    }

    public init(_ image: DecodedImage) {
        self.init(width: image.width, height: image.height, channels: image.channels, values: image.pixels.map(Float.init))
    }
}

/// One step of an augmentation pipeline. Random steps draw from a generator seeded by (seed, epoch,
/// sample index), so every image of every epoch is reproducible and independent of batch order.
public enum ImageTransform: Sendable {
    /// Resizes to `width` x `height` with a triangle filter widened when shrinking (antialiased, as
    /// Pillow's bilinear resize).
    case resize(width: Int, height: Int)
    /// Pads by `padding` pixels of zeros on every side, then crops `size` x `size` at a random place.
    case randomCrop(size: Int, padding: Int)
    /// Crops a random region of `scale` of the area and `ratio` aspect, resized to `size` x `size`.
    case randomResizedCrop(size: Int, scale: ClosedRange<Double>, ratio: ClosedRange<Double>)
    /// Rotates by a uniform random angle in `-degrees...degrees` (counter-clockwise positive), scales by a
    /// uniform factor in `scale` and shifts by up to `translation` of the width and height each way, about
    /// the image centre; bilinear, zeros (black) outside the image (torchvision's RandomAffine, sub-pixel shifts).
    case randomAffine(degrees: Double, scale: ClosedRange<Double>, translation: Double)
    /// Rotates counter-clockwise by `degrees`, scales by `scale` and shifts by `(dx, dy)` pixels (right, down),
    /// about the image centre `((width - 1) / 2, (height - 1) / 2)`; bilinear, zeros outside the image.
    case affine(degrees: Double, scale: Double, dx: Double, dy: Double)
    /// Shifts by `x` of the width (right) and `y` of the height (down); bilinear between pixels, zeros outside.
    case shift(x: Double, y: Double)
    /// Mirrors left-right with probability `p`.
    case horizontalFlip(p: Double)
    /// With probability `p` mirrors, otherwise adds Gaussian noise of standard deviation
    /// `standardDeviation` (0-255 units): the official SCN code's either-or augmentation.
    case flipOrGaussianNoise(p: Double, standardDeviation: Float)
    /// `(x / 255 - mean[c]) / std[c]`.
    case normalize(mean: [Float], std: [Float])
    /// With probability `p`, sets a random rectangle of `scale` of the area to 0 (after normalization,
    /// as torchvision's RandomErasing).
    case randomErasing(p: Double, scale: ClosedRange<Double>, ratio: ClosedRange<Double>)
}

/// ImageNet's channel means and standard deviations (0-1 units).
public let imageNetMean: [Float] = [0.485, 0.456, 0.406]
public let imageNetStd: [Float] = [0.229, 0.224, 0.225]

extension Array where Element == ImageTransform {
    /// Applies the steps in order to `image`, as sample `index` of `epoch` under `seed`.
    public func apply(to image: FloatImage, seed: UInt64, epoch: Int, index: Int) -> FloatImage {
        var generator = RandomGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(epoch) &* 0xD1B5_4A32_D192_ED03
                                            ^ UInt64(index) &* 0xA24B_AED4_963E_E407)
        var out = image
        for step in self { out = step.apply(to: out, generator: &generator) }
        return out
    }
}

extension ImageTransform {
    func apply(to image: FloatImage, generator g: inout RandomGenerator) -> FloatImage {
        switch self {
        case .resize(let w, let h):
            return resized(image, width: w, height: h)
        case .randomCrop(let size, let padding):
            precondition(size <= image.width + 2 * padding && size <= image.height + 2 * padding,
                         "randomCrop: \(size)x\(size) does not fit a \(image.width)x\(image.height) image padded by \(padding)")
            let x0 = Int(g.next() % UInt64(image.width + 2 * padding - size + 1)) - padding
            let y0 = Int(g.next() % UInt64(image.height + 2 * padding - size + 1)) - padding
            return cropped(image, x: x0, y: y0, width: size, height: size)
        case .randomResizedCrop(let size, let scale, let ratio):
            let area = Double(image.width * image.height)
            for _ in 0..<10 {
                let target = area * (scale.lowerBound + (scale.upperBound - scale.lowerBound) * Double(g.nextUniform()))
                let logRatio = log(ratio.lowerBound) + (log(ratio.upperBound) - log(ratio.lowerBound)) * Double(g.nextUniform())
                let aspect = exp(logRatio)
                let w = Int((target * aspect).squareRoot().rounded()), h = Int((target / aspect).squareRoot().rounded())
                if w > 0, h > 0, w <= image.width, h <= image.height {
                    let x = Int(g.next() % UInt64(image.width - w + 1)), y = Int(g.next() % UInt64(image.height - h + 1))
                    return resized(cropped(image, x: x, y: y, width: w, height: h), width: size, height: size)
                }
            }
            return resized(image, width: size, height: size)  // torchvision falls back to the whole image (centre)
        case .randomAffine(let degrees, let scale, let translation):
            let angle = degrees * (2 * Double(g.nextUniform()) - 1)
            let factor = scale.lowerBound + (scale.upperBound - scale.lowerBound) * Double(g.nextUniform())
            let dx = translation * Double(image.width) * (2 * Double(g.nextUniform()) - 1)
            let dy = translation * Double(image.height) * (2 * Double(g.nextUniform()) - 1)
            return affineTransformed(image, degrees: angle, scale: factor, dx: dx, dy: dy)
        case .affine(let degrees, let scale, let dx, let dy):
            return affineTransformed(image, degrees: degrees, scale: scale, dx: dx, dy: dy)
        case .shift(let x, let y):
            return affineTransformed(image, degrees: 0, scale: 1, dx: x * Double(image.width), dy: y * Double(image.height))
        case .horizontalFlip(let p):
            return Double(g.nextUniform()) < p ? flipped(image) : image
        case .flipOrGaussianNoise(let p, let std):
            if Double(g.nextUniform()) < p { return flipped(image) }
            var out = image
            for i in out.values.indices { out.values[i] = min(255, max(0, out.values[i] + std * g.nextNormal())) }
            return out
        case .normalize(let mean, let std):
            var out = image
            let c = image.channels
            precondition(mean.count == c && std.count == c, "normalize: \(mean.count) means for \(c) channels")
            for i in out.values.indices { out.values[i] = (out.values[i] / 255 - mean[i % c]) / std[i % c] }
            return out
        case .randomErasing(let p, let scale, let ratio):
            guard Double(g.nextUniform()) < p else { return image }
            let area = Double(image.width * image.height)
            for _ in 0..<10 {
                let target = area * (scale.lowerBound + (scale.upperBound - scale.lowerBound) * Double(g.nextUniform()))
                let aspect = exp(log(ratio.lowerBound) + (log(ratio.upperBound) - log(ratio.lowerBound)) * Double(g.nextUniform()))
                let h = Int((target * aspect).squareRoot().rounded()), w = Int((target / aspect).squareRoot().rounded())
                guard h < image.height, w < image.width, h > 0, w > 0 else { continue }
                let y = Int(g.next() % UInt64(image.height - h + 1)), x = Int(g.next() % UInt64(image.width - w + 1))
                var out = image
                for r in y..<(y + h) {
                    for col in x..<(x + w) { for c in 0..<image.channels { out.values[(r * image.width + col) * image.channels + c] = 0 } }
                }
                return out
            }
            return image
        }
    }
}

func flipped(_ image: FloatImage) -> FloatImage {
    var out = image
    let (w, c) = (image.width, image.channels)
    for y in 0..<image.height {
        for x in 0..<w { for k in 0..<c { out.values[(y * w + x) * c + k] = image.values[(y * w + (w - 1 - x)) * c + k] } }
    }
    return out
}

/// `image` rotated counter-clockwise by `degrees`, scaled by `scale` and shifted by `(dx, dy)` pixels (right,
/// down) about its centre `((width - 1) / 2, (height - 1) / 2)`: each output pixel bilinearly samples the
/// input at the inverse-mapped position, input pixels outside the image counting as 0.
func affineTransformed(_ image: FloatImage, degrees: Double, scale: Double, dx: Double, dy: Double) -> FloatImage {
    let (w, h, c) = (image.width, image.height, image.channels)
    let radians = degrees * .pi / 180
    let cosine = cos(radians) / scale, sine = sin(radians) / scale
    let cx = Double(w - 1) / 2, cy = Double(h - 1) / 2
    var values = [Float](repeating: 0, count: image.values.count)
    for y in 0..<h {
        for x in 0..<w {
            let u = Double(x) - cx - dx, v = Double(y) - cy - dy
            let sx = cx + cosine * u - sine * v, sy = cy + sine * u + cosine * v
            let x0 = Int(sx.rounded(.down)), y0 = Int(sy.rounded(.down))
            let fx = Float(sx - Double(x0)), fy = Float(sy - Double(y0))
            func sample(_ px: Int, _ py: Int, _ weight: Float) {
                guard px >= 0 && px < w && py >= 0 && py < h && weight > 0 else { return }
                for k in 0..<c { values[(y * w + x) * c + k] += weight * image.values[(py * w + px) * c + k] }
            }
            sample(x0, y0, (1 - fx) * (1 - fy))
            sample(x0 + 1, y0, fx * (1 - fy))
            sample(x0, y0 + 1, (1 - fx) * fy)
            sample(x0 + 1, y0 + 1, fx * fy)
        }
    }
    return FloatImage(width: w, height: h, channels: c, values: values)
}

/// The `width` x `height` region at `(x, y)`, zeros outside the image.
func cropped(_ image: FloatImage, x: Int, y: Int, width: Int, height: Int) -> FloatImage {
    let c = image.channels
    var values = [Float](repeating: 0, count: width * height * c)
    for r in 0..<height {
        let sy = y + r
        guard sy >= 0 && sy < image.height else { continue }
        for col in 0..<width {
            let sx = x + col
            guard sx >= 0 && sx < image.width else { continue }
            for k in 0..<c { values[(r * width + col) * c + k] = image.values[(sy * image.width + sx) * c + k] }
        }
    }
    return FloatImage(width: width, height: height, channels: c, values: values)
}

/// Separable resampling with a triangle filter whose support grows with the shrink factor (Pillow's
/// BILINEAR; plain bilinear interpolation when enlarging).
func resized(_ image: FloatImage, width: Int, height: Int) -> FloatImage {
    if image.width == width && image.height == height { return image }
    let c = image.channels
    // Horizontal pass: [H, W, C] -> [H, width, C].
    let (xStarts, xWeights) = filterWeights(from: image.width, to: width)
    var horizontal = [Float](repeating: 0, count: image.height * width * c)
    for y in 0..<image.height {
        for i in 0..<width {
            for k in 0..<c {
                var acc: Float = 0
                for (n, w) in xWeights[i].enumerated() { acc += w * image.values[(y * image.width + xStarts[i] + n) * c + k] }
                horizontal[(y * width + i) * c + k] = acc
            }
        }
    }
    // Vertical pass: [H, width, C] -> [height, width, C].
    let (yStarts, yWeights) = filterWeights(from: image.height, to: height)
    var vertical = [Float](repeating: 0, count: height * width * c)
    for i in 0..<height {
        for x in 0..<width {
            for k in 0..<c {
                var acc: Float = 0
                for (n, w) in yWeights[i].enumerated() { acc += w * horizontal[((yStarts[i] + n) * width + x) * c + k] }
                vertical[(i * width + x) * c + k] = acc
            }
        }
    }
    return FloatImage(width: width, height: height, channels: c, values: vertical)
}

/// For each output position, the first input position it reads and the normalized filter weights
/// (Pillow's `precompute_coeffs` with the bilinear filter).
private func filterWeights(from length: Int, to newLength: Int) -> ([Int], [[Float]]) {
    let scale = Double(length) / Double(newLength)
    let support = max(scale, 1)
    var starts: [Int] = [], weights: [[Float]] = []
    for i in 0..<newLength {
        let center = (Double(i) + 0.5) * scale
        let low = max(0, Int(center - support + 0.5)), high = min(length, Int(center + support + 0.5))
        var w = (low..<high).map { j in max(0, 1 - abs((Double(j) - center + 0.5) / support)) }
        let total = w.reduce(0, +)
        if total > 0 { w = w.map { $0 / total } }
        starts.append(low)
        weights.append(w.map(Float.init))
    }
    return (starts, weights)
}
