import Foundation
import PartitionedLog
import Testing
import WeirTestSupport

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

#if canImport(Glibc)
  import Glibc
#endif

/// What the fault suite drives: a real mosquitto, `weir run` as a child process with a config the
/// test writes, and devices played by paho-mqtt (an independent MQTT client) publishing numbered
/// readings at QoS 1 and writing down each sequence number the broker acknowledged.
final class FaultHarness: @unchecked Sendable {
  let directory: String
  let dataDirectory: String
  let broker: MosquittoBroker
  let httpPort: Int
  let configPath: String
  var daemon: ChildProcess?
  var runs = 0
  private var publishers = 0

  /// `dataDirectory` defaults to `<directory>/data`; `brokerConfig` is added to mosquitto's.
  init(dataDirectory: String? = nil, brokerConfig: String = "") throws {
    directory = NSTemporaryDirectory() + "weir-fault-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    self.dataDirectory = dataDirectory ?? directory + "/data"
    broker = try MosquittoBroker(extraConfig: brokerConfig)
    httpPort = MosquittoBroker.freePort()
    configPath = directory + "/weir.yaml"
    try Self.publisherScript.write(toFile: directory + "/publish.py", atomically: true, encoding: .utf8)
  }

  deinit {
    if let daemon, daemon.isRunning { daemon.signal(SIGKILL) }
    try? FileManager.default.removeItem(atPath: directory)
  }

  /// Writes the config: one MQTT source on `sensors/+/telemetry` (key `{1}`, event time `ts`)
  /// into `telemetry`, plus `topics`, `log` and anything else given as YAML.
  func configure(
    topics: String = "telemetry: {partitions: 3, fsync: interval, fsync_interval: 20ms, max_age: forever}",
    log: String = "min_free: 0", source: String = "", rest: String = ""
  ) throws {
    let config = """
      gateway:
        id: fault
        data_dir: \(dataDirectory)
        shutdown_timeout: 15s
      log:
        \(log)
      topics:
        \(topics)
      mqtt:
        - name: local
          broker: \(broker.url)
          clean_session: false
          \(source)
          subscriptions:
            - {filter: "sensors/+/telemetry", qos: 1, topic: telemetry, key: "{1}", format: json, time_field: ts}
      http:
        listen: 127.0.0.1:\(httpPort)
      \(rest)
      """
    try config.write(toFile: configPath, atomically: true, encoding: .utf8)
  }

  // MARK: The daemon

  /// Starts `weir run`; waits for the API to answer (ready or not, unless `ready`).
  func start(ready: Bool = true) async throws {
    runs += 1
    let child = try ChildProcess(
      DaemonHarness.weir, ["run", "--config", configPath], logPath: directory + "/weir-\(runs).log")
    daemon = child
    let up = await eventually(timeout: 30) {
      guard child.isRunning else { return true }
      return ready ? await readyz().status == 200 : await readyz().status > 0
    }
    guard up, child.isRunning else { throw BrokerError("weir did not start:\n\(child.output)") }
  }

  /// SIGTERM; the exit status (nil: it had to be killed).
  func stop() async -> Int32? {
    guard let daemon else { return nil }
    daemon.signal(SIGTERM)
    let status = await daemon.waitForExit(timeout: 40)
    if status == nil { daemon.signal(SIGKILL) }
    _ = await daemon.waitForExit(timeout: 10)
    return status
  }

  func kill9() async {
    guard let daemon else { return }
    daemon.signal(SIGKILL)
    _ = await daemon.waitForExit(timeout: 10)
  }

  var isRunning: Bool { daemon?.isRunning ?? false }
  var output: String { daemon?.output ?? "" }

  /// Every run's output, for failure messages.
  var allOutput: String {
    (1...max(1, runs)).map { (try? String(contentsOfFile: directory + "/weir-\($0).log", encoding: .utf8)) ?? "" }
      .joined(separator: "\n---\n")
  }

  // MARK: HTTP

  func http(_ path: String) async -> (status: Int, body: String) {
    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(httpPort)/\(path)")!, timeoutInterval: 5)
    request.httpMethod = "GET"
    guard let (data, response) = try? await URLSession.shared.data(for: request),
      let http = response as? HTTPURLResponse
    else { return (0, "") }
    return (http.statusCode, String(decoding: data, as: UTF8.self))
  }

  func readyz() async -> (status: Int, body: String) { await http("readyz") }

