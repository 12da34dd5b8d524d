import Foundation
import SCNTensor

/// Drawn faces of the seven basic expressions, for the demo and for tests: a face oval with eyes,
/// eyebrows, nose and mouth whose shapes carry the expression, under random pose (shift, scale,
/// rotation), lighting (brightness, contrast, a gradient), occlusion (a random bar or patch) and pixel
/// noise. Rendered with signed distances and a one-pixel soft edge.
public enum SyntheticFaces {
    /// RAF-DB's class order.
    public static let classNames = ["surprise", "fear", "disgust", "happiness", "sadness", "anger", "neutral"]

    /// Face-part parameters of one expression: eyebrow raise and slant, eye openness, mouth curvature,
    /// width, openness and asymmetry.
    struct Expression {
        var browRaise: Double, browSlant: Double, eyeOpen: Double
        var mouthCurve: Double, mouthWidth: Double, mouthOpen: Double, mouthTilt: Double, noseWrinkle: Double
    }

    static let expressions: [Expression] = [
        Expression(browRaise: 0.09, browSlant: 0, eyeOpen: 1.5, mouthCurve: 0, mouthWidth: 0.14, mouthOpen: 0.13, mouthTilt: 0, noseWrinkle: 0),  // surprise
        Expression(browRaise: 0.06, browSlant: 0.10, eyeOpen: 1.4, mouthCurve: -0.04, mouthWidth: 0.26, mouthOpen: 0.06, mouthTilt: 0, noseWrinkle: 0),  // fear
        Expression(browRaise: -0.03, browSlant: -0.04, eyeOpen: 0.7, mouthCurve: -0.05, mouthWidth: 0.22, mouthOpen: 0, mouthTilt: 0.07, noseWrinkle: 1),  // disgust
        Expression(browRaise: 0.01, browSlant: 0, eyeOpen: 0.8, mouthCurve: 0.14, mouthWidth: 0.34, mouthOpen: 0.03, mouthTilt: 0, noseWrinkle: 0),  // happiness
        Expression(browRaise: 0.02, browSlant: 0.12, eyeOpen: 0.8, mouthCurve: -0.12, mouthWidth: 0.26, mouthOpen: 0, mouthTilt: 0, noseWrinkle: 0),  // sadness
        Expression(browRaise: -0.05, browSlant: -0.14, eyeOpen: 0.9, mouthCurve: -0.02, mouthWidth: 0.22, mouthOpen: 0, mouthTilt: 0, noseWrinkle: 0),  // anger
        Expression(browRaise: 0, browSlant: 0, eyeOpen: 1, mouthCurve: 0, mouthWidth: 0.26, mouthOpen: 0, mouthTilt: 0, noseWrinkle: 0),  // neutral
    ]

