import Foundation
public import Ingest
import MQTT
public import PartitionedLog
import Rules
import Yams

/// The gateway's whole configuration, read from YAML (`config/weir.yaml` is the commented
/// default). Sizes and durations are written the human way (`64MiB`, `7d`).
public struct GatewayConfig: Sendable {
  /// Names this gateway upstream and derives stable MQTT client ids. Required.
  public var gatewayID: String
  /// Where the log and `weir.db` live. Default: `/var/lib/weir`.
  public var dataDirectory: String
  public var log: LogOptions
  /// Topics and their settings; unlisted topics get the defaults when first written.
  public var topics: [(name: String, config: TopicConfig)]
  public var mqttSources: [MQTTSourceConfig]
  /// Rule files. Default: none.
  public var ruleFiles: [String]
  /// HTTP listen address. Default: 127.0.0.1:8080.
  public var httpHost: String
  public var httpPort: Int
  /// When set, `/api/...` needs `Authorization: Bearer <token>`. Default: none.
  public var httpToken: String?
  public var uplinks: [UplinkConfig] = []
  public var serialSources: [SerialSourceConfig] = []
  public var modbusSources: [ModbusConfig] = []
  /// Publish alerts to the local broker (the first MQTT source's) under
  /// `weir/alerts/<rule>/<key>`. Default: true.
  public var publishAlerts = true
  /// How long a SIGTERM drain may take before the daemon exits anyway. Default: 30 s.
  public var shutdownTimeoutMs: Int64 = 30_000
  /// The file this configuration was read from.
  public var file = ""

