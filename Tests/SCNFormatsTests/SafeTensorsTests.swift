import Foundation
import SCNFormats
import SCNTensor
import XCTest

final class SafeTensorsTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("scn-st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// A file with the given header object and data bytes.
    private func file(header: [String: Any], data: [UInt8], rawHeader: Data? = nil, lengthField: UInt64? = nil) -> Data {
        let json = rawHeader ?? (try! JSONSerialization.data(withJSONObject: header))
        var out = Data()
        var length = (lengthField ?? UInt64(json.count)).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(contentsOf: data)
        return out
    }

    private func assertRejected(_ bytes: Data, mentioning fragments: [String], line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensorsFile(data: bytes, path: "bad.safetensors"), line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("bad.safetensors"), "names the file: \(text)", line: line)
            for f in fragments { XCTAssertTrue(text.contains(f), "'\(f)' in: \(text)", line: line) }
        }
    }

    func testRoundTripOfFloatsIntegersAndMetadata() throws {
        var writer = SafeTensorsWriter(metadata: ["format_version": "1"])
        let a = Tensor([1, -2.5, 3, 4e-8, .infinity, 6], shape: [2, 3])
        var g = RandomGenerator(seed: 1)
        let image = Tensor.normal([2, 3, 4, 5], generator: &g).toChannelsLast()
        writer.add("a", a)
        writer.add("image", image)
        writer.add("steps", integers: [7], shape: [])
        writer.add("labels", integers: [0, -3, 1 << 40])
        let url = directory.appendingPathComponent("x.safetensors")
        try writer.write(to: url)
        let read = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(read.metadata, ["format_version": "1"])
        XCTAssertEqual(read.keys, ["a", "image", "labels", "steps"])
        XCTAssertEqual(try read.tensor("a").scalars, a.scalars)
        XCTAssertEqual(try read.tensor("image").scalars, image.scalars, "written in logical row-major order")
        XCTAssertEqual(try read.integers("steps"), [7])
        XCTAssertEqual(read.entries["steps"]!.shape, [])
        XCTAssertEqual(try read.integers("labels"), [0, -3, 1 << 40])
        XCTAssertEqual(try read.integer("steps"), 7)
        XCTAssertThrowsError(try read.integer("labels")) { XCTAssertTrue("\($0)".contains("'labels'") && "\($0)".contains("holds 3 values"), "\($0)") }
        XCTAssertThrowsError(try read.tensor("labels")) { XCTAssertTrue("\($0)".contains("'labels'")) }
        XCTAssertThrowsError(try read.tensor("nope")) { XCTAssertTrue("\($0)".contains("no such tensor")) }
        let bytes = try Data(contentsOf: url)
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8
        XCTAssertEqual((8 + headerLength) % 8, 0, "data starts 8-byte aligned")
    }

    func testHalfAndBFloat16AreWidened() throws {
        // 1.0, -2.0, 65504 (max half), 2^-24 (smallest subnormal) as F16; 1.0 and -0.5 as BF16.
        let half: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001]
        let bf: [UInt16] = [0x3F80, 0xBF00]
        var data: [UInt8] = []
        for v in half + bf { data += [UInt8(v & 0xFF), UInt8(v >> 8)] }
        let bytes = file(header: ["h": ["dtype": "F16", "shape": [4], "data_offsets": [0, 8]],
                                  "b": ["dtype": "BF16", "shape": [2], "data_offsets": [8, 12]]], data: data)
        let read = try SafeTensorsFile(data: bytes, path: "mixed.safetensors")
        XCTAssertEqual(try read.tensor("h").scalars, [1, -2, 65504, Float(pow(2.0, -24.0))])
        XCTAssertEqual(try read.tensor("b").scalars, [1, -0.5])
    }

    func testHostileFilesAreRejectedWithTheFileAndKey() {
        let ok: [String: Any] = ["dtype": "F32", "shape": [2], "data_offsets": [0, 8]]
        assertRejected(Data([1, 2, 3]), mentioning: ["truncated"])
        assertRejected(file(header: ["w": ok], data: [], lengthField: 1 << 40), mentioning: ["absurd"])
        assertRejected(file(header: ["w": ok], data: [], lengthField: 5000), mentioning: ["truncated", "header"])
        assertRejected(file(header: [:], data: [], rawHeader: Data("{not json".utf8)), mentioning: ["not a JSON object"])
        assertRejected(file(header: ["w": ok], data: [0, 0, 0]), mentioning: ["'w'", "truncated"])
        assertRejected(file(header: ["w": ["dtype": "F8", "shape": [2], "data_offsets": [0, 2]]], data: [0, 0]),
                       mentioning: ["'w'", "unknown dtype 'F8'"])
        assertRejected(file(header: ["w": ["dtype": "F32", "shape": [3], "data_offsets": [0, 8]]], data: Array(repeating: 0, count: 8)),
                       mentioning: ["'w'", "needs 12 bytes"])
        assertRejected(file(header: ["a": ok, "b": ["dtype": "F32", "shape": [2], "data_offsets": [4, 12]]],
                            data: Array(repeating: 0, count: 12)), mentioning: ["overlaps"])
        assertRejected(file(header: ["a": ["dtype": "F32", "shape": [2], "data_offsets": [4, 12]]],
                            data: Array(repeating: 0, count: 12)), mentioning: ["'a'", "gap"])
        assertRejected(file(header: ["a": ok], data: Array(repeating: 0, count: 12)), mentioning: ["4 bytes after"])
        assertRejected(file(header: ["a": ["dtype": "F32", "shape": [2], "data_offsets": [8, 0]]], data: []),
                       mentioning: ["'a'", "data_offsets"])
        assertRejected(file(header: ["a": ["dtype": "F32", "shape": [-1], "data_offsets": [0, 0]]], data: []),
                       mentioning: ["'a'", "shape"])
        assertRejected(file(header: ["a": ["dtype": "F32", "shape": [1 << 62, 1 << 62], "data_offsets": [0, 0]]], data: []),
                       mentioning: ["'a'", "overflows"])
        assertRejected(file(header: ["__metadata__": ["v": 1]], data: []), mentioning: ["__metadata__.v"])
    }

    func testAFailedWriteLeavesThePreviousFileIntact() throws {
        let url = directory.appendingPathComponent("checkpoint.safetensors")
        var small = SafeTensorsWriter()
        small.add("w", Tensor([1, 2, 3], shape: [3]))
        try small.write(to: url)
        let before = try Data(contentsOf: url)

        // A file-size limit makes the next write fail part-way, as a full disk would.
        var big = SafeTensorsWriter()
        big.add("w", Tensor.zeros([1 << 20]))
        signal(SIGXFSZ, SIG_IGN)
        var old = rlimit()
        getrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
        var limited = old
        limited.rlim_cur = 64 * 1024
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limited)
        XCTAssertThrowsError(try big.write(to: url)) { error in
            XCTAssertTrue("\(error)".contains("previous file is intact"), "\(error)")
        }
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
        XCTAssertEqual(try Data(contentsOf: url), before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        XCTAssertEqual(leftovers, ["checkpoint.safetensors"], "no temporary file left behind")

        let missingDirectory = directory.appendingPathComponent("no/such/dir/x.safetensors")
        XCTAssertThrowsError(try small.write(to: missingDirectory)) { XCTAssertTrue("\($0)".contains("cannot create")) }
    }
}
