import ArgumentParser
import Foundation
import SCNFormats
import SCNMethod
import SCNTensor

/// `scn convert`: between PyTorch `.pth` files and safetensors.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert weights between PyTorch .pth/.pt files and safetensors.",
        discussion: """
            .pth -> .safetensors keeps the state dict's own keys (float tensors as float32, integer scalars as \
            int64); for an official SCN checkpoint or an MS-Celeb file, the state dict inside it. \
            .safetensors -> .pth writes a torch.save file (an OrderedDict) that torch.load reads; for a \
            training checkpoint, its model (its weight average, where it was trained with one). Files are read without executing anything.
            """)

    @Argument(help: "The file to read (.pth, .pt or .safetensors).") var input: String
    @Argument(help: "The file to write (.safetensors, or .pth / .pt).") var output: String

    func run() throws {
        let inURL = URL(fileURLWithPath: input), outURL = URL(fileURLWithPath: output)
        guard FileManager.default.fileExists(atPath: input) else { throw ValidationError("\(input): no such file") }
        let (layout, tensors, integers) = try PretrainedWeights.read(inURL)
        if outURL.pathExtension == "safetensors" {
            var writer = SafeTensorsWriter(metadata: ["format_version": "1", "converted_from": inURL.lastPathComponent,
                                                      "layout": layout.rawValue])
            for (k, t) in tensors { writer.add(k, t) }
            for (k, v) in integers { writer.add(k, integers: [Int64(v)], shape: []) }
            try writer.write(to: outURL)
        } else if ["pth", "pt"].contains(outURL.pathExtension) {
            var writer = PyTorchWriter()
            for (k, t) in tensors.sorted(by: { $0.key < $1.key }) { writer.add(k, t) }
            for (k, v) in integers.sorted(by: { $0.key < $1.key }) { writer.add(k, integers: [Int64(v)], shape: []) }
            try writer.write(to: outURL)
        } else {
            throw ValidationError("\(output): the output must end in .safetensors, .pth or .pt")
        }
        print("wrote \(tensors.count + integers.count) tensors (\(layout.rawValue) layout) to \(output)")
    }
}
