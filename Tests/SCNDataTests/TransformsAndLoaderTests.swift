import Foundation
import SCNData
import SCNTensor
import XCTest

final class TransformsAndLoaderTests: XCTestCase {
    private func image(_ width: Int, _ height: Int, channels: Int = 1) -> FloatImage {
        FloatImage(width: width, height: height, channels: channels,
                   values: (0..<(width * height * channels)).map { Float(($0 * 37) % 256) })
    }

    func testResizeMatchesPillowBilinear() throws {
        // Pillow 13, Image.fromarray(a).resize(size, Image.BILINEAR) on uint8 arrays. Pillow rounds through
        // 8-bit fixed point, so results may differ by 1.
        func assertResize(_ values: [Float], _ width: Int, _ height: Int, to size: (Int, Int), _ expected: [Float]) {
            let source = FloatImage(width: width, height: height, channels: 1, values: values)
            let out = [ImageTransform.resize(width: size.0, height: size.1)].apply(to: source, seed: 0, epoch: 0, index: 0)
            XCTAssertEqual([out.width, out.height], [size.0, size.1])
            XCTAssertLessThanOrEqual(zip(out.values, expected).map { abs($0.rounded() - $1) }.max()!, 1, "\(out.values) against \(expected)")
        }
        assertResize((0..<16).map { Float($0 * 16) }, 4, 4, to: (2, 2), [57, 83, 157, 183])
        assertResize([0, 100, 200, 250], 2, 2, to: (4, 4),
                     [0, 25, 75, 100, 50, 72, 116, 138, 150, 166, 197, 213, 200, 213, 238, 250])
        assertResize((0..<35).map { Float($0 * 7) }, 7, 5, to: (3, 2), [55, 70, 85, 153, 168, 183])
    }

    func testRandomStepsArePureFunctionsOfSeedEpochAndIndex() {
        let steps: [ImageTransform] = [.randomCrop(size: 8, padding: 2), .flipOrGaussianNoise(p: 0.5, standardDeviation: 30),
                                       .randomResizedCrop(size: 6, scale: 0.5...1, ratio: 0.75...1.33),
                                       .normalize(mean: [0.5], std: [0.25]), .randomErasing(p: 0.9, scale: 0.02...0.25, ratio: 0.3...3.3)]
        let input = image(10, 10)
        let a = steps.apply(to: input, seed: 1, epoch: 3, index: 5)
        XCTAssertEqual(a, steps.apply(to: input, seed: 1, epoch: 3, index: 5))
        XCTAssertEqual([a.width, a.height], [6, 6])
        XCTAssertNotEqual(a, steps.apply(to: input, seed: 1, epoch: 4, index: 5))
        XCTAssertNotEqual(a, steps.apply(to: input, seed: 1, epoch: 3, index: 6))
        XCTAssertNotEqual(a, steps.apply(to: input, seed: 2, epoch: 3, index: 5))
    }

