public import Ingest
import MQTT
import PartitionedLog
public import Uplink
import WeirCore
import Yams

/// One configured uplink.
public enum UplinkConfig: Sendable {
  case kafka(KafkaUplinkConfig)
  case mqtt(MqttUplinkConfig)

  public var name: String {
    switch self {
    case .kafka(let c): c.uplink.name
    case .mqtt(let c): c.uplink.name
    }
  }

  public var options: UplinkOptions {
    switch self {
    case .kafka(let c): c.uplink
    case .mqtt(let c): c.uplink
    }
  }
}

/// One serial line source: the port and how its lines are read.
public struct SerialSourceConfig: Sendable {
  public var port: SerialPortConfig
  public var lineProtocol: LineProtocolConfig
}

extension GatewayConfig {
  /// `uplinks:` entries. `kind: kafka` (`bootstrap`, `compression`, `linger`, `batch_bytes`,
  /// `batch_records`, `message_timeout`, `properties`) or `kind: mqtt` (the broker keys of an MQTT
  /// source, `ack_timeout`), and for both: `topics` (names, or `{name, priority, remote}`),
  /// `topic_template`, `window_records`, `window_bytes`, `commit_interval`, `bandwidth` (per second),
  /// `burst`, `drain` (`fifo` or `live_first`), `backlog_share`, `start_at`, `retry_initial`,
  /// `retry_max`, `stall_timeout`, `shutdown_grace`.
  static func uplink(_ reader: ConfigReader, _ node: Node, path: String, gateway: String, paths: ConfigPaths)
    -> UplinkConfig?
  {
    guard var s = reader.section(node, path: path) else { return nil }
    guard let name = reader.string(&s, "name"), !name.isEmpty else {
      reader.problem(s.at("name"), path + ".name", "missing: name this uplink (it names its cursor and metrics)")
      return nil
    }
    let kind = reader.string(&s, "kind") ?? ""
    var topics: [UplinkTopic] = []
    for (i, t) in (reader.sequence(&s, "topics") ?? []).enumerated() {
      if case .scalar(let scalar) = t {
        // The daemon creates the topics an uplink reads: a name the log refuses would stop it.
        if let problem = Topic.nameProblem(scalar.string) {
          reader.problem(t, path + ".topics[\(i)]", problem)
        } else {
          topics.append(UplinkTopic(scalar.string))
        }
      } else if var m = reader.section(t, path: path + ".topics[\(i)]") {
        guard let topicName = reader.string(&m, "name") else {
          if m.entries["name"] == nil {
            reader.problem(t, path + ".topics[\(i)].name", "missing: the local topic to forward")
          }
          continue
        }
        if let problem = Topic.nameProblem(topicName) {
          reader.problem(m.at("name"), path + ".topics[\(i)].name", problem)
          reader.finish(m)
          continue
        }
        topics.append(
          UplinkTopic(
            topicName, priority: reader.int(&m, "priority", range: -1000...1000), remote: reader.string(&m, "remote")))
        reader.finish(m)
      }
    }
    if topics.isEmpty && s.entries["topics"] == nil {
      reader.problem(node, path + ".topics", "missing: list the local topics to forward, such as [telemetry, alerts]")
    }
    var options = UplinkOptions(
      name: name, gateway: gateway, topics: topics,
      topicTemplate: kind == "mqtt" ? MqttUplinkConfig.defaultTopicTemplate : "{topic}")
    let day: Int64 = 86_400_000
    if let v = reader.string(&s, "topic_template") { options.topicTemplate = v }
    if let v = reader.int(&s, "window_records", range: 1...10_000_000) { options.window.maxRecords = v }
    if let v = reader.byteCount(&s, "window_bytes", range: 1024...(1 << 30)) { options.window.maxBytes = v }
    if let v = reader.millisecondCount(&s, "commit_interval", range: 1...day) { options.commitIntervalMs = v }
    if let v = reader.byteCount(&s, "bandwidth", range: 1...ConfigValues.maxBytes, why: "bytes per second") {
      options.bandwidthBytesPerSecond = v
    }
    if let v = reader.byteCount(&s, "burst", range: 1...ConfigValues.maxBytes) { options.burstBytes = v }
    let share = reader.number(&s, "backlog_share")
    switch reader.string(&s, "drain") {
    case nil, "fifo"?:
      if share != nil {
        reader.problem(s.keyNode("backlog_share"), path + ".backlog_share", "only used with drain: live_first")
      }
    case "live_first"?:
      if let share, !(share > 0 && share < 1) {
        reader.problem(
          s.at("backlog_share"), path + ".backlog_share", "expected a share between 0 and 1 (exclusive), got \(share)")
      } else {
        options.drainOrder = .liveFirst(backlogShare: share ?? 0.5)
      }
    case let other?:
      reader.problem(s.at("drain"), path + ".drain", "expected fifo or live_first, got '\(other.prefix(80))'")
    }
    if let v = reader.choice(&s, "start_at", StartPosition.self, allowed: [.earliest, .latest]) { options.startAt = v }
    if let v = reader.millisecondCount(&s, "retry_initial", range: 1...day) { options.backoff.initialMs = v }
    if let v = reader.millisecondCount(&s, "retry_max", range: 1...day) { options.backoff.maxMs = v }
    if let v = reader.millisecondCount(&s, "stall_timeout", range: 1...day) { options.stallTimeoutMs = v }
    if let v = reader.millisecondCount(&s, "shutdown_grace", range: 0...3_600_000) { options.shutdownGraceMs = v }

    let result: UplinkConfig?
    switch kind {
    case "kafka":
      var c = KafkaUplinkConfig(uplink: options, bootstrapServers: reader.string(&s, "bootstrap") ?? "")
      if c.bootstrapServers.isEmpty {
        reader.problem(s.at("bootstrap"), path + ".bootstrap", "missing: the central cluster's host:port list")
      }
      if let v = reader.choice(&s, "compression", KafkaCompression.self, allowed: KafkaCompression.allCases) {
        c.compression = v
      }
      // The bounds librdkafka itself enforces on linger.ms, batch.size and message.timeout.ms.
      if let v = reader.millisecondCount(&s, "linger", range: 0...900_000, why: "librdkafka's linger.ms") {
        c.lingerMs = v
      }
      if let v = reader.byteCount(&s, "batch_bytes", range: 1...Int64(Int32.max), why: "librdkafka's batch.size") {
        c.batchBytes = v
      }
      if let v = reader.int(&s, "batch_records", range: 1...1_000_000) { c.batchRecords = v }
      if let v = reader.millisecondCount(
        &s, "message_timeout", range: 1...Int64(Int32.max), why: "librdkafka's message.timeout.ms")
      {
        c.messageTimeoutMs = v
      }
      if var p = reader.section(reader.value(&s, "properties"), path: path + ".properties") {
        for key in p.entries.keys.sorted() {
          guard let v = reader.string(&p, key) else { continue }
          c.properties[key] = Self.isKafkaFileProperty(key, v) ? paths.resolve(v) : v
        }
        reader.finish(p)
      }
      result = .kafka(c)
    case "mqtt":
      let client = mqttClient(
        reader, &s, path: path, defaultBroker: "", clientID: "weir-\(gateway)-uplink-\(name)", paths: paths)
      var c = MqttUplinkConfig(uplink: options, broker: client)
      if let v = reader.millisecondCount(&s, "ack_timeout", range: 100...day) { c.ackTimeoutMs = v }
      result = .mqtt(c)
    default:
      reader.problem(s.at("kind"), path + ".kind", "expected kafka or mqtt, got '\(kind.prefix(80))'")
      result = nil
    }
    reader.finish(s)
    if let result, !gateway.isEmpty {
      switch result {
      case .kafka(let c): reader.report(c.problems(), in: node, path: path)
      case .mqtt(let c): reader.report(c.problems(), in: node, path: path)
      }
    }
    return result
  }

  /// librdkafka properties that name a file (`ssl.ca.location`, `ssl.key.location`,
  /// `sasl.kerberos.keytab`...): a relative path there starts at the configuration's directory.
  static func isKafkaFileProperty(_ key: String, _ value: String) -> Bool {
    guard !value.isEmpty, !value.hasPrefix("/") else { return false }
    if key == "ssl.ca.location" && value == "probe" { return false }
    return key.hasSuffix(".location") || key == "sasl.kerberos.keytab"
  }
}
