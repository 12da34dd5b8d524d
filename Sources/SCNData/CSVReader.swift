import Foundation

/// Reads comma-separated text with quoted fields (`"(0, 0, 48, 48)"`, doubled quotes inside), LF or
/// CRLF line ends, and reports each record with its 1-based line number.
public struct CSVReader {
    public let file: String
    public let records: [(line: Int, fields: [String])]

    public init(contentsOf url: URL) throws {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw DataError(file: url.path, reason: "cannot be read: \(error.localizedDescription)")
        }
        try self.init(text: text, file: url.path)
    }

    public init(text: String, file: String) throws {
        self.file = file
        var records: [(Int, [String])] = []
        var line = 1
        // "\r\n" is one Character in Swift, so split on both forms.
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            defer { line += 1 }
            var row = Substring(raw)
            if row.hasSuffix("\r") { row = row.dropLast() }
            if row.isEmpty { continue }
            var fields: [String] = []
            var field = ""
            var quoted = false
            var chars = row.makeIterator()
            while let c = chars.next() {
                if quoted {
                    if c == "\"" {
                        // A doubled quote is a literal quote; a single one ends the quoted part.
                        var lookahead = chars
                        if lookahead.next() == "\"" { field.append("\""); chars = lookahead } else { quoted = false }
                    } else {
                        field.append(c)
                    }
                } else if c == "\"" {
                    quoted = true
                } else if c == "," {
                    fields.append(field)
                    field = ""
                } else {
                    field.append(c)
                }
            }
            if quoted { throw DataError(file: file, line: line, reason: "unterminated quoted field") }
            fields.append(field)
            records.append((line, fields))
        }
        self.records = records
    }

    /// Checks that the first record is exactly `expected`, naming what was found otherwise.
    public func requireHeader(_ expected: [String]) throws {
        guard let first = records.first else { throw DataError(file: file, reason: "empty file; expected a header") }
        guard first.fields.map({ $0.trimmingCharacters(in: .whitespaces) }) == expected else {
            throw DataError(file: file, line: first.line,
                            reason: "wrong header: expected \(expected.joined(separator: ",")), found \(first.fields.joined(separator: ","))")
        }
    }
}

/// Parses an integer field, naming the file, line and column on failure.
func integerField(_ text: String, file: String, line: Int, column: String) throws -> Int {
    guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
        throw DataError(file: file, line: line, reason: "\(column) '\(text)' is not an integer")
    }
    return value
}
