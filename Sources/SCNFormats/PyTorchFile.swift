import Foundation
import SCNTensor

/// A value read from a PyTorch pickle by the restricted unpickler.
public indirect enum PickleValue: CustomStringConvertible {
    case none
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list([PickleValue])
    /// An (ordered) dictionary, in insertion order.
    case dictionary([(key: PickleValue, value: PickleValue)])
    case tensor(PyTorchTensor)
    /// A class or function the unpickler allows (before it is called).
    case global(module: String, name: String)
    /// A persistent storage reference (`('storage', type, key, location, numel)`).
    case storage(type: String, key: String, elementCount: Int)
    case mark

    public var description: String {
        switch self {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return "\(i)"
        case .float(let f): return "\(f)"
        case .string(let s): return "'\(s)'"
        case .bytes(let b): return "bytes(\(b.count))"
        case .tuple(let v): return "(" + v.map(\.description).joined(separator: ", ") + ")"
        case .list(let v): return "[" + v.map(\.description).joined(separator: ", ") + "]"
        case .dictionary(let d): return "{" + d.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        case .tensor(let t): return "tensor(\(t.dtype) \(t.shape))"
        case .global(let m, let n): return "\(m).\(n)"
        case .storage(let t, let k, _): return "storage(\(t), \(k))"
        case .mark: return "MARK"
        }
    }

    /// The string keys and values of a dictionary.
    public var stringKeyedEntries: [(String, PickleValue)]? {
        guard case .dictionary(let d) = self else { return nil }
        return d.compactMap { entry in
            if case .string(let k) = entry.key { return (k, entry.value) }
            return nil
        }
    }

    public subscript(key: String) -> PickleValue? { stringKeyedEntries?.first { $0.0 == key }?.1 }
}

/// A tensor in a PyTorch file: where its elements are and how to read them.
public struct PyTorchTensor {
    public enum DType: String { case float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool }
    public var dtype: DType
    public var shape: [Int]
    public var strides: [Int]
    public var storageOffset: Int
    public var storageKey: String
    public var storageElementCount: Int
}

/// A `.pth` / `.pt` file written by `torch.save` (the zip format), read without Python by a restricted
/// unpickler: it understands dictionaries, ordered dictionaries, lists, tuples, numbers, strings and
/// tensors rebuilt from storages, and refuses any other global (`os.system`, custom classes) with an
/// error naming it. Nothing is executed; every storage offset and size is checked.
public struct PyTorchFile {
    public let path: String
    public let root: PickleValue
    private let archive: ZipArchive
    private let prefix: String

    public init(contentsOf url: URL) throws {
        path = url.path
        let head = (try? FileHandle(forReadingFrom: url).read(upToCount: 4)) ?? nil
        guard let head, head.count >= 2 else { throw SafeTensorsError(file: url.path, reason: "cannot be read, or empty") }
        if head[0] == 0x80 {
            throw SafeTensorsError(file: url.path, reason: "legacy (non-zip) PyTorch format; re-save it with torch.save(obj, path) from PyTorch 1.6 or later")
        }
        archive = try ZipArchive(contentsOf: url)
        guard let pickle = archive.entries.keys.first(where: { $0.hasSuffix("/data.pkl") || $0 == "data.pkl" }) else {
            throw SafeTensorsError(file: url.path, reason: "a zip archive without data.pkl: not a torch.save file")
        }
        prefix = String(pickle.dropLast("data.pkl".count))
        var unpickler = Unpickler(bytes: [UInt8](try archive.contents(pickle)), file: url.path)
        root = try unpickler.load()
    }

    /// The float32 values of `tensor` (converted from float16, bfloat16, float64), laid out row-major.
    public func floatTensor(_ tensor: PyTorchTensor, key: String) throws -> Tensor {
        let values = try elements(tensor, key: key)
        let out = Tensor(uninitializedShape: tensor.shape)
        for (i, v) in values.enumerated() { out.data[i] = Float(v) }
        return out
    }

