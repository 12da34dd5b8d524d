import Foundation

/// A read-only view of a zip archive's stored (uncompressed) entries, as `torch.save` writes them.
/// Every offset and size is checked against the file; compressed entries are refused.
public struct ZipArchive {
    public let path: String
    private let data: Data
    /// Entry name -> byte range of its contents in the file.
    public private(set) var entries: [String: Range<Int>] = [:]

    public init(data: Data, path: String) throws {
        self.path = path
        self.data = data
        let bytes = [UInt8](data)
        func fail(_ reason: String) -> SafeTensorsError { SafeTensorsError(file: path, reason: reason) }
        func u16(_ o: Int) throws -> Int {
            guard o >= 0, o + 2 <= bytes.count else { throw fail("truncated zip: read past the end at byte \(o)") }
            return Int(bytes[o]) | Int(bytes[o + 1]) << 8
        }
        func u32(_ o: Int) throws -> Int {
            let low = try u16(o), high = try u16(o + 2)
            return low | high << 16
        }
        func u64(_ o: Int) throws -> Int {
            let low = try u32(o), high = try u32(o + 4)
            let value = UInt64(low) | UInt64(high) << 32
            guard value < UInt64(Int.max) else { throw fail("zip64 field out of range") }
            return Int(value)
        }
        // End of central directory: within the last 64 KiB + 22 bytes.
        guard bytes.count >= 22 else { throw fail("truncated zip: \(bytes.count) bytes") }
        var eocd = -1
        var o = bytes.count - 22
        while o >= max(0, bytes.count - 22 - 65_535) {
            if bytes[o] == 0x50 && bytes[o + 1] == 0x4B && bytes[o + 2] == 0x05 && bytes[o + 3] == 0x06 { eocd = o; break }
            o -= 1
        }
        guard eocd >= 0 else { throw fail("not a zip archive, or truncated (no end-of-central-directory record)") }
        var count = try u16(eocd + 10)
        var directorySize = try u32(eocd + 12)
        var directoryOffset = try u32(eocd + 16)
        if count == 0xFFFF || directoryOffset == 0xFFFF_FFFF || directorySize == 0xFFFF_FFFF {
            // Zip64: a locator just before the record points at the zip64 end-of-central-directory record.
            let locator = eocd - 20
            guard locator >= 0, try u32(locator) == 0x0706_4B50 else { throw fail("zip64 archive without its locator") }
            let record = try u64(locator + 8)
            guard try u32(record) == 0x0606_4B50 else { throw fail("bad zip64 end-of-central-directory record") }
            count = try u64(record + 32)
            directorySize = try u64(record + 40)
            directoryOffset = try u64(record + 48)
        }
        guard directoryOffset + directorySize <= bytes.count else { throw fail("truncated zip: central directory runs past the end") }
        var p = directoryOffset
        for _ in 0..<count {
            guard try u32(p) == 0x0201_4B50 else { throw fail("corrupt zip: bad central directory entry at byte \(p)") }
            let method = try u16(p + 10)
            var compressed = try u32(p + 20), uncompressed = try u32(p + 24)
            let nameLength = try u16(p + 28), extraLength = try u16(p + 30), commentLength = try u16(p + 32)
            var localOffset = try u32(p + 42)
            guard p + 46 + nameLength <= bytes.count else { throw fail("truncated zip: entry name runs past the end") }
            let name = String(decoding: bytes[(p + 46)..<(p + 46 + nameLength)], as: UTF8.self)
            // Zip64 extra field (id 1) holds the 64-bit sizes and offset that are 0xFFFFFFFF above.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = try u16(e), size = try u16(e + 2)
                if id == 1 {
                    var f = e + 4
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try u64(f); f += 8 }
                    if compressed == 0xFFFF_FFFF { compressed = try u64(f); f += 8 }
                    if localOffset == 0xFFFF_FFFF { localOffset = try u64(f) }
                }
                e += 4 + size
            }
            guard method == 0 else { throw SafeTensorsError(file: path, key: name, reason: "compressed zip entry (method \(method)); only stored entries are read") }
            guard compressed == uncompressed else { throw SafeTensorsError(file: path, key: name, reason: "entry sizes disagree") }
            guard try u32(localOffset) == 0x0403_4B50 else {
                throw SafeTensorsError(file: path, key: name, reason: "corrupt zip: no local header at byte \(localOffset)")
            }
            let localNameLength = try u16(localOffset + 26), localExtraLength = try u16(localOffset + 28)
            let start = localOffset + 30 + localNameLength + localExtraLength
            guard start + compressed <= bytes.count else {
                throw SafeTensorsError(file: path, key: name, reason: "truncated zip: data runs past the end of the file")
            }
            entries[name] = start..<(start + compressed)
            p += 46 + nameLength + extraLength + commentLength
        }
    }

    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw SafeTensorsError(file: url.path, reason: "cannot be read (\(error.localizedDescription))")
        }
        try self.init(data: data, path: url.path)
    }

    /// The contents of entry `name`.
    public func contents(_ name: String) throws -> Data {
        guard let range = entries[name] else { throw SafeTensorsError(file: path, key: name, reason: "no such zip entry") }
        return data.subdata(in: (data.startIndex + range.lowerBound)..<(data.startIndex + range.upperBound))
    }
}
