import Foundation

/// Convolution as one matrix product per kernel tap, over only the output positions where that tap
/// lands inside the input.
///
/// On small feature maps most taps of a padded 3x3 kernel fall on padding: at 2x2 (ResNet's last stage
/// for 48x48 faces) only 16 of 36 tap-position pairs touch data. oneDNN's direct kernels reach about a
/// third of this CPU's peak there; gathering each tap's valid rows and multiplying them with OpenBLAS does
/// only the useful work, in large products. Activations are channels-last (`[N, H, W, C]`), weights
/// `[O, I, kH, kW]`, as for `ConvolutionKernel`.
public enum TapConvolutionKernel {
    /// The output rectangle `[i0, i1) x [j0, j1)` where tap `(u, v)` reads inside the input.
    struct Tap {
        var u, v: Int
        var i0, i1, j0, j1: Int
        var rows: Int { (i1 - i0) * (j1 - j0) }
        func covers(_ g: ConvolutionGeometry) -> Bool { i0 == 0 && j0 == 0 && i1 == g.outputHeight && j1 == g.outputWidth }
    }

    static func taps(_ g: ConvolutionGeometry) -> [Tap] {
        func range(_ k: Int, stride s: Int, padding p: Int, input: Int, output: Int) -> (Int, Int) {
            // i*s - p + k in [0, input)  <=>  i in [ceil((p-k)/s), floor((input-1+p-k)/s)]
            let low = max(0, (p - k + s - 1) >= 0 ? (p - k + s - 1) / s : -((k - p) / s))
            let highInclusive = (input - 1 + p - k) >= 0 ? (input - 1 + p - k) / s : -1
            return (low, min(output, highInclusive + 1))
        }
        var result: [Tap] = []
        for u in 0..<g.kernelHeight {
            for v in 0..<g.kernelWidth {
                let (i0, i1) = range(u, stride: g.strideHeight, padding: g.paddingHeight, input: g.inputHeight, output: g.outputHeight)
                let (j0, j1) = range(v, stride: g.strideWidth, padding: g.paddingWidth, input: g.inputWidth, output: g.outputWidth)
                if i1 > i0 && j1 > j0 { result.append(Tap(u: u, v: v, i0: i0, i1: i1, j0: j0, j1: j1)) }
            }
        }
        // Full-coverage taps first, so the first product can write the output without zeroing it.
        return result.filter { $0.covers(g) } + result.filter { !$0.covers(g) }
    }

    /// Whether the tap method is expected to beat oneDNN's direct kernels for `g`: output maps of at most
    /// 4x4 positions with at least 64 input channels (measured on this project's machine; see
    /// docs/PERFORMANCE.md). `SCN_CONVOLUTION=onednn` or `=taps` forces one method everywhere.
    public static func isPreferred(for g: ConvolutionGeometry) -> Bool {
        switch ConvolutionMethodOverride.current {
        case .onednn: return false
        case .taps: return true
        case .automatic: return g.outputHeight * g.outputWidth <= 16 && g.inputChannels >= 64 && g.kernelHeight * g.kernelWidth > 1
        }
    }

    /// Whether `g`'s weight gradient runs by taps: where `isPreferred`, and for strided 1x1 convolutions
    /// (ResNet's downsampling shortcuts; one gathered matrix product), whose weight gradient from oneDNN
    /// 2.6's AVX2 kernel differs from run to run on two threads (measured on AMD Zen 3), which would break
    /// bit-identical resumption. Their forward and input gradient stay with oneDNN, whose results for an
    /// image do not depend on the rest of its batch.
    public static func isPreferredForWeightGradient(of g: ConvolutionGeometry) -> Bool {
        let isStridedPointwise = g.kernelHeight * g.kernelWidth == 1 && (g.strideHeight > 1 || g.strideWidth > 1)
        return isPreferred(for: g) || (ConvolutionMethodOverride.current == .automatic && isStridedPointwise)
    }

    /// Calls `body(row, offset)` for every output position of `tap` in every image, in parallel over
    /// images: `row` counts the positions in order (image-major), `offset` is the position's first
    /// element in a channels-last tensor of `channels`, at the tap's input position (`onInput`) or at
    /// the output position.
    private static func forEachPosition(_ g: ConvolutionGeometry, _ tap: Tap, channels: Int, onInput: Bool,
                                        _ body: (_ row: Int, _ offset: Int) -> Void) {
        let perImage = tap.rows
        ThreadPool.shared.parallelFor(g.batch, minimumChunk: max(1, 4096 / max(1, perImage * channels))) { images in
            for n in images {
                var r = n * perImage
                for i in tap.i0..<tap.i1 {
                    for j in tap.j0..<tap.j1 {
                        body(r, onInput
                            ? ((n * g.inputHeight + i * g.strideHeight - g.paddingHeight + tap.u) * g.inputWidth
                               + j * g.strideWidth - g.paddingWidth + tap.v) * channels
                            : ((n * g.outputHeight + i) * g.outputWidth + j) * channels)
                        r += 1
                    }
                }
            }
        }
    }

