import Foundation
import SCNData
import SCNTensor

/// What a trained model says about one face image.
public struct Prediction: Codable, Equatable, Sendable {
    /// The predicted class index and name.
    public var label: Int
    public var className: String
    /// Softmax of the logits, per class.
    public var probabilities: [Float]
    /// The importance weight in (0, 1): how certain the network is that the image is a clear example.
    public var certainty: Float
}

extension TrainedModel {
    /// Predicts the expressions of decoded images (any size; resized to the model's input). Each image's
    /// probabilities and certainty are the mean over `views` of it (as `scn eval --mirror-average`, `--shift-average`).
    public func predict(_ images: [DecodedImage], views: TestTimeViews = .single) -> [Prediction] {
        guard !images.isEmpty else { return [] }
        let transforms = configuration.evaluationTransforms(channels: 3)
        let perView = views.prefixes.map { outputs(images, transforms: $0 + transforms) }
        let probabilities = elementwiseMean(perView.map(\.probabilities)), alphas = elementwiseMean(perView.map(\.alphas))
        let k = classNames.count
        return images.indices.map { i in
            let row = Array(probabilities[(i * k)..<((i + 1) * k)])
            let label = row.argmax()!
            return Prediction(label: label, className: classNames[label], probabilities: row, certainty: alphas[i])
        }
    }

    /// Softmax of the logits `[N * classes]` and alpha `[N]` of `images` under `transforms`.
    private func outputs(_ images: [DecodedImage], transforms: [ImageTransform]) -> (probabilities: [Float], alphas: [Float]) {
        let size = configuration.inputSize
        let batch = Tensor(uninitializedShape: [images.count, 3, size, size], memoryFormat: .channelsLast)
        for (slot, image) in images.enumerated() {
            let prepared = transforms.apply(to: FloatImage(image.rgb()), seed: 0, epoch: 0, index: slot)
            prepared.values.withUnsafeBufferPointer { (batch.data + slot * size * size * 3).update(from: $0.baseAddress!, count: size * size * 3) }
        }
        model.eval()
        let output = GradientMode.withoutGradients { model(batch) }
        return (softmax(output.logits).scalars, output.alpha.scalars)
    }

    /// Predicts from a JPEG or PNG file.
    public func predict(contentsOf url: URL, views: TestTimeViews = .single) throws -> Prediction {
        predict([try ImageDecoder.decode(contentsOf: url)], views: views)[0]
    }

    /// Predicts from encoded JPEG or PNG bytes.
    public func predict(encoded data: Data, views: TestTimeViews = .single) throws -> Prediction {
        predict([try ImageDecoder.decode(data, name: "image bytes")], views: views)[0]
    }

    /// Predicts from 8-bit pixels, rows top to bottom, `channels` (1 or 3) interleaved.
    public func predict(pixels: [UInt8], width: Int, height: Int, channels: Int, views: TestTimeViews = .single) -> Prediction {
        predict([DecodedImage(width: width, height: height, channels: channels, pixels: pixels)], views: views)[0]
    }
}
