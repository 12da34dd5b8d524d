#define _GNU_SOURCE
#include "floating_point_mode.h"

#include <dlfcn.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
// MXCSR bit 15 flushes subnormal results to zero (FTZ); bit 6 reads subnormal inputs as zero (DAZ).
static const unsigned int flushBits = 0x8040u;

int scn_subnormals_flushed(void) { return (_mm_getcsr() & flushBits) == flushBits; }

int scn_set_subnormals_flushed(int flushed) {
    unsigned int csr = _mm_getcsr();
    _mm_setcsr(flushed ? (csr | flushBits) : (csr & ~flushBits));
    return 0;
}
#elif defined(__aarch64__)
// FPCR bit 24 (FZ) flushes subnormal inputs and results to zero.
static const unsigned long flushBit = 1ul << 24;

static unsigned long readFPCR(void) {
    unsigned long fpcr;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
    return fpcr;
}

int scn_subnormals_flushed(void) { return (readFPCR() & flushBit) != 0; }

int scn_set_subnormals_flushed(int flushed) {
    unsigned long fpcr = readFPCR();
    fpcr = flushed ? (fpcr | flushBit) : (fpcr & ~flushBit);
    __asm__ __volatile__("msr fpcr, %0" : : "r"(fpcr));
    return 0;
}
#else
int scn_subnormals_flushed(void) { return 0; }
int scn_set_subnormals_flushed(int flushed) { (void)flushed; return -1; }
#endif

// libgomp's entry point for `#pragma omp parallel` (the GCC OpenMP ABI, which Debian's oneDNN is built
// against), looked up at run time so that a process without libgomp needs nothing.
typedef void (*ParallelEntry)(void (*body)(void *), void *data, unsigned threadCount, unsigned flags);

static void setOnOpenMPThread(void *flushed) { scn_set_subnormals_flushed(*(int *)flushed); }

int scn_set_subnormals_flushed_in_openmp_threads(int flushed) {
    ParallelEntry parallel = (ParallelEntry)dlsym(RTLD_DEFAULT, "GOMP_parallel");
    if (!parallel) return 0;
    parallel(setOnOpenMPThread, &flushed, 0, 0);
    return 1;
}

// OpenBLAS's pthreads server: `blas_thread_shutdown_` joins its threads, and its next threaded call
// starts them again (the path OpenBLAS itself takes after a fork).
typedef int (*ShutdownEntry)(void);

int scn_restart_openblas_threads(void) {
    ShutdownEntry shutdown = (ShutdownEntry)dlsym(RTLD_DEFAULT, "blas_thread_shutdown_");
    if (!shutdown) return 0;
    shutdown();
    return 1;
}
