import Foundation

/// FERPlus (FER2013 images with 10 crowd votes each) in Microsoft's layout, and the original FER2013
/// labels for the same images.
public enum FERPlus {
    /// The 8 classes of the majority protocol, in vote order.
    public static let classNames = ["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt"]
    /// All 10 vote columns.
    public static let voteNames = classNames + ["unknown", "NF"]

    public enum Split: String, CaseIterable, Sendable {
        case train, valid, test
        /// The image folder in Microsoft's layout.
        public var folder: String {
            switch self {
            case .train: return "FER2013Train"
            case .valid: return "FER2013Valid"
            case .test: return "FER2013Test"
            }
        }
        /// The `Usage` value of fer2013.csv-ordered files.
        public var usage: String {
            switch self {
            case .train: return "Training"
            case .valid: return "PublicTest"
            case .test: return "PrivateTest"
            }
        }
    }

    /// Which vote file to read.
    public enum VoteFile: Sendable {
        /// `<split folder>/label.csv`, the file Microsoft's training code reads.
        case labelCSV
        /// `fer2013new.csv`, the later release (joined on the image name).
        case fer2013New
    }

    /// Which labels the samples get.
    public enum Labels: Sendable {
        /// The FERPlus majority label (Microsoft's `ferplus.py`, majority mode).
        case majority
        /// The original FER2013 label (rows with `match_status` other than `ok` are left out); the
        /// majority label, where the image has one, becomes the clean label.
        case fer2013Original
    }

    /// Microsoft's majority rule: votes of 1 are dropped; the image is kept only if the largest
    /// remaining count is more than half of the remaining votes and names one of the 8 emotions.
    /// - Parameter votes: the 10 counts in `voteNames` order.
    public static func majorityLabel(votes: [Int]) -> Int? {
        let kept = votes.map { $0 <= 1 ? 0 : $0 }
        let total = kept.reduce(0, +)
        guard let maximum = kept.max(), maximum > 0, 2 * maximum > total else { return nil }
        let label = kept.firstIndex(of: maximum)!
        return label < classNames.count ? label : nil
    }

    /// The 8-class vote distribution (votes of 1 dropped, unknown and NF ignored), or nil without votes.
    static func distribution(votes: [Int]) -> [Float]? {
        let kept = votes.prefix(classNames.count).map { $0 <= 1 ? 0 : $0 }
        let total = kept.reduce(0, +)
        return total == 0 ? nil : kept.map { Float($0) / Float(total) }
    }

    /// What to do with the four image names that `fer2013new.csv` lists twice (two different FER2013
    /// images share each name, but only one PNG exists).
    public enum DuplicateNames: Sendable {
        /// Leave out every row of such a name (the data README's advice; the default).
        case exclude
        /// Keep both rows, as a plain reader of the file does: this gives the commonly quoted counts
        /// 25,060 / 3,199 / 3,153, with two samples pointing at one image.
        case keepAll
    }

    /// Loads one split.
    public static func load(root: URL, split: Split, votes voteFile: VoteFile = .labelCSV,
                            labels: Labels = .majority, duplicateNames: DuplicateNames = .exclude) throws -> ExpressionDataset {
        let votes = try readVotes(root: root, split: split, file: voteFile, duplicateNames: duplicateNames)
        let folder = root.appendingPathComponent(split.folder)
        var names: [String] = []
        var majority: [Int?] = []
        var distributions: [[Float]] = []
        for (name, v) in votes.sorted(by: { $0.name < $1.name }) {
            names.append(name)
            majority.append(majorityLabel(votes: v))
            distributions.append(distribution(votes: v) ?? [Float](repeating: 1 / Float(classNames.count), count: classNames.count))
        }
        switch labels {
        case .majority:
            let kept = names.indices.filter { majority[$0] != nil }
            return ExpressionDataset(
                name: "ferplus-\(split.rawValue)", classNames: classNames,
                imagePaths: kept.map { folder.appendingPathComponent(names[$0]).path },
                labels: kept.map { majority[$0]! }, voteDistributions: kept.map { distributions[$0] })
        case .fer2013Original:
            let original = try readOriginalLabels(root: root)
            let kept = names.indices.filter { original[names[$0]]?.usage == split.usage }
            return ExpressionDataset(
                name: "fer2013-\(split.rawValue)", classNames: classNames,
                imagePaths: kept.map { folder.appendingPathComponent(names[$0]).path },
                labels: kept.map { original[names[$0]]!.label },
                cleanLabels: kept.map { majority[$0] ?? -1 }, voteDistributions: kept.map { distributions[$0] })
        }
    }

