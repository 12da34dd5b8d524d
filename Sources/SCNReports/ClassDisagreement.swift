import SCNTensor

/// How often a model disagrees with one class's given labels: a per-class estimate of label noise, and,
/// where the true labels are known, how good that estimate is.
public struct ClassDisagreement: Equatable, Sendable {
    /// The given label.
    public var label: Int
    /// Samples with this given label.
    public var samples = 0
    /// Of them, the samples whose most probable class is another class.
    public var disagreements = 0
    /// The other class suggested most often (ties: the lower class index); nil without disagreements.
    public var commonSuggestion: Int?
    /// Samples whose true label is known, and how many of those have a wrong given label.
    public var judged = 0
    public var wrong = 0
    /// Disagreements whose true label is known, and how many of those have a wrong given label.
    public var judgedDisagreements = 0
    public var disagreementsOnWrongLabels = 0

    /// One entry per class, in class order.
    /// - Parameters:
    ///   - samples: every sample of the audited set once (as `SuspectLabel.ranking` gives them).
    ///   - classCount: `C`; labels and suggestions are in `0..<C`.
    public static func perClass(_ samples: [SuspectLabel], classCount: Int) -> [ClassDisagreement] {
        var classes = (0..<classCount).map { ClassDisagreement(label: $0) }
        var suggestions = Array(repeating: Array(repeating: 0, count: classCount), count: classCount)
        for s in samples {
            classes[s.label].samples += 1
            let disagrees = s.suggestedLabel != s.label
            if disagrees {
                classes[s.label].disagreements += 1
                suggestions[s.label][s.suggestedLabel] += 1
            }
            if let clean = s.cleanLabel {
                classes[s.label].judged += 1
                if clean != s.label { classes[s.label].wrong += 1 }
                if disagrees {
                    classes[s.label].judgedDisagreements += 1
                    if clean != s.label { classes[s.label].disagreementsOnWrongLabels += 1 }
                }
            }
        }
        for c in 0..<classCount where classes[c].disagreements > 0 {
            classes[c].commonSuggestion = suggestions[c].argmax()
        }
        return classes
    }
}
