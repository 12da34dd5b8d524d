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
    /// Predicts the expressions of decoded images (any size; resized to the model's input). With
    /// `averagingMirrorImages`, each image's probabilities and certainty are the mean over the image and its
    /// left-right mirror image (as `scn eval --mirror-average`; twice the time).
    public func predict(_ images: [DecodedImage], averagingMirrorImages: Bool = false) -> [Prediction] {
        guard !images.isEmpty else { return [] }
        let transforms = configuration.evaluationTransforms(channels: 3)
        var (probabilities, alphas) = outputs(images, transforms: transforms)
        if averagingMirrorImages {
            let mirrored = outputs(images, transforms: [.horizontalFlip(p: 1)] + transforms)
            probabilities = zip(probabilities, mirrored.probabilities).map { ($0 + $1) / 2 }
            alphas = zip(alphas, mirrored.alphas).map { ($0 + $1) / 2 }
        }
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
    public func predict(contentsOf url: URL, averagingMirrorImages: Bool = false) throws -> Prediction {
        predict([try ImageDecoder.decode(contentsOf: url)], averagingMirrorImages: averagingMirrorImages)[0]
    }

    /// Predicts from encoded JPEG or PNG bytes.
    public func predict(encoded data: Data, averagingMirrorImages: Bool = false) throws -> Prediction {
        predict([try ImageDecoder.decode(data, name: "image bytes")], averagingMirrorImages: averagingMirrorImages)[0]
    }

    /// Predicts from 8-bit pixels, rows top to bottom, `channels` (1 or 3) interleaved.
    public func predict(pixels: [UInt8], width: Int, height: Int, channels: Int, averagingMirrorImages: Bool = false) -> Prediction {
        predict([DecodedImage(width: width, height: height, channels: channels, pixels: pixels)], averagingMirrorImages: averagingMirrorImages)[0]
    }
}