    /// Rotation, scaling and shifts against scipy.ndimage.affine_transform (Fixtures/make_affine_fixture.py).
    func testAffineMatchesScipy() throws {
        struct Case: Decodable { var degrees, scale, dx, dy: Double; var values: [Float] }
        struct Reference: Decodable { var width, height, channels: Int; var values: [Float]; var cases: [Case] }
        let url = Bundle.module.url(forResource: "affine.json", withExtension: nil, subdirectory: "Fixtures")!
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        let source = FloatImage(width: reference.width, height: reference.height, channels: reference.channels, values: reference.values)
        for c in reference.cases {
            let out = [ImageTransform.affine(degrees: c.degrees, scale: c.scale, dx: c.dx, dy: c.dy)].apply(to: source, seed: 0, epoch: 0, index: 0)
            XCTAssertEqual([out.width, out.height, out.channels], [source.width, source.height, source.channels])
            let worst = zip(out.values, c.values).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 1e-3, "degrees \(c.degrees), scale \(c.scale), shift (\(c.dx), \(c.dy))")
        }
        // A shift by a whole pixel moves the pixels and fills zeros: 1/7 of the width right, 1/9 of the height up.
        let shifted = [ImageTransform.shift(x: 1.0 / 7, y: -1.0 / 9)].apply(to: source, seed: 0, epoch: 0, index: 0)
        for y in 0..<source.height {
            for x in 0..<source.width {
                for k in 0..<source.channels {
                    let expected = x >= 1 && y + 1 < source.height ? source.values[((y + 1) * source.width + x - 1) * source.channels + k] : 0
                    XCTAssertEqual(shifted.values[(y * source.width + x) * source.channels + k], expected, accuracy: 1e-4, "(\(x), \(y))")
                }
            }
        }
        // Random draws stay within their ranges: no rotation, no scaling and no shift leave the image as it is.
        let still = [ImageTransform.randomAffine(degrees: 0, scale: 1...1, translation: 0)].apply(to: source, seed: 4, epoch: 2, index: 9)
        XCTAssertEqual(still, source)
        let moved = [ImageTransform.randomAffine(degrees: 10, scale: 0.9...1.1, translation: 0.1)]
        XCTAssertEqual(moved.apply(to: source, seed: 4, epoch: 2, index: 9), moved.apply(to: source, seed: 4, epoch: 2, index: 9))
        XCTAssertNotEqual(moved.apply(to: source, seed: 4, epoch: 2, index: 9), source)
    }

    func testFlipCropAndNormalize() {
        let input = FloatImage(width: 3, height: 1, channels: 1, values: [1, 2, 3])
        XCTAssertEqual([ImageTransform.horizontalFlip(p: 1)].apply(to: input, seed: 0, epoch: 0, index: 0).values, [3, 2, 1])
        XCTAssertEqual([ImageTransform.horizontalFlip(p: 0)].apply(to: input, seed: 0, epoch: 0, index: 0).values, [1, 2, 3])
        let square = FloatImage(width: 3, height: 3, channels: 1, values: (1...9).map(Float.init))
        let padded = [ImageTransform.randomCrop(size: 5, padding: 1)].apply(to: square, seed: 0, epoch: 0, index: 0)
        XCTAssertEqual(padded.values.filter { $0 != 0 }, (1...9).map(Float.init), "padding 1 and size 5 keep all of a 3x3 image")
        let rgb = FloatImage(width: 1, height: 1, channels: 3, values: [255, 0, 127.5])
        let normalized = [ImageTransform.normalize(mean: [0.5, 0.5, 0.5], std: [0.5, 0.25, 0.5])].apply(to: rgb, seed: 0, epoch: 0, index: 0)
        XCTAssertEqual(normalized.values, [1, -2, 0])
    }

    func testLoaderCoversEveryIndexOncePerEpochInSeededOrder() throws {
        let images = (0..<10).map { i in DecodedImage(width: 2, height: 2, channels: 1, pixels: [UInt8](repeating: UInt8(i), count: 4)) }
        let store = ImageStore(images: images)
        let loader = BatchLoader(store: store, batchSize: 4, transforms: [], seed: 9)
        let labels = Array(0..<10).map { $0 % 3 }
        var seen: [Int] = []
        for batch in loader.batches(epoch: 0, labels: labels) {
            XCTAssertEqual(batch.images.shape[1...], [1, 2, 2])
            XCTAssertEqual(batch.images.memoryFormat, .channelsLast)
            for (slot, index) in batch.indices.enumerated() {
                XCTAssertEqual(batch.labels[slot], labels[index])
                XCTAssertEqual(batch.images.data[slot * 4], Float(index), "the batch carries image \(index)")
            }
            seen += batch.indices
        }
        XCTAssertEqual(seen.sorted(), Array(0..<10))
        XCTAssertEqual(loader.order(epoch: 0), seen, "batches follow the epoch's order")
        XCTAssertEqual(loader.order(epoch: 0), BatchLoader(store: store, batchSize: 4, transforms: [], seed: 9).order(epoch: 0))
        XCTAssertNotEqual(loader.order(epoch: 0), loader.order(epoch: 1))
        let dropping = BatchLoader(store: store, batchSize: 4, transforms: [], seed: 9, dropsLastPartialBatch: true)
        XCTAssertEqual(Array(dropping.batches(epoch: 0, labels: labels)).map(\.indices.count), [4, 4])
        // Abandoning an epoch part-way stops its preparing thread (no hang, no leak of the iterator).
        let iterator = loader.batches(epoch: 2, labels: labels, prefetch: 1)
        _ = iterator.next()
    }

    func testLoadingRealFERPlusImagesAndSkippingBadOnes() throws {
        let root = try sharedData("ferplus")
        var dataset = try FERPlus.load(root: root, split: .test)
        dataset = dataset.subset(Array(0..<50))
        var broken = dataset
        broken.imagePaths[3] = "/no/such/image.png"
        XCTAssertThrowsError(try ImageStore.load(&broken)) { XCTAssertTrue("\($0)".contains("/no/such/image.png")) }
        let store = try ImageStore.load(&broken, skippingBadImages: true)
        XCTAssertEqual(store.skipped.map(\.index), [3])
        XCTAssertEqual(broken.count, 49)
        XCTAssertEqual(store.images.count, 49)
        XCTAssertEqual(store.images[0].channels, 3, "grayscale expanded to RGB")
        XCTAssertEqual(broken.labels[3], dataset.labels[4], "later samples keep their labels")
    }
}
