import Foundation
import SCNData
import XCTest

/// FERPlus and FER2013 on the real files in ../shared/data/ferplus.
final class FERPlusTests: XCTestCase {
    func testMajorityRule() {
        XCTAssertEqual(FERPlus.majorityLabel(votes: [4, 0, 0, 1, 3, 2, 0, 0, 0, 0]), nil, "4 of 9 kept votes is not a majority")
        XCTAssertEqual(FERPlus.majorityLabel(votes: [6, 0, 1, 1, 0, 0, 0, 0, 2, 0]), 0, "6 of 8 after dropping single votes")
        XCTAssertEqual(FERPlus.majorityLabel(votes: [0, 0, 0, 0, 0, 0, 0, 0, 10, 0]), nil, "unknown wins: dropped")
        XCTAssertEqual(FERPlus.majorityLabel(votes: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]), nil, "only single votes")
        XCTAssertEqual(FERPlus.majorityLabel(votes: [0, 0, 0, 0, 0, 0, 0, 3, 2, 0]), 7, "contempt")
    }

    func testMajorityCountsWithMicrosoftsLabelFiles() throws {
        let root = try sharedData("ferplus")
        let expected: [FERPlus.Split: Int] = [.train: 25_045, .valid: 3_191, .test: 3_137]
        for (split, count) in expected {
            let set = try FERPlus.load(root: root, split: split)
            XCTAssertEqual(set.count, count, "\(split)")
            XCTAssertEqual(set.voteDistributions?.count, count)
        }
        // Per class (neutral ... contempt), counted independently with Python's csv module.
        XCTAssertEqual(try FERPlus.load(root: root, split: .train).classCounts, [8733, 7284, 3136, 3022, 2098, 116, 536, 120])
        XCTAssertEqual(try FERPlus.load(root: root, split: .valid).classCounts, [1180, 862, 411, 348, 289, 25, 60, 16])
        XCTAssertEqual(try FERPlus.load(root: root, split: .test).classCounts, [1083, 892, 394, 382, 269, 16, 86, 15])
        let train = try FERPlus.load(root: root, split: .train)
        XCTAssertFalse(train.imagePaths[0].hasSuffix("FER2013Train/fer0000000.png"), "fer0000000 has no majority")
        let votes = try XCTUnwrap(train.voteDistributions)
        XCTAssertTrue(votes.allSatisfy { abs($0.reduce(0, +) - 1) < 1e-5 }, "soft targets sum to 1")
    }

    func testMajorityCountsWithFER2013New() throws {
        let root = try sharedData("ferplus")
        // The commonly quoted counts keep both rows of the four duplicated names.
        let quoted: [FERPlus.Split: Int] = [.train: 25_060, .valid: 3_199, .test: 3_153]
        for (split, count) in quoted {
            XCTAssertEqual(try FERPlus.load(root: root, split: split, votes: .fer2013New, duplicateNames: .keepAll).count,
                           count, "\(split)")
        }
        // Leaving those rows out (the default) loses 6 training and 1 test sample.
        let excluded: [FERPlus.Split: Int] = [.train: 25_054, .valid: 3_199, .test: 3_152]
        for (split, count) in excluded {
            XCTAssertEqual(try FERPlus.load(root: root, split: split, votes: .fer2013New).count, count, "\(split)")
        }
    }

    func testOriginalFER2013LabelsDisagreeWithTheMajorityAsDocumented() throws {
        let root = try sharedData("ferplus")
        let train = try FERPlus.load(root: root, split: .train, labels: .fer2013Original)
        let clean = try XCTUnwrap(train.cleanLabels)
        let known = zip(train.labels, clean).filter { $0.1 >= 0 }
        // Counted independently with Python's csv module: 28,281 ok training images, 24,816 of them with
        // a FERPlus majority label, and 16,800 of those agree with the FER2013 label (67.7%).
        XCTAssertEqual(train.count, 28_281)
        XCTAssertEqual(known.count, 24_816)
        XCTAssertEqual(known.filter { $0.0 == $0.1 }.count, 16_800)
        XCTAssertEqual(train.noiseRate!, 1 - 16_800.0 / 24_816.0, accuracy: 1e-12)
        XCTAssertFalse(train.labels.contains(7), "FER2013 has no contempt")
    }

    func testMalformedVoteFilesAreRejectedWithFileAndLine() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("scn-ferplus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("FER2013Train"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let labels = folder.appendingPathComponent("FER2013Train/label.csv")
        try "fer0000000.png,\"(0, 0, 48, 48)\",4,0,0,1,3,2,0,0,0,0\nfer0000001.png,\"(0, 0, 48, 48)\",6,0,x,1,0,0,0,0,2,0\n"
            .write(to: labels, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try FERPlus.load(root: folder, split: .train)) { error in
            XCTAssertEqual("\(error)", "\(labels.path):2: vote 'x' is not an integer")
        }
        try "fer0000000.png,4,0\n".write(to: labels, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try FERPlus.load(root: folder, split: .train)) { error in
            XCTAssertTrue("\(error)".contains(":1: expected 12 fields"), "\(error)")
        }
        try "Use,Name\n".write(to: folder.appendingPathComponent("fer2013new.csv"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try FERPlus.load(root: folder, split: .train, votes: .fer2013New)) { error in
            XCTAssertTrue("\(error)".contains("fer2013new.csv:1: wrong header"), "\(error)")
        }
        XCTAssertThrowsError(try FERPlus.load(root: folder, split: .valid)) { error in
            XCTAssertTrue("\(error)".contains("FER2013Valid/label.csv: cannot be read"), "\(error)")
        }
    }
}
