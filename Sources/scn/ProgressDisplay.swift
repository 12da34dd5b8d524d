import Foundation

/// Training progress: a bar with rate and ETA redrawn in place on a terminal, a plain line every quarter
/// epoch otherwise (logs).
final class ProgressDisplay {
    let isTerminal: Bool
    let batchSize: Int
    private var lastDraw = 0.0
    private var lastQuarter = -1

    init(isTerminal: Bool, batchSize: Int) {
        self.isTerminal = isTerminal
        self.batchSize = batchSize
    }

    func update(step: Int, total: Int, imagesPerSecond: Double) {
        let fraction = min(1, Double(step) / Double(max(total, 1)))
        let secondsLeft = imagesPerSecond > 0 ? Int(Double((total - step) * batchSize) / imagesPerSecond) : 0
        let eta = String(format: "ETA %d:%02d", secondsLeft / 60, secondsLeft % 60)
        if isTerminal {
            let now = Date().timeIntervalSince1970
            guard now - lastDraw > 0.2 || step == total else { return }
            lastDraw = now
            let width = 30, filled = Int(fraction * Double(width))
            let rateText = String(format: "%.0f img/s", imagesPerSecond)
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            FileHandle.standardOutput.write(Data("\r[\(bar)] \(Int(fraction * 100))% \(step)/\(total) \(rateText) \(eta)  ".utf8))
            if step == total { FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8)) }
        } else {
            let quarter = Int(fraction * 4)
            guard quarter > lastQuarter, quarter < 4 else { return }
            lastQuarter = quarter
            if step == 1 { lastQuarter = 0; return }
            print(String(format: "  step %d/%d (%d%%), %.0f img/s, %@", step, total, quarter * 25, imagesPerSecond, eta))
        }
        if step == total { lastQuarter = -1 }
    }
}
