import CPNG
import CTurboJPEG
import Foundation

/// An 8-bit image, rows top to bottom, channels interleaved (`[H, W, C]`).
public struct DecodedImage: Equatable, Sendable {
    public var width: Int
    public var height: Int
    /// 1 (grayscale) or 3 (RGB).
    public var channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * channels, "DecodedImage: \(pixels.count) bytes for \(width)x\(height)x\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// The same image with 1 channel (ITU-R 601 luma, as Pillow's convert("L")).
    public func grayscale() -> DecodedImage {
        guard channels == 3 else { return self }
        var out = [UInt8](repeating: 0, count: width * height)
        for i in 0..<out.count {
            let (r, g, b) = (UInt32(pixels[3 * i]), UInt32(pixels[3 * i + 1]), UInt32(pixels[3 * i + 2]))
            out[i] = UInt8((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)
        }
        return DecodedImage(width: width, height: height, channels: 1, pixels: out)
    }

    /// The same image with 3 channels (grayscale repeated), as RGB backbones expect.
    public func rgb() -> DecodedImage {
        guard channels == 1 else { return self }
        var out = [UInt8](repeating: 0, count: pixels.count * 3)
        for i in 0..<pixels.count { out[3 * i] = pixels[i]; out[3 * i + 1] = pixels[i]; out[3 * i + 2] = pixels[i] }
        return DecodedImage(width: width, height: height, channels: 3, pixels: out)
    }
}

/// Decodes JPEG (libjpeg-turbo) and PNG (libpng) files, refusing anything else, corrupt or truncated
/// data, and images larger than `maximumPixels` (decompression bombs) before allocating for them.
public enum ImageDecoder {
    /// The largest image accepted: 64 megapixels.
    public static let maximumPixels = 64 << 20

    public enum ColorMode: Sendable {
        /// Keep grayscale images grayscale (1 channel); colour images become RGB.
        case original
        /// Always 3 channels.
        case rgb
        /// Always 1 channel (luma).
        case grayscale
    }

    public static func decode(contentsOf url: URL, mode: ColorMode = .original) throws -> DecodedImage {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DataError(file: url.path, reason: "cannot be read: \(error.localizedDescription)")
        }
        return try decode(data, name: url.path, mode: mode)
    }

    /// Decodes encoded bytes; `name` labels errors.
    public static func decode(_ data: Data, name: String, mode: ColorMode = .original) throws -> DecodedImage {
        let bytes = [UInt8](data)
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return try decodeJPEG(bytes, name: name, mode: mode) }
        if bytes.count >= 8, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            return try decodePNG(bytes, name: name, mode: mode)
        }
        throw DataError(file: name, reason: "not a JPEG or PNG image (\(bytes.count) bytes, unknown signature)")
    }

    private static func checkSize(_ width: Int, _ height: Int, _ name: String) throws {
        guard width > 0, height > 0 else { throw DataError(file: name, reason: "image has no pixels (\(width)x\(height))") }
        guard width * height <= maximumPixels else {
            throw DataError(file: name, reason: "image of \(width)x\(height) pixels exceeds the limit of \(maximumPixels) (a decompression bomb?)")
        }
    }

    static func decodeJPEG(_ bytes: [UInt8], name: String, mode: ColorMode) throws -> DecodedImage {
        guard let handle = tjInitDecompress() else { throw DataError(file: name, reason: "libjpeg-turbo failed to start") }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let header = bytes.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt(bytes.count), &width, &height, &subsampling, &colorspace)
        }
        guard header == 0 else {
            throw DataError(file: name, reason: "corrupt or truncated JPEG (header): \(String(cString: tjGetErrorStr2(handle)))")
        }
        try checkSize(Int(width), Int(height), name)
        let gray = mode == .grayscale || (mode == .original && colorspace == Int32(TJCS_GRAY.rawValue))
        let channels = gray ? 1 : 3
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * channels)
        let status = bytes.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { destination in
                tjDecompress2(handle, source.baseAddress, UInt(bytes.count), destination.baseAddress, width, 0, height,
                              gray ? Int32(TJPF_GRAY.rawValue) : Int32(TJPF_RGB.rawValue), 0)
            }
        }
        // libjpeg-turbo returns -1 with a warning for recoverable damage such as a truncated file; both
        // are errors here, so no half-grey image enters a training set.
        guard status == 0 else {
            throw DataError(file: name, reason: "corrupt or truncated JPEG: \(String(cString: tjGetErrorStr2(handle)))")
        }
        return DecodedImage(width: Int(width), height: Int(height), channels: channels, pixels: pixels)
    }

    static func decodePNG(_ bytes: [UInt8], name: String, mode: ColorMode) throws -> DecodedImage {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        let begun = bytes.withUnsafeBufferPointer { png_image_begin_read_from_memory(&image, $0.baseAddress, bytes.count) }
        guard begun != 0 else {
            let message = errorMessage(&image)
            png_image_free(&image)
            throw DataError(file: name, reason: "corrupt or truncated PNG: \(message)")
        }
        do {
            try checkSize(Int(image.width), Int(image.height), name)
        } catch {
            png_image_free(&image)
            throw error
        }
        // Read the stored values as they are: 8-bit data as 8-bit (libpng's simplified API would
        // otherwise treat 16-bit data as linear light and gamma-encode it), alpha kept and then dropped
        // here, as Pillow's convert("RGB") does.
        let color = image.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0
        let sixteen = image.format & UInt32(PNG_FORMAT_FLAG_LINEAR) != 0
        image.format = (color ? UInt32(PNG_FORMAT_FLAG_COLOR) : 0) | UInt32(PNG_FORMAT_FLAG_ALPHA)
            | (sixteen ? UInt32(PNG_FORMAT_FLAG_LINEAR) : 0)
        let stored = color ? 4 : 2
        let (width, height) = (Int(image.width), Int(image.height))
        var raw = [UInt8](repeating: 0, count: width * height * stored * (sixteen ? 2 : 1))
        let finished = raw.withUnsafeMutableBufferPointer { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
        let status = image.warning_or_error
        let message = errorMessage(&image)
        png_image_free(&image)
        guard finished != 0, status & 0x03 <= 1 else { throw DataError(file: name, reason: "corrupt or truncated PNG: \(message)") }
        // 16-bit values to 8 bits with rounding (v * 255 / 65535).
        let values: [UInt8] = sixteen
            ? raw.withUnsafeBytes { buffer in
                buffer.bindMemory(to: UInt16.self).map { UInt8((UInt32($0) * 255 + 32767) / 65535) }
            }
            : raw
        var source = DecodedImage(width: width, height: height, channels: color ? 3 : 1,
                                  pixels: (0..<(width * height)).flatMap { p in (0..<(stored - 1)).map { values[p * stored + $0] } })
        switch mode {
        case .original: break
        case .rgb: source = source.rgb()
        case .grayscale: source = source.grayscale()
        }
        return source
    }

    private static func errorMessage(_ image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}
