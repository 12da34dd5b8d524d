import Foundation

/// Reuses float buffers by exact size, so a training loop that allocates the same activations every step
/// stops paying for page faults after its first step (glibc returns large blocks to the system; PyTorch
/// loses up to 23% of a step to that on this machine, DESIGN.md).
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool(maximumCachedBytes: 16 << 30)

    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var cachedBytes = 0
    private let lock = NSLock()
    private let maximumCachedBytes: Int

    public init(maximumCachedBytes: Int) { self.maximumCachedBytes = maximumCachedBytes }

    /// A 64-byte aligned buffer of `count` floats, uninitialized.
    public func acquire(_ count: Int) -> UnsafeMutablePointer<Float> {
        let n = max(count, 1)
        lock.lock()
        if var list = free[n], let p = list.popLast() {
            free[n] = list
            cachedBytes -= n * 4
            lock.unlock()
            return p
        }
        lock.unlock()
        let raw = UnsafeMutableRawPointer.allocate(byteCount: n * 4, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: n)
    }

    /// Gives a buffer from `acquire(count)` back for reuse.
    public func release(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        let n = max(count, 1)
        lock.lock()
        if cachedBytes + n * 4 <= maximumCachedBytes {
            free[n, default: []].append(pointer)
            cachedBytes += n * 4
            lock.unlock()
        } else {
            lock.unlock()
            UnsafeMutableRawPointer(pointer).deallocate()
        }
    }

    /// Frees every cached buffer.
    public func trim() {
        lock.lock()
        for (_, list) in free { for p in list { UnsafeMutableRawPointer(p).deallocate() } }
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
