import Foundation
import Gateway
import Testing
import WeirTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// The product end to end with real processes: mosquitto, `weir run` as a child, the mock
/// central cluster and firmware-sim's demo fleet.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct DaemonEndToEndTests {
  /// Everything the fleet publishes reaches the central cluster, the failing devices are
  /// alerted on and the healthy ones are not, the CLI says what the API says, the status page
  /// renders with data, and SIGTERM exits 0.
  /// The same fleet publishing to `weir run`'s own listener, no broker in between: every
  /// message is in the log and the central cluster once, and local subscribers get the alerts
  /// from the listener (served from the `alerts` topic).
  @Test func fleetThroughTheListenerToCentral() async throws {
    let h = try await DaemonHarness(viaListener: true)
    try await h.startDaemon()
    let localAlerts = try h.subscribe(port: h.devicePort, "weir/alerts/#", name: "local")
    let (published, _) = try await h.runFleet()
    #expect(published > 30_000)
    _ = try await h.waitUntilDrained(records: Int64(published))
    // The listener also writes each device's connects and disconnects (device-events): count
    // the telemetry topic.
    let topics = try await h.api.get(TopicsResponse.self, "api/v1/topics")
    #expect(topics.topics.first { $0.name == "telemetry" }?.records == Int64(published))
    #expect((topics.topics.first { $0.name == "device-events" }?.records ?? 0) > 0)
    let central = try await h.centralRecords("edge.telemetry")
    #expect(central.distinct == published, "central has \(central.distinct) distinct of \(central.total)")
    let alerts = try await h.api.get(AlertsResponse.self, "api/v1/alerts?limit=500")
    #expect(alerts.total > 0)
    let count = Int(alerts.total)
    #expect(await eventually(timeout: 10) { localAlerts.output.split(separator: "\n").count >= count })
    #expect(localAlerts.output.split(separator: "\n").allSatisfy { $0.hasPrefix("weir/alerts/") })
    #expect(await h.stopDaemon() == 0)
  }

  @Test func fleetToCentralClusterWithAlerts() async throws {
    let h = try await DaemonHarness()
    let localAlerts = try h.subscribe(h.broker, "weir/alerts/#", name: "local")
    let cloudAlerts = try h.subscribe(h.central, "weir/#", name: "cloud")
    try await h.startDaemon()
    let (published, truth) = try await h.runFleet()
    #expect(published > 30_000)
    let status = try await h.waitUntilDrained(records: Int64(published))

    // Records: published = in the log = in the central cluster (after dedupe by log position).
    #expect(status.ingest.records == Int64(published))
    #expect(status.ingest.deadLetters == 0)
    let central = try await h.centralRecords("edge.telemetry")
    #expect(central.distinct == published, "central has \(central.distinct) distinct of \(central.total)")

    // Alerts: one for each degrading device, none for the healthy ones.
    let alerts = try await h.api.get(AlertsResponse.self, "api/v1/alerts?limit=500")
    let raised = alerts.recent.filter { $0.state == "raised" }
    let failing = Set(truth.compactMap { $0["device"] as? String })
    #expect(failing == ["motor-0007", "pump-0003"])
    for device in failing {
      let first = raised.filter { $0.key == device }.min { $0.timestampMs < $1.timestampMs }
      let failure = truth.first { $0["device"] as? String == device }?["failure_ts"] as? Int64 ?? 0
      #expect(first != nil, "no alert for \(device)")
      if let first { #expect(first.timestampMs < failure, "\(device) alerted after its failure") }
    }
    #expect(
      raised.filter { !failing.contains($0.key) }.isEmpty,
      "false alarms: \(raised.filter { !failing.contains($0.key) })")
    let centralAlerts = try await h.centralRecords("edge.alerts")
    #expect(Int64(centralAlerts.distinct) == alerts.total)
    // Alerts also reach local MQTT (weir/alerts/<rule>/<key>) and the central MQTT broker (the `cloud` uplink).
    let count = Int(alerts.total)
    #expect(await eventually(timeout: 10) { localAlerts.output.split(separator: "\n").count >= count })
    #expect(localAlerts.output.split(separator: "\n").allSatisfy { $0.hasPrefix("weir/alerts/") })
    #expect(await eventually(timeout: 10) { cloudAlerts.output.split(separator: "\n").count >= count })
    #expect(
      cloudAlerts.output.split(separator: "\n").allSatisfy { $0.hasPrefix("weir/e2e-edge/alerts ") },
      "\(cloudAlerts.output)")
    var cloud: UplinkSummary?
    let confirmed = await eventually(timeout: 10) {
      cloud = (try? await h.api.get(UplinksResponse.self, "api/v1/uplinks"))?.uplinks.first { $0.name == "cloud" }
      return cloud?.kind == "mqtt" && cloud?.ackedRecords == alerts.total
    }
    #expect(confirmed, "\(String(describing: cloud))")

    // The CLI and the API agree.
    let topics = try await h.api.get(TopicsResponse.self, "api/v1/topics")
    let topicsTable = try await h.cli(["topics"])
    for topic in topics.topics {
      let row = topicsTable.split(separator: "\n").first { $0.hasPrefix(topic.name + " ") }
      #expect(
        row?.contains(Self.grouped(topic.records)) == true,
        "weir topics: \(topic.name) \(topic.records)\n\(topicsTable)")
    }
    let topicsJSON = try await h.cli(["topics", "--json"])
    let decoded = try APICoding.decoder().decode(TopicsResponse.self, from: Data(topicsJSON.utf8))
    #expect(decoded.topics.map(\.records) == topics.topics.map(\.records))
    let lagTable = try await h.cli(["lag"])
    #expect(lagTable.contains("central: running, 0 records behind"), "\(lagTable)")
    #expect(lagTable.contains("cloud: running, 0 records behind"), "\(lagTable)")
    let alertsTable = try await h.cli(["alerts"])
    #expect(alertsTable.contains("active alerts: \(alerts.active.count)"))
    for alert in alerts.active { #expect(alertsTable.contains(alert.key)) }
    let statusTable = try await h.cli(["status"])
    #expect(statusTable.contains("\(Self.grouped(Int64(published))) records since start"), "\(statusTable)")
    let tail = try await h.cli(["tail", "alerts", "--from-beginning", "--json", "--limit", "1000"])
    #expect(tail.split(separator: "\n").count == Int(alerts.total))

    // Metrics.
    let metrics = String(decoding: try await h.api.get("metrics"), as: UTF8.self)
    for name in [
      "weir_ingest_records_total", "weir_uplink_acked_records_total", "weir_log_bytes",
      "weir_process_resident_memory_bytes",
      "weir_rules_alerts_raised_total", "weir_uplink_lag_records",
    ] {
      #expect(metrics.contains(name), "no \(name) in /metrics")
    }
    let ready = try await h.api.get("readyz")
    #expect(String(decoding: ready, as: UTF8.self) == "ready\n")

    // The status page renders with data in headless Chromium (WEIR_UPDATE_SCREENSHOT=1 refreshes docs/status-page.png).
    try await Self.checkStatusPage(h)

    #expect(await h.stopDaemon() == 0)
    #expect(h.daemon?.output.contains("weir stopped cleanly") == true)

    // Stopped: the CLI reads the data directory itself and agrees with what the API said.
    let offline = try ChildProcess(
      DaemonHarness.weir, ["topics", "--json", "--data-dir", h.directory + "/data"],
      logPath: h.directory + "/offline.json")
    #expect(await offline.waitForExit(timeout: 30) == 0, "\(offline.output)")
    let offlineTopics = try APICoding.decoder().decode(TopicsResponse.self, from: Data(offline.output.utf8))
    #expect(offlineTopics.topics.map(\.name) == topics.topics.map(\.name))
    #expect(offlineTopics.topics.map(\.records) == topics.topics.map(\.records))
    let offlineLag = try ChildProcess(
      DaemonHarness.weir, ["lag", "--data-dir", h.directory + "/data"], logPath: h.directory + "/offline-lag.txt")
    #expect(await offlineLag.waitForExit(timeout: 30) == 0)
    #expect(offlineLag.output.contains("central: stopped, 0 records behind"), "\(offlineLag.output)")
    #expect(offlineLag.output.contains("cloud: stopped, 0 records behind"), "\(offlineLag.output)")
  }

  /// SIGTERM while the fleet is publishing: the daemon drains and exits 0, what is published
  /// meanwhile waits in mosquitto's session, and after a restart every record is in the log
  /// and in the central cluster.
  @Test func sigtermUnderLoadLosesNothing() async throws {
    let h = try await DaemonHarness()
    try await h.startDaemon()
    async let fleet = h.runFleet(speed: 300)
    // Let records flow, then stop the daemon in the middle of the stream.
    let flowing = await eventually(timeout: 30) {
      ((try? await h.api.get(StatusResponse.self, "api/v1/status"))?.ingest.records ?? 0) > 3000
    }
    #expect(flowing)
    let started = Date()
    #expect(await h.stopDaemon() == 0)
    #expect(Date().timeIntervalSince(started) < 20)
    #expect(h.daemon?.output.contains("weir stopped cleanly") == true)
    try await Task.sleep(for: .seconds(1))
    try await h.startDaemon()
    let (published, _) = try await fleet
    _ = try await h.waitUntilDrained(records: Int64(published))
    let topics = try await h.api.get(TopicsResponse.self, "api/v1/topics")
    let inLog = topics.topics.first { $0.name == "telemetry" }?.records ?? 0
    #expect(inLog == Int64(published))
    let central = try await h.centralRecords("edge.telemetry")
    #expect(central.distinct == published)
    #expect(await h.stopDaemon() == 0)
  }

  /// A configuration with errors: every one reported as file:line: key: message, exit code 2,
  /// from both `weir run` and `weir config check`.
  @Test func badConfigIsRefusedWithItsErrors() async throws {
    let dir = NSTemporaryDirectory() + "weir-badconfig-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/bad.yaml"
    try """
    gateway:
      id: edge 1
    topics:
      telemetry: {partitions: zero}
    uplinks:
      - name: central
        kind: kafka
        topics: [telemetry]
        compression: brotli
    http:
      listen: everywhere
    """.write(toFile: path, atomically: true, encoding: .utf8)
    for arguments in [["run", "--config", path], ["config", "check", path]] {
      let child = try ChildProcess(DaemonHarness.weir, arguments, logPath: dir + "/out-\(arguments[0]).log")
      #expect(await child.waitForExit(timeout: 30) == 2)
      let out = child.output
      #expect(out.contains("\(path):2: gateway.id:"), "\(out)")
      #expect(out.contains("\(path):4: topics.telemetry.partitions:"), "\(out)")
      #expect(out.contains("\(path):6: uplinks[0].bootstrap: missing"), "\(out)")
      #expect(out.contains("\(path):9: uplinks[0].compression:"), "\(out)")
      #expect(out.contains("\(path):11: http.listen:"), "\(out)")
    }
  }

  /// With `http.token` the API answers 401 without it and 200 with it; probes stay open.
  @Test func apiTokenIsRequired() async throws {
    let h = try await DaemonHarness(token: "s3cret")
    let child = try ChildProcess(
      DaemonHarness.weir, ["run", "--config", h.configPath], logPath: h.directory + "/weir.log")
    h.daemon = child
    let up = await eventually(timeout: 30) { (try? await h.api.get("healthz")) != nil }
    #expect(up, "\(child.output)")
    await #expect(throws: APIClient.Failure.self) { try await h.api.get("api/v1/status") }
    let authorized = APIClient(base: h.api.base, token: "s3cret")
    let status = try await authorized.get(StatusResponse.self, "api/v1/status")
    #expect(status.gateway == "e2e-edge")
    let cli = try ChildProcess(
      DaemonHarness.weir, ["status", "--api", "http://127.0.0.1:\(h.httpPort)"],
      environment: ["WEIR_API_TOKEN": "s3cret"],
      logPath: h.directory + "/cli.log")
    #expect(await cli.waitForExit(timeout: 30) == 0, "\(cli.output)")
    #expect(await h.stopDaemon() == 0)
  }

  /// SIGHUP reloads the rule files (a broken rule is refused, the others run), `--log-format
  /// json` writes one JSON object per line, `/readyz` turns 503 while the broker is away, and
  /// systemd hears READY=1, WATCHDOG=1 and STOPPING=1 on `$NOTIFY_SOCKET`.
  @Test func reloadJSONLogsAndReadiness() async throws {
    let rulesDir = NSTemporaryDirectory() + "weir-reload-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: rulesDir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: rulesDir) }
    let file = rulesDir + "/r.sql"
    let hot =
      "CREATE RULE hot AS SELECT device, max(temperature) AS t FROM telemetry GROUP BY device, TUMBLING(1m) HAVING t > 95 RAISE ALERT 'critical';\n"
    try hot.write(toFile: file, atomically: true, encoding: .utf8)
    let h = try await DaemonHarness(ruleFiles: [file])
    let notify = try NotifySocket(directory: h.directory)
    try await h.startDaemon(
      ["--log-format", "json"], environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "30000000"])
    let startup = notify.messages(for: 1)
    #expect(startup.contains { $0.hasPrefix("READY=1") }, "no READY=1 on NOTIFY_SOCKET: \(startup)")
    #expect(startup.contains("WATCHDOG=1"), "no WATCHDOG=1 on NOTIFY_SOCKET: \(startup)")
    let first = try await h.api.get(RulesResponse.self, "api/v1/rules")
    #expect(first.rules.map(\.name) == ["hot"])

    let cold =
      "CREATE RULE cold AS SELECT device, min(temperature) AS t FROM telemetry GROUP BY device, TUMBLING(1m) HAVING t < 5 RAISE ALERT 'info';\n"
    let broken = "CREATE RULE broken AS SELECT device FROM telemetry GROUP BY device, TUMBLING(1m) HAVING;\n"
    try (hot + cold + broken).write(toFile: file, atomically: true, encoding: .utf8)
    h.daemon?.signal(SIGHUP)
    let reloaded = await eventually(timeout: 10) {
      (try? await h.api.get(RulesResponse.self, "api/v1/rules"))?.rules.map(\.name).sorted() == ["cold", "hot"]
    }
    #expect(reloaded)
    #expect(await eventually(timeout: 5) { h.daemon?.output.contains("rules reload refused a rule") == true })

    h.broker.stop()
    let notReady = await eventually(timeout: 20) {
      guard let data = try? await h.api.get("api/v1/status"),
        let s = try? APICoding.decoder().decode(StatusResponse.self, from: data)
      else { return false }
      return !s.ready && s.notReady.contains { $0.contains("mqtt source local is not connected") }
    }
    #expect(notReady)
    await #expect(throws: APIClient.Failure.self) { try await h.api.get("readyz") }
    try h.broker.start()
    #expect(await eventually(timeout: 30) { (try? await h.api.get("readyz")) != nil })

    #expect(await h.stopDaemon() == 0)
    #expect(notify.messages(for: 0.5).contains("STOPPING=1"), "no STOPPING=1 on NOTIFY_SOCKET")
    let lines = (h.daemon?.output ?? "").split(separator: "\n")
    #expect(lines.count > 3)
    for line in lines {
      let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
      #expect(object?["msg"] != nil && object?["level"] != nil && object?["ts"] != nil, "not a JSON log line: \(line)")
    }
  }

  /// Serial sources run in the daemon: a JSON-lines device and a Modbus RTU slave, each played by
  /// firmware-sim on a real pseudo-terminal, reach the log and show in the status.
  @Test func serialAndModbusSourcesThroughTheDaemon() async throws {
    let dir = NSTemporaryDirectory() + "weir-serial-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let jsonl = try ChildProcess(
      DaemonHarness.firmwareSim,
      [
        "serial", "--protocol", "jsonl", "--link", dir + "/ttyJSON", "--kind", "motor", "--device-id", "motor-0042",
        "--interval", "0.1",
      ],
      logPath: dir + "/jsonl.log")
    let modbus = try ChildProcess(
      DaemonHarness.firmwareSim,
      ["serial", "--protocol", "modbus-rtu", "--link", dir + "/ttyRS485", "--kind", "pump", "--address", "7"],
      logPath: dir + "/modbus.log")
    let linked = await eventually(timeout: 10) {
      FileManager.default.fileExists(atPath: dir + "/ttyJSON")
        && FileManager.default.fileExists(atPath: dir + "/ttyRS485")
    }
    #expect(linked, "\(jsonl.output)\(modbus.output)")
    let h = try await DaemonHarness(
      ruleFiles: [],
      extraConfig: """
        serial:
          - port: {path: \(dir)/ttyJSON, baud_rate: 115200}
            line_protocol: {format: json_lines, topic: plant, key_field: device, timestamp_field: ts}
        modbus:
          - port: {path: \(dir)/ttyRS485, baud_rate: 19200, parity: even}
            topic: plant
            slaves:
              - unit_id: 7
                device_id: pump-7
                interval: 100ms
                registers:
                  - {name: pressure, address: 0, type: float32}
                  - {name: kind, address: 48, type: uint16}
        """)
    try await h.startDaemon()
    let flowing = await eventually(timeout: 30) {
      let s = try? await h.api.get(StatusResponse.self, "api/v1/status")
      return (s?.sources.filter { $0.kind != "mqtt" }.allSatisfy { $0.connected && $0.records >= 10 } ?? false)
        && s?.sources.count == 3
    }
    let statusText = (try? await h.cli(["status"])) ?? ""
    #expect(flowing, "\(statusText)")
    // Reads see what is durable (up to the high watermark), a moment after the sources count it.
    var values: [String] = []
    let both = await eventually(timeout: 10) {
      let page = try? await h.api.get(RecordsResponse.self, "api/v1/topics/plant/records?from=beginning&limit=1000")
      values = (page?.records ?? []).map { "\($0.key ?? "-") \($0.value ?? "-")" }
      return values.contains { $0.hasPrefix("motor-0042 ") && $0.contains("\"vibration\"") }
        && values.contains { $0.hasPrefix("pump-7 ") && $0.contains("\"kind\":2") }
    }
    #expect(both, "\(values.prefix(4))")
    #expect(await h.stopDaemon() == 0)
    _ = await jsonl.stop()
    _ = await modbus.stop()
  }

  static func grouped(_ n: Int64) -> String {
    let digits = Array(String(n))
    var out = ""
    for (i, d) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
      out.append(d)
    }
    return out
  }

  static func chromium() -> String? {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
      FileManager.default.isExecutableFile(atPath: $0)
    }
  }

  static func checkStatusPage(_ h: DaemonHarness) async throws {
    if chromium() == nil {
      // Setup: Debian's chromium, through the same idempotent bootstrap `make test` runs.
      let bootstrap = try ChildProcess(
        DaemonHarness.repository + "/scripts/bootstrap", ["--test"], logPath: h.directory + "/bootstrap.log")
      _ = await bootstrap.waitForExit(timeout: 900)
    }
    guard let browser = chromium() else {
      Issue.record("chromium is not installed and scripts/bootstrap could not install it")
      return
    }
    let url = "http://127.0.0.1:\(h.httpPort)/"
    let common = [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
      "--user-data-dir=\(h.directory)/chromium", "--virtual-time-budget=8000",
    ]
    let dom = try ChildProcess(browser, common + ["--dump-dom", url], logPath: h.directory + "/dom.html")
    #expect(await dom.waitForExit(timeout: 90) == 0)
    let html = dom.output
    #expect(html.contains("data-loaded=\"1\""), "the page's script did not load the API:\n\(html.suffix(2000))")
    #expect(html.contains("<path d=\"M"), "no chart was drawn")
    #expect(html.contains("motor-0007"), "the active alerts table is empty")
    #expect(!html.contains("id=\"records\">–<"), "the figures were not filled")
    let shot = h.directory + "/status-page.png"
    let screenshot = try ChildProcess(
      browser, common + ["--window-size=1280,1000", "--screenshot=\(shot)", url], logPath: h.directory + "/shot.log")
    #expect(await screenshot.waitForExit(timeout: 90) == 0)
    let png = try Data(contentsOf: URL(fileURLWithPath: shot))
    #expect(png.count > 10_000 && png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
    if ProcessInfo.processInfo.environment["WEIR_UPDATE_SCREENSHOT"] == "1" {
      try png.write(to: URL(fileURLWithPath: DaemonHarness.repository + "/docs/status-page.png"))
    }
  }
}