    /// One `size` x `size` grayscale face of class `label`, drawn from `generator`.
    public static func draw(label: Int, size: Int, generator g: inout RandomGenerator) -> DecodedImage {
        var e = expressions[label]
        // Individual variation of the expression's intensity and of face shape.
        let intensity = 0.7 + 0.5 * Double(g.nextUniform())
        e.browRaise *= intensity; e.browSlant *= intensity; e.mouthCurve *= intensity; e.mouthOpen *= intensity
        e.eyeOpen = 1 + (e.eyeOpen - 1) * intensity
        let faceWidth = 0.30 + 0.05 * Double(g.nextUniform()), faceHeight = 0.40 + 0.05 * Double(g.nextUniform())
        let angle = 0.25 * (Double(g.nextUniform()) - 0.5), scale = 0.85 + 0.3 * Double(g.nextUniform())
        let shiftX = 0.12 * (Double(g.nextUniform()) - 0.5), shiftY = 0.12 * (Double(g.nextUniform()) - 0.5)
        let skin = 150 + 70 * Double(g.nextUniform()), background = 30 + 90 * Double(g.nextUniform())
        let gradient = 60 * (Double(g.nextUniform()) - 0.5), contrast = 0.6 + 0.5 * Double(g.nextUniform())
        let occlusion = g.nextUniform() < 0.25
        let occluderX = Double(g.nextUniform()) - 0.5, occluderY = Double(g.nextUniform()) - 0.5
        let occluderW = 0.1 + 0.2 * Double(g.nextUniform()), occluderH = 0.1 + 0.2 * Double(g.nextUniform())
        let (c, s) = (cos(angle), sin(angle))

        func smooth(_ distance: Double, _ pixel: Double) -> Double { min(1, max(0, 0.5 - distance / pixel)) }
        func segment(_ px: Double, _ py: Double, _ ax: Double, _ ay: Double, _ bx: Double, _ by: Double) -> Double {
            let (dx, dy) = (bx - ax, by - ay)
            let t = max(0, min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
            return hypot(px - ax - t * dx, py - ay - t * dy)
        }

        var pixels = [UInt8](repeating: 0, count: size * size)
        let pixel = 1.0 / Double(size) / scale
        for row in 0..<size {
            for column in 0..<size {
                // Image coordinates in [-0.5, 0.5], then face-local coordinates (y up).
                let ix = (Double(column) + 0.5) / Double(size) - 0.5, iy = (Double(row) + 0.5) / Double(size) - 0.5
                let tx = (ix - shiftX) / scale, ty = (iy - shiftY) / scale
                let x = c * tx + s * ty, y = -(-s * tx + c * ty)
                var value = background + gradient * ix
                // Face oval.
                let face = hypot(x / faceWidth, (y + 0.02) / faceHeight) - 1
                let inFace = smooth(face * min(faceWidth, faceHeight), pixel)
                value = value * (1 - inFace) + (skin + gradient * ix) * inFace
                var dark = 0.0
                for side in [-1.0, 1.0] {
                    // Eyes: ellipses whose height follows the openness.
                    let ex = x - side * 0.12, ey = y - 0.08
                    let eye = hypot(ex / 0.055, ey / (0.022 * e.eyeOpen)) - 1
                    dark = max(dark, smooth(eye * 0.022 * e.eyeOpen, pixel))
                    // Eyebrows: slanted segments above the eyes (positive slant raises the inner end).
                    let inner = (x: side * 0.05, y: 0.16 + e.browRaise + e.browSlant * 0.5)
                    let outer = (x: side * 0.19, y: 0.16 + e.browRaise - e.browSlant * 0.5)
                    dark = max(dark, smooth(segment(x, y, inner.x, inner.y, outer.x, outer.y) - 0.014, pixel))
                    // Nose wrinkles (disgust).
                    if e.noseWrinkle > 0 {
                        dark = max(dark, 0.6 * smooth(segment(x, y, side * 0.03, 0.02, side * 0.07, -0.02) - 0.006, pixel))
                    }
                }
                // Nose.
                dark = max(dark, 0.5 * smooth(segment(x, y, 0, 0.05, 0.015, -0.06) - 0.008, pixel))
                // Mouth: a parabola y = m0 + curve * (x / w)^2 + tilt * x / w, with an open interior.
                let mx = x / e.mouthWidth, m0 = -0.2
                if abs(mx) <= 1.15 {
                    let curveY = m0 + e.mouthCurve * (mx * mx - 0.5) + e.mouthTilt * mx
                    let upper = curveY + e.mouthOpen * (1 - mx * mx) * 0.5, lower = curveY - e.mouthOpen * (1 - mx * mx) * 0.5
                    let lip = abs(mx) <= 1 ? min(abs(y - upper), abs(y - lower)) : hypot(x - e.mouthWidth * (mx < 0 ? -1 : 1), y - curveY)
                    dark = max(dark, smooth(lip - 0.011, pixel))
                    if e.mouthOpen > 0, abs(mx) < 1, y < upper, y > lower { dark = max(dark, 0.8) }
                }
                value = value * (1 - dark * inFace) + 20 * dark * inFace
                if occlusion, abs(ix - occluderX * 0.7) < occluderW / 2, abs(iy - occluderY * 0.7) < occluderH / 2 {
                    value = 90 + 60 * sin(Double(row + column))
                }
                value = 128 + (value - 128) * contrast + 8 * Double(g.nextNormal())
                pixels[row * size + column] = UInt8(max(0, min(255, value.rounded())))
            }
        }
        return DecodedImage(width: size, height: size, channels: 1, pixels: pixels)
    }

    /// `perClass` faces of every class, shuffled, with their labels.
    public static func dataset(name: String, perClass: Int, size: Int, seed: UInt64) -> (ExpressionDataset, ImageStore) {
        var g = RandomGenerator(seed: seed)
        var labels = (0..<(perClass * classNames.count)).map { $0 % classNames.count }
        labels.shuffle(using: &g)
        let images = labels.map { draw(label: $0, size: size, generator: &g).rgb() }
        let dataset = ExpressionDataset(name: name, classNames: classNames,
                                        imagePaths: labels.indices.map { "\(name)/\($0).png" }, labels: labels)
        return (dataset, ImageStore(images: images))
    }
}
