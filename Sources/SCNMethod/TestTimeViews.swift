import SCNData

/// The views of each image whose outputs (class probabilities and alpha) are averaged at test time: the image,
/// with `mirrors` also its left-right mirror image, with `shifts` also each of those shifted by 1/16 of its size
/// left, right, up and down (inside the shifts training's random crops make, 1/8 of the size). The time is
/// proportional to `count`.
public struct TestTimeViews: Equatable, Sendable {
    public var mirrors: Bool
    public var shifts: Bool

    public init(mirrors: Bool = false, shifts: Bool = false) {
        self.mirrors = mirrors
        self.shifts = shifts
    }

    /// The image alone.
    public static let single = TestTimeViews()
    /// The image and its mirror image.
    public static let mirror = TestTimeViews(mirrors: true)

    /// The shift of `shifts`, as a fraction of the image size.
    public static let shiftFraction = 1.0 / 16

    /// The steps each view puts before the evaluation transforms, the plain image first.
    public var prefixes: [[ImageTransform]] {
        let flips: [[ImageTransform]] = mirrors ? [[], [.horizontalFlip(p: 1)]] : [[]]
        let d = Self.shiftFraction
        let moves: [[ImageTransform]] = shifts ? [[], [.shift(x: -d, y: 0)], [.shift(x: d, y: 0)], [.shift(x: 0, y: -d)], [.shift(x: 0, y: d)]] : [[]]
        return flips.flatMap { flip in moves.map { flip + $0 } }
    }

    /// The number of views: 1, 2 (mirror), 5 (shifts) or 10 (both).
    public var count: Int { (mirrors ? 2 : 1) * (shifts ? 5 : 1) }
}
