import Foundation
import SCNData
@testable import SCNMethod
@testable import SCNReports
import XCTest

final class ReportsTests: XCTestCase {
    func testChecksumsOfTheStandardTestVector() {
        let digits = Array("123456789".utf8)
        XCTAssertEqual(CRC32.ieee(digits), 0xCBF4_3926)
        XCTAssertEqual(CRC32.castagnoli(digits), 0xE306_9283)
    }

    func testPNGThumbnailsDecodeBackToTheSamePixels() throws {
        for channels in [1, 3] {
            let pixels = (0..<(13 * 7 * channels)).map { UInt8(($0 * 31) % 256) }
            let image = DecodedImage(width: 13, height: 7, channels: channels, pixels: pixels)
            XCTAssertEqual(try ImageDecoder.decode(PNGEncoder.encode(image), name: "thumbnail"), image)
        }
        let large = DecodedImage(width: 300, height: 300, channels: 3, pixels: [UInt8](repeating: 7, count: 270_000))
        XCTAssertEqual(try ImageDecoder.decode(PNGEncoder.encode(large), name: "large").pixels, large.pixels, "several stored blocks")
    }

    func testTensorBoardRecordsAreFramedWithMaskedCRC32C() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("scn-tb-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let writer = try TensorBoardWriter(directory: directory)
        try writer.scalar("loss", 0.5, step: 1)
        try writer.histogram("alpha", [0.1, 0.2, 0.9], edges: [0.5, 1], step: 1)
        let bytes = [UInt8](try Data(contentsOf: writer.url))
        var offset = 0, records = 0
        while offset < bytes.count {
            let lengthBytes = Array(bytes[offset..<(offset + 8)])
            let length = lengthBytes.enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            let lengthCRC = bytes[(offset + 8)..<(offset + 12)].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
            XCTAssertEqual(lengthCRC, TensorBoardWriter.masked(CRC32.castagnoli(lengthBytes)))
            let data = Array(bytes[(offset + 12)..<(offset + 12 + length)])
            let dataCRC = bytes[(offset + 12 + length)..<(offset + 16 + length)].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
            XCTAssertEqual(dataCRC, TensorBoardWriter.masked(CRC32.castagnoli(data)))
            offset += 16 + length
            records += 1
        }
        XCTAssertEqual(records, 3, "file version, scalar, histogram")
        XCTAssertTrue(String(decoding: bytes, as: UTF8.self).contains("brain.Event:2"))
    }

    func testSuspectRankingByAlphaAndByLabelProbability() {
        let probabilities: [[Float]] = [[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.2, 0.8]]
        let labels = [0, 0, 1, 1], alphas: [Float] = [0.2, 0.9, 0.5, 0.2]
        let files = ["a", "b", "c", "d"]
        let byAlpha = SuspectLabel.ranking(probabilities: probabilities, alphas: alphas, labels: labels, files: files, cleanLabels: nil)
        XCTAssertEqual(byAlpha.map(\.index), [0, 3, 2, 1], "lowest alpha first, ties by index")
        let byProbability = SuspectLabel.ranking(probabilities: probabilities, alphas: alphas, labels: labels, files: files,
                                                 cleanLabels: [0, 1, 0, 1], order: .labelProbability)
        // p(label): 0.9, 0.3, 0.4, 0.8
        XCTAssertEqual(byProbability.map(\.index), [1, 2, 3, 0])
        XCTAssertEqual(byProbability.map(\.rank), [1, 2, 3, 4])
        XCTAssertEqual(byProbability[0].suggestedLabel, 1)
        XCTAssertEqual(byProbability[0].margin, 0.4, accuracy: 1e-6)
        XCTAssertEqual(byProbability[0].cleanLabel, 1)
    }