  /// Reads and checks `path`; throws ``ConfigError`` with every problem found.
  public static func load(path: String, environment: [String: String]? = nil) throws -> GatewayConfig {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
      throw ConfigError(problems: [ConfigProblem(file: path, line: 0, key: "", message: "cannot read the file")])
    }
    return try parse(text, file: path, environment: environment ?? ProcessInfo.processInfo.environment)
  }

  /// Parses `text`; `${NAME}` in a value is replaced by that environment variable, and
  /// `WEIR_<KEY>__<KEY>...` variables (`WEIR_GATEWAY__ID`, `WEIR_UPLINKS__0__PASSWORD`) set values.
  public static func parse(_ text: String, file: String, environment: [String: String] = [:]) throws -> GatewayConfig {
    let reader = ConfigReader(file: file)
    var root: Node?
    do {
      root = try Yams.compose(yaml: text)
    } catch {
      throw ConfigError(problems: [ConfigProblem(file: file, line: 0, key: "", message: "not valid YAML: \(error)")])
    }
    root = ConfigEnvironment(environment, reader: reader).apply(to: root ?? Node([(Node, Node)]()))
    guard var top = reader.section(root ?? Node(""), path: "") else { throw ConfigError(problems: reader.problems) }
    var config = GatewayConfig(
      gatewayID: "", dataDirectory: "/var/lib/weir", log: LogOptions(), topics: [], mqttSources: [], ruleFiles: [],
      httpHost: "127.0.0.1", httpPort: 8080)

    if var gateway = reader.section(reader.value(&top, "gateway"), path: "gateway") {
      config.gatewayID = reader.string(&gateway, "id") ?? ""
      if config.gatewayID.isEmpty || config.gatewayID.contains(where: { !($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
        reader.problem(gateway.entries["id"]?.value ?? gateway.node, "gateway.id", "set an id of letters, digits, '-' or '_' (it names this gateway upstream)")
      }
      config.dataDirectory = reader.string(&gateway, "data_dir") ?? config.dataDirectory
      if let v = reader.milliseconds(&gateway, "shutdown_timeout") { config.shutdownTimeoutMs = v }
      reader.finish(gateway)
    } else {
      reader.problem(root, "gateway", "missing: add a 'gateway:' section with an 'id'")
    }

    if var log = reader.section(reader.value(&top, "log"), path: "log") {
      if let v = reader.bytes(&log, "disk_budget") { config.log.diskBudgetBytes = v }
      if let v = reader.bytes(&log, "min_free") { config.log.minFreeBytes = v }
      reader.finish(log)
    }

    if var topics = reader.section(reader.value(&top, "topics"), path: "topics") {
      for name in topics.entries.keys.sorted() {
        guard var t = reader.section(reader.value(&topics, name), path: "topics.\(name)") else { continue }
        if let problem = Topic.nameProblem(name) { reader.problem(topics.entries[name]?.key, "topics.\(name)", problem) }
        var c = TopicConfig()
        if let v = reader.int(&t, "partitions", range: 1...10_000) { c.partitions = v }
        switch reader.string(&t, "fsync") {
        case .none: break
        case .some("always"): c.fsync = .always
        case .some("never"): c.fsync = .never
        case .some("interval"):
          let ms = reader.milliseconds(&t, "fsync_interval") ?? 50
          let bytes = reader.bytes(&t, "fsync_bytes") ?? (4 << 20)
          c.fsync = .interval(milliseconds: Int(ms), bytes: Int(bytes))
        case let other?:
          reader.problem(t.entries["fsync"]?.value, "topics.\(name).fsync", "expected always, interval or never, got '\(other)'")
        }
        if let v = reader.bytes(&t, "segment_bytes") { c.segmentBytes = v }
        if let v = reader.milliseconds(&t, "segment_age") { c.segmentMs = v }
        if let v = reader.bytes(&t, "max_bytes") { c.maxBytes = v }
        if let v = reader.string(&t, "max_age") {
          if v == "forever" { c.maxAgeMs = nil } else { c.maxAgeMs = reader.milliseconds(&t, "max_age") }
        }
        if let v = reader.int(&t, "eviction_priority", range: -1000...1000) { c.evictionPriority = v }
        if let v = reader.choice(&t, "on_full", FullPolicy.self, allowed: [.dropOldest, .rejectNew]) { c.onFull = v }
        if let problem = c.problem() { reader.problem(topics.entries[name]?.key, "topics.\(name)", problem) }
        reader.finish(t)
        config.topics.append((name, c))
      }
    }

    for (i, node) in (reader.sequence(&top, "mqtt") ?? []).enumerated() {
      if let source = mqttSource(reader, node, path: "mqtt[\(i)]", gateway: config.gatewayID) {
        config.mqttSources.append(source)
      }
    }

    for (i, node) in (reader.sequence(&top, "uplinks") ?? []).enumerated() {
      if let uplink = uplink(reader, node, path: "uplinks[\(i)]", gateway: config.gatewayID) {
        if config.uplinks.contains(where: { $0.name == uplink.name }) {
          reader.problem(node, "uplinks[\(i)].name", "another uplink is already named '\(uplink.name)'")
        }
        config.uplinks.append(uplink)
      }
    }
    for (i, node) in (reader.sequence(&top, "serial") ?? []).enumerated() {
      if let source = serialSource(reader, node, path: "serial[\(i)]") { config.serialSources.append(source) }
    }
    for (i, node) in (reader.sequence(&top, "modbus") ?? []).enumerated() {
      if let source = modbusSource(reader, node, path: "modbus[\(i)]") { config.modbusSources.append(source) }
    }

    if var rules = reader.section(reader.value(&top, "rules"), path: "rules") {
      if let v = reader.bool(&rules, "publish_alerts") { config.publishAlerts = v }
      for (j, f) in (reader.sequence(&rules, "files") ?? []).enumerated() {
        guard let path = f.string else {
          reader.problem(f, "rules.files[\(j)]", "expected a file path")
          continue
        }
        let resolved = path.hasPrefix("/") ? path : (file as NSString).deletingLastPathComponent + "/" + path
        guard let source = try? String(contentsOfFile: resolved, encoding: .utf8) else {
          reader.problem(f, "rules.files[\(j)]", "cannot read \(resolved) (relative paths start at the config file's directory)")
          continue
        }
        for error in RuleFile.parse(source, fileName: resolved).errors {
          reader.extra(ConfigProblem(file: resolved, line: error.location.line, key: error.rule ?? "rules", message: error.message))
        }
        config.ruleFiles.append(resolved)
      }
      reader.finish(rules)
    }

    if var http = reader.section(reader.value(&top, "http"), path: "http") {
      if let listen = reader.string(&http, "listen") {
        let parts = listen.split(separator: ":")
        if parts.count == 2, let port = Int(parts[1]), (1...65535).contains(port) {
          config.httpHost = String(parts[0])
          config.httpPort = port
        } else {
          reader.problem(http.entries["listen"]?.value, "http.listen", "expected host:port such as 127.0.0.1:8080")
        }
      }
      if let token = reader.string(&http, "token"), !token.isEmpty { config.httpToken = token }
      reader.finish(http)
    }
    reader.finish(top)
    config.file = file
    if !reader.problems.isEmpty {
      throw ConfigError(problems: reader.problems.sorted { ($0.file != file ? 1 : 0, $0.file, $0.line) < ($1.file != file ? 1 : 0, $1.file, $1.line) })
    }
    return config
  }

  static func mqttSource(_ reader: ConfigReader, _ node: Node, path: String, gateway: String) -> MQTTSourceConfig? {
    guard var s = reader.section(node, path: path) else { return nil }
    let name = reader.string(&s, "name") ?? "mqtt"
    let client = mqttClient(
      reader, &s, path: path, defaultBroker: "mqtt://127.0.0.1:1883",
      clientID: MQTTSourceConfig.stableClientID(gateway: gateway, source: name))
    var source = MQTTSourceConfig(name: name, client: client, subscriptions: [])
    if let v = reader.bytes(&s, "max_payload") { source.maxPayloadBytes = Int(v) }
    for (j, sub) in (reader.sequence(&s, "subscriptions") ?? []).enumerated() {
      let subPath = path + ".subscriptions[\(j)]"
      guard var m = reader.section(sub, path: subPath) else { continue }
      guard let filter = reader.string(&m, "filter") else {
        reader.problem(sub, subPath + ".filter", "missing: the MQTT topic filter to subscribe to")
        continue
      }
      var subscription = MQTTSubscription(filter: filter)
      if let q = reader.int(&m, "qos", range: 0...1) { subscription.qos = q }
      if let t = reader.string(&m, "topic") { subscription.topic = t }
      subscription.key = KeySource(parsing: reader.string(&m, "key"))
      if let f = reader.choice(&m, "format", PayloadFormat.self, allowed: PayloadFormat.allCases) { subscription.format = f }
      if let tf = reader.string(&m, "time_field") {
        subscription.timeField = (tf.hasPrefix("$.") ? String(tf.dropFirst(2)) : tf).split(separator: ".").map(String.init)
      }
      if let f = reader.choice(&m, "time_format", TimeFormat.self, allowed: [.auto, .epochMs, .epochS, .rfc3339]) {
        subscription.timeFormat = f
      }
      if var headers = reader.section(reader.value(&m, "headers"), path: subPath + ".headers") {
        for k in headers.entries.keys.sorted() {
          if let v = reader.string(&headers, k) { subscription.headers.append((k, v)) }
        }
        reader.finish(headers)
      }
      reader.finish(m)
      source.subscriptions.append(subscription)
    }
    for p in source.problems() { reader.problem(node, path, p) }
    reader.finish(s)
    return source
  }
}

extension GatewayConfig {
  /// The broker keys an MQTT source and an MQTT uplink share: `broker` (URL with optional
  /// credentials), `tls`, `client_id`, `username`, `password`, `keepalive`, `protocol`, `clean_session`.
  static func mqttClient(
    _ reader: ConfigReader, _ s: inout ConfigReader.Section, path: String, defaultBroker: String, clientID: String
  ) -> MQTTClientConfig {
    let brokerText = reader.string(&s, "broker") ?? defaultBroker
    var client = MQTTClientConfig(host: "127.0.0.1", port: 1883, clientID: clientID)
    if let url = MQTTClientConfig.parseURL(brokerText) {
      client.host = url.host
      client.port = url.port
      client.username = url.username
      client.password = url.password
      if url.tls {
        if var tls = reader.section(reader.value(&s, "tls"), path: path + ".tls") {
          client.tls = MQTTClientConfig.TLS(
            caFile: reader.string(&tls, "ca_file") ?? "", certFile: reader.string(&tls, "cert_file"),
            keyFile: reader.string(&tls, "key_file"), version: reader.string(&tls, "version"))
          if client.tls?.caFile.isEmpty == true { reader.problem(tls.node, path + ".tls.ca_file", "mqtts:// needs a CA file") }
          reader.finish(tls)
        } else {
          reader.problem(s.entries["broker"]?.value, path + ".tls", "mqtts:// needs a 'tls:' section with ca_file")
        }
      }
    } else {
      reader.problem(
        s.entries["broker"]?.value ?? s.node, path + ".broker",
        "expected mqtt://host:port or mqtts://host:port, got '\(brokerText)'")
    }
    if let id = reader.string(&s, "client_id") { client.clientID = id }
    if let u = reader.string(&s, "username") { client.username = u }
    if let p = reader.string(&s, "password") { client.password = p }
    if let k = reader.milliseconds(&s, "keepalive") { client.keepalive = Int(max(1, k / 1000)) }
    if let v = reader.string(&s, "protocol") {
      if let version = MQTTClientConfig.ProtocolVersion(rawValue: v) { client.protocolVersion = version } else {
        reader.problem(s.entries["protocol"]?.value, path + ".protocol", "expected 3.1.1 or 5, got '\(v)'")
      }
    }
    if let clean = reader.bool(&s, "clean_session") { client.cleanSession = clean }
    return client
  }
}

/// A configuration that cannot be used, with every problem found.
public struct ConfigError: Error, CustomStringConvertible {
  public var problems: [ConfigProblem]
  public var description: String { problems.map(\.description).joined(separator: "\n") }
}
