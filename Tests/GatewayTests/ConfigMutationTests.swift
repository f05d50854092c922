import Foundation
import Gateway
import Testing
import WeirCore

/// One change to a shipped configuration that must be refused at the line it made, with the key
/// path it is about.
struct ConfigMutation: Sendable, CustomTestStringConvertible {
  enum Base: String, Sendable {
    case weir = "weir.yaml"
    case demo = "demo.yaml"
    /// The configuration for a site with its own broker (the libmosquitto source).
    case broker = "weir-broker.yaml"
  }
  let base: Base
  /// Replaced (first occurrence) by `new`.
  let old: String
  let new: String
  let key: String
  /// Lines from the start of `old` to the problem's line.
  let delta: Int

  var testDescription: String {
    "\(base.rawValue): \(key) ← \(new.replacingOccurrences(of: "\n", with: "⏎").prefix(60))"
  }
}

private func w(_ old: String, _ new: String, _ key: String, _ delta: Int = 0) -> ConfigMutation {
  ConfigMutation(base: .weir, old: old, new: new, key: key, delta: delta)
}

private func d(_ old: String, _ new: String, _ key: String, _ delta: Int = 0) -> ConfigMutation {
  ConfigMutation(base: .demo, old: old, new: new, key: key, delta: delta)
}

private func b(_ old: String, _ new: String, _ key: String, _ delta: Int = 0) -> ConfigMutation {
  ConfigMutation(base: .broker, old: old, new: new, key: key, delta: delta)
}

/// Appended to weir.yaml; `line` counts from 1 within `text`.
private func appended(_ text: String, _ key: String, line: Int) -> ConfigMutation {
  let last = "  # token: ${WEIR_API_TOKEN}        # require \"Authorization: Bearer <token>\" on /api"
  return ConfigMutation(base: .weir, old: last, new: last + "\n" + text, key: key, delta: line)
}

@Suite struct ConfigMutationTests {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("config").path
  static let demoEnvironment = [
    "WEIR_DEMO_DIR": "/tmp/weir-demo", "WEIR_DEMO_MQTT_PORT": "1883", "WEIR_DEMO_BOOTSTRAP": "127.0.0.1:9092",
    "WEIR_DEMO_HTTP_PORT": "8080",
  ]

  static func text(_ base: ConfigMutation.Base) throws -> String {
    try String(contentsOfFile: directory + "/" + base.rawValue, encoding: .utf8)
  }

  static func environment(_ base: ConfigMutation.Base) -> [String: String] { base == .demo ? demoEnvironment : [:] }

  @Test(arguments: [ConfigMutation.Base.weir, .demo, .broker])
  func theUnchangedFilesLoad(_ base: ConfigMutation.Base) throws {
    _ = try GatewayConfig.parse(
      try Self.text(base), file: Self.directory + "/" + base.rawValue, environment: Self.environment(base))
  }

