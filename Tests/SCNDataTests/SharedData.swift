import Foundation
import XCTest

/// The project's real test data, `../shared/data` beside the checkout (or `SCN_SHARED_DATA`).
/// Tests that need it skip with a message on a developer's machine without it, and fail in CI.
func sharedData(_ relative: String, file: StaticString = #filePath, line: UInt = #line) throws -> URL {
    let environment = ProcessInfo.processInfo.environment
    let root = environment["SCN_SHARED_DATA"].map { URL(fileURLWithPath: $0) }
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data")
    let url = root.appendingPathComponent(relative)
    guard FileManager.default.fileExists(atPath: url.path) else {
        let message = "needs the shared test data at \(url.path) (set SCN_SHARED_DATA to its folder)"
        if environment["CI"] == "true" {
            XCTFail(message, file: file, line: line)
            throw XCTSkip(message)
        }
        throw XCTSkip(message)
    }
    return url
}
