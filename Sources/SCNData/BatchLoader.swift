import Foundation
import SCNKernels
import SCNTensor

/// The decoded images of a dataset, kept in memory (FERPlus at 48x48 is 58 MB; RAF-DB at 100x100 RGB
/// 368 MB), each decoded once.
public struct ImageStore: Sendable {
    public let images: [DecodedImage]

    /// What loading skipped (only with `skippingBadImages`): the sample index and why.
    public let skipped: [(index: Int, error: DataError)]

    public init(images: [DecodedImage], skipped: [(index: Int, error: DataError)] = []) {
        self.images = images
        self.skipped = skipped
    }

    /// Decodes every image of `dataset` (in parallel). A bad image is an error naming it, unless
    /// `skippingBadImages`, when it is reported in `skipped` and `dataset` loses that sample.
    public static func load(_ dataset: inout ExpressionDataset, mode: ImageDecoder.ColorMode = .rgb,
                            skippingBadImages: Bool = false) throws -> ImageStore {
        let paths = dataset.imagePaths
        var results = [Result<DecodedImage, DataError>?](repeating: nil, count: paths.count)
        results.withUnsafeMutableBufferPointer { buffer in
            let out = buffer.baseAddress!
            DispatchQueue.concurrentPerform(iterations: ProcessInfo.processInfo.activeProcessorCount) { worker in
                let workers = ProcessInfo.processInfo.activeProcessorCount
                for i in stride(from: worker, to: paths.count, by: workers) {
                    do {
                        out[i] = .success(try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: paths[i]), mode: mode))
                    } catch let error as DataError {
                        out[i] = .failure(error)
                    } catch {
                        out[i] = .failure(DataError(file: paths[i], reason: "\(error)"))
                    }
                }
            }
        }
        var images: [DecodedImage] = [], skipped: [(Int, DataError)] = [], keep: [Int] = []
        for (i, result) in results.enumerated() {
            switch result! {
            case .success(let image): images.append(image); keep.append(i)
            case .failure(let error):
                if !skippingBadImages { throw error }
                skipped.append((i, error))
            }
        }
        if !skipped.isEmpty { dataset = dataset.subset(keep) }
        return ImageStore(images: images, skipped: skipped)
    }
}

extension ExpressionDataset {
    /// The samples at `indices`, in that order, with their current, clean and vote labels and teacher rows.
    public func subset(_ indices: [Int]) -> ExpressionDataset {
        var out = ExpressionDataset(name: name, classNames: classNames, imagePaths: indices.map { imagePaths[$0] },
                                    labels: indices.map { labels[$0] },
                                    cleanLabels: cleanLabels.map { c in indices.map { c[$0] } },
                                    voteDistributions: voteDistributions.map { v in indices.map { v[$0] } })
        out.teacherDistributions = teacherDistributions.map { t in indices.map { t[$0] } }
        out.name = name
        return out
    }
}

/// One mini-batch: images `[N, C, H, W]` (channels-last in memory), their labels, and their dataset
/// indices (SCN relabels by index).
public struct Batch {
    public var images: Tensor
    public var labels: [Int]
    public var indices: [Int]
}

/// Serves a dataset's images in seeded random order each epoch, transformed, as batches; the next
/// batches are prepared on a background thread while the caller trains on the current one.
public final class BatchLoader {
    public let store: ImageStore
    public let batchSize: Int
    public let transforms: [ImageTransform]
    public let seed: UInt64
    public let shuffles: Bool
    public let dropsLastPartialBatch: Bool
    private var preparationSeconds: Double = 0
    private var preparedImages = 0
    private let statisticsLock = NSLock()

    /// Seconds spent preparing batches and images prepared since creation (for throughput reports),
    /// read under the lock the preparing thread writes them with.
    public var preparationStatistics: (seconds: Double, images: Int) {
        statisticsLock.lock()
        defer { statisticsLock.unlock() }
        return (preparationSeconds, preparedImages)
    }

    public init(store: ImageStore, batchSize: Int, transforms: [ImageTransform], seed: UInt64, shuffles: Bool = true,
                dropsLastPartialBatch: Bool = false) {
        precondition(batchSize > 0, "BatchLoader: batch size must be positive")
        self.store = store
        self.batchSize = batchSize
        self.transforms = transforms
        self.seed = seed
        self.shuffles = shuffles
        self.dropsLastPartialBatch = dropsLastPartialBatch
    }

