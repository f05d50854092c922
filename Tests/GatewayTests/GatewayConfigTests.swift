import Foundation
import Gateway
import Ingest
import MQTT
import PartitionedLog
import Testing

@Suite struct GatewayConfigTests {
  static var shipped: String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("config/weir.yaml").path
  }

  @Test func theShippedConfigLoads() throws {
    let config = try GatewayConfig.load(path: Self.shipped)
    #expect(config.gatewayID == "edge-001")
    #expect(config.log.diskBudgetBytes == 8 << 30)
    #expect(config.topics.first { $0.name == "telemetry" }?.config.partitions == 6)
    #expect(config.topics.first { $0.name == "alerts" }?.config.evictionPriority == 100)
    #expect(config.mqttSources.first?.subscriptions.first?.timeField == ["ts"])
    #expect(config.mqttSources.first?.client.clientID == "weir-edge-001-mqtt")
    #expect(config.ruleFiles.count == 2)
    #expect(config.httpPort == 8080)
  }

  @Test(arguments: [
    ("64MiB", Int64(64 << 20)), ("1GiB", 1 << 30), ("500kB", 500_000), ("4096", 4096), ("10 MiB", 10 << 20),
  ])
  func sizes(_ text: String, _ bytes: Int64) { #expect(ConfigValues.bytes(text) == bytes) }

  @Test(arguments: [("500ms", Int64(500)), ("30s", 30_000), ("10m", 600_000), ("2h", 7_200_000), ("7d", 604_800_000), ("1.5s", 1500)])
  func durations(_ text: String, _ ms: Int64) { #expect(ConfigValues.milliseconds(text) == ms) }

  @Test func everyProblemIsReportedWithFileLineAndKey() {
    let yaml = """
      gateway:
        id: "bad id!"
      log:
        disk_budget: lots
      topics:
        telemetry:
          partitions: 0
          fsync: sometimes
          colour: blue
      mqtt:
        - broker: http://x
          subscriptions:
            - filter: a/#/b
              qos: 2
      mystery: 1
      """
    do {
      _ = try GatewayConfig.parse(yaml, file: "weir.yaml")
      Issue.record("a bad configuration was accepted")
    } catch let error as ConfigError {
      let text = error.problems.map(\.description)
      let expected = [
        "weir.yaml:2: gateway.id:", "weir.yaml:4: log.disk_budget:", "weir.yaml:7: topics.telemetry.partitions:",
        "weir.yaml:8: topics.telemetry.fsync:", "weir.yaml:9: topics.telemetry.colour: unknown key",
        "weir.yaml:11: mqtt[0].broker:", "weir.yaml:14: mqtt[0].subscriptions[0].qos:", "mqtt[0]: '#' must be",
        "weir.yaml:15: mystery: unknown key",
      ]
      for e in expected {
        #expect(text.contains { $0.contains(e) }, "missing '\(e)' in \(text)")
      }
    } catch {
      Issue.record("unexpected error \(error)")
    }
  }
}
