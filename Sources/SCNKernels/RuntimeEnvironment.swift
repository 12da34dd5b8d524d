import Foundation

/// Settings that the C libraries read from the environment when they load, which is before any Swift
/// code runs; so a program applies them by relaunching itself (`scn` does) or a script exports them.
public enum RuntimeEnvironment {
    /// The variables this package recommends for this machine that are not already set.
    ///
    /// - `OMP_WAIT_POLICY=passive`: oneDNN's OpenMP threads otherwise spin after every primitive and slow
    ///   the Swift code that runs between primitives.
    /// - `OPENBLAS_CORETYPE=SkylakeX` on CPUs with AVX-512 (F, BW, DQ, VL): Debian's OpenBLAS 0.3.21 does
    ///   not recognize AMD Zen 4 and falls back to its Prescott (SSE3) kernels, about 5x slower
    ///   (docs/PERFORMANCE.md); the SkylakeX kernels need only those AVX-512 subsets.
    public static func recommendedSettings(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> [(name: String, value: String)]
    {
        var settings: [(String, String)] = []
        if environment["OMP_WAIT_POLICY"] == nil { settings.append(("OMP_WAIT_POLICY", "passive")) }
        if environment["OPENBLAS_CORETYPE"] == nil, hasAVX512ForOpenBLAS() {
            settings.append(("OPENBLAS_CORETYPE", "SkylakeX"))
        }
        return settings
    }

    static func hasAVX512ForOpenBLAS() -> Bool {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
        let flags = Set(line.split(separator: " ").map(String.init))
        return ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains)
    }
}
