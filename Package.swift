// swift-tools-version:5.9
import PackageDescription

// Targets, one concern each:
//   CDNNL, COpenBLAS        system libraries (Debian: libdnnl-dev, libopenblas-dev)
//   CFloatingPointMode      the per-thread subnormal (FTZ/DAZ) mode, in C: intrinsics Swift cannot call
//   SCNKernels              raw-pointer CPU kernels: oneDNN primitives, GEMM, thread pool, buffer pool
//   SCNTensor               Tensor, reverse-mode autograd tape, differentiable ops, reference kernels
//   SCNLayers               Module (reflection-based parameter tree), layers, ResNet, optimizers, schedules
//   SCNFormats              safetensors reading and writing
//   CTurboJPEG, CPNG        system libraries (Debian: libturbojpeg0-dev, libpng-dev)
//   SCNMethod               the Self-Cure Network: model, losses, relabeling, trainer, checkpoints, metrics
//   SCNReports              SVG charts, HTML reports, PNG thumbnails, TensorBoard event files
//   SCNData                 image decoding, datasets (FERPlus, FER2013, RAF-DB, folders), label noise, loader
//   scn                     the command-line tool
let optimize: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]

let package = Package(
    name: "SelfCureNetwork",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "scn", targets: ["scn"]),
        .library(name: "SCNTensor", targets: ["SCNTensor"]),
        .library(name: "SCNLayers", targets: ["SCNLayers"]),
        .library(name: "SCNFormats", targets: ["SCNFormats"]),
        .library(name: "SCNData", targets: ["SCNData"]),
        .library(name: "SCNMethod", targets: ["SCNMethod"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas"),
        .target(name: "CFloatingPointMode", path: "Sources/CFloatingPointMode", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "SCNKernels", dependencies: ["CDNNL", "COpenBLAS", "CFloatingPointMode"], swiftSettings: optimize),
        .systemLibrary(name: "CTurboJPEG", path: "Sources/CTurboJPEG", pkgConfig: "libturbojpeg"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng"),
        .target(name: "SCNTensor", dependencies: ["SCNKernels"], swiftSettings: optimize),
        .target(name: "SCNData", dependencies: ["SCNTensor", "SCNKernels", "CTurboJPEG", "CPNG"], swiftSettings: optimize),
        .target(name: "SCNFormats", dependencies: ["SCNTensor"], swiftSettings: optimize),
        .target(name: "SCNLayers", dependencies: ["SCNTensor", "SCNFormats"], swiftSettings: optimize),
        .target(name: "SCNMethod", dependencies: ["SCNLayers", "SCNTensor", "SCNFormats", "SCNData", "SCNKernels"],
                swiftSettings: optimize),
        .target(name: "SCNReports", dependencies: ["SCNMethod", "SCNData", "SCNTensor"], swiftSettings: optimize),
        .executableTarget(
            name: "scn",
            dependencies: [
                "SCNLayers", "SCNTensor", "SCNFormats", "SCNKernels", "SCNData", "SCNMethod", "SCNReports",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: optimize),
        .target(name: "SCNTestSupport", dependencies: ["SCNTensor", "SCNFormats"], path: "Tests/SCNTestSupport"),
        .testTarget(name: "SCNTensorTests", dependencies: ["SCNTensor", "SCNKernels", "SCNFormats", "SCNTestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "SCNLayersTests", dependencies: ["SCNLayers", "SCNKernels", "SCNTensor", "SCNFormats", "SCNTestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "SCNFormatsTests", dependencies: ["SCNFormats", "SCNTensor", "SCNTestSupport"]),
        .testTarget(name: "SCNMethodTests", dependencies: ["SCNMethod", "SCNData", "SCNLayers", "SCNTensor", "SCNFormats", "SCNTestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "scnCLITests", dependencies: ["SCNReports", "SCNData", "SCNFormats", "SCNTensor", "scn"]),
        .testTarget(name: "SCNReportsTests", dependencies: ["SCNReports", "SCNData", "SCNMethod"]),
        .testTarget(name: "SCNDataTests", dependencies: ["SCNData", "SCNTensor", "SCNTestSupport"],
                    exclude: ["Fixtures/make_image_fixtures.py", "Fixtures/make_affine_fixture.py"], resources: [.copy("Fixtures")]),
    ]
)
