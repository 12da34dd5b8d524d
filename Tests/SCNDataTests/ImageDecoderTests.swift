import Foundation
import SCNData
import XCTest

/// Decoding against Pillow's pixels (Fixtures/make_image_fixtures.py), hostile files, and a real FER2013 image.
final class ImageDecoderTests: XCTestCase {
    private func fixture(_ name: String) -> URL {
        Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")!
    }

    func testFormatsMatchPillow() throws {
        let data = try Data(contentsOf: fixture("expected.json"))
        let expected = try JSONSerialization.jsonObject(with: data) as! [String: [String: Any]]
        for name in ["rgb.png", "gray.png", "rgba.png", "palette.png", "gray16.png", "rgb.jpg", "gray.jpg"] {
            let e = try XCTUnwrap(expected[name], name)
            let image = try ImageDecoder.decode(contentsOf: fixture(name))
            XCTAssertEqual(image.width, e["width"] as? Int, name)
            XCTAssertEqual(image.height, e["height"] as? Int, name)
            XCTAssertEqual(image.channels, e["channels"] as? Int, name)
            let pixels = (e["pixels"] as! [Int]).map { UInt8($0) }
            // libjpeg-turbo and Pillow's libjpeg use the same IDCT here; allow 1 level for rounding.
            let tolerance = name.hasSuffix(".jpg") ? 1 : 0
            let worst = zip(image.pixels, pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, tolerance, "\(name): largest pixel difference \(worst)")
        }
    }

    func testColorModes() throws {
        let gray = try ImageDecoder.decode(contentsOf: fixture("gray.png"))
        let rgb = gray.rgb()
        XCTAssertEqual(rgb.channels, 3)
        XCTAssertEqual(Array(rgb.pixels[0..<6]), [gray.pixels[0], gray.pixels[0], gray.pixels[0], gray.pixels[1], gray.pixels[1], gray.pixels[1]])
        XCTAssertEqual(try ImageDecoder.decode(contentsOf: fixture("gray.png"), mode: .rgb).pixels, rgb.pixels)
        XCTAssertEqual(try ImageDecoder.decode(contentsOf: fixture("rgb.jpg"), mode: .grayscale).channels, 1)
    }

    func testHostileFilesGiveErrorsNamingTheFile() {
        let cases = [("truncated.png", "corrupt or truncated PNG"), ("truncated.jpg", "corrupt or truncated JPEG"),
                     ("not-an-image.png", "not a JPEG or PNG image"), ("bomb.png", "exceeds the limit")]
        for (name, message) in cases {
            XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: fixture(name))) { error in
                XCTAssertTrue("\(error)".contains(message), "\(name): \(error)")
                XCTAssertTrue("\(error)".contains(name), "\(name): \(error)")
            }
        }
        XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: "/no/such/face.png"))) { error in
            XCTAssertTrue("\(error)".hasPrefix("/no/such/face.png: cannot be read"), "\(error)")
        }
    }

    func testKnownPixelsOfARealFER2013Image() throws {
        let url = try sharedData("ferplus/FER2013Train/fer0000000.png")
        let image = try ImageDecoder.decode(contentsOf: url)
        XCTAssertEqual([image.width, image.height, image.channels], [48, 48, 1])
        // Values read with Pillow 13.0.
        XCTAssertEqual(Array(image.pixels[0..<5]), [70, 80, 82, 72, 58])
        XCTAssertEqual(image.pixels[24 * 48 + 24], 157)
        XCTAssertEqual(image.pixels[47 * 48 + 47], 82)
        XCTAssertEqual(image.pixels.reduce(0) { $0 + Int($1) }, 270_934)
    }
}
