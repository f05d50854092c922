import Foundation
import Ingest
import Logging
import PartitionedLog
import WeirTestSupport

/// A listener on a free loopback port over a fresh log, and paho-mqtt devices to publish to it.
final class ListenerHarness: @unchecked Sendable {
  let directory: String
  let store: LogStore
  private(set) var listener: MQTTListener
  let config: ListenerConfig
  private var running: Task<Void, any Error>?
  private var devices = 0

  /// Routes `sensors/+/telemetry` into `telemetry` (JSON, keyed by the second level, `ts` as event time).
  init(
    fsync: FsyncPolicy = .default, partitions: Int = 3, anonymous: Bool = true, topic custom: TopicConfig? = nil,
    configure: (inout ListenerConfig) -> Void = { _ in }
  ) throws {
    directory = NSTemporaryDirectory() + "weir-listener-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    store = try LogStore.open(
      directory: directory + "/data", options: LogOptions(minFreeBytes: 0, metadataReserveBytes: 0))
    var topic = TopicConfig(fsync: fsync)
    topic.partitions = partitions
    _ = try store.createTopic("telemetry", config: custom ?? topic)
    var config = ListenerConfig(
      name: "devices", host: "127.0.0.1", port: 0, anonymous: anonymous,
      routes: [
        MQTTSubscription(
          filter: "sensors/+/telemetry", topic: "telemetry", key: .topicLevel(1), format: .json, timeField: ["ts"])
      ])
    configure(&config)
    self.config = config
    listener = MQTTListener(config: config, store: store, logger: Logger(label: "test.listener"))
    try Self.script.write(toFile: directory + "/devices.py", atomically: true, encoding: .utf8)
  }

  /// More directories to remove with the harness.
  var cleanUp: [String] = []

  deinit {
    try? store.close()
    try? FileManager.default.removeItem(atPath: directory)
    for d in cleanUp { try? FileManager.default.removeItem(atPath: d) }
  }

  func start() async throws -> Int {
    let listener = self.listener
    running = Task { try await listener.runUntilStopped() }
    let deadline = Date().addingTimeInterval(10)
    while listener.boundPort == nil {
      if Date() > deadline { throw BrokerError("the listener did not start") }
      try await Task.sleep(for: .milliseconds(10))
    }
    return listener.boundPort!
  }

  func stop() async throws {
    listener.stop()
    try await running?.value
  }

  /// Stops the listener and starts a new one over the same log (what a restart of `weir run`
  /// keeps: the log and `weir.db`); returns its port.
  func restart() async throws -> Int {
    try await stop()
    listener = MQTTListener(config: config, store: store, logger: Logger(label: "test.listener"))
    return try await start()
  }

  struct Devices {
    let process: ChildProcess
    let ackedPath: String

    /// (device, seq) pairs acknowledged so far.
    var acked: [String] {
      let text = (try? String(contentsOfFile: ackedPath, encoding: .utf8)) ?? ""
      return text.split(separator: "\n").map(String.init)
    }

    func finish(timeout: Double = 120) async throws {
      let status = await process.waitForExit(timeout: timeout)
      guard status == 0 else {
        process.signal(SIGKILL)
        throw BrokerError("devices failed (\(String(describing: status))): \(process.output)")
      }
    }
  }

  /// Starts `clients` paho-mqtt devices, each publishing `count` readings at `qos` over MQTT
  /// `version` ("3.1.1" or "5"); every acknowledged reading goes to the acked file as `device seq`.
  func devices(
    port: Int, clients: Int, count: Int, qos: Int, version: String = "3.1.1", window: Int = 100, user: String? = nil,
    password: String? = nil
  ) throws -> Devices {
    devices += 1
    let name = "devices-\(devices)"
    var arguments = [
      "python3", directory + "/devices.py", "\(port)", version, "\(qos)", "\(count)", "\(clients)", name,
      directory + "/\(name).acked", "\(window)",
    ]
    if let user { arguments += [user, password ?? ""] }
    let process = try ChildProcess("/usr/bin/env", arguments, logPath: directory + "/\(name).log")
    return Devices(process: process, ackedPath: directory + "/\(name).acked")
  }

  /// Every record of `topic` as (key, value, headers), partition by partition in offset order.
  func records(_ topic: String) throws -> [(key: String, value: String, headers: [String: String])] {
    guard let t = store.topic(topic) else { return [] }
    for p in t.partitions { try p.flush() }
    return try storedRecords(t).map { ($0.keyText, $0.valueText, $0.headers) }
  }

  /// The paho-mqtt devices: one thread and one client each.
  static let script = #"""
    import json, os, sys, threading, time
    import paho.mqtt.client as mqtt

    port, version, qos, count, clients, name, acked_path, window = sys.argv[1:9]
    user = sys.argv[9] if len(sys.argv) > 9 else None
    password = sys.argv[10] if len(sys.argv) > 10 else None
    port, qos, count, clients, window = int(port), int(qos), int(count), int(clients), int(window)
    protocol = mqtt.MQTTv5 if version == "5" else mqtt.MQTTv311
    lock = threading.Lock()
    acked = open(acked_path, "a", buffering=1)
    failures = []

    def device(i):
        device_id = f"{name}-{i}"
        pending = {}
        done = threading.Event()
        confirmed = [0]
        def on_publish(client, userdata, mid, reason_code=None, properties=None):
            seq = pending.pop(mid, None)
            if seq is None:
                return
            with lock:
                acked.write(f"{device_id} {seq}\n")
            confirmed[0] += 1
            if confirmed[0] == count:
                done.set()
        kwargs = {"protocol": protocol}
        if protocol == mqtt.MQTTv311:
            kwargs["clean_session"] = True
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device_id, **kwargs)
        if user is not None:
            c.username_pw_set(user, password)
        c.max_inflight_messages_set(window)
        c.max_queued_messages_set(0)
        c.on_publish = on_publish
        def on_connect(client, userdata, flags, reason_code, properties=None):
            if reason_code.is_failure:
                print(f"{device_id}: connection refused: {reason_code}", flush=True)
                os._exit(3)
        c.on_connect = on_connect
        c.connect("127.0.0.1", port, keepalive=30)
        c.loop_start()
        for seq in range(count):
            payload = json.dumps({"device": device_id, "seq": seq, "ts": int(time.time() * 1000)})
            info = c.publish(f"sensors/{device_id}/telemetry", payload, qos=qos)
            if qos > 0:
                pending[info.mid] = seq
            else:
                with lock:
                    acked.write(f"{device_id} {seq}\n")
        if qos > 0 and not done.wait(120):
            failures.append(f"{device_id}: {confirmed[0]} of {count} acknowledged")
        c.disconnect()
        c.loop_stop()

    threads = [threading.Thread(target=device, args=(i,)) for i in range(clients)]
    for t in threads: t.start()
    for t in threads: t.join()
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    """#
}
