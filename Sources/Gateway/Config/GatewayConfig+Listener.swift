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
  static func listener(_ reader: ConfigReader, _ node: Node, path: String, paths: ConfigPaths) -> ListenerConfig? {
    guard var s = reader.section(node, path: path) else { return nil }
    var config = ListenerConfig()
    if let name = reader.string(&s, "name") { config.name = name }
    if let (host, port) = listen(reader, &s, path: path + ".listen", example: "0.0.0.0:1883") {
      config.host = host
      config.port = port
    }
    config.plain = s.entries["listen"] != nil || s.entries["tls"] == nil
    if let node = s.entries["tls"]?.value, var t = reader.section(node, path: path + ".tls") {
      var tls = ListenerTLS(certFile: "", keyFile: "")
      if let (host, port) = listen(reader, &t, path: path + ".tls.listen", example: "0.0.0.0:8883") {
        tls.host = host
        tls.port = port
      }
      for (key, keyPath) in [("cert_file", \ListenerTLS.certFile), ("key_file", \.keyFile)] {
        if let file = reader.string(&t, key) {
          tls[keyPath: keyPath] = paths.resolve(file)
        } else {
          reader.problem(
            node, path + ".tls." + key,
            "missing: the PEM file of the server's \(key == "cert_file" ? "certificate chain" : "private key")")
        }
      }
      if let ca = reader.string(&t, "ca_file") { tls.caFile = paths.resolve(ca) }
      if let v = reader.bool(&t, "require_client_cert") { tls.requireClientCert = v }
      reader.finish(t)
      config.tls = tls
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
    if let node = s.entries["auth"]?.value, var a = reader.section(node, path: path + ".auth") {
      if let file = reader.string(&a, "password_file") {
        config.passwordFile = paths.resolve(file)
        do { _ = try PasswordFile.load(path: paths.resolve(file)) } catch { reader.add(error.problems) }
      }
      if let file = reader.string(&a, "acl_file") {
        config.aclFile = paths.resolve(file)
        do { _ = try ACLFile.load(path: paths.resolve(file)) } catch { reader.add(error.problems) }
      }
      reader.finish(a)
    }
    reader.report(config.problems(), in: node, path: path)
    reader.finish(s)
    return config
  }

  /// A section's `listen: host:port`, or nil (absent, or reported as a problem).
  private static func listen(
    _ reader: ConfigReader, _ s: inout ConfigReader.Section, path: String, example: String
  ) -> (String, Int)? {
    guard let listen = reader.string(&s, "listen") else { return nil }
    if let address = listenAddress(listen) { return address }
    reader.problem(
      s.at("listen"), path,
      "expected host:port with a port from 1 to 65535, such as \(example), got '\(listen.prefix(80))'")
    return nil
  }
}
