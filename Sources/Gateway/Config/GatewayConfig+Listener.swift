import Ingest
import PartitionedLog
import WeirCore
import Yams

extension GatewayConfig {
  /// One `listeners:` entry: `name`, `listen` (host:port), `max_connections`, `max_packet`,
  /// `receive_maximum`, `max_payload`, `anonymous`, `max_keepalive`, `max_session_expiry`,
  /// `max_sessions`, `max_subscriptions`, `max_retained`,
  /// `default_topic`, `events_topic`, `dead_letter_topic` and `routes` (each like an MQTT
  /// source's subscription: `filter`, `topic`, `key`, `format`, `time_field`, ...).
  static func listener(_ reader: ConfigReader, _ node: Node, path: String) -> ListenerConfig? {
    guard var s = reader.section(node, path: path) else { return nil }
    var config = ListenerConfig()
    if let name = reader.string(&s, "name") { config.name = name }
    if let listen = reader.string(&s, "listen") {
      if let (host, port) = listenAddress(listen) {
        config.host = host
        config.port = port
      } else {
        reader.problem(
          s.at("listen"), path + ".listen",
          "expected host:port with a port from 1 to 65535, such as 0.0.0.0:1883, got '\(listen.prefix(80))'")
      }
    }
    if let v = reader.int(&s, "max_connections", range: 1...1_000_000) { config.maxConnections = v }
    if let v = reader.byteCount(&s, "max_packet", range: 64...268_435_460, why: "an MQTT packet is at most 256 MiB") {
      config.maxPacketBytes = v
    }
    if let v = reader.int(&s, "receive_maximum", range: 1...65_535) { config.receiveMaximum = v }
    if let v = reader.byteCount(&s, "max_payload", range: 1...(256 << 20), why: "an MQTT packet is at most 256 MiB") {
      config.maxPayloadBytes = v
    }
    if let v = reader.bool(&s, "anonymous") { config.anonymous = v }
    if let v = reader.int(&s, "max_sessions", range: 1...10_000_000) { config.maxSessions = v }
    if let v = reader.int(&s, "max_subscriptions", range: 1...100_000) { config.maxSubscriptions = v }
    if let v = reader.int(&s, "max_retained", range: 0...10_000_000) { config.maxRetained = v }
    if let ms = reader.milliseconds(&s, "max_keepalive", range: 1000...65_535_000) {
      config.maxKeepAliveSeconds = UInt16(ms / 1000)
    }
    if let ms = reader.milliseconds(&s, "max_session_expiry", range: 0...(Int64(UInt32.max) * 1000)) {
      config.maxSessionExpirySeconds = UInt32(ms / 1000)
    }
    for (key, keyPath) in [
      ("default_topic", \ListenerConfig.defaultTopic), ("events_topic", \.eventsTopic),
      ("dead_letter_topic", \.deadLetterTopic),
    ] {
      if let t = reader.string(&s, key) {
        if let problem = Topic.nameProblem(t) {
          reader.problem(s.at(key), path + "." + key, problem)
        } else {
          config[keyPath: keyPath] = t
        }
      }
    }
    for (j, route) in (reader.sequence(&s, "routes") ?? []).enumerated() {
      if let subscription = mqttSubscription(reader, route, path: path + ".routes[\(j)]") {
        config.routes.append(subscription)
      }
    }
    if !config.anonymous {
      reader.problem(
        s.entries["anonymous"]?.value ?? node, path + ".anonymous",
        "password and ACL files are not supported yet: set anonymous: true (and keep the port on a trusted network)")
    }
    reader.report(config.problems(), in: node, path: path)
    reader.finish(s)
    return config
  }
}
