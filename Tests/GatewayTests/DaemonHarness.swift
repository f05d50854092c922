import Foundation
import Gateway
import Testing
import WeirTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// The whole product on real parts: a mosquitto, `weir dev-cluster` (librdkafka's mock cluster)
/// as the central cluster, and `weir run` as a child process, each on free loopback ports and
/// stopped by PID.
final class DaemonHarness: @unchecked Sendable {
  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
  static var weir: String { builtExecutable("weir") }
  static var firmwareSim: String { builtExecutable("firmware-sim") }

  let directory: String
  let broker: MosquittoBroker
  /// A second mosquitto standing in for a central MQTT broker (the `cloud` uplink forwards alerts there).
  let central: MosquittoBroker
  let cluster: ChildProcess
  let bootstrap: String
  let httpPort: Int
  let configPath: String
  var daemon: ChildProcess?
  var runs = 0

  /// The port devices publish to: the listener's with `viaListener`, else the local mosquitto's.
  let devicePort: Int
  let viaListener: Bool

  /// `viaListener`: the devices publish to `weir run`'s own MQTT listener (and local alert
  /// subscribers connect there) instead of a local mosquitto that an `mqtt:` source reads.
  init(token: String? = nil, ruleFiles: [String]? = nil, extraConfig: String = "", viaListener: Bool = false)
    async throws
  {
    directory = NSTemporaryDirectory() + "weir-e2e-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    broker = try MosquittoBroker()
    central = try MosquittoBroker()
    let bootstrapFile = directory + "/bootstrap"
    cluster = try ChildProcess(
      Self.weir, ["dev-cluster", "serve", "--brokers", "3", "--bootstrap-file", bootstrapFile],
      logPath: directory + "/dev-cluster.log")
    let written = await eventually(timeout: 20) {
      ((try? String(contentsOfFile: bootstrapFile, encoding: .utf8)) ?? "").contains(":")
    }
    guard written else { throw BrokerError("dev-cluster did not start: \(cluster.output)") }
    bootstrap = try String(contentsOfFile: bootstrapFile, encoding: .utf8).trimmingCharacters(
      in: .whitespacesAndNewlines)
    httpPort = MosquittoBroker.freePort()
    devicePort = viaListener ? MosquittoBroker.freePort() : broker.port
    self.viaListener = viaListener
    let ingest =
      viaListener
      ? """
      listeners:
        - name: devices
          listen: 127.0.0.1:\(devicePort)
          anonymous: true
          routes:
            - {filter: "sensors/+/telemetry", topic: telemetry, key: "{1}", format: json, time_field: ts}
      """
      : """
      mqtt:
        - name: local
          broker: \(broker.url)
          clean_session: false
          subscriptions:
            - {filter: "sensors/+/telemetry", qos: 1, topic: telemetry, key: "{1}", format: json, time_field: ts}
      """
    configPath = directory + "/weir.yaml"
    let rules = Self.repository + "/config/rules"
    let config = """
      gateway:
        id: e2e-edge
        data_dir: \(directory)/data
        shutdown_timeout: 20s
      topics:
        telemetry: {partitions: 6, fsync: interval, fsync_interval: 20ms, max_age: forever}
        alerts: {partitions: 1, fsync: always, max_age: forever}
      \(ingest)
      uplinks:
        - name: central
          kind: kafka
          bootstrap: \(bootstrap)
          topics: [alerts, telemetry]
          topic_template: "edge.{topic}"
        - name: cloud
          kind: mqtt
          broker: \(central.url)
          topics: [alerts]
      rules:
        files: [\((ruleFiles ?? [rules + "/motors.sql", rules + "/pumps.sql"]).joined(separator: ", "))]
      http:
        listen: 127.0.0.1:\(httpPort)
      \(token.map { "  token: \($0)" } ?? "")
      \(extraConfig)
      """
    try config.write(toFile: configPath, atomically: true, encoding: .utf8)
  }

  deinit {
    // The children's deinit kills them by PID if a test failed before stopping them.
    try? FileManager.default.removeItem(atPath: directory)
  }

  var api: APIClient { APIClient(base: URL(string: "http://127.0.0.1:\(httpPort)/")!) }

  /// Starts `weir run` and waits until it is ready.
  func startDaemon(_ extra: [String] = [], environment: [String: String] = [:]) async throws {
    runs += 1
    let child = try ChildProcess(
      Self.weir, ["run", "--config", configPath] + extra, environment: environment,
      logPath: directory + "/weir-\(runs).log")
    daemon = child
    let ready = await eventually(timeout: 30) {
      guard child.isRunning else { return true }
      return (try? await api.get(StatusResponse.self, "api/v1/status").ready) ?? false
    }
    guard ready, child.isRunning else { throw BrokerError("weir did not become ready:\n\(child.output)") }
  }

  /// SIGTERM and the exit status.
  func stopDaemon() async -> Int32? {
    guard let daemon else { return nil }
    daemon.signal(SIGTERM)
    let status = await daemon.waitForExit(timeout: 30)
    if status == nil { daemon.signal(SIGKILL) }
    return status
  }

  /// The start of simulated time for a fleet run: now, rounded down to a quarter hour, so the
  /// rules' 15-minute tumbling windows cut the fleet's (seeded) readings at the same places in
  /// every run, as they do for the scenario's own start. From `now` the first window held
  /// whatever part of the shift's ramp-up the wall clock left in it, and `current_drift` raised
  /// on a healthy motor in some runs and not others.
  static func alignedStart() -> Int64 {
    Int64(Date().timeIntervalSince1970 * 1000) / 900_000 * 900_000
  }

