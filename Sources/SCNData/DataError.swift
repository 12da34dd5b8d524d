/// Bad input found while reading a dataset: names the file and, where there is one, the line.
public struct DataError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let line: Int?
    public let reason: String

    public init(file: String, line: Int? = nil, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String { "\(file)" + (line.map { ":\($0)" } ?? "") + ": \(reason)" }
}