    /// The integer values of an integer tensor, row-major.
    public func integers(_ tensor: PyTorchTensor, key: String) throws -> [Int64] {
        try elements(tensor, key: key).map { Int64($0) }
    }

    private func elements(_ t: PyTorchTensor, key: String) throws -> [Double] {
        let data = try archive.contents("\(prefix)data/\(t.storageKey)")
        let width: Int
        switch t.dtype {
        case .float64, .int64: width = 8
        case .float32, .int32: width = 4
        case .float16, .bfloat16, .int16: width = 2
        case .int8, .uint8, .bool: width = 1
        }
        guard data.count == t.storageElementCount * width else {
            throw SafeTensorsError(file: path, key: key, reason: "storage \(t.storageKey) holds \(data.count) bytes, \(t.storageElementCount) \(t.dtype) elements need \(t.storageElementCount * width)")
        }
        let count = t.shape.reduce(1, *)
        guard t.shape.allSatisfy({ $0 >= 0 }), t.strides.count == t.shape.count, t.storageOffset >= 0 else {
            throw SafeTensorsError(file: path, key: key, reason: "bad size, stride or offset")
        }
        if count == 0 { return [] }
        let last = t.storageOffset + zip(t.shape, t.strides).reduce(0) { $0 + ($1.0 - 1) * max(0, $1.1) }
        guard t.strides.allSatisfy({ $0 >= 0 }), last < t.storageElementCount else {
            throw SafeTensorsError(file: path, key: key, reason: "offset \(t.storageOffset) with shape \(t.shape) and strides \(t.strides) runs past the storage of \(t.storageElementCount) elements")
        }
        let bytes = [UInt8](data)
        func element(_ i: Int) -> Double {
            let o = i * width
            switch t.dtype {
            case .float32: return Double(Float(bitPattern: UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24))
            case .float64:
                var v: UInt64 = 0
                for k in 0..<8 { v |= UInt64(bytes[o + k]) << (8 * UInt64(k)) }
                return Double(bitPattern: v)
            case .float16: return Double(floatFromHalf(UInt16(bytes[o]) | UInt16(bytes[o + 1]) << 8))
            case .bfloat16: return Double(Float(bitPattern: (UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8) << 16))
            case .int64:
                var v: UInt64 = 0
                for k in 0..<8 { v |= UInt64(bytes[o + k]) << (8 * UInt64(k)) }
                return Double(Int64(bitPattern: v))
            case .int32: return Double(Int32(bitPattern: UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24))
            case .int16: return Double(Int16(bitPattern: UInt16(bytes[o]) | UInt16(bytes[o + 1]) << 8))
            case .int8: return Double(Int8(bitPattern: bytes[o]))
            case .uint8, .bool: return Double(bytes[o])
            }
        }
        var out = [Double](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: t.shape.count)
        for n in 0..<count {
            out[n] = element(t.storageOffset + zip(index, t.strides).reduce(0) { $0 + $1.0 * $1.1 })
            var d = t.shape.count - 1
            while d >= 0 { index[d] += 1; if index[d] < t.shape[d] { break }; index[d] = 0; d -= 1 }
        }
        return out
    }
}

/// Pickle protocol 2-5 opcodes for state dictionaries, and nothing that executes code.
struct Unpickler {
    let bytes: [UInt8]
    let file: String
    var position = 0
    var stack: [PickleValue] = []
    var marks: [Int] = []
    var memo: [Int: PickleValue] = [:]

    static let storageTypes: [String: PyTorchTensor.DType] = [
        "FloatStorage": .float32, "DoubleStorage": .float64, "HalfStorage": .float16, "BFloat16Storage": .bfloat16,
        "LongStorage": .int64, "IntStorage": .int32, "ShortStorage": .int16, "CharStorage": .int8, "ByteStorage": .uint8,
        "BoolStorage": .bool,
    ]
    static let allowedGlobals: Set<String> = [
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
    ]

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    func fail(_ reason: String) -> SafeTensorsError { SafeTensorsError(file: file, key: "data.pkl", reason: reason) }

