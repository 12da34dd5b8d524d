import Foundation

// oneDNN's OpenMP runtime reads its settings when the library loads, before any Swift code runs. With
// the default policy its idle threads spin and slow the Swift code between primitives (DESIGN.md), so
// the tool relaunches itself once with a passive wait policy unless the user set one.
if ProcessInfo.processInfo.environment["OMP_WAIT_POLICY"] == nil {
    setenv("OMP_WAIT_POLICY", "passive", 1)
    let arguments = CommandLine.arguments
    var cArguments = arguments.map { strdup($0) } + [nil]
    execv("/proc/self/exe", &cArguments)
    // execv returns only on failure: go on with the current settings.
}
SCNCommand.main()
