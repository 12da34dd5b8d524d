import Foundation
import SCNData
import SCNMethod
import SCNTensor

/// One suspect sample of an audit.
public struct SuspectLabel: Sendable {
    public var rank: Int
    public var index: Int
    public var file: String
    public var label: Int
    public var suggestedLabel: Int
    /// `max(P) - P[label]`: how much more probable the suggestion is.
    public var margin: Float
    public var certainty: Float
    public var cleanLabel: Int?

    public init(rank: Int, index: Int, file: String, label: Int, suggestedLabel: Int, margin: Float, certainty: Float, cleanLabel: Int?) {
        self.rank = rank
        self.index = index
        self.file = file
        self.label = label
        self.suggestedLabel = suggestedLabel
        self.margin = margin
        self.certainty = certainty
        self.cleanLabel = cleanLabel
    }
}

/// What an audit ranks samples by, most suspect first.
public enum SuspectOrder: String, Sendable, CaseIterable {
    /// SCN's importance weight, lowest first.
    case alpha
    /// The probability the model gives the sample's label, lowest first (the small-loss criterion).
    case labelProbability = "label-probability"
}

extension SuspectLabel {
    /// Every sample ranked most suspect first by `order` (ties by index), with the most probable class as
    /// the suggestion.
    /// - Parameters:
    ///   - probabilities: per sample, class probabilities; `alphas`: per sample, in (0, 1).
    ///   - cleanLabels: the true labels where known (-1 where unknown).
    public static func ranking(probabilities: [[Float]], alphas: [Float], labels: [Int], files: [String],
                               cleanLabels: [Int]?, order: SuspectOrder = .alpha) -> [SuspectLabel] {
        let score = order == .alpha ? alphas : labels.indices.map { probabilities[$0][labels[$0]] }
        let ranked = labels.indices.sorted { score[$0] != score[$1] ? score[$0] < score[$1] : $0 < $1 }
        return ranked.enumerated().map { rank, i in
            let p = probabilities[i]
            let best = p.argmax()!
            return SuspectLabel(rank: rank + 1, index: i, file: files[i], label: labels[i], suggestedLabel: best,
                                margin: p[best] - p[labels[i]], certainty: alphas[i],
                                cleanLabel: cleanLabels.flatMap { $0[i] >= 0 ? $0[i] : nil })
        }
    }
}

/// Builds the HTML report of a run and an audit: charts from `metrics.jsonl`, the relabel history, the
/// confusion matrix, and the lowest-importance images as thumbnails (as the paper's Figure 4).
public enum RunReport {
    /// Reads a run directory's per-epoch metrics, `metrics.jsonl` (none if the file is not there yet).
    /// - Throws: naming the file and line, for a line that is not an epoch's figures.
    public static func metrics(in run: URL) throws -> [EpochMetrics] {
        try jsonLines(run.appendingPathComponent("metrics.jsonl"), of: EpochMetrics.self)
    }

    /// Reads a run directory's relabel log, `relabels.jsonl` (none if the file is not there yet).
    /// - Throws: naming the file and line, for a line that is not a relabel.
    public static func relabels(in run: URL) throws -> [RelabelEvent] {
        try jsonLines(run.appendingPathComponent("relabels.jsonl"), of: RelabelEvent.self)
    }

