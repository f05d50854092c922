import Foundation
import Gateway
import Ingest
import MQTT
import PartitionedLog
import Testing
import Uplink
import WeirCore

@Suite struct GatewayConfigTests {
  static var shipped: String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("config/weir.yaml").path
  }

  @Test func theShippedConfigLoads() throws {
    let config = try GatewayConfig.load(path: Self.shipped)
    #expect(config.gatewayID == "edge-001")
    #expect(config.log.diskBudgetBytes == 8 << 30)
    #expect(config.log.metadataReserveBytes == 16 << 20)
    #expect(config.topics.first { $0.name == "telemetry" }?.config.partitions == 6)
    #expect(config.topics.first { $0.name == "alerts" }?.config.evictionPriority == 100)
    // Devices publish to the listener; a site with a broker uses weir-broker.yaml instead.
    #expect(config.mqttSources.isEmpty)
    #expect(config.listeners.first?.routes.first?.timeField == ["ts"] && config.listeners.first?.port == 1883)
    let broker = try GatewayConfig.load(
      path: (Self.shipped as NSString).deletingLastPathComponent + "/weir-broker.yaml")
    #expect(broker.mqttSources.first?.subscriptions.first?.timeField == ["ts"])
    #expect(broker.mqttSources.first?.client.clientID == "weir-edge-001-mqtt")
    #expect(config.ruleFiles.count == 2)
    #expect(config.httpPort == 8080)
  }

  @Test(arguments: [
    ("64MiB", Int64(64 << 20)), ("1GiB", 1 << 30), ("500kB", 500_000), ("4096", 4096), ("10 MiB", 10 << 20),
  ])
  func sizes(_ text: String, _ bytes: Int64) { #expect(ConfigValues.bytes(text) == bytes) }

  @Test(arguments: [
    ("500ms", Int64(500)), ("30s", 30_000), ("10m", 600_000), ("2h", 7_200_000), ("7d", 604_800_000), ("1.5s", 1500),
  ])
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
        "weir.yaml:11: mqtt[0].broker:", "weir.yaml:14: mqtt[0].subscriptions[0].qos:",
        "weir.yaml:13: mqtt[0].subscriptions[0]: '#' must be",
        "weir.yaml:15: mystery: unknown key",
      ]
      for e in expected {
        #expect(text.contains { $0.contains(e) }, "missing '\(e)' in \(text)")
      }
    } catch {
      Issue.record("unexpected error \(error)")
    }
  }

  @Test func uplinksSerialAndModbusSections() throws {
    let yaml = """
      gateway: {id: edge-7}
      uplinks:
        - name: central
          kind: kafka
          bootstrap: k1:9092,k2:9092
          topics: [alerts, {name: telemetry, priority: 5, remote: plant.telemetry}]
          compression: none
          linger: 10ms
          bandwidth: 256KiB
          drain: live_first
          backlog_share: 0.25
          properties: {client.rack: r1}
        - name: cloud
          kind: mqtt
          broker: mqtt://user:pw@cloud:1884
          topics: [alerts]
          ack_timeout: 5s
      serial:
        - port: {path: /dev/ttyUSB0, device_id: gps-1, baud_rate: 115200}
          line_protocol: {format: nmea, topic: gps}
      modbus:
        - port: {path: /dev/ttyUSB1, baud_rate: 19200, parity: even}
          topic: plant
          slaves:
            - unit_id: 1
              device_id: pump-1
              registers: [{name: pressure, address: 0, type: uint16, scale: 0.1}]
      """
    let config = try GatewayConfig.parse(yaml, file: "weir.yaml")
    #expect(config.uplinks.count == 2)
    guard case .kafka(let kafka) = config.uplinks[0], case .mqtt(let mqtt) = config.uplinks[1] else {
      Issue.record("wrong uplink kinds")
      return
    }
    #expect(kafka.bootstrapServers == "k1:9092,k2:9092")
    #expect(kafka.uplink.topics.map(\.name) == ["alerts", "telemetry"])
    #expect(kafka.uplink.topics[1].priority == 5 && kafka.uplink.topics[1].remote == "plant.telemetry")
    #expect(kafka.lingerMs == 10 && kafka.compression == .none && kafka.properties["client.rack"] == "r1")
    #expect(kafka.uplink.bandwidthBytesPerSecond == 256 << 10)
    #expect(kafka.uplink.drainOrder == .liveFirst(backlogShare: 0.25))
    #expect(kafka.uplink.gateway == "edge-7")
    #expect(mqtt.broker.host == "cloud" && mqtt.broker.port == 1884 && mqtt.broker.username == "user")
    #expect(mqtt.ackTimeoutMs == 5000 && mqtt.uplink.topicTemplate == "weir/{gateway}/{topic}")
    #expect(config.serialSources.first?.port.baudRate == 115200)
    #expect(config.serialSources.first?.lineProtocol.topic == "gps")
    #expect(config.modbusSources.first?.slaves.first?.deviceId == "pump-1")
  }

  @Test func serialAndUplinkProblemsAreLocated() {
    let yaml = """
      gateway: {id: edge-7}
      uplinks:
        - name: central
          kind: carrier-pigeon
          topics: [telemetry]
      serial:
        - port: {path: /dev/ttyUSB0, baud_rate: fast}
          line_protocol: {format: nmea}
      modbus:
        - port: {path: /dev/ttyUSB1}
          topic: plant
          slaves:
            - {unit_id: 1, device_id: p, registers: [{name: x, address: 0, typo: 3}]}
      """
    do {
      _ = try GatewayConfig.parse(yaml, file: "w.yaml")
      Issue.record("accepted")
    } catch let error as ConfigError {
      let text = error.problems.map(\.description)
      for e in [
        "w.yaml:4: uplinks[0].kind: expected kafka or mqtt",
        "w.yaml:7: serial[0].port.baud_rate: expected a whole number, got 'fast'",
        "w.yaml:13: modbus[0].slaves[0].registers[0].typo: unknown key",
      ] {
        #expect(text.contains { $0.contains(e) }, "missing '\(e)' in \(text)")
      }
    } catch {
      Issue.record("unexpected error \(error)")
    }
  }

  @Test func environmentOverridesAndSubstitution() throws {
    let yaml = """
      gateway: {id: edge-1}
      uplinks:
        - name: central
          kind: kafka
          bootstrap: localhost:9092
          topics: [telemetry]
          properties: {sasl.password: "${KAFKA_PW}", sasl.username: "$${literal}"}
      http: {listen: "127.0.0.1:8080"}
      """
    let config = try GatewayConfig.parse(
      yaml, file: "w.yaml",
      environment: [
        "KAFKA_PW": "hunter2", "WEIR_GATEWAY__ID": "edge-9", "WEIR_HTTP__TOKEN": "t0k",
        "WEIR_UPLINKS__0__BOOTSTRAP": "k9:9092",
        "WEIR_UNRELATED": "x",
      ])
    #expect(config.gatewayID == "edge-9")
    #expect(config.httpToken == "t0k")
    guard case .kafka(let kafka) = config.uplinks.first else {
      Issue.record("no kafka uplink")
      return
    }
    #expect(kafka.bootstrapServers == "k9:9092")
    #expect(kafka.properties["sasl.password"] == "hunter2")
    #expect(kafka.properties["sasl.username"] == "${literal}")
    #expect(kafka.uplink.gateway == "edge-9")

    #expect(throws: ConfigError.self) { try GatewayConfig.parse(yaml, file: "w.yaml", environment: [:]) }
    #expect(throws: ConfigError.self) {
      try GatewayConfig.parse(yaml, file: "w.yaml", environment: ["KAFKA_PW": "x", "WEIR_UPLINKS__3__NAME": "y"])
    }
  }

  @Test func ruleFileErrorsPointIntoTheRuleFile() throws {
    let dir = NSTemporaryDirectory() + "weir-rulecfg-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try "CREATE RULE broken AS SELECT device FROM telemetry GROUP BY device, TUMBLING(1m) HAVING;\n"
      .write(toFile: dir + "/r.sql", atomically: true, encoding: .utf8)
    try "gateway: {id: e}\nrules:\n  files: [r.sql, missing.sql]\n".write(
      toFile: dir + "/w.yaml", atomically: true, encoding: .utf8)
    do {
      _ = try GatewayConfig.load(path: dir + "/w.yaml")
      Issue.record("accepted")
    } catch let error as ConfigError {
      let text = error.problems.map(\.description)
      #expect(text.contains { $0.hasPrefix(dir + "/r.sql:1: ") }, "\(text)")
      #expect(text.contains { $0.contains("w.yaml:3: rules.files[1]: cannot read") }, "\(text)")
    }
  }

  @Test func backlogShareMustBeANumberAndGoesWithLiveFirst() {
    for (line, expected) in [
      ("drain: live_first, backlog_share: lots", "backlog_share: expected a number, got 'lots'"),
      ("backlog_share: 0.3", "backlog_share: only used with drain: live_first"),
    ] {
      let yaml = "gateway: {id: e}\nuplinks:\n  - {name: c, kind: kafka, bootstrap: \"k:9092\", topics: [t], \(line)}\n"
      var text = "accepted"
      do { _ = try GatewayConfig.parse(yaml, file: "w.yaml") } catch { text = "\(error)" }
      #expect(text.contains("w.yaml:3: uplinks[0]." + expected), "\(text)")
    }
  }
}

