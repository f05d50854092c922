import Foundation
public import Ingest
import MQTT
public import PartitionedLog
public import WeirCore
import Yams

/// The gateway's whole configuration, read from YAML (`config/weir.yaml` is the commented
/// default). Sizes and durations are written the human way (`64MiB`, `7d`).
public struct GatewayConfig: Sendable {
  /// Names this gateway upstream and derives stable MQTT client ids. Required.
  public var gatewayID: String
  /// What the file should change but that still works (deprecated keys), each with its line; `weir run` logs them
  /// and `weir config check` prints them.
  public var warnings: [ConfigProblem] = []
  /// Where the log and `weir.db` live; a relative path starts at the configuration file's
  /// directory. Default: `/var/lib/weir`.
  public var dataDirectory: String
  public var log: LogOptions
  /// Topics and their settings; unlisted topics get the defaults when first written.
  public var topics: [(name: String, config: TopicConfig)]
  public var mqttSources: [MQTTSourceConfig]
  /// Rule files, absolute. Default: none.
  public var ruleFiles: [String]
  /// HTTP listen address. Default: 127.0.0.1:8080.
  public var httpHost: String
  public var httpPort: Int
  /// When set, `/api/...` needs `Authorization: Bearer <token>`. Default: none.
  public var httpToken: String?
  public var uplinks: [UplinkConfig] = []
  public var serialSources: [SerialSourceConfig] = []
  public var modbusSources: [ModbusConfig] = []
  /// Weir's own MQTT servers (`listeners:`). Default: none.
  public var listeners: [ListenerConfig] = []
  /// Publish alerts to local MQTT subscribers under `weir/alerts/<rule>/<key>`: through the
  /// listeners when there are any (served from the `alerts` topic), else to the first MQTT
  /// source's broker. Default: true.
  public var publishAlerts = true
  /// How long a SIGTERM drain may take before the daemon exits anyway. Default: 30 s.
  public var shutdownTimeoutMs: Int64 = 30_000
  /// The file this configuration was read from, absolute.
  public var file = ""

  /// Reads and checks `path`; throws ``ConfigError`` with every problem found. The file may be at
  /// most ``ConfigLimits/fileBytes``; relative paths in it start at its directory.
  public static func load(path: String, environment: [String: String]? = nil) throws -> GatewayConfig {
    let text = try ConfigFile.read(path, limit: ConfigLimits.fileBytes, what: "a configuration")
    return try parse(text, file: path, environment: environment ?? ProcessInfo.processInfo.environment)
  }

