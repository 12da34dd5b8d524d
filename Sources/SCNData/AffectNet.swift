import Foundation

/// AffectNet's manually annotated set: `training.csv` / `validation.csv` with columns
/// `subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal`
/// and images under `Manually_Annotated_Images/`. Expressions 8-10 (none, uncertain, non-face) are left
/// out; the 7-class variant also leaves out contempt (7).
public enum AffectNet {
    public static let classNames = ["neutral", "happy", "sad", "surprise", "fear", "disgust", "anger", "contempt"]
    static let header = ["subDirectory_filePath", "face_x", "face_y", "face_width", "face_height", "facial_landmarks",
                         "expression", "valence", "arousal"]

    public enum Split: String, Sendable { case training, validation }

    /// - Parameter classCount: 8 (with contempt) or 7.
    public static func load(root: URL, split: Split, classCount: Int = 8) throws -> ExpressionDataset {
        precondition(classCount == 7 || classCount == 8, "AffectNet: 7 or 8 classes")
        let url = root.appendingPathComponent("\(split.rawValue).csv")
        let csv = try CSVReader(contentsOf: url)
        try csv.requireHeader(header)
        let images = root.appendingPathComponent("Manually_Annotated_Images")
        var paths: [String] = [], labels: [Int] = []
        for (line, fields) in csv.records.dropFirst() {
            guard fields.count == header.count else {
                throw DataError(file: url.path, line: line, reason: "expected \(header.count) fields, found \(fields.count)")
            }
            let expression = try integerField(fields[6], file: url.path, line: line, column: "expression")
            guard (0...10).contains(expression) else {
                throw DataError(file: url.path, line: line, reason: "expression \(expression) outside 0...10")
            }
            guard expression < classCount else { continue }
            paths.append(images.appendingPathComponent(fields[0]).path)
            labels.append(expression)
        }
        guard !paths.isEmpty else { throw DataError(file: url.path, reason: "no rows with an expression in 0..<\(classCount)") }
        return ExpressionDataset(name: "affectnet\(classCount)-\(split.rawValue)", classNames: Array(classNames.prefix(classCount)),
                                 imagePaths: paths, labels: labels)
    }
}
