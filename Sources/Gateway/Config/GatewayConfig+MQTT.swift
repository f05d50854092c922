import Foundation
import Ingest
import MQTT
import PartitionedLog
import WeirCore
import Yams

extension GatewayConfig {
  /// Room left in a log batch beyond a read pass's payloads, for record and batch headers.
  static let batchOverheadBytes = 1 << 20

  /// One `mqtt:` entry: the broker keys, `name`, `max_payload`, `batch_max_bytes` and
  /// `subscriptions` (`filter`, `qos`, `topic`, `key`, `format`, `time_field`, `time_format`,
  /// `time_min`, `time_max`, `headers`).
  static func mqttSource(
    _ reader: ConfigReader, _ node: Node, path: String, gateway: String, paths: ConfigPaths,
    logBatchLimit: Int = LogOptions().maxBatchBytes
  ) -> MQTTSourceConfig? {
    guard var s = reader.section(node, path: path) else { return nil }
    let name = reader.string(&s, "name") ?? "mqtt"
    if name.isEmpty || name.utf8.count > 200 {
      reader.problem(
        s.at("name"), path + ".name", "expected a name of 1 to 200 bytes (it labels metrics and the client id)")
    }
    let client = mqttClient(
      reader, &s, path: path, defaultBroker: "mqtt://127.0.0.1:1883",
      clientID: MQTTSourceConfig.stableClientID(gateway: gateway, source: name), paths: paths)
    var source = MQTTSourceConfig(name: name, client: client, subscriptions: [])
    if let v = reader.byteCount(&s, "max_payload", range: 1...(256 << 20), why: "an MQTT packet is at most 256 MiB") {
      source.maxPayloadBytes = v
    }
    if let v = reader.byteCount(&s, "batch_max_bytes", range: 1...(1 << 30)) { source.batchMaxBytes = v }
    // A read pass is one append: its payloads, at most one more message, and the headers must fit.
    let pass = source.batchMaxBytes + source.maxPayloadBytes + batchOverheadBytes
    if pass > logBatchLimit {
      reader.problem(
        s.entries["batch_max_bytes"]?.value ?? s.entries["max_payload"]?.value ?? node, path + ".batch_max_bytes",
        "batch_max_bytes (\(source.batchMaxBytes)) + max_payload (\(source.maxPayloadBytes)) + \(batchOverheadBytes) bytes of headers "
          + "is \(pass) bytes, more than the log's batch limit of \(logBatchLimit) bytes (\(ConfigValues.describeBytes(Int64(logBatchLimit)))): "
          + "lower batch_max_bytes or max_payload")
    }
    var sound = source
    sound.subscriptions = [MQTTSubscription(filter: "#")]
    let sourceWide = sound.problems()
    let entries = reader.sequence(&s, "subscriptions")
    for (j, sub) in (entries ?? []).enumerated() {
      let subPath = path + ".subscriptions[\(j)]"
      guard let subscription = mqttSubscription(reader, sub, path: subPath) else { continue }
      // Each subscription's own problems at its line: those of a source holding only it, less
      // those of a source holding only a sound one (the source-wide problems, reported once).
      var alone = source
      alone.subscriptions = [subscription]
      reader.report(alone.problems().filter { !sourceWide.contains($0) }, in: sub, path: subPath)
      source.subscriptions.append(subscription)
    }
    if s.entries["subscriptions"] == nil {
      reader.problem(node, path + ".subscriptions", "missing: list at least one topic filter to subscribe to")
    } else if entries?.isEmpty == true {
      reader.problem(s.at("subscriptions"), path + ".subscriptions", "no subscriptions: add at least one topic filter")
    }
    reader.report(sourceWide, in: node, path: path)
    reader.finish(s)
    return source
  }

  static func mqttSubscription(_ reader: ConfigReader, _ node: Node, path: String) -> MQTTSubscription? {
    guard var m = reader.section(node, path: path) else { return nil }
    defer { reader.finish(m) }
    guard let filter = reader.string(&m, "filter") else {
      if m.entries["filter"] == nil {
        reader.problem(node, path + ".filter", "missing: the MQTT topic filter to subscribe to")
      }
      return nil
    }
    if filter.utf8.count > 65535 || filter.contains("\u{0}") {
      reader.problem(m.at("filter"), path + ".filter", "a topic filter is at most 65535 bytes and has no NUL character")
      return nil
    }
    var subscription = MQTTSubscription(filter: filter)
    if let q = reader.int(&m, "qos", range: 0...1) { subscription.qos = q }
    if let t = reader.string(&m, "topic") {
      if let problem = Topic.nameProblem(t) {
        reader.problem(m.at("topic"), path + ".topic", problem)
      } else {
        subscription.topic = t
      }
    }
    subscription.key = KeySource(parsing: reader.string(&m, "key"))
    if let f = reader.choice(&m, "format", PayloadFormat.self, allowed: PayloadFormat.allCases) {
      subscription.format = f
    }
    if let tf = reader.string(&m, "time_field") {
      let field = (tf.hasPrefix("$.") ? String(tf.dropFirst(2)) : tf).split(separator: ".").map(String.init)
      if field.isEmpty {
        reader.problem(m.at("time_field"), path + ".time_field", "expected a field such as ts or $.meta.ts")
      } else {
        subscription.timeField = field
      }
    }
    if let f = reader.choice(&m, "time_format", TimeFormat.self, allowed: [.auto, .epochMs, .epochS, .rfc3339]) {
      subscription.timeFormat = f
    }
    let earliest = instant(reader, &m, "time_min", path: path)
    let latest = instant(reader, &m, "time_max", path: path)
    let range = EventTimeRange(
      earliestMs: earliest ?? EventTimeRange.standard.earliestMs, latestMs: latest ?? EventTimeRange.standard.latestMs)
    if range.earliestMs > range.latestMs {
      reader.problem(
        m.entries["time_min"]?.value ?? m.at("time_max"), path + ".time_min",
        "time_min is after time_max: the accepted event times would be \(range), which holds none")
    } else {
      subscription.timeRange = range
    }
    if var headers = reader.section(reader.value(&m, "headers"), path: path + ".headers") {
      for k in headers.entries.keys.sorted() {
        if let v = reader.string(&headers, k) { subscription.headers.append((k, v)) }
      }
      reader.finish(headers)
    }
    return subscription
  }

