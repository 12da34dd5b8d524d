import ArgumentParser
import Foundation
import SCNKernels

/// `scn env`: the environment settings the libraries should load with, as shell exports.
struct EnvironmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Print the environment settings the C libraries should load with, as shell exports.",
        discussion: "scn applies these itself; other programs linking the package (a test runner, an app) can use eval \"$(scn env)\".")

    func run() {
        // Judge by the environment the user started scn with, before its own relaunch added settings.
        var environment = ProcessInfo.processInfo.environment
        for name in (environment["SCN_RELAUNCHED"] ?? "").split(separator: ",") { environment[String(name)] = nil }
        for setting in RuntimeEnvironment.recommendedSettings(environment: environment) {
            print("export \(setting.name)=\(setting.value)")
        }
    }
}
