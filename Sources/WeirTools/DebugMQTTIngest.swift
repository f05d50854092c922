import Foundation
import Ingest
import MQTT
import PartitionedLog

/// `weir debug mqtt-ingest`: an MQTT source alone, writing into a log, for the test that kills
/// the gateway between the log commit and the PUBACK and checks the broker delivers again.
public enum DebugMQTTIngest {
  public static func run(broker: String, directory: String, filter: String, clientID: String, pauseBeforeAckMs: Int)
    async throws
  {
    guard let url = MQTTClientConfig.parseURL(broker), !url.tls else {
      throw BenchmarkError("cannot read the broker URL '\(broker)' (mqtt://host:port)")
    }
    let store = try LogStore.open(directory: directory)
    try store.createTopic("telemetry", config: TopicConfig(fsync: .always, maxAgeMs: nil))
    let config = MQTTSourceConfig(
      client: MQTTClientConfig(host: url.host, port: url.port, clientID: clientID),
      subscriptions: [MQTTSubscription(filter: filter, topic: "telemetry", format: .raw)])
    let source = try MQTTSource(
      config: config, store: store, hooks: .pauseBeforeAck(milliseconds: pauseBeforeAckMs))
    let running = Task { try await source.run() }
    while !(source.status.connected && source.status.subscriptions.allSatisfy(\.acknowledged)) {
      try await Task.sleep(nanoseconds: 10_000_000)
    }
    FileHandle.standardOutput.write(Data("ready\n".utf8))
    try await running.value
  }
}
