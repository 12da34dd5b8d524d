import Foundation

/// RAF-DB basic expressions: `EmoLabel/list_patition_label.txt` (rows `train_00001.jpg 5`, labels 1-7)
/// and aligned faces in `Image/aligned/<stem>_aligned.jpg`.
public enum RAFDB {
    /// Classes in label order (file labels 1-7 are these minus one).
    public static let classNames = ["surprise", "fear", "disgust", "happiness", "sadness", "anger", "neutral"]

    public enum Split: String, Sendable { case train, test }

    public static func load(root: URL, split: Split) throws -> ExpressionDataset {
        let url = root.appendingPathComponent("EmoLabel/list_patition_label.txt")
        let rows = try ListFile.read(url, labelBase: 1, classCount: classNames.count)
        let images = root.appendingPathComponent("Image/aligned")
        var paths: [String] = [], labels: [Int] = []
        for row in rows where row.path.hasPrefix(split.rawValue + "_") {
            let stem = (row.path as NSString).deletingPathExtension
            paths.append(images.appendingPathComponent("\(stem)_aligned.jpg").path)
            labels.append(row.label)
        }
        guard !paths.isEmpty else { throw DataError(file: url.path, reason: "no \(split.rawValue)_ rows") }
        return ExpressionDataset(name: "rafdb-\(split.rawValue)", classNames: classNames, imagePaths: paths, labels: labels)
    }
}

/// Label list files: one `<path> <label>` row per image (optionally a third column, the clean label),
/// the form SCN's and EAC's noise lists and `scn noise` use.
public enum ListFile {
    public struct Row: Equatable, Sendable {
        public var path: String
        /// 0-based.
        public var label: Int
        /// 0-based clean label when the file has a third column.
        public var cleanLabel: Int?
        public var line: Int
    }

    /// Reads a list; `labelBase` is 0 for 0-based labels (SCN's RAF lists) or 1 (RAF-DB's own file).
    /// CRLF is accepted and blank lines at the end are ignored; a blank line between rows, or any other
    /// malformed line, is an error naming it.
    public static func read(_ url: URL, labelBase: Int, classCount: Int) throws -> [Row] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw DataError(file: url.path, reason: "cannot be read: \(error.localizedDescription)")
        }
        var rows: [Row] = []
        var blankLine: Int?
        // "\r\n" is one Character in Swift, so split on both forms.
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let line = index + 1
            let fields = raw.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { blankLine = blankLine ?? line; continue }
            if let blank = blankLine { throw DataError(file: url.path, line: blank, reason: "empty line between rows") }
            guard fields.count == 2 || fields.count == 3 else {
                throw DataError(file: url.path, line: line, reason: "expected '<path> <label>', found \(fields.count) fields")
            }
            func label(_ s: Substring, _ what: String) throws -> Int {
                guard let value = Int(s) else { throw DataError(file: url.path, line: line, reason: "\(what) '\(s)' is not an integer") }
                let zeroBased = value - labelBase
                guard (0..<classCount).contains(zeroBased) else {
                    throw DataError(file: url.path, line: line,
                                    reason: "\(what) \(value) outside \(labelBase)...\(labelBase + classCount - 1)")
                }
                return zeroBased
            }
            rows.append(Row(path: String(fields[0]), label: try label(fields[1], "label"),
                            cleanLabel: fields.count == 3 ? try label(fields[2], "clean label") : nil, line: line))
        }
        guard !rows.isEmpty else { throw DataError(file: url.path, reason: "no rows") }
        return rows
    }

    /// Writes rows as `<path> <label> [<clean label>]` with labels shifted by `labelBase`, atomically.
    public static func write(_ rows: [(path: String, label: Int, cleanLabel: Int?)], to url: URL, labelBase: Int) throws {
        var text = ""
        for r in rows {
            text += "\(r.path) \(r.label + labelBase)" + (r.cleanLabel.map { " \($0 + labelBase)" } ?? "") + "\n"
        }
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
        do {
            try Data(text.utf8).write(to: temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw DataError(file: url.path, reason: "cannot be written: \(error.localizedDescription)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw DataError(file: url.path, reason: "cannot be written: \(reason)")
        }
    }

    /// A list's labels matched to a dataset's samples by file name: the list may use foreign absolute
    /// paths and RAF-DB's `_aligned` suffix. Every sample must be matched exactly once.
    public static func labels(from rows: [Row], matching dataset: ExpressionDataset, listName: String) throws -> [Int] {
        func key(_ path: String) -> String {
            var name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            if name.hasSuffix("_aligned") { name = String(name.dropLast(8)) }
            return name
        }
        var byName: [String: Row] = [:]
        for row in rows {
            if let earlier = byName.updateValue(row, forKey: key(row.path)) {
                throw DataError(file: listName, line: row.line, reason: "\(key(row.path)) already listed on line \(earlier.line)")
            }
        }
        return try dataset.imagePaths.map { path in
            guard let row = byName[key(path)] else {
                throw DataError(file: listName, reason: "no row for the dataset's image \(key(path))")
            }
            return row.label
        }
    }
}

/// An image folder, `root/<class>/<image>`, classes in alphabetical order unless given.
public enum ImageFolder {
    static let imageExtensions: Set<String> = ["jpg", "jpeg", "png"]

    public static func load(root: URL, classNames given: [String]? = nil) throws -> ExpressionDataset {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError(file: root.path, reason: "no such folder")
        }
        let found = try manager.contentsOfDirectory(atPath: root.path).filter {
            var d: ObjCBool = false
            return !$0.hasPrefix(".") && manager.fileExists(atPath: root.appendingPathComponent($0).path, isDirectory: &d) && d.boolValue
        }.sorted()
        let classNames = given ?? found
        if let unknown = Set(found).subtracting(classNames).sorted().first {
            throw DataError(file: root.appendingPathComponent(unknown).path, reason: "folder is not one of the classes \(classNames)")
        }
        var paths: [String] = [], labels: [Int] = []
        for (label, name) in classNames.enumerated() {
            let folder = root.appendingPathComponent(name)
            guard manager.fileExists(atPath: folder.path) else { continue }
            for file in try manager.contentsOfDirectory(atPath: folder.path).sorted()
            where imageExtensions.contains((file as NSString).pathExtension.lowercased()) {
                paths.append(folder.appendingPathComponent(file).path)
                labels.append(label)
            }
        }
        guard !paths.isEmpty else { throw DataError(file: root.path, reason: "no .jpg or .png images in class folders") }
        return ExpressionDataset(name: root.lastPathComponent, classNames: classNames, imagePaths: paths, labels: labels)
    }
}