@Suite struct DeprecatedKeyTests {
  /// One duration syntax everywhere: the serial and Modbus durations take units; the older `_ms` keys still work for
  /// one release, each with a warning at its line, and giving both spellings is refused.
  @Test func msKeysStillWorkWithAWarningAtTheirLine() throws {
    let yaml = """
      gateway: {id: gw-1, data_dir: /tmp/weir-deprecated}
      serial:
        - port:
            path: /dev/ttyUSB0
            reopen_initial_delay_ms: 250
            reopen_max_delay: 2m
          line_protocol: {format: nmea}
      modbus:
        - port: {path: /dev/ttyS1, parity: even}
          response_timeout_ms: 800
          slaves:
            - unit_id: 3
              device_id: p
              interval: 1.5s
              registers: [{name: x, address: 4}]
      """
    let config = try GatewayConfig.parse(yaml, file: "weir.yaml")
    #expect(config.serialSources[0].port.reopenInitialDelayMs == 250)
    #expect(config.serialSources[0].port.reopenMaxDelayMs == 120_000)
    #expect(config.modbusSources[0].responseTimeoutMs == 800)
    #expect(config.modbusSources[0].slaves[0].intervalMs == 1500)
    #expect(config.warnings.map(\.line) == [5, 10])
    #expect(config.warnings.map(\.key) == ["serial[0].port.reopen_initial_delay_ms", "modbus[0].response_timeout_ms"])
    #expect(config.warnings[0].message.hasPrefix("deprecated: write reopen_initial_delay with a unit"))
  }

  @Test func bothSpellingsOfOneSettingAreRefused() {
    let yaml = """
      gateway: {id: gw-1, data_dir: /tmp/weir-deprecated}
      serial:
        - port: {path: /dev/ttyUSB0, reopen_initial_delay: 1s, reopen_initial_delay_ms: 250}
          line_protocol: {format: nmea}
      """
    #expect(throws: ConfigError.self) { try GatewayConfig.parse(yaml, file: "weir.yaml") }
  }
}
