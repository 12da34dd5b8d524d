import CDNNL
import Foundation

/// oneDNN argument indices (`DNNL_ARG_*`), which import as macros of macros and so are restated here.
public enum DNNLArgument {
    public static let src: Int32 = 1
    public static let dst: Int32 = 17
    public static let weights: Int32 = 33
    public static let bias: Int32 = 41
    public static let mean: Int32 = 49
    public static let variance: Int32 = 50
    public static let scale: Int32 = 51
    public static let shift: Int32 = 52
    public static let workspace: Int32 = 64
    public static let diffSrc: Int32 = 129
    public static let diffDst: Int32 = 145
    public static let diffWeights: Int32 = 161
    public static let diffBias: Int32 = 169
    public static let diffScale: Int32 = 255
    public static let diffShift: Int32 = 256
}

/// Stops with oneDNN's own status text. Shapes are validated before any kernel runs, so a failure here
/// is a bug in this package, not bad user input.
@inline(__always)
func dnnlCheck(_ status: dnnl_status_t, _ what: @autoclosure () -> String) {
    if status != dnnl_success {
        fatalError("oneDNN \(what()) failed: \(String(cString: dnnl_status2str(status)))")
    }
}

/// The CPU engine and stream every primitive runs on.
public final class DNNLContext: @unchecked Sendable {
    public static let shared = DNNLContext()
    let engine: dnnl_engine_t
    let stream: dnnl_stream_t

    private init() {
        var engine: dnnl_engine_t?
        dnnlCheck(dnnl_engine_create(&engine, dnnl_cpu, 0), "engine creation")
        var stream: dnnl_stream_t?
        dnnlCheck(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue), "stream creation")
        self.engine = engine!
        self.stream = stream!
    }

    /// oneDNN's version string, for reports.
    public static var version: String {
        let v = dnnl_version()!.pointee
        return "\(v.major).\(v.minor).\(v.patch)"
    }
}

/// A memory descriptor for a dense tensor with the given dimensions and layout tag.
func memoryDescriptor(_ dims: [Int], _ tag: dnnl_format_tag_t, _ type: dnnl_data_type_t = dnnl_f32)
    -> dnnl_memory_desc_t
{
    var md = dnnl_memory_desc_t()
    let d = dims.map { Int64($0) }
    dnnlCheck(dnnl_memory_desc_init_by_tag(&md, Int32(d.count), d, type, tag), "memory descriptor \(dims)")
    return md
}

func sameLayout(_ a: UnsafePointer<dnnl_memory_desc_t>, _ b: UnsafePointer<dnnl_memory_desc_t>) -> Bool {
    dnnl_memory_desc_equal(a, b) != 0
}

func byteSize(_ md: UnsafePointer<dnnl_memory_desc_t>) -> Int { Int(dnnl_memory_desc_get_size(md)) }

/// The number of floats of a scratch buffer that holds a tensor of `md` (whatever its element type).
func scratchFloats(_ md: UnsafePointer<dnnl_memory_desc_t>) -> Int { (byteSize(md) + 3) / 4 }

/// A created primitive with its descriptor; destroyed with the object.
final class DNNLPrimitive {
    let descriptor: dnnl_primitive_desc_t
    let primitive: dnnl_primitive_t

    init(descriptor: dnnl_primitive_desc_t, what: String) {
        self.descriptor = descriptor
        var p: dnnl_primitive_t?
        dnnlCheck(dnnl_primitive_create(&p, descriptor), "\(what) primitive creation")
        self.primitive = p!
    }

    /// Creates the primitive for an operation descriptor (`&convDesc`, `&bnDesc`, ...).
    convenience init(operation: UnsafeRawPointer, hint: DNNLPrimitive? = nil, attributes: dnnl_primitive_attr_t? = nil,
                     what: String) {
        var pd: dnnl_primitive_desc_t?
        dnnlCheck(dnnl_primitive_desc_create(&pd, operation, attributes, DNNLContext.shared.engine, hint?.descriptor),
                  "\(what) descriptor")
        self.init(descriptor: pd!, what: what)
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        dnnl_primitive_desc_destroy(descriptor)
    }

