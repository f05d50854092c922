import ArgumentParser
import Gateway
import WeirTools

extension DebugCommand {
  struct MQTTIngest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "mqtt-ingest",
      abstract: "Run an MQTT source into a log; print 'ready' once subscribed. For crash tests.")

    @Option var broker: String
    @Option var dir: String
    @Option var filter: String = "#"
    @Option var clientId: String = "weir-debug-ingest"
    @Option(help: "Sleep this long between the log commit and the PUBACKs.")
    var pauseBeforeAckMs: Int = 0

    func run() async throws {
      try await DebugMQTTIngest.run(
        broker: broker, directory: dir, filter: filter, clientID: clientId, pauseBeforeAckMs: pauseBeforeAckMs)
    }
  }
}
