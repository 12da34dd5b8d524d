import ArgumentParser
import Foundation
import SCNKernels
import SCNLayers
import SCNTensor

/// `scn bench`: training and inference throughput of a ResNet on synthetic data.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure training and inference speed and peak memory of a ResNet on synthetic images.",
        discussion: """
            Times full training steps (forward, cross-entropy, backward, SGD with momentum) and inference \
            forwards in evaluation mode, after warm-up steps, on random images and labels; images per \
            second are from the median step. Prints one line of figures, or one JSON object with --json. \
            Use a release build: swift run -c release scn bench.
            """)

    @Option(help: "Backbone: resnet18 or resnet34.")
    var model = "resnet18"
    @Option(help: "Input height and width in pixels.")
    var input = 48
    @Option(help: "Images per batch.")
    var batch = 64
    @Option(help: "Output classes.")
    var classes = 7
    @Option(help: "Stem: imagenet (7x7/2 + max pool, torchvision's) or small (3x3/1, no max pool).")
    var stem = "imagenet"
    @Option(help: "Convolution multiply format: float32 or bfloat16.")
    var precision = "float32"
    @Option(help: "Timed training steps.")
    var steps = 10
    @Option(help: "Untimed warm-up steps before timing.")
    var warmup = 2
    @Option(help: "Timed inference batches.")
    var inferBatches = 10
    @Flag(help: "Print one JSON object.")
    var json = false
    @Flag(help: "Print the time spent in each kernel and backward rule during the timed training steps, then in each kernel during the timed inference batches (stderr).")
    var profile = false

    func validate() throws {
        guard ["resnet18", "resnet34"].contains(model) else {
            throw ValidationError("--model must be resnet18 or resnet34, not '\(model)'")
        }
        guard ResNet.Stem(rawValue: stem == "imagenet" ? "imageNet" : stem) != nil else {
            throw ValidationError("--stem must be imagenet or small, not '\(stem)'")
        }
        guard let convolutionPrecision = ConvolutionPrecision(rawValue: precision) else {
            throw ValidationError("--precision must be float32 or bfloat16, not '\(precision)'")
        }
        if let reason = convolutionPrecision.unsupportedReason { throw ValidationError("--precision \(precision): \(reason); use float32") }
        guard input >= 8, batch >= 2, steps >= 1, warmup >= 0, inferBatches >= 1, classes >= 2 else {
            throw ValidationError("--input must be at least 8, --batch at least 2, --steps and --infer-batches at least 1")
        }
    }

    /// The profiler's figures, milliseconds and calls per repetition (a step or a batch), under `title`.
    private static func profileTable(_ title: String, repetitions: Int) -> String {
        var text = "\(title), milliseconds:\n"
        for (label, seconds, calls) in KernelProfiler.report() {
            text += String(format: "%9.2f  %5d calls  %@\n", seconds * 1000 / Double(repetitions), calls / repetitions, label)
        }
        return text
    }

    func run() throws {
        let depth = model == "resnet34" ? 34 : 18
        let net = ResNet(depth: depth, classCount: classes, stem: stem == "small" ? .small : .imageNet, seed: 1)
        let convolutionPrecision = ConvolutionPrecision(rawValue: precision)!
        net.setConvolutionPrecision(convolutionPrecision)
        var generator = RandomGenerator(seed: 2)
        let images = Tensor.normal([batch, 3, input, input], generator: &generator).toChannelsLast()
        let labels = (0..<batch).map { _ in Int(generator.next() % UInt64(classes)) }
        let optimizer = SGD(net.namedParameters(), learningRate: 0.01, momentum: 0.9, weightDecay: 5e-4)

        let forwardFLOPsPerImage = FLOPCounter.counting {
            GradientMode.withoutGradients { _ = net(images.rows(0..<1)) }
        }
        func trainStep() -> Float {
            net.zeroGrad()
            let loss = KernelProfiler.measure("forward (all)") { crossEntropy(net(images), labels: labels) }
            KernelProfiler.measure("backward (all)") { loss.backward() }
            KernelProfiler.measure("optimizer step") { optimizer.step() }
            return loss.item()
        }
        net.train()
        for _ in 0..<warmup { _ = trainStep() }
        KernelProfiler.isEnabled = profile
        var lastLoss: Float = 0
        var stepSeconds: [Double] = []
        for _ in 0..<steps {
            let start = DispatchTime.now().uptimeNanoseconds
            lastLoss = trainStep()
            stepSeconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let trainSeconds = stepSeconds.reduce(0, +)
        // The median step: this machine's neighbours make single steps up to 50% slower now and then.
        let medianStep = stepSeconds.sorted()[steps / 2]
        KernelProfiler.isEnabled = false
        if profile {
            var text = Self.profileTable("per training step", repetitions: steps)
            text += String(format: "%9.2f  total step\n", trainSeconds * 1000 / Double(steps))
            let pool = BufferPool.shared.statistics
            text += "tensor memory: peak in use \(pool.peakLive >> 20) MiB, held \(pool.allocated >> 20) MiB\n"
            FileHandle.standardError.write(text.data(using: .utf8)!)
        }
        let trainPeak = peakResidentBytes()

        // Inference as scn eval and predict run it: weights prepared for the convolutions once (in the
        // warm-up), not per batch.
        net.eval()
        let inferBatch = images
        var batchSeconds: [Double] = []
        GradientMode.withoutGradients { FrozenWeights.whileFrozen {
            for _ in 0..<max(1, warmup) { _ = net(inferBatch) }
            KernelProfiler.reset()
            KernelProfiler.isEnabled = profile
            for _ in 0..<inferBatches {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = KernelProfiler.measure("forward (all)") { net(inferBatch) }
                batchSeconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
        } }
        KernelProfiler.isEnabled = false
        let medianBatch = batchSeconds.sorted()[inferBatches / 2]
        if profile {
            var text = Self.profileTable("per inference batch", repetitions: inferBatches)
            text += String(format: "%9.2f  total batch (median %.2f)\n", batchSeconds.reduce(0, +) * 1000 / Double(inferBatches), medianBatch * 1000)
            FileHandle.standardError.write(text.data(using: .utf8)!)
        }

        let trainRate = Double(batch) / medianStep
        let inferRate = Double(batch) / medianBatch
        // A training step costs about three forwards (forward, backward-data, backward-weights).
        let trainGFLOPs = 3 * forwardFLOPsPerImage * trainRate / 1e9
        let inferGFLOPs = forwardFLOPsPerImage * inferRate / 1e9
        let result: [(String, Any)] = [
            ("model", model), ("input", input), ("batch", batch), ("stem", stem), ("precision", precision),
            ("layout", ConvolutionLayout.current(for: convolutionPrecision).rawValue),
            ("inference", InferenceMode.current.rawValue), ("threads", ThreadPool.shared.threadCount), ("steps", steps),
            ("train_images_per_second", round3(trainRate)), ("train_median_seconds_per_step", round3(medianStep)),
            ("train_mean_seconds_per_step", round3(trainSeconds / Double(steps))),
            ("train_gflops_per_second", round3(trainGFLOPs)),
            ("infer_images_per_second", round3(inferRate)), ("infer_gflops_per_second", round3(inferGFLOPs)),
            ("forward_gflops_per_image", round3(forwardFLOPsPerImage / 1e9)),
            ("peak_rss_bytes", trainPeak), ("last_loss", round3(Double(lastLoss))), ("onednn", DNNLContext.version),
        ]
        if json {
            print("{" + result.map { "\"\($0.0)\": " + jsonValue($0.1) }.joined(separator: ", ") + "}")
        } else {
            print(result.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
        }
    }
}

private func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

private func jsonValue(_ v: Any) -> String {
    if let s = v as? String { return "\"\(s)\"" }
    return "\(v)"
}

/// The process's peak resident set size in bytes (`getrusage`).
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
}