    private static func jsonLines<T: Decodable>(_ url: URL, of type: T.Type) throws -> [T] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let text = try String(contentsOf: url, encoding: .utf8)
        let decoder = JSONDecoder()
        return try text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { number, line in
            guard !line.isEmpty else { return nil }
            do { return try decoder.decode(T.self, from: Data(line.utf8)) } catch {
                throw DataError(file: url.path, line: number + 1, reason: "not a line of a run's \(url.lastPathComponent) (\(error))")
            }
        }
    }

    /// Charts for a run, as (file name, SVG).
    public static func charts(metrics: [EpochMetrics]) -> [(String, String)] {
        guard !metrics.isEmpty else { return [] }
        let epochs = metrics.map { Double($0.epoch) }
        var charts: [(String, String)] = []
        charts.append(("loss.svg", SVGChart.lines(title: "Training loss", xLabel: "epoch", series: [
            ("total", Array(zip(epochs, metrics.map(\.loss)))),
            ("weighted cross-entropy", Array(zip(epochs, metrics.map(\.weightedCrossEntropy)))),
            ("rank regularization", Array(zip(epochs, metrics.map(\.rankRegularization)))),
        ])))
        var accuracy = [("train (current labels)", Array(zip(epochs, metrics.map { 100 * $0.trainAccuracy })))]
        let validation = metrics.compactMap { m in m.validationAccuracy.map { (Double(m.epoch), 100 * $0) } }
        let trainedWeights = metrics.compactMap { m in m.validationAccuracyOfTrainedWeights.map { (Double(m.epoch), 100 * $0) } }
        if !validation.isEmpty { accuracy.append((trainedWeights.isEmpty ? "validation" : "validation (weight average)", validation)) }
        if !trainedWeights.isEmpty { accuracy.append(("validation (trained weights)", trainedWeights)) }
        let fitted = metrics.compactMap { m in m.wrongLabelsFitted.map { (Double(m.epoch), 100 * $0) } }
        if !fitted.isEmpty { accuracy.append(("wrong labels fitted (memorized)", fitted)) }
        charts.append(("accuracy.svg", SVGChart.lines(title: "Accuracy (%)", xLabel: "epoch", series: accuracy)))
        charts.append(("learning-rate.svg", SVGChart.lines(title: "Learning rate", xLabel: "epoch",
                                                            series: [("lr", Array(zip(epochs, metrics.map { Double($0.learningRate) })))])))
        let histograms = metrics.compactMap { m in m.alphaHistogram.map { (m.epoch, $0) } }
        if !histograms.isEmpty {
            let shown = Array(Set([histograms.first!, histograms[histograms.count / 2], histograms.last!].map(\.0))).sorted()
            let series = histograms.filter { shown.contains($0.0) }.map { epoch, counts in
                ("epoch \(epoch)", counts.enumerated().map { (Double($0.offset) / 20 + 0.025, Double($0.element)) })
            }
            charts.append(("alpha-histograms.svg", SVGChart.lines(title: "Importance weight alpha: samples per bin", xLabel: "alpha", series: series)))
        }
        charts.append(("alpha.svg", SVGChart.lines(title: "Alpha: mean and 5% / 95% quantiles", xLabel: "epoch", series: [
            ("mean", Array(zip(epochs, metrics.map(\.alphaMean)))),
            ("5%", Array(zip(epochs, metrics.map { $0.alphaQuantiles.first ?? 0 }))),
            ("95%", Array(zip(epochs, metrics.map { $0.alphaQuantiles.last ?? 0 }))),
        ])))
        charts.append(("relabels.svg", SVGChart.bars(title: "Relabels per epoch", labels: metrics.map { "\($0.epoch)" },
                                                     values: metrics.map { Double($0.relabels) })))
        return charts
    }

    /// Writes `report.html` (and the charts as SVG files) into `directory`.
    public static func write(to directory: URL, title: String, classNames: [String], metrics: [EpochMetrics],
                             relabels: [RelabelEvent], confusion: [[Int]]?, suspects: [SuspectLabel], thumbnails: [Int: DecodedImage],
                             summary: [(String, String)], classDisagreements: [ClassDisagreement] = []) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var html = """
            <!doctype html><html><head><meta charset='utf-8'><title>\(SVGChart.escape(title))</title>
            <style>body{font-family:sans-serif;margin:24px;max-width:1200px}table{border-collapse:collapse}
            td,th{border:1px solid #ddd;padding:3px 8px;font-size:13px}.grid{display:flex;flex-wrap:wrap;gap:10px}
            .face{text-align:center;font-size:12px;width:120px}.face img{width:96px;height:96px;image-rendering:pixelated}
            .wrong{color:#c00}</style></head><body><h1>\(SVGChart.escape(title))</h1>
            """
        if !summary.isEmpty {
            html += "<table>" + summary.map { "<tr><th>\(SVGChart.escape($0.0))</th><td>\(SVGChart.escape($0.1))</td></tr>" }.joined() + "</table>"
        }
        let charts = charts(metrics: metrics)
        if !charts.isEmpty {
            html += "<h2>Training</h2><div class='grid'>"
            for (name, svg) in charts {
                try svg.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
                html += svg
            }
            html += "</div>"
        }
        if let confusion {
            let svg = SVGChart.confusionMatrix(confusion, classNames: classNames)
            try svg.write(to: directory.appendingPathComponent("confusion-matrix.svg"), atomically: true, encoding: .utf8)
            html += "<h2>Confusion matrix</h2>" + svg
        }
        if !classDisagreements.isEmpty {
            html += "<h2>Labels the model disagrees with, by class</h2>" + disagreementTable(classDisagreements, classNames: classNames)
        }
        if !suspects.isEmpty {
            html += "<h2>Lowest importance: the labels most likely to be wrong</h2><div class='grid'>"
            for s in suspects {
                var image = ""
                if let thumb = thumbnails[s.index] {
                    image = "<img src='data:image/png;base64,\(PNGEncoder.encode(thumb).base64EncodedString())'>"
                }
                let clean = s.cleanLabel.map { "<br>true: \(classNames[$0])" } ?? ""
                html += "<div class='face'>\(image)<br>#\(s.rank) alpha \(String(format: "%.3f", s.certainty))<br>label: <span class='\(s.cleanLabel.map { $0 != s.label ? "wrong" : "" } ?? "")'>\(classNames[s.label])</span><br>suggested: \(classNames[s.suggestedLabel])\(clean)</div>"
            }
            html += "</div>"
        }
        if !relabels.isEmpty {
            let summary = RelabelSummary(events: relabels, classCount: classNames.count)
            html += "<h2>Relabels</h2><p>\(SVGChart.escape(summary.description(classNames: classNames)))</p>"
            html += "<table><tr><th>from \\ to</th>" + classNames.map { "<th>\(SVGChart.escape($0))</th>" }.joined() + "</tr>"
            for (old, row) in summary.flows.enumerated() where row.contains(where: { $0 > 0 }) {
                html += "<tr><th>\(SVGChart.escape(classNames[old]))</th>" + row.map { "<td>\($0 > 0 ? "\($0)" : "")</td>" }.joined() + "</tr>"
            }
            html += "</table>"
            html += "<h2>Relabel history (\(relabels.count) changes)</h2><table><tr><th>epoch</th><th>index</th><th>file</th><th>old</th><th>new</th><th>margin</th><th>clean</th></tr>"
            for r in relabels.prefix(500) {
                html += "<tr><td>\(r.epoch)</td><td>\(r.index)</td><td>\(SVGChart.escape((r.file as NSString).lastPathComponent))</td><td>\(classNames[r.oldLabel])</td><td>\(classNames[r.newLabel])</td><td>\(String(format: "%.3f", r.margin))</td><td>\(r.cleanLabel.map { classNames[$0] } ?? "")</td></tr>"
            }
            html += "</table>" + (relabels.count > 500 ? "<p>(first 500 shown; all in relabels.jsonl)</p>" : "")
        }
        html += "</body></html>"
        try html.write(to: directory.appendingPathComponent("report.html"), atomically: true, encoding: .utf8)
    }

    /// Per given label: samples, the share the model gives another class (and which most often), and, where
    /// the true labels are known, the share that is wrong and the share of disagreements that are.
    static func disagreementTable(_ rows: [ClassDisagreement], classNames: [String]) -> String {
        func share(_ part: Int, _ whole: Int) -> String { whole == 0 ? "-" : String(format: "%d (%.1f%%)", part, 100 * Double(part) / Double(whole)) }
        let known = rows.contains { $0.judged > 0 }
        var html = "<table><tr><th>label</th><th>samples</th><th>model disagrees</th><th>most often suggested</th>"
            + (known ? "<th>wrong labels</th><th>disagreements on wrong labels</th>" : "") + "</tr>"
        for r in rows {
            html += "<tr><th>\(SVGChart.escape(classNames[r.label]))</th><td>\(r.samples)</td><td>\(share(r.disagreements, r.samples))</td>"
                + "<td>\(r.commonSuggestion.map { SVGChart.escape(classNames[$0]) } ?? "-")</td>"
                + (known ? "<td>\(share(r.wrong, r.judged))</td><td>\(share(r.disagreementsOnWrongLabels, r.judgedDisagreements))</td>" : "") + "</tr>"
        }
        return html + "</table>"
    }
}