  /// Plays the demo fleet until both failures (about 37,000 messages) and returns its summary.
  func runFleet(speed: Int = 1200, extra: [String] = []) async throws -> (published: Int, truth: [[String: Any]]) {
    let truthPath = directory + "/truth.jsonl"
    let sim = try ChildProcess(
      Self.firmwareSim,
      [
        "run", "--broker", "mqtt://127.0.0.1:\(devicePort)", "--scenario", Self.repository + "/config/fleet/demo.yaml",
        "--speed", "\(speed)",
        "--until-failures", "--start", "\(Self.alignedStart())", "--ground-truth", truthPath, "--quiet",
      ] + extra, logPath: directory + "/firmware-sim.log")
    guard let status = await sim.waitForExit(timeout: 300), status == 0 else {
      throw BrokerError("firmware-sim failed: \(sim.output)")
    }
    let summary = sim.output.split(separator: "\n").last { $0.hasPrefix("{") && $0.contains("\"published\"") }
    let object = try JSONSerialization.jsonObject(with: Data((summary ?? "{}").utf8)) as? [String: Any]
    let truth = try String(contentsOfFile: truthPath, encoding: .utf8).split(separator: "\n").compactMap {
      try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
    return ((object?["published"] as? Int) ?? -1, truth)
  }

  /// Waits until the uplink has nothing left to send and the rules have seen every record.
  func waitUntilDrained(records: Int64, timeout: Double = 120) async throws -> StatusResponse {
    var last: StatusResponse?
    let done = await eventually(timeout: timeout) {
      guard let s = try? await api.get(StatusResponse.self, "api/v1/status") else { return false }
      last = s
      let topics = try? await api.get(TopicsResponse.self, "api/v1/topics")
      let inLog = topics?.topics.first { $0.name == "telemetry" }?.records ?? 0
      return inLog >= records && s.uplinks.allSatisfy { $0.lagRecords == 0 && $0.inFlightRecords == 0 }
        // The rules' count and the ingest count both start at this run's start; the listener's
        // ingest count also has its connect/disconnect events, so compare it with the log.
        && s.rules.recordsProcessed >= (viaListener ? inLog : s.ingest.records)
    }
    guard done, let last else { throw BrokerError("not drained: \(String(describing: last))") }
    return last
  }

  /// Records in the central cluster's `topic`, deduplicated by their log position headers.
  func centralRecords(_ topic: String) async throws -> (distinct: Int, total: Int) {
    let consumer = try ChildProcess(
      Self.weir,
      ["dev-cluster", "consume", "--bootstrap", bootstrap, "--topic", topic, "--from-beginning", "--timeout", "3"],
      logPath: directory + "/consume-\(topic).log")
    guard await consumer.waitForExit(timeout: 120) == 0 else { throw BrokerError("consume failed: \(consumer.output)") }
    var positions = Set<String>()
    var total = 0
    for line in consumer.output.split(separator: "\n") where line.hasPrefix("{") {
      guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
        let headers = object["headers"] as? [String: String]
      else { continue }
      total += 1
      positions.insert("\(headers["weir.partition"] ?? "?")/\(headers["weir.offset"] ?? "?")")
    }
    return (positions.count, total)
  }

  /// `mosquitto_sub` on `broker` for `filter` at QoS 1, printing `topic payload` lines.
  func subscribe(_ broker: MosquittoBroker, _ filter: String, name: String) throws -> ChildProcess {
    try subscribe(port: broker.port, filter, name: name)
  }

  /// `mosquitto_sub` on the MQTT server at `port` (a mosquitto, or `weir run`'s listener).
  func subscribe(port: Int, _ filter: String, name: String) throws -> ChildProcess {
    try ChildProcess(
      "/usr/bin/mosquitto_sub", ["-h", "127.0.0.1", "-p", "\(port)", "-t", filter, "-q", "1", "-v"],
      logPath: directory + "/sub-\(name).log")
  }

  /// Runs the CLI against this daemon and returns its standard output.
  func cli(_ arguments: [String]) async throws -> String {
    let child = try ChildProcess(
      Self.weir, arguments + ["--api", "http://127.0.0.1:\(httpPort)"],
      logPath: directory + "/cli-\(UUID().uuidString).log")
    let status = await child.waitForExit(timeout: 30)
    #expect(status == 0, "weir \(arguments.joined(separator: " ")): \(child.output)")
    return child.output
  }
}

/// A datagram socket standing in for systemd's `$NOTIFY_SOCKET`.
final class NotifySocket: @unchecked Sendable {
  let path: String
  let fd: Int32

  init(directory: String) throws {
    path = directory + "/notify.sock"
    fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      for (i, b) in path.utf8.enumerated() { raw[i] = b }
    }
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard bound == 0 else { throw BrokerError("cannot bind \(path)") }
    var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
  }

  deinit { close(fd) }

  /// Every message received within `seconds`.
  func messages(for seconds: Double) -> [String] {
    var out: [String] = []
    let deadline = Date().addingTimeInterval(seconds)
    var buffer = [UInt8](repeating: 0, count: 4096)
    while Date() < deadline {
      let n = recv(fd, &buffer, buffer.count, 0)
      if n > 0 { out.append(String(decoding: buffer[0..<n], as: UTF8.self)) }
    }
    return out
  }
}
