import SCNMethod

/// What a run's relabeling did, counted from its relabel log: which classes the labels moved between and,
/// where the clean labels are known, how many changes fixed, broke or swapped a label.
public struct RelabelSummary: Equatable, Sendable {
    /// `flows[old][new]`: the changes from class `old` to class `new`, `[C][C]` (the diagonal stays 0).
    public var flows: [[Int]]
    /// Changes from a wrong label to the clean one.
    public var fixed = 0
    /// Changes away from a right label.
    public var broken = 0
    /// Of the `broken` changes, those to a class at least two annotators chose (where the log has votes):
    /// changes that miss the majority label but not every annotator.
    public var brokenToVotedClass = 0
    /// Whether any change in the log carries its sample's votes.
    public var hasVotes = false
    /// Changes from one wrong label to another wrong one.
    public var swapped = 0
    /// Changes of samples whose clean label is unknown.
    public var unjudged = 0

    /// - Parameters:
    ///   - events: the relabel log, each change judged on its own (a sample changed twice counts twice).
    ///   - classCount: `C`; every label in `events` must be in `0..<C`.
    public init(events: [RelabelEvent], classCount: Int) {
        flows = Array(repeating: Array(repeating: 0, count: classCount), count: classCount)
        for event in events {
            precondition((0..<classCount).contains(event.oldLabel) && (0..<classCount).contains(event.newLabel),
                         "RelabelSummary: relabel \(event.oldLabel) -> \(event.newLabel) outside 0..<\(classCount)")
            flows[event.oldLabel][event.newLabel] += 1
            if event.newLabelVoteShare != nil { hasVotes = true }
            guard let clean = event.cleanLabel else {
                unjudged += 1
                continue
            }
            if event.oldLabel == clean {
                broken += 1
                if let share = event.newLabelVoteShare, share > 0 { brokenToVotedClass += 1 }
            } else if event.newLabel == clean { fixed += 1 } else { swapped += 1 }
        }
    }

    /// The `count` largest flows, largest first (ties by old class, then new class).
    public func largestFlows(_ count: Int) -> [(old: Int, new: Int, changes: Int)] {
        let all = flows.indices.flatMap { old in flows[old].indices.map { (old: old, new: $0, changes: flows[old][$0]) } }
        return Array(all.filter { $0.changes > 0 }
            .sorted { $0.changes != $1.changes ? $0.changes > $1.changes : ($0.old, $0.new) < ($1.old, $1.new) }
            .prefix(count))
    }

    /// One line, for example "1640 changes: 1092 fixed a wrong label, 401 broke a right one, 147 swapped
    /// one wrong label for another; largest: sadness -> neutral 207, ...".
    public func description(classNames: [String]) -> String {
        let total = fixed + broken + swapped + unjudged
        var parts = ["\(total) \(total == 1 ? "change" : "changes")"]
        if total > unjudged {
            parts[0] += ": \(fixed) fixed a wrong label, \(broken) broke a right one"
                + (hasVotes && broken > 0 ? " (\(brokenToVotedClass) of them to a class at least two annotators chose)" : "")
                + ", \(swapped) swapped one wrong label for another"
                + (unjudged > 0 ? ", \(unjudged) with no known true label" : "")
        }
        let largest = largestFlows(5).map { "\(classNames[$0.old]) -> \(classNames[$0.new]) \($0.changes)" }
        if !largest.isEmpty { parts.append("largest: " + largest.joined(separator: ", ")) }
        return parts.joined(separator: "; ")
    }
}
