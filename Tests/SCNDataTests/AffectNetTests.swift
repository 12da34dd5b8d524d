import Foundation
import SCNData
import XCTest

/// AffectNet's CSV on a small file in its published format (the dataset itself is not available here).
final class AffectNetTests: XCTestCase {
    func testClassesExclusionsAndErrors() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("scn-affectnet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let header = "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal\n"
        let rows = [("689/a.jpg", 1), ("392/b.png", 7), ("1/c.jpg", 9), ("2/d.jpg", 0), ("3/e.jpg", 10), ("4/f.jpg", 6)]
        let text = header + rows.map { "\($0.0),134,134,899,899,\"181.64;530.91;188.32\",\($0.1),0.785714,-0.055556\n" }.joined()
        try text.write(to: folder.appendingPathComponent("training.csv"), atomically: true, encoding: .utf8)
        let eight = try AffectNet.load(root: folder, split: .training)
        XCTAssertEqual(eight.labels, [1, 7, 0, 6])
        XCTAssertEqual(eight.classNames.count, 8)
        XCTAssertTrue(eight.imagePaths[0].hasSuffix("Manually_Annotated_Images/689/a.jpg"))
        let seven = try AffectNet.load(root: folder, split: .training, classCount: 7)
        XCTAssertEqual(seven.labels, [1, 0, 6], "contempt left out of the 7-class variant")

        try (header + "x.jpg,1,2,3,4,\"l\",12,0,0\n").write(to: folder.appendingPathComponent("validation.csv"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try AffectNet.load(root: folder, split: .validation)) { error in
            XCTAssertTrue("\(error)".hasSuffix("validation.csv:2: expression 12 outside 0...10"), "\(error)")
        }
        try "path,label\n".write(to: folder.appendingPathComponent("validation.csv"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try AffectNet.load(root: folder, split: .validation)) { XCTAssertTrue("\($0)".contains("wrong header")) }
    }
}
