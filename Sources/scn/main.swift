import Foundation
import SCNKernels

// A misspelled engine setting would otherwise fall back to its default unseen (EngineSettings).
let settingProblems = EngineSettings.problems()
if !settingProblems.isEmpty {
    for problem in settingProblems { FileHandle.standardError.write(Data("Error: \(problem)\n".utf8)) }
    exit(64)  // EX_USAGE, as for a bad option
}
// oneDNN's OpenMP runtime and OpenBLAS read their settings when they load, before any Swift code runs,
// so the tool relaunches itself once with the recommended settings (see RuntimeEnvironment) unless the
// user set them.
let missingSettings = RuntimeEnvironment.recommendedSettings()
if !missingSettings.isEmpty && ProcessInfo.processInfo.environment["SCN_RELAUNCHED"] == nil {
    for setting in missingSettings { setenv(setting.name, setting.value, 1) }
    setenv("SCN_RELAUNCHED", missingSettings.map(\.name).joined(separator: ","), 1)
    var arguments = CommandLine.arguments.map { strdup($0) } + [nil]
    execv("/proc/self/exe", &arguments)
    // execv returns only on failure: go on with the current settings.
}
// Before any engine work, which setEnabled needs (it restarts OpenBLAS's threads); see SubnormalFlushing
// for why. SCN_SUBNORMALS=keep keeps IEEE subnormals (to compare, or PyTorch's default).
SubnormalFlushing.setEnabled(EngineSettings.value(of: "SCN_SUBNORMALS") != "keep")
setvbuf(stdout, nil, _IOLBF, 0)  // one line at a time, also into a log file
SCNCommand.main()