    /// Copies the `channels`-vector of `source` at each of the tap's positions into consecutive rows.
    private static func gather(_ g: ConvolutionGeometry, _ tap: Tap, from source: UnsafePointer<Float>,
                               channels: Int, onInput: Bool, into rows: UnsafeMutablePointer<Float>) {
        forEachPosition(g, tap, channels: channels, onInput: onInput) { r, offset in
            (rows + r * channels).update(from: source + offset, count: channels)
        }
    }

    /// Adds consecutive rows of `rows` into `destination` at the positions `gather` reads.
    private static func scatterAdd(_ g: ConvolutionGeometry, _ tap: Tap, rows: UnsafePointer<Float>,
                                   channels: Int, onInput: Bool, into destination: UnsafeMutablePointer<Float>) {
        forEachPosition(g, tap, channels: channels, onInput: onInput) { r, offset in
            let d = destination + offset, s = rows + r * channels
            for c in 0..<channels { d[c] += s[c] }
        }
    }

    /// For each kernel position `u * kW + v`, its index in `taps`, or -1 when the tap never reads data.
    private static func tapIndex(_ g: ConvolutionGeometry, _ taps: [Tap]) -> [Int] {
        var index = [Int](repeating: -1, count: g.kernelHeight * g.kernelWidth)
        for (t, tap) in taps.enumerated() { index[tap.u * g.kernelWidth + tap.v] = t }
        return index
    }

    /// Weights `[O, I, kH, kW]` regrouped as one `[O, I]` matrix per tap, in `taps` order: one pass
    /// reading the weights in order.
    private static func weightsPerTap(_ g: ConvolutionGeometry, _ taps: [Tap], _ weight: UnsafePointer<Float>,
                                      into out: UnsafeMutablePointer<Float>) {
        let (oi, kk) = (g.outputChannels * g.inputChannels, g.kernelHeight * g.kernelWidth)
        let index = tapIndex(g, taps)
        index.withUnsafeBufferPointer { index in
            ThreadPool.shared.parallelFor(oi, minimumChunk: 4096) { range in
                for j in range {
                    let w = weight + j * kk
                    for k in 0..<kk where index[k] >= 0 { out[index[k] * oi + j] = w[k] }
                }
            }
        }
    }

    /// The inverse of `weightsPerTap` for gradients: per-tap `[O, I]` blocks into `[O, I, kH, kW]`, with
    /// zeros at taps that never read data.
    private static func weightGradientFromTaps(_ g: ConvolutionGeometry, _ taps: [Tap], _ blocks: UnsafePointer<Float>,
                                               into weightGradient: UnsafeMutablePointer<Float>) {
        let (oi, kk) = (g.outputChannels * g.inputChannels, g.kernelHeight * g.kernelWidth)
        let index = tapIndex(g, taps)
        index.withUnsafeBufferPointer { index in
            ThreadPool.shared.parallelFor(oi, minimumChunk: 4096) { range in
                for j in range {
                    let w = weightGradient + j * kk
                    for k in 0..<kk { w[k] = index[k] >= 0 ? blocks[index[k] * oi + j] : 0 }
                }
            }
        }
    }

    /// Weights regrouped per tap (`[taps, O, I]`), made once per forward pass and reused by its
    /// backward pass (the weights do not change between them).
    public final class PackedWeights {
        let storage: UnsafeMutablePointer<Float>
        let capacity: Int

        init(_ g: ConvolutionGeometry, _ taps: [Tap], _ weight: UnsafePointer<Float>) {
            (storage, capacity) = BufferPool.shared.acquire(max(1, taps.count * g.outputChannels * g.inputChannels))
            weightsPerTap(g, taps, weight, into: storage)
        }

        deinit { BufferPool.shared.release(storage, capacity: capacity) }
    }

    /// The per-tap weights for `g` (pass them to `forward` and `backwardData`).
    public static func pack(_ g: ConvolutionGeometry, weight: UnsafePointer<Float>) -> PackedWeights {
        KernelProfiler.measure("conv pack weights (taps)") { PackedWeights(g, taps(g), weight) }
    }

