public import Ingest
import MQTT
public import Uplink
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
  static func uplink(_ reader: ConfigReader, _ node: Node, path: String, gateway: String) -> UplinkConfig? {
    guard var s = reader.section(node, path: path) else { return nil }
    guard let name = reader.string(&s, "name"), !name.isEmpty else {
      reader.problem(node, path + ".name", "missing: name this uplink (it names its cursor and metrics)")
      return nil
    }
    let kind = reader.string(&s, "kind") ?? ""
    var topics: [UplinkTopic] = []
    for (i, t) in (reader.sequence(&s, "topics") ?? []).enumerated() {
      if let topicName = t.string {
        topics.append(UplinkTopic(topicName))
      } else if var m = reader.section(t, path: path + ".topics[\(i)]") {
        guard let topicName = reader.string(&m, "name") else {
          reader.problem(t, path + ".topics[\(i)].name", "missing: the local topic to forward")
          continue
        }
        topics.append(
          UplinkTopic(topicName, priority: reader.int(&m, "priority", range: -1000...1000), remote: reader.string(&m, "remote")))
        reader.finish(m)
      }
    }
    if topics.isEmpty && s.entries["topics"] == nil {
      reader.problem(node, path + ".topics", "missing: list the local topics to forward, such as [telemetry, alerts]")
    }
    var options = UplinkOptions(
      name: name, gateway: gateway, topics: topics,
      topicTemplate: kind == "mqtt" ? MqttUplinkConfig.defaultTopicTemplate : "{topic}")
    if let v = reader.string(&s, "topic_template") { options.topicTemplate = v }
    if let v = reader.int(&s, "window_records", range: 1...10_000_000) { options.window.maxRecords = v }
    if let v = reader.bytes(&s, "window_bytes") { options.window.maxBytes = Int(v) }
    if let v = reader.milliseconds(&s, "commit_interval") { options.commitIntervalMs = Int(v) }
    if let v = reader.bytes(&s, "bandwidth") { options.bandwidthBytesPerSecond = Int(v) }
    if let v = reader.bytes(&s, "burst") { options.burstBytes = Int(v) }
    let share = reader.number(&s, "backlog_share")
    switch reader.string(&s, "drain") {
    case nil, "fifo"?:
      if share != nil {
        reader.problem(s.entries["backlog_share"]?.key, path + ".backlog_share", "only used with drain: live_first")
      }
    case "live_first"?:
      options.drainOrder = .liveFirst(backlogShare: share ?? 0.5)
    case let other?:
      reader.problem(s.entries["drain"]?.value, path + ".drain", "expected fifo or live_first, got '\(other)'")
    }
    if let v = reader.choice(&s, "start_at", StartPosition.self, allowed: [.earliest, .latest]) { options.startAt = v }
    if let v = reader.milliseconds(&s, "retry_initial") { options.backoff.initialMs = Int(v) }
    if let v = reader.milliseconds(&s, "retry_max") { options.backoff.maxMs = Int(v) }
    if let v = reader.milliseconds(&s, "stall_timeout") { options.stallTimeoutMs = Int(v) }
    if let v = reader.milliseconds(&s, "shutdown_grace") { options.shutdownGraceMs = Int(v) }

    let result: UplinkConfig?
    switch kind {
    case "kafka":
      var c = KafkaUplinkConfig(uplink: options, bootstrapServers: reader.string(&s, "bootstrap") ?? "")
      if c.bootstrapServers.isEmpty {
        reader.problem(node, path + ".bootstrap", "missing: the central cluster's host:port list")
      }
      if let v = reader.choice(&s, "compression", KafkaCompression.self, allowed: KafkaCompression.allCases) {
        c.compression = v
      }
      if let v = reader.milliseconds(&s, "linger") { c.lingerMs = Int(v) }
      if let v = reader.bytes(&s, "batch_bytes") { c.batchBytes = Int(v) }
      if let v = reader.int(&s, "batch_records", range: 1...1_000_000) { c.batchRecords = v }
      if let v = reader.milliseconds(&s, "message_timeout") { c.messageTimeoutMs = Int(v) }
      if var p = reader.section(reader.value(&s, "properties"), path: path + ".properties") {
        for key in p.entries.keys.sorted() {
          if let v = reader.string(&p, key) { c.properties[key] = v }
        }
        reader.finish(p)
      }
      result = .kafka(c)
    case "mqtt":
      let client = mqttClient(
        reader, &s, path: path, defaultBroker: "", clientID: "weir-\(gateway)-uplink-\(name)")
      var c = MqttUplinkConfig(uplink: options, broker: client)
      if let v = reader.milliseconds(&s, "ack_timeout") { c.ackTimeoutMs = Int(v) }
      result = .mqtt(c)
    default:
      reader.problem(
        s.entries["kind"]?.value ?? node, path + ".kind", "expected kafka or mqtt, got '\(kind)'")
      result = nil
    }
    reader.finish(s)
    if let result, !gateway.isEmpty {
      do {
        switch result {
        case .kafka(let c): try c.validate()
        case .mqtt(let c): try c.validate()
        }
      } catch {
        reader.problem(node, path, error.message)
      }
    }
    return result
  }

  /// `serial:` entries: `port` and `line_protocol`, with the keys of docs/serial.md.
  static func serialSource(_ reader: ConfigReader, _ node: Node, path: String) -> SerialSourceConfig? {
    guard var s = reader.section(node, path: path) else { return nil }
    let portNode = reader.value(&s, "port")
    let protocolNode = reader.value(&s, "line_protocol")
    reader.finish(s)
    guard let portNode, let protocolNode else {
      reader.problem(node, path, "a serial source needs 'port:' and 'line_protocol:' sections")
      return nil
    }
    guard let port = reader.decode(SerialPortConfig.self, portNode, path: path + ".port", docs: "docs/serial.md"),
      let line = reader.decode(LineProtocolConfig.self, protocolNode, path: path + ".line_protocol", docs: "docs/serial.md")
    else { return nil }
    for p in port.validate() { reader.problem(portNode, path + ".port", p) }
    for p in line.validate() { reader.problem(protocolNode, path + ".line_protocol", p) }
    return SerialSourceConfig(port: port, lineProtocol: line)
  }

  /// `modbus:` entries, with the keys of docs/serial.md.
  static func modbusSource(_ reader: ConfigReader, _ node: Node, path: String) -> ModbusConfig? {
    guard let config = reader.decode(ModbusConfig.self, node, path: path, docs: "docs/serial.md") else { return nil }
    for p in config.validate() { reader.problem(node, path, p) }
    return config
  }
}
