import Foundation
import SCNTensor

/// What went wrong reading or writing a safetensors file; names the file and, where there is one, the key.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let key: String?
    public let reason: String

    public init(file: String, key: String? = nil, reason: String) {
        self.file = file
        self.key = key
        self.reason = reason
    }

    public var description: String {
        "\(file)" + (key.map { ": key '\($0)'" } ?? "") + ": \(reason)"
    }
}

/// The element types of the safetensors format that this package reads.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case float64 = "F64", float32 = "F32", float16 = "F16", bfloat16 = "BF16"
    case int64 = "I64", int32 = "I32", int16 = "I16", int8 = "I8", uint8 = "U8", bool = "BOOL"

    public var byteWidth: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    public var isFloatingPoint: Bool { [.float64, .float32, .float16, .bfloat16].contains(self) }
}

/// One tensor's entry in a safetensors header.
public struct SafeTensorsEntry: Sendable {
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Byte range inside the data section.
    public let byteRange: Range<Int>
}

/// A safetensors file read into memory and validated: every offset and size checked, every byte of the
/// data section covered by exactly one tensor.
///
/// Layout: an 8-byte little-endian header length `n`, `n` bytes of JSON
/// (`{"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {...}}`), then the data.
public struct SafeTensorsFile {
    public let path: String
    public let metadata: [String: String]
    public let entries: [String: SafeTensorsEntry]
    private let data: Data
    private let dataStart: Int

    /// The largest header accepted, in bytes (the reference implementation's limit).
    public static let maximumHeaderBytes = 100_000_000

    public init(contentsOf url: URL) throws {
        let path = url.path
        let bytes: Data
        do {
            bytes = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw SafeTensorsError(file: path, reason: "cannot be read (\(error.localizedDescription))")
        }
        try self.init(data: bytes, path: path)
    }

    public init(data bytes: Data, path: String) throws {
        self.path = path
        guard bytes.count >= 8 else {
            throw SafeTensorsError(file: path, reason: "truncated: \(bytes.count) bytes, an 8-byte header length is needed")
        }
        let headerLength = bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) }
        guard headerLength <= UInt64(SafeTensorsFile.maximumHeaderBytes) else {
            throw SafeTensorsError(file: path, reason: "header length \(headerLength) is absurd (limit \(SafeTensorsFile.maximumHeaderBytes))")
        }
        guard 8 + Int(headerLength) <= bytes.count else {
            throw SafeTensorsError(file: path, reason: "truncated: header of \(headerLength) bytes runs past the end of the \(bytes.count)-byte file")
        }
        let headerData = bytes.subdata(in: (bytes.startIndex + 8)..<(bytes.startIndex + 8 + Int(headerLength)))
        guard let object = try? JSONSerialization.jsonObject(with: headerData), let header = object as? [String: Any] else {
            throw SafeTensorsError(file: path, reason: "header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        var entries: [String: SafeTensorsEntry] = [:]
        for (key, value) in header {
            if key == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw SafeTensorsError(file: path, key: key, reason: "metadata is not an object")
                }
                for (k, v) in m {
                    guard let s = v as? String else {
                        throw SafeTensorsError(file: path, key: "__metadata__.\(k)", reason: "metadata values must be strings")
                    }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any] else {
                throw SafeTensorsError(file: path, key: key, reason: "entry is not an object")
            }
            guard let dtypeName = info["dtype"] as? String else {
                throw SafeTensorsError(file: path, key: key, reason: "dtype is missing")
            }
            guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
                throw SafeTensorsError(file: path, key: key, reason: "unknown dtype '\(dtypeName)'")
            }
            guard let shapeValues = info["shape"] as? [Any],
                  let shape = Optional(shapeValues.compactMap { ($0 as? NSNumber)?.intValue }),
                  shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }) else {
                throw SafeTensorsError(file: path, key: key, reason: "shape is missing or not a list of sizes")
            }
            guard let offsetValues = info["data_offsets"] as? [Any], offsetValues.count == 2,
                  let begin = (offsetValues[0] as? NSNumber)?.intValue, let end = (offsetValues[1] as? NSNumber)?.intValue,
                  begin >= 0, end >= begin else {
                throw SafeTensorsError(file: path, key: key, reason: "data_offsets must be two increasing byte offsets")
            }
            var elements = 1
            for s in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: s)
                guard !overflow else { throw SafeTensorsError(file: path, key: key, reason: "shape \(shape) overflows") }
                elements = product
            }
            guard elements * dtype.byteWidth == end - begin else {
                throw SafeTensorsError(file: path, key: key,
                                       reason: "shape \(shape) of \(dtypeName) needs \(elements * dtype.byteWidth) bytes, offsets give \(end - begin)")
            }
            entries[key] = SafeTensorsEntry(dtype: dtype, shape: shape, byteRange: begin..<end)
        }
        let dataLength = bytes.count - 8 - Int(headerLength)
        var position = 0
        for (key, entry) in entries.sorted(by: { ($0.value.byteRange.lowerBound, $0.key) < ($1.value.byteRange.lowerBound, $1.key) }) {
            if entry.byteRange.lowerBound < position {
                throw SafeTensorsError(file: path, key: key, reason: "data overlaps the previous tensor's")
            }
            if entry.byteRange.lowerBound > position {
                throw SafeTensorsError(file: path, key: key, reason: "a gap of \(entry.byteRange.lowerBound - position) bytes precedes its data")
            }
            if entry.byteRange.upperBound > dataLength {
                throw SafeTensorsError(file: path, key: key,
                                       reason: "truncated: data ends at byte \(entry.byteRange.upperBound), the data section has \(dataLength)")
            }
            position = entry.byteRange.upperBound
        }
        if position != dataLength {
            throw SafeTensorsError(file: path, reason: "\(dataLength - position) bytes after the last tensor belong to none")
        }
        self.metadata = metadata
        self.entries = entries
        self.data = bytes
        self.dataStart = bytes.startIndex + 8 + Int(headerLength)
    }

    public var keys: [String] { entries.keys.sorted() }

    /// The named tensor as float32 (converted from F64, F16 or BF16).
    public func tensor(_ key: String) throws -> Tensor {
        guard let entry = entries[key] else { throw SafeTensorsError(file: path, key: key, reason: "no such tensor") }
        guard entry.dtype.isFloatingPoint else {
            throw SafeTensorsError(file: path, key: key, reason: "dtype \(entry.dtype.rawValue) is not a floating-point type")
        }
        let t = Tensor(uninitializedShape: entry.shape)
        let out = t.data
        let n = t.count
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let base = raw.baseAddress! + (dataStart - data.startIndex) + entry.byteRange.lowerBound
            switch entry.dtype {
            case .float32:
                for i in 0..<n { out[i] = Float(bitPattern: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian) }
            case .float64:
                for i in 0..<n { out[i] = Float(Double(bitPattern: base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian)) }
            case .float16:
                for i in 0..<n { out[i] = floatFromHalf(base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) }
            case .bfloat16:
                for i in 0..<n { out[i] = Float(bitPattern: UInt32(base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16) }
            default: break
            }
        }
        return t
    }

    /// The named single-element integer tensor's value (a step or epoch count); throws, naming the key, on
    /// any other element count.
    public func integer(_ key: String) throws -> Int {
        let values = try integers(key)
        guard values.count == 1 else {
            throw SafeTensorsError(file: path, key: key, reason: "holds \(values.count) values, expected 1")
        }
        return Int(values[0])
    }

    /// The named tensor as integers (from I64, I32, I16, I8, U8 or BOOL).
    public func integers(_ key: String) throws -> [Int64] {
        guard let entry = entries[key] else { throw SafeTensorsError(file: path, key: key, reason: "no such tensor") }
        guard !entry.dtype.isFloatingPoint else {
            throw SafeTensorsError(file: path, key: key, reason: "dtype \(entry.dtype.rawValue) is not an integer type")
        }
        let n = entry.shape.reduce(1, *)
        return data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let base = raw.baseAddress! + (dataStart - data.startIndex) + entry.byteRange.lowerBound
            return (0..<n).map { i -> Int64 in
                switch entry.dtype {
                case .int64: return Int64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
                case .int32: return Int64(Int32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                case .int16: return Int64(Int16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
                case .int8: return Int64(base.load(fromByteOffset: i, as: Int8.self))
                default: return Int64(base.load(fromByteOffset: i, as: UInt8.self))
                }
            }
        }
    }
}