  @Test func thereAreAtLeastAHundredMutations() { #expect(Self.mutations.count >= 100) }

  @Test(arguments: Self.mutations)
  func refusedAtItsLineWithItsKey(_ m: ConfigMutation) throws {
    let original = try Self.text(m.base)
    let range = try #require(original.range(of: m.old), "\(m.base.rawValue) no longer holds '\(m.old)'")
    let line = original[..<range.lowerBound].count(where: { $0 == "\n" }) + 1 + m.delta
    let file = Self.directory + "/" + m.base.rawValue
    let text = original.replacingCharacters(in: range, with: m.new)
    do {
      let config = try GatewayConfig.parse(text, file: file, environment: Self.environment(m.base))
      Issue.record("accepted (gateway \(config.gatewayID))")
    } catch let error as ConfigError {
      #expect(!error.problems.isEmpty)
      for p in error.problems { #expect(p.line > 0 && !p.message.isEmpty, "\(p)") }
      #expect(
        error.problems.contains { $0.file == file && $0.line == line && $0.key == m.key },
        "expected \(m.key) at line \(line), got:\n\(error.description)")
    }
  }

  static let mutations: [ConfigMutation] = [
    // gateway
    w("  id: edge-001", "  id: \"bad id!\"", "gateway.id"),
    w("  id: edge-001", "  id: [a, b]", "gateway.id"),
    w("  id: edge-001", "  id: \(String(repeating: "x", count: 201))", "gateway.id"),
    w("  id: edge-001", "  name: edge-001", "gateway.name"),
    w("  id: edge-001", "  id: *nothing", "gateway.id"),
    w("  data_dir: /var/lib/weir", "  data_dir: {a: 1}", "gateway.data_dir"),
    w("  data_dir: /var/lib/weir", "  data_dir: \"\"", "gateway.data_dir"),
    w("  shutdown_timeout: 30s", "  shutdown_timeout: 106751991168d", "gateway.shutdown_timeout"),
    w("  shutdown_timeout: 30s", "  shutdown_timeout: 1e30s", "gateway.shutdown_timeout"),
    w("  shutdown_timeout: 30s", "  shutdown_timeout: 0s", "gateway.shutdown_timeout"),
    w("  shutdown_timeout: 30s", "  shutdown_timeout: 2h", "gateway.shutdown_timeout"),
    w("  shutdown_timeout: 30s", "  shutdown_timeout: -5s", "gateway.shutdown_timeout"),
    w("  shutdown_timeout: 30s", "  shutdown_timeout: soon", "gateway.shutdown_timeout"),
    w("  shutdown_timeout: 30s", "  shutdown_timeout: 30s\n  colour: blue", "gateway.colour", 1),
    w("  shutdown_timeout: 30s", "  shutdown_timeout: 30s\n  shutdown_timeout: 40s", "gateway.shutdown_timeout", 1),
    w("  shutdown_timeout: 30s", "\tshutdown_timeout: 30s", "gateway"),
    // libyaml fails while still looking ahead for the key, so no key path is known yet.
    w("gateway:\n  id: edge-001", "gateway: edge\n  id: edge-001", "", 1),
    // log
    w("  disk_budget: 8GiB", "  disk_budget: lots", "log.disk_budget"),
    w("  disk_budget: 8GiB", "  disk_budget: 8388608TiB", "log.disk_budget"),
    w("  disk_budget: 8GiB", "  disk_budget: 0", "log.disk_budget"),
    w("  disk_budget: 8GiB", "  disk_budget: -1GiB", "log.disk_budget"),
    w("  min_free: 256MiB", "  min_free: 1.5GiB", "log.min_free"),
    w("  metadata_reserve: 16MiB", "  metadata_reserve: 2GiB", "log.metadata_reserve"),
    w("  metadata_reserve: 16MiB", "  metadata_reserve: -1", "log.metadata_reserve"),
    w("  min_free: 256MiB", "  min_free: 256MiB\n  max_free: 1GiB", "log.max_free", 1),
    w(
      "log:\n  disk_budget: 8GiB            # all topics together; default: none\n  min_free: 256MiB",
      "log: [1, 2]\nlog_old:\n  disk_budget: 8GiB\n  min_free: 256MiB", "log"),
    // topics
    w("    partitions: 6", "    partitions: six", "topics.telemetry.partitions"),
    w("    partitions: 6", "    partitions: 0", "topics.telemetry.partitions"),
    w("    partitions: 6", "    partitions: 10001", "topics.telemetry.partitions"),
    w("    partitions: 6", "    partitions: 99999999999999999999", "topics.telemetry.partitions"),
    w("    fsync: interval", "    fsync: sometimes", "topics.telemetry.fsync"),
    w("    fsync_interval: 50ms", "    fsync_interval: 0ms", "topics.telemetry.fsync_interval"),
    w("    fsync_interval: 50ms", "    fsync_interval: 2h", "topics.telemetry.fsync_interval"),
    w("    fsync_interval: 50ms", "    fsync_interval: 106751991168d", "topics.telemetry.fsync_interval"),
    w("    fsync_interval: 50ms", "    fsync_interval: 50ms\n    fsync_bytes: 0", "topics.telemetry.fsync_bytes", 1),
    w("    segment_bytes: 64MiB", "    segment_bytes: 4GiB", "topics.telemetry.segment_bytes"),
    w("    segment_bytes: 64MiB", "    segment_bytes: 512B", "topics.telemetry.segment_bytes"),
    w("    segment_bytes: 64MiB", "    segment_bytes: 64MiB\n    max_bytes: 1MiB", "topics.telemetry", -4),
    w("    segment_bytes: 64MiB", "    segment_bytes: 64MiB\n    segment_age: 0s", "topics.telemetry.segment_age", 1),
    w("    max_age: 7d ", "    max_age: never ", "topics.telemetry.max_age"),
    w("    max_age: 7d ", "    max_age: 0s ", "topics.telemetry.max_age"),
    w("    max_age: 7d ", "    max_age: 1e30s ", "topics.telemetry.max_age"),
    w("    eviction_priority: 0 ", "    eviction_priority: 5000 ", "topics.telemetry.eviction_priority"),
    w("    eviction_priority: 0 ", "    eviction_priority: high ", "topics.telemetry.eviction_priority"),
    w("    on_full: drop_oldest", "    on_full: panic", "topics.telemetry.on_full"),
    w("    fsync: always", "    fsync: always\n    fsync_interval: 10ms", "topics.alerts.fsync_interval", 1),
    w("    max_age: 90d", "    max_age: [90d]", "topics.alerts.max_age"),
    w("  deadletter:\n    max_age: 30d", "  \"bad topic!\":\n    max_age: 30d", "topics.bad topic!"),
    w("    eviction_priority: 5\n", "    eviction_priority: 5\n    colour: red\n", "topics.deadletter.colour", 1),
    w("  deadletter:\n    max_age: 30d\n    eviction_priority: 5", "  deadletter: [max_age, 30d]", "topics.deadletter"),
    w("topics:\n  telemetry:", "topics: [telemetry]\ntopics_old:\n  telemetry:", "topics"),
    // mqtt
    b("  - name: mqtt", "  - name: \"\"", "mqtt[0].name"),
    b("    broker: mqtt://127.0.0.1:1883", "    broker: http://x", "mqtt[0].broker"),
    b("    broker: mqtt://127.0.0.1:1883", "    broker: mqtt://127.0.0.1:99999", "mqtt[0].broker"),
    b("    broker: mqtt://127.0.0.1:1883", "    broker: mqtts://127.0.0.1:8883", "mqtt[0].tls"),
    b("    broker: mqtt://127.0.0.1:1883", "    broker: [mqtt://127.0.0.1:1883]", "mqtt[0].broker"),
    b("  - name: mqtt", "  - name: mqtt\n    tls: {ca_file: ca.pem}", "mqtt[0].tls", 1),
    b(
      "    broker: mqtt://127.0.0.1:1883",
      "    broker: mqtts://127.0.0.1:8883\n    tls: {ca_file: ca.pem, cert_file: c.pem}",
      "mqtt[0].tls", 1),
    b(
      "    broker: mqtt://127.0.0.1:1883", "    broker: mqtts://127.0.0.1:8883\n    tls: {ca_file: \"\"}",
      "mqtt[0].tls.ca_file", 1),
    b(
      "    broker: mqtt://127.0.0.1:1883",
      "    broker: mqtts://127.0.0.1:8883\n    tls: {ca_file: ca.pem, version: sslv3}",
      "mqtt[0].tls.version", 1),
    b("    protocol: \"3.1.1\"", "    protocol: \"4\"", "mqtt[0].protocol"),
    b("    keepalive: 30s", "    keepalive: 1s", "mqtt[0].keepalive"),
    b("    keepalive: 30s", "    keepalive: 1000000s", "mqtt[0].keepalive"),
    b("    keepalive: 30s", "    keepalive: 106751991168d", "mqtt[0].keepalive"),
    b("    keepalive: 30s", "    keepalive: forever", "mqtt[0].keepalive"),
    b("    keepalive: 30s", "    keepalive: 30s\n    keepalive: 60s", "mqtt[0].keepalive", 1),
    b("    keepalive: 30s", "\tkeepalive: 30s", "mqtt[0]"),
    b("    keepalive: 30s", "    keepalive: 30s\n    client_id: \"\"", "mqtt[0].client_id", 1),
    b("    clean_session: false", "    clean_session: maybe", "mqtt[0].clean_session"),
    b("    max_payload: 256KiB", "    max_payload: 8388608TiB", "mqtt[0].max_payload"),
    b("    max_payload: 256KiB", "    max_payload: 300MiB", "mqtt[0].max_payload"),
    b("    max_payload: 256KiB", "    max_payload: 0", "mqtt[0].max_payload"),
    b("    max_payload: 256KiB", "    max_payload: 15MiB", "mqtt[0].batch_max_bytes"),
    b("    max_payload: 256KiB", "    max_payload: 256KiB\n    batch_max_bytes: 16MiB", "mqtt[0].batch_max_bytes", 1),
    b("    max_payload: 256KiB", "    max_payload: 256KiB\n    batch_max_bytes: 0", "mqtt[0].batch_max_bytes", 1),
    b("    max_payload: 256KiB", "    max_payload: 256KiB\n    batch_max_bytes: 2GiB", "mqtt[0].batch_max_bytes", 1),
    b(
      "    subscriptions:\n      - filter: sensors/+/telemetry",
      "    subscriptions: {filter: x}\n    extra:\n      - filter: sensors/+/telemetry", "mqtt[0].subscriptions"),
    b("      - filter: sensors/+/telemetry", "      - filter: sensors/#/x", "mqtt[0].subscriptions[0]"),
    b("      - filter: sensors/+/telemetry", "      - filter: sensors/a+", "mqtt[0].subscriptions[0]"),
    b("      - filter: sensors/+/telemetry", "      - filter: \"\"", "mqtt[0].subscriptions[0]"),
    b("      - filter: sensors/+/telemetry", "      - filter: [a]", "mqtt[0].subscriptions[0].filter"),
    b("      - filter: sensors/+/telemetry", "      - flter: sensors/+/telemetry", "mqtt[0].subscriptions[0].filter"),
    b("        qos: 1 ", "        qos: 2 ", "mqtt[0].subscriptions[0].qos"),
    b("        qos: 1 ", "        qos: -1 ", "mqtt[0].subscriptions[0].qos"),
    b("        qos: 1 ", "        qos: 1\n        qos2: 1 ", "mqtt[0].subscriptions[0].qos2", 1),
    b("        topic: telemetry\n", "        topic: \"bad topic\"\n", "mqtt[0].subscriptions[0].topic"),
    b(
      "        topic: telemetry\n", "        topic: telemetry\n        headers: [a, b]\n",
      "mqtt[0].subscriptions[0].headers", 1),
    b("        format: json ", "        format: xml ", "mqtt[0].subscriptions[0].format"),
    b("        format: json ", "        format: raw ", "mqtt[0].subscriptions[0]", -4),
    b("        time_field: ts ", "        time_field: \"$.\" ", "mqtt[0].subscriptions[0].time_field"),
    b("        time_format: auto ", "        time_format: epoch_ns ", "mqtt[0].subscriptions[0].time_format"),
    b(
      "        time_format: auto ", "        time_format: auto\n        time_min: yesterday ",
      "mqtt[0].subscriptions[0].time_min", 1),
    b(
      "        time_format: auto ",
      "        time_format: auto\n        time_min: 2100-01-01T00:00:00Z\n        time_max: 946684800000 ",
      "mqtt[0].subscriptions[0].time_min", 1),
    b(
      "        time_format: auto ", "        time_format: auto\n        time_max: 2100-13-01T00:00:00Z ",
      "mqtt[0].subscriptions[0].time_max", 1),
    b("mqtt:\n  - name: mqtt", "mqtt: {}\nmqtt_old:\n  - name: mqtt", "mqtt"),
    // listeners
    w("    listen: 0.0.0.0:1883", "    listen: 0.0.0.0:99999", "listeners[0].listen"),
    w("    max_packet: 256KiB", "    max_packet: 1B", "listeners[0].max_packet"),
    w("    max_retained: 10000", "    max_retained: -1", "listeners[0].max_retained"),
    w("    anonymous: true ", "    anonymous: false ", "listeners[0].anonymous"),
    w(
      "    anonymous: true ",
      "    tls: {listen: 0.0.0.0:8883, cert_file: none.pem, key_file: none.key}\n    anonymous: true ",
      "listeners[0].tls"),
    w("    anonymous: true ", "    anonymous: true\n    auth: {passwd: x} ", "listeners[0].auth.passwd", 1),
    // uplinks
    w("  - name: central", "  - name: \"\"", "uplinks[0].name"),
    w("    kind: kafka ", "    kind: pigeon ", "uplinks[0].kind"),
    w(
      "    bootstrap: kafka-1.example.net:9092,kafka-2.example.net:9092", "    bootstrap: \"\"", "uplinks[0].bootstrap"),
    w("    topics: [alerts, telemetry]", "    topics: alerts", "uplinks[0].topics"),
    w("    topics: [alerts, telemetry]", "    topics: [{priority: 3}]", "uplinks[0].topics[0].name"),
    w("    topics: [alerts, telemetry]", "    topics: [{name: t, priority: 5000}]", "uplinks[0].topics[0].priority"),
    w("    topics: [alerts, telemetry]", "    topics: [{name: t, colour: red}]", "uplinks[0].topics[0].colour"),
    w("    topics: [alerts, telemetry]", "    topics: [alerts, \"tele metry\"]", "uplinks[0].topics[1]"),
    w("    topics: [alerts, telemetry]", "    topics: [{name: \"a/b\"}]", "uplinks[0].topics[0].name"),
    w("    topic_template: \"{topic}\"", "    topic_template: [x]", "uplinks[0].topic_template"),
    w("    compression: lz4", "    compression: brotli", "uplinks[0].compression"),
    w("    linger: 5ms", "    linger: 1h", "uplinks[0].linger"),
    w("    linger: 5ms", "    linger: 5ms\n    lingering: 5ms", "uplinks[0].lingering", 1),
    w("    window_records: 50000", "    window_records: 0", "uplinks[0].window_records"),
    w("    commit_interval: 1s", "    commit_interval: 0ms", "uplinks[0].commit_interval"),
    w("    commit_interval: 1s", "    commit_interval: 2d", "uplinks[0].commit_interval"),
    w("    commit_interval: 1s", "    commit_interval: 1s\n    start_at: middle", "uplinks[0].start_at", 1),
    w("    commit_interval: 1s", "    commit_interval: 1s\n    retry_initial: 0ms", "uplinks[0].retry_initial", 1),
    w("    commit_interval: 1s", "    commit_interval: 1s\n    window_bytes: 8388608TiB", "uplinks[0].window_bytes", 1),
    w("    # bandwidth: 256KiB", "    bandwidth: 0", "uplinks[0].bandwidth"),
    w("    # drain: live_first", "    drain: lifo", "uplinks[0].drain"),
    w("    # backlog_share: 0.3", "    backlog_share: 0.3", "uplinks[0].backlog_share"),
    w(
      "    # drain: live_first             # fifo (default) | live_first: new data first after an outage\n    # backlog_share: 0.3",
      "    drain: live_first\n    backlog_share: 1.5", "uplinks[0].backlog_share", 1),
    w(
      "      security.protocol: plaintext", "      security.protocol: [plaintext]",
      "uplinks[0].properties.security.protocol"),
    w(
      "      security.protocol: plaintext",
      "      security.protocol: plaintext\n  - {name: central, kind: kafka, bootstrap: \"k:1\", topics: [t]}",
      "uplinks[1].name", 1),
    w(
      "      security.protocol: plaintext",
      "      security.protocol: plaintext\n  - {name: cloud, kind: mqtt, topics: [alerts]}", "uplinks[1].broker", 1),
    w(
      "      security.protocol: plaintext",
      "      security.protocol: plaintext\n  - {name: cloud, kind: mqtt, broker: \"mqtt://c:1883\", topics: [alerts], keepalive: 1s}",
      "uplinks[1].keepalive", 1),
    w(
      "      security.protocol: plaintext",
      "      security.protocol: plaintext\n  - {name: cloud, kind: mqtt, broker: \"mqtt://c:1883\", topics: [alerts], ack_timeout: 10ms}",
      "uplinks[1].ack_timeout", 1),
    w("uplinks:\n  - name: central", "uplinks: central\nuplinks_old:\n  - name: central", "uplinks"),
    // rules
    w("  publish_alerts: true ", "  publish_alerts: perhaps ", "rules.publish_alerts"),
    w("    - rules/motors.sql", "    - rules/missing.sql", "rules.files[0]"),
    w("    - rules/motors.sql", "    - {path: rules/motors.sql}", "rules.files[0]"),
    w("    - rules/pumps.sql", "    - rules/pumps.sql\n    - ./rules/../rules/pumps.sql", "rules.files[2]", 1),
    w("  files:  ", "  files: rules/motors.sql\n  old_files:  ", "rules.files"),
    w("rules:\n  publish_alerts", "rules: [x]\nrules_old:\n  publish_alerts", "rules"),
    // http
    w("  listen: 127.0.0.1:8080 ", "  listen: 127.0.0.1:0 ", "http.listen"),
    w("  listen: 127.0.0.1:8080 ", "  listen: localhost ", "http.listen"),
    w("  listen: 127.0.0.1:8080 ", "  listen: 127.0.0.1:http ", "http.listen"),
    w("  listen: 127.0.0.1:8080 ", "  listen: \"${UNCLOSED\" ", "http.listen"),
    w("  # token: ${WEIR_API_TOKEN}", "  token: ${WEIR_API_TOKEN}", "http.token"),
    w("  # token: ${WEIR_API_TOKEN}", "  token: [a]", "http.token"),
    w("http:\n  listen", "http: 8080\nhttp_old:\n  listen", "http"),
    // the whole file
    appended("mystery: 1", "mystery", line: 1),
    appended("---\ngateway: {id: x}", "", line: 1),
    appended("gateway: {id: again}", "gateway", line: 1),
    appended("[unclosed", "", line: 1),
    appended(
      "serial:\n  - port: {path: /dev/ttyUSB0, baud_rate: fast}\n    line_protocol: {format: nmea}",
      "serial[0].port.baud_rate", line: 2),
    appended(
      "serial:\n  - port: {path: /dev/ttyUSB0}\n    line_protocol: {format: morse}", "serial[0].line_protocol.format",
      line: 3),
    appended("serial:\n  - port: {path: /dev/ttyUSB0}", "serial[0]", line: 2),
    appended("serial:\n  - /dev/ttyUSB0", "serial[0]", line: 2),
    appended("serial:\n  - port: {path: [a]}\n    line_protocol: {format: nmea}", "serial[0].port.path", line: 2),
    appended(
      "serial:\n  - port: {path: /dev/ttyUSB0, colour: red}\n    line_protocol: {format: nmea}",
      "serial[0].port.colour", line: 2),
    appended("serial: {port: x}", "serial", line: 1),
    appended(
      "modbus:\n  - port: {path: /dev/ttyUSB1}\n    slaves: [{unit_id: 1, device_id: p, registers: [{name: x, address: 0, typo: 3}]}]",
      "modbus[0].slaves[0].registers[0].typo", line: 3),
    appended(
      "modbus:\n  - port: {path: /dev/ttyUSB1, baud_rate: 1:1:1:1:1:1:1:1:1:1:1:1}\n    slaves: []",
      "modbus[0].port.baud_rate", line: 2),
    appended("modbus:\n  - port: {path: /dev/ttyUSB1}", "modbus[0].slaves", line: 2),
    // Int.max trapped in the address check (address + width).
    appended(
      "modbus:\n  - port: {path: /dev/ttyUSB1}\n    slaves: [{unit_id: 1, device_id: p, registers: [{name: x, address: 9223372036854775807}]}]",
      "modbus[0].slaves[0].registers[0].address", line: 3),
    appended("modbus:\n  - port: {path: /dev/ttyUSB1}\n    slaves: {unit_id: 1}", "modbus[0].slaves", line: 3),
    appended("modbus: {port: x}", "modbus", line: 1),
    // demo.yaml, with its environment
    d("  data_dir: ${WEIR_DEMO_DIR}/data", "  data_dir: ${WEIR_NOPE}/data", "gateway.data_dir"),
    d("  shutdown_timeout: 20s", "  shutdown_timeout: 20 years", "gateway.shutdown_timeout"),
    d("    segment_bytes: 16MiB", "    segment_bytes: 16MiB!", "topics.telemetry.segment_bytes"),
    d("    max_age: forever  ", "    max_age: eternity  ", "topics.telemetry.max_age"),
    d("    eviction_priority: 100 ", "    eviction_priority: 1001 ", "topics.alerts.eviction_priority"),
    d("  alerts:\n    partitions: 1", "  alerts:\n    partitions: 1.5", "topics.alerts.partitions", 1),
    d("    fsync: always", "    fsync: Always", "topics.alerts.fsync"),
    d(
      "    listen: 127.0.0.1:${WEIR_DEMO_MQTT_PORT}", "    listen: :${WEIR_DEMO_MQTT_PORT}", "listeners[0].listen"),
    d(
      "    listen: 127.0.0.1:${WEIR_DEMO_MQTT_PORT}", "    listen: 127.0.0.1:${WEIR_DEMO_MQTT_PORT}0000",
      "listeners[0].listen"),
    d("    anonymous: true ", "    anonymous: true\n    anonymous: false ", "listeners[0].anonymous", 1),
    d("        key: \"{1}\"", "        key: {1: 2}", "listeners[0].routes[0].key"),
    d(
      "      - filter: sensors/+/telemetry", "      - filter: sensors/+/telemetry/#/more",
      "listeners[0].routes[0].filter"),
    d("    topic_template: \"edge.{topic}\"", "    topic_template: [x]", "uplinks[0].topic_template"),
    d("    bootstrap: ${WEIR_DEMO_BOOTSTRAP}", "    bootstrap: ${WEIR_DEMO_BOOTSTRAP", "uplinks[0].bootstrap"),
    d(
      "  listen: 127.0.0.1:${WEIR_DEMO_HTTP_PORT}", "  listen: 127.0.0.1:${WEIR_DEMO_HTTP_PORT}${WEIR_DEMO_HTTP_PORT}",
      "http.listen"),
    d("  publish_alerts: true", "  publish_alerts: 2", "rules.publish_alerts"),
    d("    - rules/pumps.sql", "    - rules/pumps.sql\n    - 7", "rules.files[2]", 1),
  ]
}