    public static func forward(_ g: ConvolutionGeometry, input: UnsafePointer<Float>, weights: PackedWeights,
                               bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>) {
        FLOPCounter.add(g.forwardFLOPs)  // nominal, as for the direct method; the products are not counted
        KernelProfiler.measure("conv forward (taps)") { FLOPCounter.withoutCounting {
            let taps = taps(g)
            let (ci, co) = (g.inputChannels, g.outputChannels)
            let rowsAll = g.batch * g.outputHeight * g.outputWidth
            let w = weights.storage
            if taps.isEmpty || !taps[0].covers(g) { output.update(repeating: 0, count: rowsAll * co) }
            withScratch(rowsAll * max(ci, co) * 2) { scratch in
                let a = scratch, c = scratch + rowsAll * max(ci, co)
                for (t, tap) in taps.enumerated() {
                    let m = g.batch * tap.rows
                    gather(g, tap, from: input, channels: ci, onInput: true, into: a)
                    if tap.covers(g) {
                        MatrixMultiply.gemm(transposeB: true, m: m, n: co, k: ci, a: a, b: w + t * co * ci,
                                            beta: t == 0 ? 0 : 1, c: output)
                    } else {
                        MatrixMultiply.gemm(transposeB: true, m: m, n: co, k: ci, a: a, b: w + t * co * ci, c: c)
                        scatterAdd(g, tap, rows: c, channels: co, onInput: false, into: output)
                    }
                }
            }
            if let bias {
                for r in 0..<rowsAll { let y = output + r * co; for k in 0..<co { y[k] += bias[k] } }
            }
        } }
    }

    public static func backwardData(_ g: ConvolutionGeometry, outputGradient: UnsafePointer<Float>,
                                    weights: PackedWeights, inputGradient: UnsafeMutablePointer<Float>) {
        KernelProfiler.measure("conv backward data (taps)") {
            let taps = taps(g)
            let (ci, co) = (g.inputChannels, g.outputChannels)
            let rowsAll = g.batch * g.outputHeight * g.outputWidth
            let w = weights.storage
            inputGradient.update(repeating: 0, count: g.inputCount)
            withScratch(rowsAll * max(ci, co) * 2) { scratch in
                let b = scratch, c = scratch + rowsAll * max(ci, co)
                for (t, tap) in taps.enumerated() {
                    let m = g.batch * tap.rows
                    let dy: UnsafePointer<Float>
                    if tap.covers(g) { dy = outputGradient } else {
                        gather(g, tap, from: outputGradient, channels: co, onInput: false, into: b)
                        dy = UnsafePointer(b)
                    }
                    MatrixMultiply.gemm(m: m, n: ci, k: co, a: dy, b: w + t * co * ci, c: c)
                    scatterAdd(g, tap, rows: c, channels: ci, onInput: true, into: inputGradient)
                }
            }
        }
    }

    public static func backwardWeights(_ g: ConvolutionGeometry, input: UnsafePointer<Float>,
                                       outputGradient: UnsafePointer<Float>, weightGradient: UnsafeMutablePointer<Float>,
                                       biasGradient: UnsafeMutablePointer<Float>?) {
        KernelProfiler.measure("conv backward weights (taps)") {
            let taps = taps(g)
            let (ci, co) = (g.inputChannels, g.outputChannels)
            let rowsAll = g.batch * g.outputHeight * g.outputWidth
            withScratch(taps.count * co * ci) { blocks in
                withScratch(rowsAll * (ci + co)) { scratch in
                    let a = scratch, b = scratch + rowsAll * ci
                    for (t, tap) in taps.enumerated() {
                        let m = g.batch * tap.rows
                        gather(g, tap, from: input, channels: ci, onInput: true, into: a)
                        let dy: UnsafePointer<Float>
                        if tap.covers(g) { dy = outputGradient } else {
                            gather(g, tap, from: outputGradient, channels: co, onInput: false, into: b)
                            dy = UnsafePointer(b)
                        }
                        MatrixMultiply.gemm(transposeA: true, m: co, n: ci, k: m, a: dy, b: a, c: blocks + t * co * ci)
                    }
                }
                weightGradientFromTaps(g, taps, blocks, into: weightGradient)
            }
            if let biasGradient {
                biasGradient.update(repeating: 0, count: co)
                for r in 0..<rowsAll { let y = outputGradient + r * co; for k in 0..<co { biasGradient[k] += y[k] } }
            }
        }
    }
}

/// Which convolution method to use, from the `SCN_CONVOLUTION` environment variable.
enum ConvolutionMethodOverride {
    case automatic, onednn, taps

    static let current: ConvolutionMethodOverride =
        EngineSettings.value(of: "SCN_CONVOLUTION").flatMap { named($0) } ?? .automatic

    /// The method a value of `SCN_CONVOLUTION` names (`onednn` or `taps`), nil for any other value.
    static func named(_ value: String) -> ConvolutionMethodOverride? {
        switch value {
        case "onednn": return .onednn
        case "taps": return .taps
        default: return nil
        }
    }
}

