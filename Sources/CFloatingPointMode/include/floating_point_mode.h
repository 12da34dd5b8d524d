#ifndef SCN_FLOATING_POINT_MODE_H
#define SCN_FLOATING_POINT_MODE_H

/// Whether the calling thread flushes subnormal floating-point numbers to zero: both subnormal results
/// (x86 FTZ, ARM FZ) and subnormal inputs (x86 DAZ; ARM's FZ covers both). 1 if it does, 0 if not.
int scn_subnormals_flushed(void);

/// Sets or clears subnormal flushing on the calling thread only. Returns 0 on success, -1 on a CPU
/// this file does not know (nothing changed).
int scn_set_subnormals_flushed(int flushed);

/// Sets or clears subnormal flushing on every thread of the GNU OpenMP (libgomp) pool that oneDNN runs
/// its primitives on, by running one parallel region. Returns 1 if it ran, 0 when libgomp is not loaded
/// in this process.
int scn_set_subnormals_flushed_in_openmp_threads(int flushed);

/// Stops OpenBLAS's worker threads (pthreads build), which it started when it loaded; its next threaded
/// call starts new ones from the calling thread, and they inherit that thread's floating-point mode.
/// Call it while no BLAS call is running. Returns 1 if OpenBLAS's threads were stopped, 0 when this
/// process has no OpenBLAS pthreads server.
int scn_restart_openblas_threads(void);

#endif