  /// Parses `text`; `${NAME}` in a value is replaced by that environment variable, and
  /// `WEIR_<KEY>__<KEY>...` variables (`WEIR_GATEWAY__ID`, `WEIR_UPLINKS__0__PASSWORD`) set values.
  /// Relative paths start at the directory of `file`, made absolute against the working directory.
  public static func parse(_ text: String, file: String, environment: [String: String] = [:]) throws -> GatewayConfig {
    let reader = ConfigReader(file: file)
    let paths = ConfigPaths(file: file)
    // An empty document is read as an empty mapping, which still has a line (1) to report at.
    guard let composed = try ConfigYAML.compose(text, file: file) ?? ConfigYAML.compose("{}", file: file) else {
      throw ConfigError(file: file, line: 1, key: "", "the file holds no YAML document")
    }
    let root = ConfigEnvironment(environment, reader: reader).apply(to: composed)
    guard var top = reader.section(root, path: "") else { throw ConfigError(problems: reader.problems) }
    var config = GatewayConfig(
      gatewayID: "", dataDirectory: "/var/lib/weir", log: LogOptions(), topics: [], mqttSources: [], ruleFiles: [],
      httpHost: "127.0.0.1", httpPort: 8080)
    config.file = paths.file

    if var gateway = reader.section(reader.value(&top, "gateway"), path: "gateway") {
      config.gatewayID = reader.string(&gateway, "id") ?? ""
      if config.gatewayID.isEmpty || config.gatewayID.utf8.count > 200
        || config.gatewayID.contains(where: { !($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
      {
        reader.problem(
          gateway.at("id"), "gateway.id",
          "set an id of letters, digits, '-' or '_', at most 200 bytes (it names this gateway upstream)")
      }
      if let dir = reader.string(&gateway, "data_dir") {
        if dir.isEmpty {
          reader.problem(gateway.at("data_dir"), "gateway.data_dir", "an empty path names no directory")
        } else {
          config.dataDirectory = paths.resolve(dir)
        }
      }
      if let v = reader.milliseconds(
        &gateway, "shutdown_timeout", range: 1000...3_600_000, why: "SIGTERM waits this long for the drain")
      {
        config.shutdownTimeoutMs = v
      }
      reader.finish(gateway)
    } else if top.entries["gateway"] == nil {
      reader.problem(root, "gateway", "missing: add a 'gateway:' section with an 'id'")
    }

    if var log = reader.section(reader.value(&top, "log"), path: "log") {
      if let v = reader.bytes(&log, "disk_budget", range: (1 << 20)...ConfigValues.maxBytes) {
        config.log.diskBudgetBytes = v
      }
      if let v = reader.bytes(&log, "min_free", range: 0...ConfigValues.maxBytes) { config.log.minFreeBytes = v }
      if let v = reader.bytes(&log, "metadata_reserve", range: 0...(1 << 30)) { config.log.metadataReserveBytes = v }
      reader.finish(log)
    }

    config.topics = topics(reader, reader.value(&top, "topics"))

    var mqttNames: [String: Int] = [:]
    for (i, node) in (reader.sequence(&top, "mqtt") ?? []).enumerated() {
      if let source = mqttSource(reader, node, path: "mqtt[\(i)]", gateway: config.gatewayID, paths: paths) {
        if let other = mqttNames[source.name] {
          reader.problem(
            node, "mqtt[\(i)].name",
            "mqtt[\(other)] is already named '\(source.name)' (names label metrics and client ids)")
        }
        mqttNames[source.name] = i
        config.mqttSources.append(source)
      }
    }

    var uplinkNames: Set<String> = []
    for (i, node) in (reader.sequence(&top, "uplinks") ?? []).enumerated() {
      if let uplink = uplink(reader, node, path: "uplinks[\(i)]", gateway: config.gatewayID, paths: paths) {
        if !uplinkNames.insert(uplink.name).inserted {
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
    var listenerNames: Set<String> = []
    for (i, node) in (reader.sequence(&top, "listeners") ?? []).enumerated() {
      if let listener = listener(reader, node, path: "listeners[\(i)]", paths: paths) {
        if !listenerNames.insert(listener.name).inserted {
          reader.problem(node, "listeners[\(i)].name", "another listener is already named '\(listener.name)'")
        }
        config.listeners.append(listener)
      }
    }

    if let (publish, files) = rules(reader, reader.value(&top, "rules"), paths: paths) {
      config.publishAlerts = publish ?? config.publishAlerts
      config.ruleFiles = files
    }

    if var http = reader.section(reader.value(&top, "http"), path: "http") {
      if let listen = reader.string(&http, "listen") {
        if let (host, port) = Self.listenAddress(listen) {
          config.httpHost = host
          config.httpPort = port
        } else {
          reader.problem(
            http.at("listen"), "http.listen",
            "expected host:port with a port from 1 to 65535, such as 127.0.0.1:8080, got '\(listen.prefix(80))'")
        }
      }
      if let token = reader.string(&http, "token"), !token.isEmpty { config.httpToken = token }
      reader.finish(http)
    }
    reader.finish(top)
    if !reader.problems.isEmpty {
      // This file's problems by line, then other files' (rule files); found order within a line.
      let problems = reader.problems
      let order = problems.indices.sorted {
        let a = problems[$0]
        let b = problems[$1]
        if (a.file == file) != (b.file == file) { return a.file == file }
        if a.file != b.file { return a.file < b.file }
        return (a.line, $0) < (b.line, $1)
      }
      throw ConfigError(problems: order.map { problems[$0] })
    }
    config.warnings = reader.warnings
    return config
  }

  /// `host:port` or `[v6]:port`.
  static func listenAddress(_ text: String) -> (host: String, port: Int)? {
    guard let colon = text.lastIndex(of: ":") else { return nil }
    var host = String(text[..<colon])
    guard let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else { return nil }
    if host.hasPrefix("[") && host.hasSuffix("]") && host.count >= 2 {
      host = String(host.dropFirst().dropLast())
    } else if host.contains(":") {
      return nil
    }
    guard !host.isEmpty else { return nil }
    return (host, port)
  }
}
