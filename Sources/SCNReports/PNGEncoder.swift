import Foundation
import SCNData

/// Encodes 8-bit grayscale or RGB images as PNG with uncompressed (stored) deflate blocks: small code,
/// no zlib dependency, and thumbnails of a few kilobytes.
public enum PNGEncoder {
    public static func encode(_ image: DecodedImage) -> Data {
        var raw: [UInt8] = []
        raw.reserveCapacity(image.height * (image.width * image.channels + 1))
        for y in 0..<image.height {
            raw.append(0)  // filter: none
            raw += image.pixels[(y * image.width * image.channels)..<((y + 1) * image.width * image.channels)]
        }
        var zlib: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65_535, raw.count - offset)
            let last: UInt8 = offset + n == raw.count ? 1 : 0
            zlib += [last, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            zlib += raw[offset..<(offset + n)]
            offset += n
        } while offset < raw.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in raw { a = (a + UInt32(byte)) % 65_521; b = (b + a) % 65_521 }
        zlib += bigEndian(b << 16 | a)
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        out += chunk("IHDR", bigEndian(UInt32(image.width)) + bigEndian(UInt32(image.height))
                     + [8, image.channels == 1 ? 0 : 2, 0, 0, 0])
        out += chunk("IDAT", zlib)
        out += chunk("IEND", [])
        return Data(out)
    }

    private static func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    private static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + body + bigEndian(CRC32.ieee(body))
    }
}

/// CRC-32 (IEEE, as zip and PNG use) and CRC-32C (Castagnoli, as TensorBoard's records use).
public enum CRC32 {
    static func table(_ polynomial: UInt32) -> [UInt32] {
        (0..<256).map { n -> UInt32 in
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 != 0 ? polynomial ^ (c >> 1) : c >> 1 }
            return c
        }
    }
    static let ieeeTable = table(0xEDB8_8320)
    static let castagnoliTable = table(0x82F6_3B78)

    static func checksum(_ data: [UInt8], _ table: [UInt32]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in data { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    public static func ieee(_ data: [UInt8]) -> UInt32 { checksum(data, ieeeTable) }
    public static func castagnoli(_ data: [UInt8]) -> UInt32 { checksum(data, castagnoliTable) }
}
