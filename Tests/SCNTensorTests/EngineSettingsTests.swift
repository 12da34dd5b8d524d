import SCNKernels
import XCTest

/// `EngineSettings.problems(in:)`: every value the engine knows passes, anything else is named.
final class EngineSettingsTests: XCTestCase {
    func testKnownValuesPassAndOthersAreNamed() {
        let known = ["SCN_CONV_LAYOUT": "preferred", "SCN_CONVOLUTION": "taps", "SCN_NUM_THREADS": "2",
                     "SCN_POOL_SLACK": "1.0", "SCN_SUBNORMALS": "keep", "OMP_WAIT_POLICY": "anything"]
        XCTAssertEqual(EngineSettings.problems(in: known), [])
        XCTAssertEqual(EngineSettings.problems(in: ["SCN_CONV_LAYOUT": "channels-last", "SCN_CONVOLUTION": "onednn",
                                                    "SCN_SUBNORMALS": "flush"]), [])
        XCTAssertEqual(EngineSettings.problems(in: Dictionary(uniqueKeysWithValues: EngineSettings.variables.map { ($0.name, "") })), [],
                       "an empty value counts as unset")

        let wrong = ["SCN_CONV_LAYOUT": "blocked", "SCN_CONVOLUTION": "oneDNN", "SCN_NUM_THREADS": "0",
                     "SCN_POOL_SLACK": "0.5", "SCN_SUBNORMALS": "kept"]
        XCTAssertEqual(EngineSettings.problems(in: wrong).map(\.name), EngineSettings.variables.map(\.name))
        XCTAssertEqual(EngineSettings.problems(in: ["SCN_NUM_THREADS": "two"]).map(\.description),
                       ["environment variable SCN_NUM_THREADS=two: expected a whole number of threads, at least 1"])
        XCTAssertEqual(EngineSettings.problems(in: ["SCN_POOL_SLACK": "inf"]).count, 1)
    }
}
