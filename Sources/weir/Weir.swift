import ArgumentParser

@main
struct Weir: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "weir",
    abstract: "Weir: an IoT telemetry edge gateway with a durable partitioned log.",
    version: "0.1.0",
    subcommands: [
      RunCommand.self, StatusCommand.self, TopicsCommand.self, LagCommand.self, TailCommand.self, AlertsCommand.self,
      ConfigCommand.self, PasswdCommand.self, LogCommand.self, RulesCommand.self, BenchCommand.self, DebugCommand.self,
      DevClusterCommand.self,
    ])
}
