import CFloatingPointMode

/// Flushing subnormal floats (magnitudes below 1.18e-38) to zero.
///
/// x86 CPUs handle a subnormal input or result in microcode, tens to hundreds of times slower than a
/// normal operation. Training reaches them when a multiplier vanishes: in the paper's SCN recipe the
/// importance weights can collapse to 1e-28 and scale every gradient below them; the epoch in which they
/// collapsed took 269 s instead of 28-38 s (docs/PERFORMANCE.md). Flushed, such values become zero at
/// full speed; normal values are unaffected. PyTorch leaves them on by default (`torch.set_flush_denormal`).
///
/// The mode belongs to each thread. `ThreadPool` runs every job in its caller's mode, and
/// `setEnabled(_:)` also sets oneDNN's OpenMP threads, so one call from the training thread covers the
/// engine. OpenBLAS's threads (started when the library loads) are not reached; their products are small here.
public enum SubnormalFlushing {
    /// Whether the calling thread flushes subnormal inputs and results to zero.
    public static var isEnabledOnCurrentThread: Bool { scn_subnormals_flushed() != 0 }

    /// Turns flushing on or off for the calling thread and oneDNN's OpenMP threads.
    ///
    /// - Returns: whether the CPU supports the mode (x86-64 and ARM64 do).
    @discardableResult
    public static func setEnabled(_ enabled: Bool) -> Bool {
        guard scn_set_subnormals_flushed(enabled ? 1 : 0) == 0 else { return false }
        _ = scn_set_subnormals_flushed_in_openmp_threads(enabled ? 1 : 0)
        return true
    }

    /// Sets the calling thread's mode to `enabled` if it differs (a pool thread joining its caller's job).
    @inline(__always)
    static func matchCurrentThread(to enabled: Bool) {
        if isEnabledOnCurrentThread != enabled { _ = scn_set_subnormals_flushed(enabled ? 1 : 0) }
    }
}
