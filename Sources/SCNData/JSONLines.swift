import Foundation

/// Files of one JSON object per line (blank lines skipped), read with errors that name the file and line.
public enum JSONLines {
    /// The bytes of `url`; a `DataError` naming it when it cannot be read.
    public static func contents(of url: URL) throws -> Data {
        do { return try Data(contentsOf: url) } catch {
            throw DataError(file: url.path, reason: "cannot be read (\(error.localizedDescription))")
        }
    }

    /// Calls `body` with each non-blank line's object, in order, and a function that makes a `DataError`
    /// for that line (`file:line: reason`). A line that is not a JSON object is refused as "not a JSON
    /// object (expected `expected`)".
    public static func forEachObject(in data: Data, file: String, expected: String,
                                     _ body: (_ object: [String: Any], _ fail: (String) -> DataError) throws -> Void) throws {
        var lineNumber = 0
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty { continue }
            let number = lineNumber
            func fail(_ reason: String) -> DataError { DataError(file: file, line: number, reason: reason) }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
                throw fail("not a JSON object (expected \(expected))")
            }
            try body(object, fail)
        }
    }
}
