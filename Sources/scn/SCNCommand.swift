import ArgumentParser

/// The `scn` tool: train, evaluate and audit Self-Cure Network models; benchmark the engine.
struct SCNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scn",
        abstract: "Self-Cure Network: facial-expression recognition that resists wrong labels.",
        subcommands: [DemoCommand.self, TrainCommand.self, EvalCommand.self, CompareCommand.self, PredictCommand.self, AuditCommand.self, NoiseCommand.self, ConvertCommand.self, BenchCommand.self, EnvironmentCommand.self])
}
