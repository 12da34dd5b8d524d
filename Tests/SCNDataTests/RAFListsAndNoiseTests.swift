import Foundation
import SCNData
import XCTest

/// The official SCN RAF-DB lists in ../shared/data/raf-lists, and synthetic noise injection.
final class RAFListsAndNoiseTests: XCTestCase {
    func testOfficialListsClassCountsAndFlipRates() throws {
        let folder = try sharedData("raf-lists")
        let clean = try ListFile.read(folder.appendingPathComponent("train.txt"), labelBase: 0, classCount: 7)
        XCTAssertEqual(clean.count, 12_271)
        var counts = [Int](repeating: 0, count: 7)
        for row in clean { counts[row.label] += 1 }
        XCTAssertEqual(counts, [1290, 281, 717, 4772, 1982, 705, 2524])
        // A dataset built from the clean list, matched to the noisy lists by file name.
        let dataset = ExpressionDataset(name: "raf", classNames: RAFDB.classNames,
                                        imagePaths: clean.map { "/data/RAF/Image/aligned/" + ($0.path as NSString).lastPathComponent },
                                        labels: clean.map(\.label))
        for (name, rate) in [("0.1noise_train.txt", 0.1036), ("0.2noise_train.txt", 0.2027)] {
            let rows = try ListFile.read(folder.appendingPathComponent(name), labelBase: 0, classCount: 7)
            let noisy = try ListFile.labels(from: rows, matching: dataset, listName: name)
            let realized = LabelNoise.realizedRates(noisy: noisy, clean: dataset.labels, classCount: 7).overall
            XCTAssertEqual(realized, rate, accuracy: 0.00005, name)
        }
    }

    func testInjectedNoiseHitsTheRateInEveryClassExactly() {
        let labels = (0..<1000).map { $0 % 7 == 0 ? 0 : ($0 % 3) + 1 }  // uneven classes
        for rate in [0.1, 0.2, 0.3] {
            for mode in LabelNoise.Mode.allCases {
                let noisy = LabelNoise.inject(into: labels, classCount: 7, rate: rate, mode: mode, seed: 7)
                for c in 0..<7 {
                    let members = labels.indices.filter { labels[$0] == c }
                    let flipped = members.filter { noisy[$0] != c }.count
                    XCTAssertEqual(flipped, Int((rate * Double(members.count)).rounded()), "class \(c) rate \(rate) \(mode)")
                    if mode == .pairFlip { XCTAssertTrue(members.allSatisfy { noisy[$0] == c || noisy[$0] == (c + 1) % 7 }) }
                }
                XCTAssertEqual(noisy, LabelNoise.inject(into: labels, classCount: 7, rate: rate, mode: mode, seed: 7), "seeded")
            }
        }
        XCTAssertNotEqual(LabelNoise.inject(into: labels, classCount: 7, rate: 0.3, seed: 1),
                          LabelNoise.inject(into: labels, classCount: 7, rate: 0.3, seed: 2))
    }

    func testRAFDBLayoutLoadsAndMatchesNoiseLists() throws {
        // RAF-DB's layout with two stand-in images (the dataset's images are not available here).
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("scn-raf-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("EmoLabel"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("Image/aligned"), withIntermediateDirectories: true)
        try "train_00001.jpg 5\r\ntrain_00002.jpg 1\r\ntest_0001.jpg 7\r\n"
            .write(to: folder.appendingPathComponent("EmoLabel/list_patition_label.txt"), atomically: true, encoding: .utf8)
        let jpeg = Bundle.module.url(forResource: "rgb", withExtension: "jpg", subdirectory: "Fixtures")!
        for stem in ["train_00001", "train_00002", "test_0001"] {
            try FileManager.default.copyItem(at: jpeg, to: folder.appendingPathComponent("Image/aligned/\(stem)_aligned.jpg"))
        }
        var train = try RAFDB.load(root: folder, split: .train)
        XCTAssertEqual(train.labels, [4, 0], "file labels 1-7 become 0-6")
        XCTAssertEqual(try RAFDB.load(root: folder, split: .test).labels, [6])
        let store = try ImageStore.load(&train)
        XCTAssertEqual(store.images.map(\.channels), [3, 3])
        // An SCN-style noise list (foreign absolute paths, 0-based labels) matched by file name.
        let list = folder.appendingPathComponent("noise.txt")
        try "/home/someone/RAF/aligned/train_00002_aligned.jpg 3\n/x/train_00001_aligned.jpg 4\n".write(to: list, atomically: true, encoding: .utf8)
        let rows = try ListFile.read(list, labelBase: 0, classCount: 7)
        XCTAssertEqual(try ListFile.labels(from: rows, matching: train, listName: list.path), [4, 3])
        try "/x/train_00001_aligned.jpg 4\n".write(to: list, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ListFile.labels(from: ListFile.read(list, labelBase: 0, classCount: 7), matching: train, listName: list.path)) {
            XCTAssertTrue("\($0)".contains("no row for the dataset's image train_00002"), "\($0)")
        }
    }

    func testListFilesRoundTripAndRejectBadLines() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("scn-lists-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("noisy.txt")
        try ListFile.write([("train_00001.jpg", 4, 3), ("train_00002.jpg", 0, 0)], to: url, labelBase: 1)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "train_00001.jpg 5 4\ntrain_00002.jpg 1 1\n")
        let rows = try ListFile.read(url, labelBase: 1, classCount: 7)
        XCTAssertEqual(rows.map(\.label), [4, 0])
        XCTAssertEqual(rows.map(\.cleanLabel), [3, 0])

        for (text, message) in [("a.jpg 8\n", ":1: label 8 outside 1...7"), ("a.jpg 3\nb.jpg\n", ":2: expected '<path> <label>'"),
                                ("a.jpg three\n", ":1: label 'three' is not an integer"), ("\n\n", "no rows"),
                                ("a.jpg 1\n\nb.jpg 2\n", ":2: empty line between rows")] {
            try text.write(to: url, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try ListFile.read(url, labelBase: 1, classCount: 7)) { error in
                XCTAssertTrue("\(error)".contains(message), "\(error) should contain \(message)")
                XCTAssertTrue("\(error)".hasPrefix(url.path))
            }
        }
    }
}
