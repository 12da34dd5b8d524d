import Foundation

/// Writes TensorBoard event files (`events.out.tfevents.*`): scalars and histograms, each record framed
/// as TensorFlow's TFRecord (length, masked CRC-32C of the length, data, masked CRC-32C of the data).
/// The `Event` and `Summary` protocol buffers are encoded by hand: the few fields used here.
public final class TensorBoardWriter {
    public let url: URL
    private let handle: FileHandle

    public init(directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let name = "events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(ProcessInfo.processInfo.hostName).scn"
        url = directory.appendingPathComponent(name)
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        handle = try FileHandle(forWritingTo: url)
        // The first event names the file format version.
        try write(event(step: 0, payload: Protobuf.string(3, "brain.Event:2")))
    }

    deinit { try? handle.close() }

    /// A scalar under `tag` at `step`.
    public func scalar(_ tag: String, _ value: Double, step: Int) throws {
        let summaryValue = Protobuf.string(1, tag) + Protobuf.float(2, Float(value))
        try write(event(step: step, payload: Protobuf.bytes(5, Protobuf.bytes(1, summaryValue))))
    }

    /// A histogram of `values` with bucket right edges `edges` (the last bucket open to +inf).
    public func histogram(_ tag: String, _ values: [Double], edges: [Double], step: Int) throws {
        var counts = [Double](repeating: 0, count: edges.count + 1)
        for v in values { counts[edges.firstIndex(where: { v <= $0 }) ?? edges.count] += 1 }
        var h = Protobuf.double(1, values.min() ?? 0) + Protobuf.double(2, values.max() ?? 0)
        h += Protobuf.double(3, Double(values.count)) + Protobuf.double(4, values.reduce(0, +))
        h += Protobuf.double(5, values.reduce(0) { $0 + $1 * $1 })
        h += Protobuf.packedDoubles(6, edges + [Double.greatestFiniteMagnitude]) + Protobuf.packedDoubles(7, counts)
        let summaryValue = Protobuf.string(1, tag) + Protobuf.bytes(5, h)
        try write(event(step: step, payload: Protobuf.bytes(5, Protobuf.bytes(1, summaryValue))))
    }

    private func event(step: Int, payload: [UInt8]) -> [UInt8] {
        Protobuf.double(1, Date().timeIntervalSince1970) + Protobuf.varintField(2, UInt64(step)) + payload
    }

    private func write(_ data: [UInt8]) throws {
        var length = UInt64(data.count).littleEndian
        let lengthBytes = withUnsafeBytes(of: &length) { Array($0) }
        var record = lengthBytes
        record += TensorBoardWriter.le32(TensorBoardWriter.masked(CRC32.castagnoli(lengthBytes)))
        record += data
        record += TensorBoardWriter.le32(TensorBoardWriter.masked(CRC32.castagnoli(data)))
        try handle.write(contentsOf: record)
    }

    /// TFRecord's CRC mask: rotate right by 15 and add a constant.
    static func masked(_ crc: UInt32) -> UInt32 { ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8 }
    static func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
}

/// The protocol-buffer wire format, for the fields TensorBoard's events use.
enum Protobuf {
    static func varint(_ v: UInt64) -> [UInt8] {
        var v = v, out: [UInt8] = []
        repeat {
            var byte = UInt8(v & 0x7F)
            v >>= 7
            if v != 0 { byte |= 0x80 }
            out.append(byte)
        } while v != 0
        return out
    }
    static func key(_ field: Int, _ wire: Int) -> [UInt8] { varint(UInt64(field << 3 | wire)) }
    static func varintField(_ field: Int, _ v: UInt64) -> [UInt8] { key(field, 0) + varint(v) }
    static func double(_ field: Int, _ v: Double) -> [UInt8] {
        key(field, 1) + withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) }
    }
    static func float(_ field: Int, _ v: Float) -> [UInt8] {
        key(field, 5) + withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) }
    }
    static func bytes(_ field: Int, _ b: [UInt8]) -> [UInt8] { key(field, 2) + varint(UInt64(b.count)) + b }
    static func string(_ field: Int, _ s: String) -> [UInt8] { bytes(field, Array(s.utf8)) }
    static func packedDoubles(_ field: Int, _ values: [Double]) -> [UInt8] {
        bytes(field, values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } })
    }
}
