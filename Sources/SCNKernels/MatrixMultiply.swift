import COpenBLAS

/// Row-major single-precision matrix products through OpenBLAS.
///
/// OpenBLAS (pthreads build) threads its own products. Its threads spin for a while after each call and
/// slow the oneDNN primitive that follows, but this measured faster end to end than OpenBLAS's OpenMP
/// build (one passive pool with oneDNN) or single-threaded products split over `ThreadPool`
/// (docs/PERFORMANCE.md).
public enum MatrixMultiply {
    /// `c[m,n] = alpha * op(a) * op(b) + beta * c`, with `op(a)` `[m,k]` and `op(b)` `[k,n]`;
    /// `a` is stored `[m,k]` (or `[k,m]` when `transposeA`), `b` `[k,n]` (or `[n,k]` when `transposeB`).
    public static func gemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>) {
        guard m > 0, n > 0 else { return }
        FLOPCounter.add(2 * Double(m) * Double(n) * Double(k))
        if k == 0 {
            if beta == 0 { c.update(repeating: 0, count: m * n) } else if beta != 1 {
                for i in 0..<(m * n) { c[i] *= beta }
            }
            return
        }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(transposeA ? m : k),
                    b, blasint(transposeB ? k : n), beta, c, blasint(n))
    }
}

/// Counts the floating-point operations of convolutions and matrix products while enabled (one
/// multiply-add is 2 FLOPs), for reporting achieved GFLOP/s. Off by default; not thread-safe.
public enum FLOPCounter {
    nonisolated(unsafe) private static var total: Double = 0
    nonisolated(unsafe) private static var enabled = false

    nonisolated(unsafe) private static var suspended = false

    @inline(__always)
    static func add(_ flops: Double) { if enabled && !suspended { total += flops } }

    /// Runs `body` without counting: for kernels that count their nominal FLOPs themselves.
    static func withoutCounting<R>(_ body: () -> R) -> R {
        let previous = suspended
        suspended = true
        defer { suspended = previous }
        return body()
    }

    /// The FLOPs of the convolutions and matrix products that `body` runs.
    public static func counting(_ body: () -> Void) -> Double {
        total = 0
        enabled = true
        body()
        enabled = false
        return total
    }
}