    /// The 10 vote counts per image of one split.
    static func readVotes(root: URL, split: Split, file: VoteFile, duplicateNames: DuplicateNames) throws
        -> [(name: String, votes: [Int])]
    {
        var votes: [String: [Int]] = [:]
        switch file {
        case .labelCSV:
            let url = root.appendingPathComponent(split.folder).appendingPathComponent("label.csv")
            let csv = try CSVReader(contentsOf: url)
            for (line, fields) in csv.records {
                guard fields.count == 12 else {
                    throw DataError(file: url.path, line: line, reason: "expected 12 fields (name, box, 10 votes), found \(fields.count)")
                }
                let counts = try fields[2...].map { try integerField($0, file: url.path, line: line, column: "vote") }
                guard counts.allSatisfy({ (0...10).contains($0) }) else {
                    throw DataError(file: url.path, line: line, reason: "vote counts \(counts) outside 0...10")
                }
                guard votes.updateValue(counts, forKey: fields[0]) == nil else {
                    throw DataError(file: url.path, line: line, reason: "image \(fields[0]) listed twice")
                }
            }
        case .fer2013New:
            let url = root.appendingPathComponent("fer2013new.csv")
            let csv = try CSVReader(contentsOf: url)
            try csv.requireHeader(["Usage", "Image name"] + voteNames)
            var seen: [String: Int] = [:]
            var rows: [(String, [Int])] = []
            for (line, fields) in csv.records.dropFirst() {
                guard fields.count == 12 else {
                    throw DataError(file: url.path, line: line, reason: "expected 12 fields, found \(fields.count)")
                }
                let name = fields[1].trimmingCharacters(in: .whitespaces)
                seen[name, default: 0] += 1
                guard fields[0] == split.usage, !name.isEmpty else { continue }  // rows without a name have no image
                rows.append((name, try fields[2...].map { try integerField($0, file: url.path, line: line, column: "vote") }))
            }
            switch duplicateNames {
            case .keepAll: return rows
            case .exclude: return rows.filter { seen[$0.0]! == 1 }
            }
        }
        return votes.map { ($0.key, $0.value) }
    }

    /// Original FER2013 labels (mapped to FERPlus class order) and usage by image name, `ok` rows only.
    static func readOriginalLabels(root: URL) throws -> [String: (label: Int, usage: String)] {
        let url = root.appendingPathComponent("fer2013-original-labels.csv")
        let csv = try CSVReader(contentsOf: url)
        try csv.requireHeader(["image", "usage", "fer2013_label", "fer2013_class", "match_status", "candidate_labels", "match_score"])
        // FER2013: 0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral.
        let toFERPlus = [4, 5, 6, 1, 3, 2, 0]
        var result: [String: (Int, String)] = [:]
        for (line, fields) in csv.records.dropFirst() {
            guard fields.count == 7 else { throw DataError(file: url.path, line: line, reason: "expected 7 fields, found \(fields.count)") }
            guard fields[4] == "ok" else { continue }
            let label = try integerField(fields[2], file: url.path, line: line, column: "fer2013_label")
            guard (0..<7).contains(label) else {
                throw DataError(file: url.path, line: line, reason: "fer2013_label \(label) outside 0...6")
            }
            result[fields[0]] = (toFERPlus[label], fields[1])
        }
        return result
    }
}
