import ArgumentParser
import FirmwareSim

/// `firmware-sim load`: publish as fast as the broker takes and report the rate.
struct LoadCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "load",
    abstract: "Benchmark a broker: publish N messages as fast as it takes, print the rate as JSON.")

  @Option(help: "Broker URL, mqtt://[user[:password]@]host[:port].")
  var broker: String = "mqtt://127.0.0.1:1883"
  @Option(help: "Messages in total.")
  var messages: Int = 100_000
  @Option(help: "Payload size in bytes.")
  var payloadBytes: Int = 100
  @Option(help: "QoS, 0 or 1.")
  var qos: Int32 = 0
  @Option(help: "Parallel connections, one thread each.")
  var publishers: Int = 1
  @Option(help: "Topics are <prefix>/<publisher>/<n>.")
  var topicPrefix: String = "bench"
  @Option(help: "Distinct topics per publisher (n = message number mod this).")
  var topicsPerPublisher: Int = 1
  @Option(help: "QoS 1 messages in flight per publisher.")
  var maxInflight: Int32 = 1000

  func validate() throws {
    if messages < 0 { throw ValidationError("--messages must not be negative") }
    if payloadBytes < 0 || payloadBytes > 256 * 1024 * 1024 { throw ValidationError("--payload-bytes out of range") }
    if qos != 0 && qos != 1 { throw ValidationError("--qos must be 0 or 1") }
    if publishers < 1 { throw ValidationError("--publishers must be at least 1") }
    if topicsPerPublisher < 1 { throw ValidationError("--topics-per-publisher must be at least 1") }
    if !(1...65535).contains(maxInflight) { throw ValidationError("--max-inflight must be 1-65535") }
  }

  func run() throws {
    var options = LoadOptions(broker: try BrokerURL(parsing: broker))
    options.messages = messages
    options.payloadBytes = payloadBytes
    options.qos = qos
    options.publishers = publishers
    options.topicPrefix = topicPrefix
    options.topicsPerPublisher = topicsPerPublisher
    options.maxInflight = maxInflight
    let stop = StopFlag()
    let signals = SignalHandling(stop: stop)
    let result = try LoadGenerator.run(options, stop: stop)
    withExtendedLifetime(signals) {}
    Terminal.output(result.json())
  }
}
