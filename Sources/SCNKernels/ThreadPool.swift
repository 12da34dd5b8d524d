import Foundation

/// A small persistent pool of worker threads for the elementwise loops that run between library calls.
///
/// `DispatchQueue.concurrentPerform` scales poorly for the sub-millisecond chunks typical of training
/// (DESIGN.md); threads that stay alive and wake on a condition variable reach 1.8-2x on two cores.
public final class ThreadPool: @unchecked Sendable {
    /// The process-wide pool, one thread per available core (the caller is one of them).
    public static let shared = ThreadPool(
        threadCount: EngineSettings.value(of: "SCN_NUM_THREADS").flatMap { Int($0) }
            ?? ProcessInfo.processInfo.activeProcessorCount)

    /// Threads that take part in a parallel loop, including the calling thread.
    public let threadCount: Int

    private let condition = NSCondition()
    private var job: ((Int) -> Void)?
    /// The caller's subnormal mode, which every thread takes for the current job (`SubnormalFlushing`).
    private var jobFlushesSubnormals = false
    private var generation: UInt64 = 0
    private var pending = 0
    private var busy = false

    public init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
        for worker in 1..<self.threadCount {
            let thread = Thread { [unowned self] in self.workerLoop(worker) }
            thread.name = "scn-pool-\(worker)"
            thread.start()
        }
    }

    private func workerLoop(_ worker: Int) {
        var seen: UInt64 = 0
        while true {
            condition.lock()
            while generation == seen { condition.wait() }
            seen = generation
            runCurrentJob(worker)
            condition.lock()
            pending -= 1
            if pending == 0 { condition.broadcast() }
            condition.unlock()
        }
    }

    /// Calls the current job with the lock held on entry and released on exit; the job's reference
    /// ends with this call, before the caller can see the work as done (`withoutActuallyEscaping`).
    @inline(never)
    private func runCurrentJob(_ worker: Int) {
        let body = job!
        let flushesSubnormals = jobFlushesSubnormals
        condition.unlock()
        SubnormalFlushing.matchCurrentThread(to: flushesSubnormals)
        body(worker)
    }

    /// Runs `body(t)` once for every thread index `t` in `0..<threadCount`, the caller taking `t == 0`,
    /// each thread in the caller's subnormal mode (`SubnormalFlushing`). A nested call (from inside a
    /// body) runs serially on the calling thread.
    public func runOnAllThreads(_ body: (Int) -> Void) {
        condition.lock()
        if threadCount == 1 || busy {
            condition.unlock()
            for t in 0..<threadCount { body(t) }
            return
        }
        busy = true
        condition.unlock()
        withoutActuallyEscaping(body) { body in
            condition.lock()
            job = body
            jobFlushesSubnormals = SubnormalFlushing.isEnabledOnCurrentThread
            pending = threadCount - 1
            generation &+= 1
            condition.broadcast()
            condition.unlock()
            body(0)
            condition.lock()
            while pending > 0 { condition.wait() }
            job = nil
            busy = false
            condition.unlock()
        }
    }

    /// Splits `0..<count` into at most `threadCount` contiguous ranges of at least `minimumChunk`
    /// items and runs `body` on each in parallel.
    public func parallelFor(_ count: Int, minimumChunk: Int = 16_384, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(threadCount, max(1, count / max(1, minimumChunk)))
        if chunks <= 1 { body(0..<count); return }
        runOnAllThreads { t in
            guard t < chunks else { return }
            let start = count * t / chunks
            let end = count * (t + 1) / chunks
            if start < end { body(start..<end) }
        }
    }
}
