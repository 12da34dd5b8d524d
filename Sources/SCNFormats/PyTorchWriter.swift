import Foundation
import SCNTensor

/// Writes a state dictionary as a `torch.save` zip file (`torch.load(path)` returns an OrderedDict of
/// float32 tensors and int64 scalars), without Python.
public struct PyTorchWriter {
    private var items: [(String, Payload)] = []
    private enum Payload {
        case float32(Tensor)
        case int64([Int64], [Int])
    }

    public init() {}

    public mutating func add(_ key: String, _ tensor: Tensor) { items.append((key, .float32(tensor))) }
    public mutating func add(_ key: String, integers: [Int64], shape: [Int]) { items.append((key, .int64(integers, shape))) }

    /// The pickle (protocol 2) of the OrderedDict of tensors, referring to storages "0", "1", ...
    func pickle() -> [UInt8] {
        var out: [UInt8] = [0x80, 0x02]
        func global(_ module: String, _ name: String) { out += [0x63] + Array("\(module)\n\(name)\n".utf8) }
        func string(_ s: String) {
            let b = Array(s.utf8)
            out += [0x58] + withUnsafeBytes(of: UInt32(b.count).littleEndian, Array.init) + b
        }
        func int(_ v: Int) { out += [0x4A] + withUnsafeBytes(of: Int32(v).littleEndian, Array.init) }
        func tuple(_ values: [Int]) { out.append(0x28); values.forEach(int); out.append(0x74) }
        global("collections", "OrderedDict")
        out += [0x29, 0x52, 0x28]  // EMPTY_TUPLE REDUCE MARK
        for (index, (key, payload)) in items.enumerated() {
            let (type, shape, count): (String, [Int], Int)
            switch payload {
            case .float32(let t): (type, shape, count) = ("FloatStorage", t.shape, t.count)
            case .int64(let v, let s): (type, shape, count) = ("LongStorage", s, v.count)
            }
            string(key)
            global("torch._utils", "_rebuild_tensor_v2")
            out += [0x28, 0x28]  // MARK MARK
            string("storage")
            global("torch", type)
            string("\(index)")
            string("cpu")
            int(count)
            out += [0x74, 0x51]  // TUPLE BINPERSID
            int(0)
            tuple(shape)
            var strides = [Int](repeating: 1, count: shape.count)
            for d in stride(from: shape.count - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * shape[d + 1] }
            tuple(strides)
            out.append(0x89)  // NEWFALSE
            global("collections", "OrderedDict")
            out += [0x29, 0x52, 0x74, 0x52]  // EMPTY_TUPLE REDUCE TUPLE REDUCE
        }
        out += [0x75, 0x2E]  // SETITEMS STOP
        return out
    }

    public func encoded() -> Data {
        var entries: [(String, [UInt8])] = [("archive/data.pkl", pickle())]
        for (index, (_, payload)) in items.enumerated() {
            var bytes: [UInt8] = []
            switch payload {
            case .float32(let t): for v in t.scalars { bytes += withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) }
            case .int64(let v, _): for x in v { bytes += withUnsafeBytes(of: x.littleEndian, Array.init) }
            }
            entries.append(("archive/data/\(index)", bytes))
        }
        entries.append(("archive/byteorder", Array("little".utf8)))
        entries.append(("archive/version", Array("3\n".utf8)))
        return ZipWriter.stored(entries)
    }

    public func write(to url: URL) throws { try AtomicFile.write(encoded(), to: url) }
}

/// A zip archive of stored (uncompressed) entries.
enum ZipWriter {
    static func stored(_ entries: [(String, [UInt8])]) -> Data {
        var out = [UInt8](), directory = [UInt8]()
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func le32(_ v: Int) -> [UInt8] { le16(v & 0xFFFF) + le16(v >> 16 & 0xFFFF) }
        for (name, data) in entries {
            let nameBytes = Array(name.utf8), crc = crc32(data), offset = out.count
            let common = le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(Int(crc)) + le32(data.count) + le32(data.count)
                + le16(nameBytes.count) + le16(0)
            out += le32(0x0403_4B50) + common + nameBytes + data
            directory += le32(0x0201_4B50) + le16(20) + common + le16(0) + le16(0) + le16(0) + le32(0) + le32(offset) + nameBytes
        }
        let directoryOffset = out.count
        out += directory
        out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(entries.count) + le16(entries.count) + le32(directory.count)
            + le32(directoryOffset) + le16(0)
        return Data(out)
    }

    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in data { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