    mutating func read(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, position + n <= bytes.count else { throw fail("truncated pickle at byte \(position)") }
        defer { position += n }
        return bytes[position..<(position + n)]
    }

    mutating func readInt(_ n: Int) throws -> Int {
        try read(n).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    }

    mutating func readLine() throws -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw fail("truncated pickle: unterminated line") }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }

    mutating func pop() throws -> PickleValue {
        guard let v = stack.popLast() else { throw fail("pickle stack underflow at byte \(position)") }
        return v
    }

    mutating func popMark() throws -> [PickleValue] {
        guard let mark = marks.popLast(), mark <= stack.count else { throw fail("pickle MARK missing at byte \(position)") }
        defer { stack.removeSubrange(mark...) }
        return Array(stack[mark...])
    }

    mutating func global(_ module: String, _ name: String) throws -> PickleValue {
        let qualified = "\(module).\(name)"
        if module == "torch", Unpickler.storageTypes[name] != nil { return .global(module: module, name: name) }
        guard Unpickler.allowedGlobals.contains(qualified) else {
            throw fail("forbidden global '\(qualified)': only state dictionaries of tensors are read (nothing is executed)")
        }
        return .global(module: module, name: name)
    }

    func integers(_ v: PickleValue, _ what: String) throws -> [Int] {
        guard case .tuple(let items) = v else { throw fail("\(what) is not a tuple") }
        return try items.map {
            guard case .int(let i) = $0 else { throw fail("\(what) holds a non-integer") }
            return Int(i)
        }
    }

    mutating func call(_ callable: PickleValue, _ arguments: PickleValue) throws -> PickleValue {
        guard case .global(let module, let name) = callable, case .tuple(let args) = arguments else {
            throw fail("REDUCE on \(callable), which is not an allowed callable")
        }
        switch "\(module).\(name)" {
        case "collections.OrderedDict":
            return .dictionary([])
        case "torch._utils._rebuild_tensor_v2":
            guard args.count >= 4, case .storage(let type, let key, let count) = args[0], case .int(let offset) = args[1] else {
                throw fail("_rebuild_tensor_v2 with unexpected arguments")
            }
            guard let dtype = Unpickler.storageTypes[type] else { throw fail("unknown storage type \(type)") }
            return .tensor(PyTorchTensor(dtype: dtype, shape: try integers(args[2], "size"), strides: try integers(args[3], "stride"),
                                         storageOffset: Int(offset), storageKey: key, storageElementCount: count))
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard let first = args.first, case .tensor = first else { throw fail("_rebuild_parameter without a tensor") }
            return first
        default:
            throw fail("calling \(module).\(name) is not allowed")
        }
    }

    mutating func load() throws -> PickleValue {
        while true {
            let opcode = try read(1).first!
            switch opcode {
            case 0x80: _ = try read(1)  // PROTO
            case 0x95: _ = try read(8)  // FRAME
            case 0x2E: return try pop()  // STOP
            case 0x28: marks.append(stack.count)  // MARK
            case 0x7D: stack.append(.dictionary([]))  // EMPTY_DICT
            case 0x5D: stack.append(.list([]))  // EMPTY_LIST
            case 0x29: stack.append(.tuple([]))  // EMPTY_TUPLE
            case 0x4E: stack.append(.none)
            case 0x88: stack.append(.bool(true))
            case 0x89: stack.append(.bool(false))
            case 0x4B: stack.append(.int(Int64(try readInt(1))))  // BININT1
            case 0x4D: stack.append(.int(Int64(try readInt(2))))  // BININT2
            case 0x4A: stack.append(.int(Int64(Int32(truncatingIfNeeded: try readInt(4)))))  // BININT
            case 0x8A:  // LONG1
                let n = try readInt(1)
                guard n <= 8 else { throw fail("integer of \(n) bytes") }
                var v: Int64 = 0
                let b = try read(n)
                for (k, byte) in b.enumerated() { v |= Int64(byte) << (8 * Int64(k)) }
                if n > 0 && n < 8 && (b.last! & 0x80) != 0 { v -= Int64(1) << (8 * Int64(n)) }
                stack.append(.int(v))
            case 0x47:  // BINFLOAT (big-endian)
                let b = try read(8)
                stack.append(.float(Double(bitPattern: b.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })))
            case 0x58: stack.append(.string(String(decoding: try read(try readInt(4)), as: UTF8.self)))  // BINUNICODE
            case 0x8C: stack.append(.string(String(decoding: try read(try readInt(1)), as: UTF8.self)))  // SHORT_BINUNICODE
            case 0x54: stack.append(.string(String(decoding: try read(try readInt(4)), as: UTF8.self)))  // BINSTRING
            case 0x55: stack.append(.string(String(decoding: try read(try readInt(1)), as: UTF8.self)))  // SHORT_BINSTRING
            case 0x42: stack.append(.bytes(Array(try read(try readInt(4)))))  // BINBYTES
            case 0x43: stack.append(.bytes(Array(try read(try readInt(1)))))  // SHORT_BINBYTES
            case 0x74: stack.append(.tuple(try popMark()))  // TUPLE
            case 0x85: stack.append(.tuple([try pop()]))
            case 0x86: let b = try pop(), a = try pop(); stack.append(.tuple([a, b]))
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); stack.append(.tuple([a, b, c]))
            case 0x6C: stack.append(.list(try popMark()))  // LIST
            case 0x63:  // GLOBAL
                let module = try readLine(), name = try readLine()
                stack.append(try global(module, name))
            case 0x93:  // STACK_GLOBAL
                guard case .string(let name) = try pop(), case .string(let module) = try pop() else { throw fail("STACK_GLOBAL without names") }
                stack.append(try global(module, name))
            case 0x52:  // REDUCE
                let args = try pop(), callable = try pop()
                stack.append(try call(callable, args))
            case 0x81:  // NEWOBJ
                let args = try pop(), cls = try pop()
                stack.append(try call(cls, args))
            case 0x62:  // BUILD: state for an OrderedDict (its _metadata) is accepted and ignored
                _ = try pop()
                guard case .dictionary = stack.last else { throw fail("BUILD on an object that is not a dictionary") }
            case 0x51:  // BINPERSID
                guard case .tuple(let id) = try pop(), id.count >= 5, case .string("storage") = id[0],
                      case .global(_, let type) = id[1], case .string(let key) = id[2], case .int(let count) = id[4] else {
                    throw fail("persistent id that is not a tensor storage")
                }
                stack.append(.storage(type: type, key: key, elementCount: Int(count)))
            case 0x71: memo[try readInt(1)] = stack.last  // BINPUT
            case 0x72: memo[try readInt(4)] = stack.last  // LONG_BINPUT
            case 0x94: memo[memo.count] = stack.last  // MEMOIZE
            case 0x68, 0x6A:  // BINGET, LONG_BINGET
                let key = try readInt(opcode == 0x68 ? 1 : 4)
                guard let v = memo[key] else { throw fail("memo key \(key) missing") }
                stack.append(v)
            case 0x73:  // SETITEM
                let value = try pop(), key = try pop()
                guard case .dictionary(var d) = try pop() else { throw fail("SETITEM on a non-dictionary") }
                d.append((key, value))
                stack.append(.dictionary(d))
            case 0x75:  // SETITEMS
                let items = try popMark()
                guard items.count % 2 == 0, case .dictionary(var d) = try pop() else { throw fail("SETITEMS on a non-dictionary") }
                for i in stride(from: 0, to: items.count, by: 2) { d.append((items[i], items[i + 1])) }
                stack.append(.dictionary(d))
            case 0x61:  // APPEND
                let value = try pop()
                guard case .list(var l) = try pop() else { throw fail("APPEND on a non-list") }
                l.append(value)
                stack.append(.list(l))
            case 0x65:  // APPENDS
                let items = try popMark()
                guard case .list(var l) = try pop() else { throw fail("APPENDS on a non-list") }
                l += items
                stack.append(.list(l))
            default:
                throw fail(String(format: "unsupported pickle opcode 0x%02X at byte %d", opcode, position - 1))
            }
        }
    }
}