    /// The sample order of `epoch` (a seeded permutation, or `0..<count` without shuffling).
    public func order(epoch: Int) -> [Int] {
        var indices = Array(0..<store.images.count)
        if shuffles {
            var generator = RandomGenerator(seed: seed ^ (UInt64(epoch) &+ 1) &* 0x9E37_79B9_7F4A_7C15)
            indices.shuffle(using: &generator)
        }
        return indices
    }

    /// The batches of `epoch` with `labels` (the dataset's current labels), prefetched `depth` ahead.
    public func batches(epoch: Int, labels: [Int], prefetch depth: Int = 2) -> AnyIterator<Batch> {
        let order = order(epoch: epoch)
        var allStarts = Array(stride(from: 0, to: order.count, by: batchSize))
        if dropsLastPartialBatch, let last = allStarts.last, last + batchSize > order.count { allStarts.removeLast() }
        let starts = allStarts
        let queue = BatchQueue(capacity: max(1, depth))
        let thread = Thread { [self] in
            for start in starts {
                if queue.isCancelled { break }
                let indices = Array(order[start..<min(start + batchSize, order.count)])
                queue.put(self.makeBatch(indices, epoch: epoch, labels: labels))
            }
            queue.finish()
        }
        thread.start()
        let state = PrefetchState(queue: queue)
        return AnyIterator { state.queue.take() }
    }

    /// Builds the batch of `indices` (deterministic in its arguments).
    public func makeBatch(_ indices: [Int], epoch: Int, labels: [Int]) -> Batch {
        let start = DispatchTime.now().uptimeNanoseconds
        let first = transforms.apply(to: FloatImage(store.images[indices[0]]), seed: seed, epoch: epoch, index: indices[0])
        let (h, w, c) = (first.height, first.width, first.channels)
        let tensor = Tensor(uninitializedShape: [indices.count, c, h, w], memoryFormat: .channelsLast)
        for (slot, index) in indices.enumerated() {
            let image = slot == 0 ? first
                : transforms.apply(to: FloatImage(store.images[index]), seed: seed, epoch: epoch, index: index)
            precondition(image.width == w && image.height == h && image.channels == c,
                         "BatchLoader: image \(index) is \(image.width)x\(image.height)x\(image.channels) after the transforms, "
                             + "the batch's first is \(w)x\(h)x\(c); add a resize step")
            image.values.withUnsafeBufferPointer { (tensor.data + slot * h * w * c).update(from: $0.baseAddress!, count: h * w * c) }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        statisticsLock.lock()
        preparationSeconds += seconds
        preparedImages += indices.count
        statisticsLock.unlock()
        return Batch(images: tensor, labels: indices.map { labels[$0] }, indices: indices)
    }

    /// Images per second of batch preparation (one thread).
    public var preparationRate: Double {
        let (seconds, images) = preparationStatistics
        return seconds > 0 ? Double(images) / seconds : 0
    }
}

/// Stops the preparing thread when the consumer drops the iterator, finished or not.
final class PrefetchState {
    let queue: BatchQueue
    init(queue: BatchQueue) { self.queue = queue }
    deinit { queue.cancel() }
}

/// A bounded hand-over queue between the preparing thread and the training loop.
final class BatchQueue: @unchecked Sendable {
    private var items: [Batch] = []
    private var finished = false
    private(set) var isCancelled = false
    private let capacity: Int
    private let condition = NSCondition()

    init(capacity: Int) { self.capacity = capacity }

    func put(_ batch: Batch) {
        condition.lock()
        while items.count >= capacity && !isCancelled { condition.wait() }
        if !isCancelled { items.append(batch) }
        condition.broadcast()
        condition.unlock()
    }

    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    func cancel() {
        condition.lock()
        isCancelled = true
        condition.broadcast()
        condition.unlock()
    }

    func take() -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !finished { condition.wait() }
        guard !items.isEmpty else { return nil }
        let batch = items.removeFirst()
        condition.broadcast()
        return batch
    }
}