/// IEEE half to float.
func floatFromHalf(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = Int((h >> 10) & 0x1F)
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0 {
        let value = Float(mantissa) / 16_777_216  // mantissa * 2^-24
        return sign == 0 ? value : -value
    }
    if exponent == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
    return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
}

/// Builds a safetensors file: float32 tensors, int64 vectors and string metadata.
public struct SafeTensorsWriter {
    private enum Payload {
        case float32(Tensor)
        case int64([Int64], [Int])
    }
    private var items: [String: Payload] = [:]
    public var metadata: [String: String]

    public init(metadata: [String: String] = [:]) { self.metadata = metadata }

    /// Adds a tensor (stored row-major float32 whatever its memory format).
    public mutating func add(_ key: String, _ tensor: Tensor) { items[key] = .float32(tensor) }

    /// Adds integers with the given shape (default: a vector; `[]` for a scalar).
    public mutating func add(_ key: String, integers: [Int64], shape: [Int]? = nil) {
        items[key] = .int64(integers, shape ?? [integers.count])
    }

    /// The complete file bytes.
    public func encoded() -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let keys = items.keys.sorted()
        for key in keys {
            let (dtype, shape, bytes): (String, [Int], Int)
            switch items[key]! {
            case .float32(let t): (dtype, shape, bytes) = ("F32", t.shape, t.count * 4)
            case .int64(let v, let s): (dtype, shape, bytes) = ("I64", s, v.count * 8)
            }
            header[key] = ["dtype": dtype, "shape": shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(json)
        for key in keys {
            switch items[key]! {
            case .float32(let t):
                let values = t.scalars
                values.withUnsafeBufferPointer { out.append(UnsafeBufferPointer(start: UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: UInt8.self), count: values.count * 4)) }
            case .int64(let v, _):
                for x in v { var le = x.littleEndian; withUnsafeBytes(of: &le) { out.append(contentsOf: $0) } }
            }
        }
        return out
    }

    /// Writes the file atomically: to a temporary file beside it, flushed, then renamed over `url`.
    /// On any failure (a full disk, say) the temporary file is removed and an existing file at `url`
    /// is left as it was.
    public func write(to url: URL) throws {
        let bytes = encoded()
        try AtomicFile.write(bytes, to: url)
    }
}

/// Writes files so that a reader never sees a half-written one.
public enum AtomicFile {
    public static func write(_ bytes: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            throw SafeTensorsError(file: url.path, reason: "cannot create \(temporary.path): \(String(cString: strerror(errno)))")
        }
        var failure: String?
        bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var written = 0
            while written < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno))
                    return
                }
                written += n
            }
            if fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        }
        close(fd)
        if let failure {
            unlink(temporary.path)
            throw SafeTensorsError(file: url.path, reason: "write failed (\(failure)); the previous file is intact")
        }
        if rename(temporary.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            throw SafeTensorsError(file: url.path, reason: "rename failed (\(reason)); the previous file is intact")
        }
    }
}
