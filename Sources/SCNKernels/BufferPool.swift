import Foundation

/// Reuses float buffers, so a training loop that allocates the same activations every step stops paying
/// for page faults after its first step (glibc returns large blocks to the system; PyTorch loses up to
/// 23% of a step to that on this machine, DESIGN.md).
///
/// A request takes the smallest cached buffer that is at least as large and at most `slack` times larger
/// (best fit). On a miss, cached buffers are given back to the system while the memory held would
/// exceed the high-water mark of memory in use times `slack`, so held memory stays near the true peak.
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool(slack: EngineSettings.value(of: "SCN_POOL_SLACK").flatMap { Double($0) } ?? 1.5)

    /// Cached buffers by capacity (floats).
    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    /// Cached capacities in increasing order (each once).
    private var sizes: [Int] = []
    private var cachedBytes = 0
    private var liveBytes = 0
    private var peakLiveBytes = 0
    private var allocatedBytes = 0
    private let lock = NSLock()
    private let slack: Double

    public init(slack: Double) { self.slack = slack }

    /// A 64-byte aligned buffer of at least `count` floats, uninitialized, and its capacity (pass it to
    /// `release`).
    public func acquire(_ count: Int) -> (pointer: UnsafeMutablePointer<Float>, capacity: Int) {
        let n = max(count, 1)
        lock.lock()
        let limit = Int(Double(n) * slack)
        var index = lowerBound(n)
        if index < sizes.count, sizes[index] <= limit {
            let size = sizes[index]
            var list = free[size]!
            let p = list.removeLast()
            if list.isEmpty { free[size] = nil; sizes.remove(at: index) } else { free[size] = list }
            cachedBytes -= size * 4
            liveBytes += size * 4
            peakLiveBytes = max(peakLiveBytes, liveBytes)
            lock.unlock()
            return (p, size)
        }
        liveBytes += n * 4
        peakLiveBytes = max(peakLiveBytes, liveBytes)
        var evicted: [UnsafeMutablePointer<Float>] = []
        let ceiling = Int(Double(peakLiveBytes) * slack)
        while allocatedBytes + n * 4 > ceiling, !sizes.isEmpty {
            // Give back the largest cached buffers first: fewest calls for the most memory.
            index = sizes.count - 1
            let size = sizes[index]
            var list = free[size]!
            evicted.append(list.removeLast())
            if list.isEmpty { free[size] = nil; sizes.remove(at: index) } else { free[size] = list }
            cachedBytes -= size * 4
            allocatedBytes -= size * 4
        }
        allocatedBytes += n * 4
        lock.unlock()
        for p in evicted { UnsafeMutableRawPointer(p).deallocate() }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: n * 4, alignment: 64)
        return (raw.bindMemory(to: Float.self, capacity: n), n)
    }

    /// Gives back a buffer from `acquire`, with the capacity `acquire` returned.
    public func release(_ pointer: UnsafeMutablePointer<Float>, capacity: Int) {
        lock.lock()
        liveBytes -= capacity * 4
        if free[capacity] == nil {
            free[capacity] = [pointer]
            sizes.insert(capacity, at: lowerBound(capacity))
        } else {
            free[capacity]!.append(pointer)
        }
        cachedBytes += capacity * 4
        lock.unlock()
    }

    private func lowerBound(_ n: Int) -> Int {
        var low = 0, high = sizes.count
        while low < high {
            let mid = (low + high) / 2
            if sizes[mid] < n { low = mid + 1 } else { high = mid }
        }
        return low
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
        sizes.removeAll()
        cachedBytes = 0
        lock.unlock()
    }
}

/// A scoped scratch buffer of at least `count` floats from the shared pool.
@inline(__always)
public func withScratch<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
    let (p, capacity) = BufferPool.shared.acquire(count)
    defer { BufferPool.shared.release(p, capacity: capacity) }
    return try body(p)
}