  /// An RFC 3339 instant or epoch milliseconds, for `time_min` and `time_max` (MQTT subscriptions
  /// and serial line protocols).
  static func instant(_ reader: ConfigReader, _ m: inout ConfigReader.Section, _ key: String, path: String)
    -> Int64?
  {
    guard let text = reader.string(&m, key) else { return nil }
    guard let ms = EventTimeRange.instant(text.trimmingCharacters(in: .whitespaces)) else {
      reader.problem(
        m.at(key), path + "." + key,
        "expected an RFC 3339 instant such as 2000-01-01T00:00:00Z or epoch milliseconds, got '\(text.prefix(80))'")
      return nil
    }
    return ms
  }
}

extension GatewayConfig {
  /// The broker keys an MQTT source and an MQTT uplink share: `broker` (URL with optional
  /// credentials), `tls` (`ca_file`, `cert_file`, `key_file`, `version`; paths start at the
  /// configuration file's directory), `client_id`, `username`, `password`, `keepalive`,
  /// `protocol`, `clean_session`.
  static func mqttClient(
    _ reader: ConfigReader, _ s: inout ConfigReader.Section, path: String, defaultBroker: String, clientID: String,
    paths: ConfigPaths
  ) -> MQTTClientConfig {
    let brokerText = reader.string(&s, "broker") ?? defaultBroker
    var client = MQTTClientConfig(host: "127.0.0.1", port: 1883, clientID: clientID)
    let tlsNode = reader.value(&s, "tls")
    if let url = MQTTClientConfig.parseURL(brokerText) {
      client.host = url.host
      client.port = url.port
      client.username = url.username
      client.password = url.password
      if url.tls {
        if var tls = reader.section(tlsNode, path: path + ".tls") {
          let file = { (key: String) -> String? in
            reader.string(&tls, key).map { $0.isEmpty ? $0 : paths.resolve($0) }
          }
          client.tls = MQTTClientConfig.TLS(
            caFile: file("ca_file") ?? "", certFile: file("cert_file"), keyFile: file("key_file"),
            version: reader.choice(&tls, "version", TLSVersion.self, allowed: TLSVersion.allCases)?.rawValue)
          if client.tls?.caFile.isEmpty == true {
            reader.problem(tls.at("ca_file"), path + ".tls.ca_file", "mqtts:// needs a CA file")
          }
          if (client.tls?.certFile == nil) != (client.tls?.keyFile == nil) {
            reader.problem(tls.node, path + ".tls", "cert_file and key_file go together: give both or neither")
          }
          reader.finish(tls)
        } else if tlsNode == nil {
          reader.problem(s.at("broker"), path + ".tls", "mqtts:// needs a 'tls:' section with ca_file")
        }
      } else if tlsNode != nil {
        reader.problem(s.keyNode("tls"), path + ".tls", "only used with an mqtts:// broker")
      }
    } else {
      reader.problem(
        s.at("broker"), path + ".broker",
        "expected mqtt://host:port or mqtts://host:port, got '\(brokerText.prefix(200))'")
    }
    // MQTT strings carry a 16-bit length.
    for (key, value) in [
      ("client_id", reader.string(&s, "client_id")), ("username", reader.string(&s, "username")),
      ("password", reader.string(&s, "password")),
    ] {
      guard let value else { continue }
      if value.utf8.count > 65535 {
        reader.problem(s.at(key), path + "." + key, "at most 65535 bytes (MQTT strings carry a 16-bit length)")
        continue
      }
      switch key {
      case "client_id":
        if value.isEmpty {
          reader.problem(s.at(key), path + ".client_id", "must not be empty: the broker keeps the session under it")
        } else {
          client.clientID = value
        }
      case "username": client.username = value
      default: client.password = value
      }
    }
    if let k = reader.milliseconds(
      &s, "keepalive", range: 5000...65_535_000, why: "libmosquitto needs 5s or more; MQTT holds 16-bit seconds")
    {
      // The range makes this a whole number of seconds from 5 to 65535 (fractions round down).
      client.keepalive = Int(k / 1000)
    }
    if let v = reader.string(&s, "protocol") {
      if let version = MQTTClientConfig.ProtocolVersion(rawValue: v) {
        client.protocolVersion = version
      } else {
        reader.problem(s.at("protocol"), path + ".protocol", "expected 3.1.1 or 5, got '\(v.prefix(80))'")
      }
    }
    if let clean = reader.bool(&s, "clean_session") { client.cleanSession = clean }
    return client
  }

  /// The TLS versions libmosquitto accepts.
  enum TLSVersion: String, CaseIterable {
    case v11 = "tlsv1.1"
    case v12 = "tlsv1.2"
    case v13 = "tlsv1.3"
  }
}