    /// The memory descriptor the primitive expects for `query` (`dnnl_query_weights_md`, ...).
    func memoryDescriptor(_ query: dnnl_query_t, _ index: Int32 = 0) -> UnsafePointer<dnnl_memory_desc_t> {
        dnnl_primitive_desc_query_md(descriptor, query, index)
    }

    /// The workspace the primitive fills for its backward pass (max pooling's argmax, a fused ReLU's
    /// mask), and its size in floats; nil and 0 when it needs none.
    var workspace: (descriptor: UnsafePointer<dnnl_memory_desc_t>?, floats: Int) {
        let md = memoryDescriptor(dnnl_query_workspace_md)
        return (byteSize(md) > 0 ? md : nil, scratchFloats(md))
    }

    /// Runs the primitive on raw buffers: each argument gives its index, descriptor and data pointer.
    func execute(_ arguments: [(Int32, UnsafePointer<dnnl_memory_desc_t>, UnsafeMutableRawPointer)]) {
        let context = DNNLContext.shared
        var args: [dnnl_exec_arg_t] = []
        args.reserveCapacity(arguments.count)
        for (index, md, pointer) in arguments {
            var memory: dnnl_memory_t?
            dnnlCheck(dnnl_memory_create(&memory, md, context.engine, pointer), "memory creation")
            args.append(dnnl_exec_arg_t(arg: index, memory: memory))
        }
        dnnlCheck(dnnl_primitive_execute(primitive, context.stream, Int32(args.count), args), "execution")
        dnnlCheck(dnnl_stream_wait(context.stream), "stream wait")
        for a in args { dnnl_memory_destroy(a.memory) }
    }
}

/// A memory descriptor at a stable address, so it can be handed to oneDNN at any time.
final class MemoryDescriptor {
    private let storage: UnsafeMutablePointer<dnnl_memory_desc_t>
    var pointer: UnsafePointer<dnnl_memory_desc_t> { UnsafePointer(storage) }

    init(_ md: dnnl_memory_desc_t) {
        storage = .allocate(capacity: 1)
        storage.initialize(to: md)
    }

    convenience init(_ dims: [Int], _ tag: dnnl_format_tag_t, _ type: dnnl_data_type_t = dnnl_f32) {
        self.init(memoryDescriptor(dims, tag, type))
    }

    deinit { storage.deallocate() }

    func matches(_ other: UnsafePointer<dnnl_memory_desc_t>) -> Bool { sameLayout(pointer, other) }
}

/// A reorder between two layouts of the same tensor.
final class DNNLReorder {
    let primitive: DNNLPrimitive
    let source: MemoryDescriptor
    let destination: MemoryDescriptor

    init(from source: dnnl_memory_desc_t, to destination: dnnl_memory_desc_t) {
        self.source = MemoryDescriptor(source)
        self.destination = MemoryDescriptor(destination)
        var pd: dnnl_primitive_desc_t?
        let engine = DNNLContext.shared.engine
        dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, self.source.pointer, engine, self.destination.pointer,
                                                     engine, nil), "reorder descriptor")
        primitive = DNNLPrimitive(descriptor: pd!, what: "reorder")
    }

    func run(_ from: UnsafeRawPointer, _ to: UnsafeMutableRawPointer) {
        primitive.execute([(DNNLArgument.src, source.pointer, UnsafeMutableRawPointer(mutating: from)),
                           (DNNLArgument.dst, destination.pointer, to)])
    }
}

/// A thread-safe cache of objects keyed by the geometry they were built for.
final class PrimitiveCache<Key: Hashable, Value> {
    private var entries: [Key: Value] = [:]
    private let lock = NSLock()

    func value(for key: Key, make: () -> Value) -> Value {
        lock.lock()
        defer { lock.unlock() }
        if let v = entries[key] { return v }
        let v = make()
        entries[key] = v
        return v
    }
}
