import Foundation

/// Wall time per kernel family, collected while enabled (`scn bench --profile`). Off by default, and
/// then one branch per kernel call.
public enum KernelProfiler {
    nonisolated(unsafe) public static var isEnabled = false
    nonisolated(unsafe) private static var seconds: [String: Double] = [:]
    nonisolated(unsafe) private static var calls: [String: Int] = [:]

    /// Runs `body`, adding its wall time to `label` when enabled.
    @inline(__always)
    public static func measure<R>(_ label: @autoclosure () -> String, _ body: () throws -> R) rethrows -> R {
        guard isEnabled else { return try body() }
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            let key = label()
            seconds[key, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            calls[key, default: 0] += 1
        }
        return try body()
    }

    /// The collected figures, largest first: (label, seconds, calls).
    public static func report() -> [(String, Double, Int)] {
        seconds.map { ($0.key, $0.value, calls[$0.key] ?? 0) }.sorted { $0.1 > $1.1 }
    }

    public static func reset() {
        seconds = [:]
        calls = [:]
    }
}