    func testReportWritesChartsAndThumbnails() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("scn-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let metrics = (1...3).map { e in
            EpochMetrics(epoch: e, learningRate: 0.1, loss: 2 / Double(e), weightedCrossEntropy: 1, rankRegularization: 0.1,
                         trainAccuracy: 0.3 * Double(e), validationAccuracy: 0.25 * Double(e), validationMeanClassAccuracy: nil,
                         alphaMean: 0.5, alphaStd: 0.1, alphaQuantiles: [0.1, 0.3, 0.5, 0.7, 0.9], rankRegularizationActiveFraction: 0.5,
                         margin: 0.15, relabels: e, relabelPrecision: nil, relabelRecall: nil, noiseRate: nil, wrongLabelAUC: nil,
                         wrongLabelAUCFromProbability: nil, alphaHistogram: [Int](repeating: 1, count: 20), seconds: 1, imagesPerSecond: 1,
                         loaderImagesPerSecond: 1)
        }
        let face = DecodedImage(width: 4, height: 4, channels: 1, pixels: [UInt8](repeating: 128, count: 16))
        let suspect = SuspectLabel(rank: 1, index: 0, file: "a.png", label: 0, suggestedLabel: 1, margin: 0.6, certainty: 0.01, cleanLabel: 1)
        try RunReport.write(to: directory, title: "Test <run>", classNames: ["x", "y"], metrics: metrics,
                            relabels: [RelabelEvent(epoch: 2, index: 0, file: "a.png", oldLabel: 0, newLabel: 1, margin: 0.6, cleanLabel: 1)],
                            confusion: [[3, 1], [0, 4]], suspects: [suspect], thumbnails: [0: face], summary: [("accuracy", "87%")])
        let html = try String(contentsOf: directory.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("Test &lt;run&gt;"), "titles are escaped")
        XCTAssertTrue(html.contains("data:image/png;base64,"))
        XCTAssertTrue(html.contains("Relabel history (1 changes)"))
        XCTAssertTrue(html.contains("1 change: 1 fixed a wrong label, 0 broke a right one, 0 swapped one wrong label for another; largest: x -&gt; y 1"), "the summary line, escaped")
        for chart in ["loss.svg", "accuracy.svg", "alpha-histograms.svg", "relabels.svg", "confusion-matrix.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent(chart).path), chart)
        }
        let plainAccuracy = try XCTUnwrap(RunReport.charts(metrics: metrics).first { $0.0 == "accuracy.svg" }?.1)
        XCTAssertFalse(plainAccuracy.contains("trained weights"))
        // With a weight average, its validation curve and the trained weights' are both drawn, named.
        let averaged = metrics.map { m -> EpochMetrics in
            var m = m
            m.validationAccuracyOfTrainedWeights = 0.2 * Double(m.epoch)
            return m
        }
        let accuracy = try XCTUnwrap(RunReport.charts(metrics: averaged).first { $0.0 == "accuracy.svg" }?.1)
        XCTAssertTrue(accuracy.contains("validation (weight average)") && accuracy.contains("validation (trained weights)"), accuracy)
    }

    func testRelabelSummaryCountsFlowsAndOutcomes() {
        func event(_ old: Int, _ new: Int, clean: Int?) -> RelabelEvent {
            RelabelEvent(epoch: 1, index: 0, file: "f", oldLabel: old, newLabel: new, margin: 0.5, cleanLabel: clean)
        }
        let events = [event(2, 0, clean: 0), event(2, 0, clean: 2), event(2, 0, clean: 2), event(1, 0, clean: 1),
                      event(0, 1, clean: 2), event(1, 2, clean: nil), event(1, 0, clean: 0)]
        let summary = RelabelSummary(events: events, classCount: 3)
        XCTAssertEqual(summary.flows, [[0, 1, 0], [2, 0, 1], [3, 0, 0]])
        XCTAssertEqual([summary.fixed, summary.broken, summary.swapped, summary.unjudged], [2, 3, 1, 1])
        XCTAssertEqual(summary.largestFlows(2).map { [$0.old, $0.new, $0.changes] }, [[2, 0, 3], [1, 0, 2]])
        XCTAssertEqual(summary.description(classNames: ["a", "b", "c"]),
                       "7 changes: 2 fixed a wrong label, 3 broke a right one, 1 swapped one wrong label for another, 1 with no known true label; "
                       + "largest: c -> a 3, b -> a 2, a -> b 1, b -> c 1")
        let unknown = RelabelSummary(events: [event(1, 2, clean: nil)], classCount: 3)
        XCTAssertEqual(unknown.description(classNames: ["a", "b", "c"]), "1 change; largest: b -> c 1")
        XCTAssertEqual(RelabelSummary(events: [], classCount: 3).description(classNames: ["a", "b", "c"]), "0 changes")
        // With votes: a change away from the majority label to a class two or more annotators chose is
        // counted apart from one to a class nobody (or one annotator) chose.
        var voted = [event(2, 0, clean: 2), event(2, 1, clean: 2), event(1, 0, clean: 0)]
        voted[0].newLabelVoteShare = 0.3
        voted[1].newLabelVoteShare = 0
        voted[2].newLabelVoteShare = 0.8
        let withVotes = RelabelSummary(events: voted, classCount: 3)
        XCTAssertEqual([withVotes.broken, withVotes.brokenToVotedClass, withVotes.fixed], [2, 1, 1])
        XCTAssertEqual(withVotes.description(classNames: ["a", "b", "c"]),
                       "3 changes: 1 fixed a wrong label, 2 broke a right one (1 of them to a class at least two annotators chose), "
                       + "0 swapped one wrong label for another; largest: b -> a 1, c -> a 1, c -> b 1")
    }

    func testRunLogsAreReadWholeOrRefusedWithFileAndLine() throws {
        let run = FileManager.default.temporaryDirectory.appendingPathComponent("scn-runlog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: run) }
        XCTAssertEqual(try RunReport.relabels(in: run), [], "no log yet: no relabels")
        let good = #"{"epoch":3,"file":"x.png","index":7,"margin":0.5,"newLabel":1,"oldLabel":0}"#
        try (good + "\n" + good + "\n").write(to: run.appendingPathComponent("relabels.jsonl"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try RunReport.relabels(in: run).map(\.index), [7, 7])
        try (good + "\n" + #"{"epoch":3,"fi"#).write(to: run.appendingPathComponent("relabels.jsonl"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RunReport.relabels(in: run)) { error in
            XCTAssertTrue("\(error)".hasPrefix(run.appendingPathComponent("relabels.jsonl").path + ":2: not a line of a run's relabels.jsonl"), "\(error)")
        }
        try "{}\n".write(to: run.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RunReport.metrics(in: run)) { XCTAssertTrue("\($0)".contains("metrics.jsonl:1: not a line"), "\($0)") }
    }

    func testClassDisagreementCountsPerGivenLabel() throws {
        func sample(_ label: Int, suggested: Int, clean: Int?) -> SuspectLabel {
            SuspectLabel(rank: 1, index: 0, file: "f", label: label, suggestedLabel: suggested, margin: 0, certainty: 0.5, cleanLabel: clean)
        }
        // Class 0: 4 samples, the model suggests 1, 2, 2 for three of them; two are wrong (both disagreed on).
        // Class 1: 2 samples, no disagreement, one wrong, one unknown. Class 2: none.
        let samples = [sample(0, suggested: 1, clean: 1), sample(0, suggested: 2, clean: 2), sample(0, suggested: 2, clean: 0),
                       sample(0, suggested: 0, clean: 0), sample(1, suggested: 1, clean: 0), sample(1, suggested: 1, clean: nil)]
        let classes = ClassDisagreement.perClass(samples, classCount: 3)
        XCTAssertEqual(classes.map(\.samples), [4, 2, 0])
        XCTAssertEqual(classes.map(\.disagreements), [3, 0, 0])
        XCTAssertEqual(classes.map(\.commonSuggestion), [2, nil, nil])
        XCTAssertEqual(classes.map(\.judged), [4, 1, 0])
        XCTAssertEqual(classes.map(\.wrong), [2, 1, 0])
        XCTAssertEqual(classes.map(\.judgedDisagreements), [3, 0, 0])
        XCTAssertEqual(classes.map(\.disagreementsOnWrongLabels), [2, 0, 0])
        // A tie between suggestions goes to the lower class.
        XCTAssertEqual(ClassDisagreement.perClass([sample(2, suggested: 1, clean: nil), sample(2, suggested: 0, clean: nil)], classCount: 3)[2].commonSuggestion, 0)
        let table = RunReport.disagreementTable(classes, classNames: ["a", "b", "c"])
        XCTAssertTrue(table.contains("<tr><th>a</th><td>4</td><td>3 (75.0%)</td><td>c</td><td>2 (50.0%)</td><td>2 (66.7%)</td></tr>"), table)
        XCTAssertTrue(table.contains("<tr><th>c</th><td>0</td><td>-</td><td>-</td><td>-</td><td>-</td></tr>"), table)
    }
}
