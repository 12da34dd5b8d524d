import Foundation

/// The `SCN_*` environment variables the engine reads, and a check of their values.
///
/// The engine reads each variable where it is used, once per process, through `value(of:)`: a value it does
/// not know is reported on standard error and read as unset (the default). `problems(in:)` lets a program
/// refuse such a value before any work instead (`scn` does), so a misspelling (`SCN_CONV_LAYOUT=blocked`)
/// does not measure the default.
public enum EngineSettings {
    /// One variable and the values it takes (an empty value counts as unset).
    public struct Variable: Sendable {
        public let name: String
        /// The accepted values, in words (for messages).
        public let accepted: String
        let isValid: @Sendable (String) -> Bool
    }

    /// A variable set to a value the engine does not know.
    public struct Problem: Error, Equatable, CustomStringConvertible {
        public let name: String
        public let value: String
        public let accepted: String
        public var description: String { "environment variable \(name)=\(value): expected \(accepted)" }
    }

    /// Every variable the engine reads.
    public static let variables: [Variable] = [
        Variable(name: "SCN_CONV_LAYOUT", accepted: "channels-last or preferred") { ConvolutionLayout(rawValue: $0) != nil },
        Variable(name: "SCN_CONVOLUTION", accepted: "onednn or taps") { ConvolutionMethodOverride.named($0) != nil },
        Variable(name: "SCN_INFERENCE", accepted: "fused or layers") { InferenceMode(rawValue: $0) != nil },
        Variable(name: "SCN_NUM_THREADS", accepted: "a whole number of threads, at least 1") { Int($0).map { $0 >= 1 } ?? false },
        Variable(name: "SCN_POOL_SLACK", accepted: "a number, at least 1") { Double($0).map { $0.isFinite && $0 >= 1 } ?? false },
        Variable(name: "SCN_SUBNORMALS", accepted: "keep or flush") { ["keep", "flush"].contains($0) },
    ]

    /// The variables in `environment` set to a value the engine does not know, in the order of `variables`.
    public static func problems(in environment: [String: String] = ProcessInfo.processInfo.environment) -> [Problem] {
        variables.compactMap { variable in
            guard let value = environment[variable.name], !value.isEmpty, !variable.isValid(value) else { return nil }
            return Problem(name: variable.name, value: value, accepted: variable.accepted)
        }
    }

    /// The value of the variable `name` (one of `variables`) in `environment`: nil when unset or empty, and
    /// nil for a value the variable does not accept, which is reported through `report` (one line naming
    /// the variable, the value and the accepted values; standard error by default).
    public static func value(
        of name: String, in environment: [String: String] = ProcessInfo.processInfo.environment,
        report: (String) -> Void = { FileHandle.standardError.write(Data("\($0)\n".utf8)) }
    ) -> String? {
        guard let variable = variables.first(where: { $0.name == name }) else {
            preconditionFailure("\(name) is not one of EngineSettings.variables")
        }
        guard let value = environment[name], !value.isEmpty else { return nil }
        guard variable.isValid(value) else {
            let problem = Problem(name: name, value: value, accepted: variable.accepted)
            report("Warning: ignoring \(problem); using the default")
            return nil
        }
        return value
    }
}
