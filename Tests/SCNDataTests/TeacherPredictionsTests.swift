import Foundation
import SCNData
import XCTest

/// A teacher's predictions for distillation (`scn train --distill-from`): reading `scn predict --json`
/// lines, matching them to a dataset's images, and mixing them into the training targets.
final class TeacherPredictionsTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("scn-teacher-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    private func file(_ lines: [String]) throws -> URL {
        let url = scratch.appendingPathComponent("teacher-\(UUID().uuidString).jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    private func line(_ image: String, _ a: Double, _ b: Double, extra: String = "") -> String {
        #"{"certainty":0.9,"expression":"a","image":"\#(image)","label":0,"probabilities":{"a":\#(a),"b":\#(b)\#(extra)}}"#
    }

    func testPredictionsAreMatchedToTheDatasetsImagesByPath() throws {
        let folder = scratch.path
        // Paths with "." and ".." in them name the same files as the dataset's plain paths.
        let url = try file([line("\(folder)/./0.png", 0.25, 0.75), "", line("\(folder)/sub/../1.png", 1, 0)])
        let teacher = try TeacherPredictions.read(url, classNames: ["a", "b"])
        let dataset = ExpressionDataset(name: "d", classNames: ["a", "b"], imagePaths: ["\(folder)/1.png", "\(folder)/0.png"], labels: [0, 1])
        XCTAssertEqual(try teacher.distributions(for: dataset), [[1, 0], [0.25, 0.75]], "in the dataset's sample order")
        let wider = ExpressionDataset(name: "wider", classNames: ["a", "b"], imagePaths: ["\(folder)/0.png", "\(folder)/2.png", "\(folder)/3.png"],
                                      labels: [0, 0, 1])
        XCTAssertThrowsError(try teacher.distributions(for: wider)) { error in
            XCTAssertEqual("\(error)", "\(url.path): has no prediction for 2 of the 3 training images of wider, the first \(folder)/2.png "
                               + "(run scn predict --json on the training images)")
        }
        let changed = try TeacherPredictions.read(try file([line("\(folder)/0.png", 0.5, 0.5), line("\(folder)/1.png", 1, 0)]), classNames: ["a", "b"])
        XCTAssertNotEqual(teacher.digest, changed.digest, "another file's bytes hash to another digest")
    }

    func testMalformedLinesAreRefusedWithTheirLineNumber() throws {
        func refusal(_ lines: [String]) throws -> String {
            let url = try file(lines)
            do {
                _ = try TeacherPredictions.read(url, classNames: ["a", "b"])
                return "accepted"
            } catch {
                return "\(error)".replacingOccurrences(of: url.path, with: "FILE")
            }
        }
        let good = line("/x/0.png", 0.5, 0.5)
        XCTAssertEqual(try refusal([good, "0.png 1"]), "FILE:2: not a JSON object (expected a line of scn predict --json)")
        XCTAssertEqual(try refusal([#"{"probabilities":{"a":1,"b":0}}"#]), #"FILE:1: no "image" path"#)
        XCTAssertEqual(try refusal([#"{"image":"/x/0.png"}"#]), #"FILE:1: no "probabilities" object"#)
        XCTAssertEqual(try refusal([line("/x/0.png", 0.5, 0.5, extra: #","c":0"#)]), "FILE:1: class 'c' is not one of the dataset's (a, b)")
        XCTAssertEqual(try refusal([#"{"image":"/x/0.png","probabilities":{"a":1}}"#]), "FILE:1: no probability for class 'b'")
        XCTAssertEqual(try refusal([line("/x/0.png", -0.5, 1.5)]), "FILE:1: probability -0.5 of class 'a' is not in [0, 1]")
        XCTAssertEqual(try refusal([line("/x/0.png", 0.5, 0.25)]), "FILE:1: the probabilities sum to 0.75, not 1")
        XCTAssertEqual(try refusal([good, line("/x/./0.png", 1, 0)]), "FILE:2: image /x/./0.png appears a second time")
        XCTAssertEqual(try refusal([""]), "FILE: holds no predictions")
        let missing = scratch.appendingPathComponent("missing.jsonl")
        XCTAssertThrowsError(try TeacherPredictions.read(missing, classNames: ["a", "b"])) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(missing.path): cannot be read"), "\(error)")
        }
    }

    private func assertRows(_ rows: [[Float]]?, _ expected: [[Float]], _ message: String, line: UInt = #line) {
        guard let rows else { return XCTFail("nil, expected \(expected): \(message)", line: line) }
        XCTAssertEqual(rows.map(\.count), expected.map(\.count), message, line: line)
        for (value, want) in zip(rows.joined(), expected.joined()) { XCTAssertEqual(value, want, accuracy: 1e-6, message, line: line) }
    }

    func testDistillationTargetsMixTheTeacherWithTheLabelsOrVotes() throws {
        var dataset = ExpressionDataset(name: "voted", classNames: ["a", "b", "c"], imagePaths: ["0.png", "1.png", "2.png"], labels: [0, 1, 2],
                                        voteDistributions: [[0.6, 0.4, 0], [0, 0.6, 0.4], [0.2, 0, 0.8]])
        XCTAssertNil(dataset.distillationTargets(of: [0], teacherWeight: 0.5, votes: false), "no teacher rows")
        dataset.teacherDistributions = [[0, 0, 1], [0.5, 0.5, 0], [1, 0, 0]]
        XCTAssertEqual(dataset.distillationTargets(of: [2, 0], teacherWeight: 0.25, votes: false), [[0.25, 0, 0.75], [0.75, 0, 0.25]],
                       "a quarter of the teacher, three quarters of the one-hot label, in the order asked")
        assertRows(dataset.distillationTargets(of: [0, 1], teacherWeight: 0.5, votes: true), [[0.3, 0.2, 0.5], [0.25, 0.55, 0.2]],
                   "half the teacher, half the votes")
        XCTAssertEqual(dataset.distillationTargets(of: [1], teacherWeight: 1, votes: true), [[0.5, 0.5, 0]], "all teacher")
        dataset.relabel(1, to: 2)
        XCTAssertEqual(dataset.distillationTargets(of: [1], teacherWeight: 0.5, votes: true), [[0.25, 0.25, 0.5]],
                       "a relabeled sample's own target is its new label")
        XCTAssertEqual(dataset.subset([2, 1]).teacherDistributions, [[1, 0, 0], [0.5, 0.5, 0]], "a subset keeps its samples' teacher rows")
        let unvoted = ExpressionDataset(name: "folder", classNames: ["a", "b"], imagePaths: ["0.png"], labels: [1])
        var taught = unvoted
        taught.teacherDistributions = [[0.5, 0.5]]
        XCTAssertNil(taught.distillationTargets(of: [0], teacherWeight: 0.5, votes: true), "votes asked for, none there")
    }
}
