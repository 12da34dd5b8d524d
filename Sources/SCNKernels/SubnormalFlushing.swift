import CFloatingPointMode

/// Flushing subnormal floats (magnitudes below 1.18e-38) to zero.
///
/// x86 CPUs handle a subnormal input or result in microcode, tens to hundreds of times slower than a
/// normal operation. Training reaches them when a multiplier vanishes: in the paper's SCN recipe the
/// importance weights can collapse to 1e-28 and scale every gradient below them. Flushed, such values
/// become zero at full speed; normal values are unaffected. PyTorch keeps subnormals by default
/// (`torch.set_flush_denormal`). Measured (docs/PERFORMANCE.md): the epoch in which alpha collapses takes
/// 278.6 s with subnormals kept and 25.6 s flushed, no longer than the epoch before it (28.8 s).
///
/// The mode belongs to each thread. `setEnabled(_:)` sets the calling thread and oneDNN's OpenMP threads
/// and restarts OpenBLAS's threads so that they inherit it; `ThreadPool` runs every job in its caller's
/// mode. So one call from the training thread, while no other thread is computing, covers the engine.
public enum SubnormalFlushing {
    /// Whether the calling thread flushes subnormal inputs and results to zero.
    public static var isEnabledOnCurrentThread: Bool { scn_subnormals_flushed() != 0 }

    /// Turns flushing on or off for the calling thread, oneDNN's OpenMP threads and OpenBLAS's threads.
    /// Call it while no engine work is running on another thread.
    ///
    /// - Returns: whether the CPU supports the mode (x86-64 and ARM64 do).
    @discardableResult
    public static func setEnabled(_ enabled: Bool) -> Bool {
        guard scn_set_subnormals_flushed(enabled ? 1 : 0) == 0 else { return false }
        _ = scn_set_subnormals_flushed_in_openmp_threads(enabled ? 1 : 0)
        _ = scn_restart_openblas_threads()
        return true
    }

    /// Sets the calling thread's mode to `enabled` if it differs (a pool thread joining its caller's job).
    @inline(__always)
    static func matchCurrentThread(to enabled: Bool) {
        if isEnabledOnCurrentThread != enabled { _ = scn_set_subnormals_flushed(enabled ? 1 : 0) }
    }
}