  /// The sum of every series of a Prometheus metric whose labels contain all of `labels`.
  func metric(_ name: String, _ labels: [String] = []) async -> Double {
    let text = await http("metrics").body
    var total = 0.0
    for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
      guard labels.allSatisfy({ line.contains($0) }),
        let value = line.split(separator: " ").last.flatMap({ Double($0) })
      else { continue }
      total += value
    }
    return total
  }

  /// Waits until a metric has not moved for two seconds (or 60 s passed).
  func waitUntilQuiet(_ name: String, _ labels: [String] = []) async {
    var last = -1.0
    var stableSince = Date()
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline {
      let now = await metric(name, labels)
      if now != last {
        last = now
        stableSince = Date()
      } else if Date().timeIntervalSince(stableSince) >= 2 {
        return
      }
      try? await Task.sleep(for: .milliseconds(200))
    }
  }

  // MARK: Devices

  /// One message for the publisher: a reading with a sequence number, or any payload.
  struct Message: Encodable {
    var topic: String
    var seq: Int?
    var payload: String?
    var payloadBase64: String?
    /// A payload of this many bytes, made by the publisher.
    var big: Int?

    static func reading(_ seq: Int, device: String = "dev-1", ts: Int64? = nil, pad: Int = 0) -> Message {
      let ms = ts ?? Int64(Date().timeIntervalSince1970 * 1000)
      let padding = pad > 0 ? ",\"pad\":\"" + String(repeating: "x", count: pad) + "\"" : ""
      return Message(
        topic: "sensors/\(device)/telemetry", seq: seq,
        payload: "{\"device\":\"\(device)\",\"seq\":\(seq),\"ts\":\(ms),\"v\":\(Double(seq % 100) / 10)\(padding)}")
    }

    static func raw(_ payload: [UInt8], device: String = "dev-1") -> Message {
      Message(topic: "sensors/\(device)/telemetry", payloadBase64: Data(payload).base64EncodedString())
    }
  }

  /// Starts paho-mqtt publishing `messages` at `qos` (1 or 2; `window` in flight); returns the
  /// process. Each sequence number the broker acknowledges (QoS 2: completes) goes to the
  /// publisher's `acked` file. `persistent`: a persistent session (clean session 0), whose
  /// in-flight messages paho sends again with DUP (QoS 2: or their PUBREL) after a reconnect.
  func publish(
    _ messages: [Message], window: Int = 100, ratePerSecond: Int = 0, port: Int? = nil, qos: Int = 1,
    persistent: Bool = false
  ) throws -> Publisher {
    publishers += 1
    let name = "pub-\(publishers)"
    let spec = directory + "/\(name).json"
    try JSONEncoder().encode(messages).write(to: URL(fileURLWithPath: spec))
    let process = try ChildProcess(
      "/usr/bin/env",
      [
        "python3", directory + "/publish.py", "\(port ?? broker.port)", spec, directory + "/\(name).acked", name,
        "\(window)",
        "\(ratePerSecond)", "\(qos)", persistent ? "1" : "0",
      ], logPath: directory + "/\(name).log")
    return Publisher(process: process, ackedPath: directory + "/\(name).acked", total: messages.count)
  }

  struct Publisher {
    let process: ChildProcess
    let ackedPath: String
    let total: Int

    /// Sequence numbers acknowledged so far.
    var acked: Set<Int> {
      let text = (try? String(contentsOfFile: ackedPath, encoding: .utf8)) ?? ""
      return Set(text.split(separator: "\n").compactMap { Int($0) })
    }

    /// Waits for the publisher to finish (every message acknowledged).
    func finish(timeout: Double = 120) async throws {
      let status = await process.waitForExit(timeout: timeout)
      guard status == 0 else {
        process.signal(SIGKILL)
        throw BrokerError("publisher failed (\(String(describing: status))): \(process.output)")
      }
    }
  }

  // MARK: What the log holds

  /// The records of `topic`, read from the data directory with the daemon stopped.
  func records(_ topic: String) throws -> [(value: [UInt8], headers: [String: String])] {
    let store = try LogStore.open(
      directory: dataDirectory, options: LogOptions(minFreeBytes: 0, metadataReserveBytes: 0))
    defer { try? store.close() }
    guard let t = store.topic(topic) else { return [] }
    return try storedRecords(t).map { ($0.value, $0.headers) }
  }

  /// The `seq` of every reading in `telemetry` (with repeats).
  func sequences(_ topic: String = "telemetry") throws -> [Int] {
    try records(topic).compactMap { record in
      (try? JSONSerialization.jsonObject(with: Data(record.value)) as? [String: Any])?["seq"] as? Int
    }
  }

  // MARK: The publisher

  static let publisherScript = #"""
    import base64, json, sys, threading, time
    import paho.mqtt.client as mqtt

    port, spec, acked_path, name, window, rate = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
    qos, persistent = int(sys.argv[7]), sys.argv[8] == "1"
    messages = json.load(open(spec))
    lock = threading.Condition()
    pending = {}
    acked = open(acked_path, "a", buffering=1)
    done = [0]

    early = set()
    inflight = [0]

    def acknowledge(seq):
        done[0] += 1
        inflight[0] -= 1
        if seq is not None:
            acked.write("%d\n" % seq)
        lock.notify_all()

    # paho may report a PUBACK before publish() returns its mid: remember it until then.
    def on_publish(client, userdata, mid, reason_code=None, properties=None):
        with lock:
            if mid in pending:
                acknowledge(pending.pop(mid))
            else:
                early.add(mid)

    # paho-mqtt 2.2 resets its in-flight messages at every reconnect attempt, and a second reset
    # turns a QoS 2 message waiting for its PUBCOMP (its PUBREL to be sent again) into a new
    # PUBLISH without DUP: a client bug no server can tell from a new message. The device keeps
    # such a message at "send the PUBREL again", as the specifications say.
    from paho.mqtt.client import mqtt_ms_resend_pubrel, mqtt_ms_wait_for_pubcomp
    reset_out = mqtt.Client._messages_reconnect_reset_out
    def reset_once(self):
        with self._out_message_mutex:
            releasing = [m for m in self._out_messages.values()
                         if m.qos == 2 and m.state in (mqtt_ms_resend_pubrel, mqtt_ms_wait_for_pubcomp)]
        reset_out(self)
        with self._out_message_mutex:
            for m in releasing:
                m.state = mqtt_ms_resend_pubrel
    mqtt.Client._messages_reconnect_reset_out = reset_once

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name, clean_session=not persistent)
    client.max_inflight_messages_set(window)
    client.max_queued_messages_set(0)
    # Back quickly after the broker (or Weir's listener) restarts; paho sends what was in flight again.
    client.reconnect_delay_set(min_delay=0.05, max_delay=0.5)
    client.on_publish = on_publish
    client.connect("127.0.0.1", int(port), keepalive=30)
    client.loop_start()
    start = time.time()
    for i, m in enumerate(messages):
        if "big" in m and m["big"]:
            payload = b"{\"device\":\"big\",\"pad\":\"" + b"x" * m["big"] + b"\"}"
        elif m.get("payloadBase64") is not None:
            payload = base64.b64decode(m["payloadBase64"])
        else:
            payload = m["payload"].encode()
        with lock:
            while inflight[0] >= window:
                lock.wait(1)
            inflight[0] += 1
        info = client.publish(m["topic"], payload, qos=qos)
        with lock:
            if info.mid in early:
                early.discard(info.mid)
                acknowledge(m.get("seq"))
            else:
                pending[info.mid] = m.get("seq")
        if rate > 0:
            delay = start + (i + 1) / rate - time.time()
            if delay > 0:
                time.sleep(delay)
    deadline = time.time() + 300
    with lock:
        while done[0] < len(messages) and time.time() < deadline:
            lock.wait(1)
    client.loop_stop()
    client.disconnect()
    sys.exit(0 if done[0] >= len(messages) else 1)
    """#
}

/// A tmpfs of `megabytes` mounted for one test, unmounted when dropped; nil where this machine
/// cannot mount (not root, no tmpfs), so the test can skip with that reason.
final class SmallDisk {
  let path: String

  init?(megabytes: Int) {
    path = NSTemporaryDirectory() + "weir-tmpfs-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    let status = mount("tmpfs", path, "tmpfs", 0, "size=\(megabytes)m")
    if status != 0 {
      try? FileManager.default.removeItem(atPath: path)
      return nil
    }
  }

  deinit {
    umount2(path, Int32(MNT_DETACH))
    try? FileManager.default.removeItem(atPath: path)
  }

  var freeBytes: Int64 {
    var st = statvfs()
    guard statvfs(path, &st) == 0 else { return 0 }
    return Int64(st.f_bavail) * Int64(st.f_frsize)
  }

  /// Fills the disk with a file until `leave` bytes are free.
  func fill(leaving leave: Int64, name: String = "filler") throws {
    let fd = open(path + "/" + name, O_WRONLY | O_CREAT, 0o644)
    guard fd >= 0 else { throw BrokerError("cannot create the filler file") }
    defer { close(fd) }
    let chunk = [UInt8](repeating: 0xAB, count: 1 << 20)
    while freeBytes > leave {
      let n = min(Int64(chunk.count), freeBytes - leave)
      guard write(fd, chunk, Int(n)) > 0 else { break }
    }
  }
}
