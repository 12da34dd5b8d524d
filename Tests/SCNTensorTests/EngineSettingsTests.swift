import SCNKernels
import XCTest

/// `EngineSettings.problems(in:)`: every value the engine knows passes, anything else is named;
/// `EngineSettings.value(of:in:report:)`, which the engine reads its settings with, agrees.
final class EngineSettingsTests: XCTestCase {
    func testKnownValuesPassAndOthersAreNamed() {
        let known = ["SCN_CONV_LAYOUT": "preferred", "SCN_CONVOLUTION": "taps", "SCN_INFERENCE": "layers", "SCN_NUM_THREADS": "2",
                     "SCN_POOL_SLACK": "1.0", "SCN_SUBNORMALS": "keep", "OMP_WAIT_POLICY": "anything"]
        XCTAssertEqual(EngineSettings.problems(in: known), [])
        XCTAssertEqual(EngineSettings.problems(in: ["SCN_CONV_LAYOUT": "channels-last", "SCN_CONVOLUTION": "onednn",
                                                    "SCN_INFERENCE": "fused", "SCN_SUBNORMALS": "flush"]), [])
        XCTAssertEqual(EngineSettings.problems(in: Dictionary(uniqueKeysWithValues: EngineSettings.variables.map { ($0.name, "") })), [],
                       "an empty value counts as unset")

        let wrong = ["SCN_CONV_LAYOUT": "blocked", "SCN_CONVOLUTION": "oneDNN", "SCN_INFERENCE": "fast", "SCN_NUM_THREADS": "0",
                     "SCN_POOL_SLACK": "0.5", "SCN_SUBNORMALS": "kept"]
        XCTAssertEqual(EngineSettings.problems(in: wrong).map(\.name), EngineSettings.variables.map(\.name))
        XCTAssertEqual(EngineSettings.problems(in: ["SCN_NUM_THREADS": "two"]).map(\.description),
                       ["environment variable SCN_NUM_THREADS=two: expected a whole number of threads, at least 1"])
        XCTAssertEqual(EngineSettings.problems(in: ["SCN_POOL_SLACK": "inf"]).count, 1)
    }

    func testValueReturnsKnownValuesAndReportsOthersAsUnset() {
        var reports: [String] = []
        func value(_ name: String, _ environment: [String: String]) -> String? {
            EngineSettings.value(of: name, in: environment) { reports.append($0) }
        }
        XCTAssertEqual(value("SCN_CONV_LAYOUT", ["SCN_CONV_LAYOUT": "preferred"]), "preferred")
        XCTAssertEqual(value("SCN_NUM_THREADS", ["SCN_NUM_THREADS": "3"]), "3")
        XCTAssertNil(value("SCN_POOL_SLACK", [:]))
        XCTAssertNil(value("SCN_POOL_SLACK", ["SCN_POOL_SLACK": ""]), "an empty value counts as unset")
        XCTAssertEqual(reports, [])

        XCTAssertNil(value("SCN_NUM_THREADS", ["SCN_NUM_THREADS": "0"]))
        XCTAssertNil(value("SCN_CONV_LAYOUT", ["SCN_CONV_LAYOUT": "blocked"]))
        XCTAssertEqual(reports, [
            "Warning: ignoring environment variable SCN_NUM_THREADS=0: expected a whole number of threads, at least 1; using the default",
            "Warning: ignoring environment variable SCN_CONV_LAYOUT=blocked: expected channels-last or preferred; using the default",
        ])
        // The same rule as problems(in:) for every variable.
        let wrong = ["SCN_CONV_LAYOUT": "blocked", "SCN_CONVOLUTION": "oneDNN", "SCN_INFERENCE": "Fused", "SCN_NUM_THREADS": "-1",
                     "SCN_POOL_SLACK": "0.5", "SCN_SUBNORMALS": "kept"]
        for variable in EngineSettings.variables {
            XCTAssertNil(value(variable.name, wrong), variable.name)
            XCTAssertEqual(EngineSettings.problems(in: [variable.name: wrong[variable.name]!]).count, 1, variable.name)
        }
    }
}
