import Foundation

/// Reuses float buffers by exact size, so a training loop that allocates the same activations every step
/// stops paying for page faults after its first step (glibc returns large blocks to the system; PyTorch
/// loses up to 23% of a step to that on this machine, DESIGN.md).
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool(maximumCachedBytes: 16 << 30)

    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var cachedBytes = 0
    private var liveBytes = 0
    private var peakLiveBytes = 0
    private var allocatedBytes = 0
    private let lock = NSLock()
    private let maximumCachedBytes: Int

    public init(maximumCachedBytes: Int) { self.maximumCachedBytes = maximumCachedBytes }

    /// A 64-byte aligned buffer of `count` floats, uninitialized.
    public func acquire(_ count: Int) -> UnsafeMutablePointer<Float> {
        let n = max(count, 1)
        lock.lock()
        liveBytes += n * 4
        peakLiveBytes = max(peakLiveBytes, liveBytes)
        if var list = free[n], let p = list.popLast() {
            free[n] = list
            cachedBytes -= n * 4
            lock.unlock()
            return p
        }
        // A miss: rather than let cached buffers of other sizes pile up above the high-water mark of
        // memory in use, give some back first (held memory stays near the true peak).
        var evicted: [UnsafeMutablePointer<Float>] = []
        while allocatedBytes + n * 4 > peakLiveBytes, cachedBytes > 0,
              let (size, list) = free.max(by: { $0.key * $0.value.count < $1.key * $1.value.count }) {
            var remaining = list
            evicted.append(remaining.removeLast())
            free[size] = remaining.isEmpty ? nil : remaining
            cachedBytes -= size * 4
            allocatedBytes -= size * 4
        }
        allocatedBytes += n * 4
        lock.unlock()
        for p in evicted { UnsafeMutableRawPointer(p).deallocate() }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: n * 4, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: n)
    }

    /// Gives a buffer from `acquire(count)` back for reuse.
    public func release(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        let n = max(count, 1)
        lock.lock()
        liveBytes -= n * 4
        if cachedBytes + n * 4 <= maximumCachedBytes {
            free[n, default: []].append(pointer)
            cachedBytes += n * 4
            lock.unlock()
        } else {
            allocatedBytes -= n * 4
            lock.unlock()
            UnsafeMutableRawPointer(pointer).deallocate()
        }
    }

    /// Bytes in use now, the most ever in use at once, and the bytes held from the system (in use plus
    /// cached for reuse).
    public var statistics: (live: Int, peakLive: Int, allocated: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (liveBytes, peakLiveBytes, allocatedBytes)
    }

    /// Frees every cached buffer.
    public func trim() {
        lock.lock()
        for (size, list) in free {
            for p in list { UnsafeMutableRawPointer(p).deallocate() }
            allocatedBytes -= size * 4 * list.count
        }
        free.removeAll()
        cachedBytes = 0
        lock.unlock()
    }
}

/// A scoped scratch buffer from the shared pool.
@inline(__always)
public func withScratch<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
    let p = BufferPool.shared.acquire(count)
    defer { BufferPool.shared.release(p, count: count) }
    return try body(p)
}
