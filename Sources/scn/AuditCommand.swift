import ArgumentParser
import Foundation
import SCNData
import SCNMethod
import SCNReports

extension SuspectOrder: ExpressibleByArgument {}

/// `scn audit`: ranks a dataset's samples by importance and suggests fixes for suspect labels.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Rank a dataset's labels by how suspect they are, with suggested fixes and an HTML report.",
        discussion: """
            Runs a trained model over a split (no augmentation) and ranks every sample by its importance weight \
            alpha, lowest first (or, with --rank-by label-probability, by the probability the model gives its \
            label). Writes suspects.csv (rank, index, file, label, suggested label, margin = \
            max(P) - P[label], alpha, and the clean label where the dataset knows it) and report.html with the \
            lowest-importance images as thumbnails, the confusion matrix, and, with --run, the run's training \
            curves, alpha histograms and relabel history. With --checkpoint given more than once, the \
            checkpoints' class probabilities and alphas are averaged (an ensemble: for example several seeds); \
            with --out-of-fold they are the K runs of one cross-validation (scn train --folds K --fold k) and \
            each sample is judged by the run that did not train on it.
            """)

    @Option(help: ArgumentHelp("A checkpoint written by scn train; repeat it to audit with an ensemble (the mean of the checkpoints' class probabilities and alphas).",
                               valueName: "file"))
    var checkpoint: [String]
    @OptionGroup var data: DatasetOptions
    @Option(help: "Split to audit: train, validation or test.") var split = "train"
    @Option(name: .customLong("run"), help: "The run directory of the checkpoint, to add its curves and relabel history to the report.")
    var runPath: String?
    @Option(help: "Output folder (created).") var output: String
    @OptionGroup var viewOptions: TestTimeViewOptions
    @Flag(help: "The checkpoints are the folds of one cross-validation of this split: take each sample's outputs from the one that did not train on it.")
    var outOfFold = false
    @Option(help: "Thumbnails in the report.") var top = 60
    @Option(help: "Rank by alpha (SCN's importance) or label-probability (the model's probability of the given label).")
    var rankBy: SuspectOrder = .alpha

    func run() throws {
        let ensemble = try ModelEnsemble(checkpointOptions: checkpoint)
        guard var dataset = try data.load(split: split) else { throw ValidationError("\(data.dataset.rawValue) has no '\(split)' split") }
        try ensemble.checkClasses(of: dataset)
        // The run's logs are checked before anything is written.
        let runURL = runPath.map { URL(fileURLWithPath: $0) }
        let runMetrics = try runURL.map(RunReport.metrics) ?? []
        let relabels = try runURL.map(RunReport.relabels) ?? []
        if let stray = relabels.first(where: { max($0.oldLabel, $0.newLabel) >= dataset.classCount || min($0.oldLabel, $0.newLabel) < 0 }) {
            throw ValidationError("--run \(runPath!): relabels.jsonl changes a label \(stray.oldLabel) -> \(stray.newLabel) (epoch \(stray.epoch), "
                                  + "sample \(stray.index)), outside the checkpoint's \(dataset.classCount) classes; is it this checkpoint's run?")
        }
        let store = try data.images(for: &dataset)
        let evaluation = outOfFold ? try ensemble.evaluateOutOfFold(dataset, store: store, views: viewOptions.views)
                                   : try ensemble.evaluate(dataset, store: store, views: viewOptions.views)
        let suspects = SuspectLabel.ranking(probabilities: evaluation.probabilities, alphas: evaluation.alphas, labels: dataset.labels,
                                            files: dataset.imagePaths, cleanLabels: dataset.cleanLabels, order: rankBy)
        var csv = "rank,index,file,label,suggested,margin,alpha,clean_label\n"
        for s in suspects {
            csv += "\(s.rank),\(s.index),\"\(s.file)\",\(dataset.classNames[s.label]),\(dataset.classNames[s.suggestedLabel]),"
                + String(format: "%.4f,%.4f,", s.margin, s.certainty) + (s.cleanLabel.map { dataset.classNames[$0] } ?? "") + "\n"
        }
        let directory = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try csv.write(to: directory.appendingPathComponent("suspects.csv"), atomically: true, encoding: .utf8)
        let report = evaluation.report
        let shown = Array(suspects.prefix(top))
        let members = outOfFold ? "the \(checkpoint.count) folds' checkpoints (out-of-fold)"
                                : checkpoint.count == 1 ? "checkpoint" : "ensemble of \(checkpoint.count) checkpoints"
        var summary: [(String, String)] = [(members,
                                            checkpoint.joined(separator: ", ")), ("dataset", "\(dataset.name) (\(split), \(dataset.count) images)"),
                                           ("accuracy against its labels", String(format: "%.2f%%", 100 * report.accuracy))]
        if let clean = dataset.cleanLabels {
            let aucs = evaluation.wrongLabelAUCs(labels: dataset.labels, cleanLabels: clean)
            if let auc = aucs.alpha { summary.append(("ROC AUC of 1 - alpha for wrong labels", String(format: "%.3f", auc))) }
            if let auc = aucs.alphaWithinLabel {
                summary.append(("ROC AUC of 1 - alpha within each given label", String(format: "%.3f", auc)))
            }
            if let auc = aucs.labelProbability { summary.append(("ROC AUC of 1 - p(label) for wrong labels", String(format: "%.3f", auc))) }
            let topWrong = shown.filter { $0.cleanLabel != nil && $0.cleanLabel != $0.label }.count
            summary.append(("wrong labels among the \(shown.count) shown", "\(topWrong)"))
        }
        let classes = ClassDisagreement.perClass(suspects, classCount: dataset.classCount)
        try RunReport.write(to: directory, title: "SCN audit: \(dataset.name)", classNames: dataset.classNames,
                            metrics: runMetrics, relabels: relabels,
                            confusion: report.confusionMatrix, suspects: shown,
                            thumbnails: Dictionary(uniqueKeysWithValues: shown.map { ($0.index, store.images[$0.index]) }), summary: summary,
                            classDisagreements: classes)
        print("wrote \(directory.appendingPathComponent("suspects.csv").path) (\(suspects.count) samples ranked) and report.html")
        for (k, v) in summary { print("  \(k): \(v)") }
        print("  by label: samples, model disagrees" + (dataset.cleanLabels == nil ? "" : ", wrong labels (true labels known)"))
        for c in classes {
            let disagrees = c.samples == 0 ? "-" : String(format: "%.1f%%", 100 * Double(c.disagreements) / Double(c.samples))
            let wrong = c.judged == 0 ? "" : String(format: ", %.1f%% wrong", 100 * Double(c.wrong) / Double(c.judged))
            print("    \(dataset.classNames[c.label]): \(c.samples), \(disagrees)"
                  + (c.commonSuggestion.map { " (mostly \(dataset.classNames[$0]))" } ?? "") + wrong)
        }
    }
}
