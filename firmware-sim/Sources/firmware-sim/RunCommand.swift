import ArgumentParser
import FirmwareSim
import Foundation

/// `firmware-sim run`: a scenario's fleet publishing over MQTT.
struct RunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Play a scenario's fleet onto an MQTT broker.")

  @Option(help: "Broker URL, mqtt://[user[:password]@]host[:port].")
  var broker: String = "mqtt://127.0.0.1:1883"
  @OptionGroup var scenario: ScenarioOptions
  @Option(help: "Simulated seconds per real second (600: ten simulated minutes per second).")
  var speed: Double = 1
  @Option(help: "Write the ground truth (JSON lines: device, scenario, onset, failure) here.")
  var groundTruth: String?
  @Option(help: "Connections the devices share.")
  var connections: Int = 4
  @Flag(help: "One connection per device instead.")
  var connectionPerDevice = false
  @Option(help: "Client ids are <prefix>-<n>.")
  var clientIdPrefix: String = "firmware-sim"
  @Option(help: "Topics are <prefix>/<device>/telemetry (default: the scenario's).")
  var topicPrefix: String?
  @Option(help: "Every this many real seconds, cut every connection at once (a reconnect storm).")
  var reconnectStorm: Double?
  @Flag(help: "No progress lines on stderr.")
  var quiet = false

  func validate() throws {
    if !(speed > 0) { throw ValidationError("--speed must be positive") }
    if connections < 1 { throw ValidationError("--connections must be at least 1") }
    if let reconnectStorm, !(reconnectStorm > 0) { throw ValidationError("--reconnect-storm must be positive") }
  }

  func run() throws {
    let url = try BrokerURL(parsing: broker)
    let (loaded, simulator) = try scenario.simulator(speed: speed)
    if let groundTruth {
      try GroundTruthRecord.jsonLines(simulator.groundTruth)
        .write(toFile: groundTruth, atomically: true, encoding: .utf8)
    }
    var options = FleetRunOptions(broker: url)
    options.topicPrefix = topicPrefix ?? loaded.topicPrefix
    options.connections = connections
    options.connectionPerDevice = connectionPerDevice
    options.clientIDPrefix = clientIdPrefix
    options.reconnectStormSeconds = reconnectStorm
    let stop = StopFlag()
    let signals = SignalHandling(stop: stop)
    var runner = FleetRunner(simulator: simulator, options: options, stop: stop, progress: Terminal.progress(quiet: quiet))
    let summary = try runner.run()
    withExtendedLifetime(signals) {}
    Terminal.output(summary.json())
  }
}
