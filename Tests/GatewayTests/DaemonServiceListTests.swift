import Foundation
import Ingest
import Logging
import PartitionedLog
import Prometheus
import Testing
import Uplink

@testable import Gateway

/// The daemon's services as data: names, order (the group shuts down in reverse, so the drain
/// goes sources, rules, alert publisher, uplinks, then the sampler and HTTP) and which are
/// supervised.
@Suite struct DaemonServiceListTests {
  @Test func sourcesDrainFirstThenRulesAlertsAndUplinks() throws {
    let directory = NSTemporaryDirectory() + "weir-services-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let cluster = try RdKafkaMockCluster(brokers: 1)
    let yaml = """
      gateway: {id: services, data_dir: "\(directory)/data"}
      mqtt:
        - name: local
          broker: mqtt://127.0.0.1:1
          subscriptions:
            - {filter: "sensors/+/telemetry", qos: 1, topic: telemetry, key: "{1}", format: json}
      uplinks:
        - name: central
          kind: kafka
          bootstrap: \(cluster.bootstrapServers)
          topics: [alerts, telemetry]
      rules:
        files: [\(DaemonHarness.repository)/config/rules/motors.sql]
      """
    let daemon = try Daemon(
      config: try GatewayConfig.parse(yaml, file: directory + "/w.yaml"), registry: PrometheusCollectorRegistry(),
      logger: Logger(label: "test"))
    defer { try? daemon.store.close() }

    let list = try daemon.serviceList()
    #expect(
      list.map(\.name) == [
        "http", "sampler", "rules-reload", "uplink:central", "alerts-mqtt", "rules", "mqtt:local", "drain",
      ])
    // The components restart with back-off; the daemon's own loops and the HTTP server do not.
    #expect(list.filter(\.supervised).map(\.name) == ["uplink:central", "rules", "mqtt:local"])
    // Each component is itself the service the group runs.
    #expect(list.first { $0.name == "mqtt:local" }?.service is MQTTSource)
    #expect(list.first { $0.name == "uplink:central" }?.service is KafkaUplink)
  }
}
