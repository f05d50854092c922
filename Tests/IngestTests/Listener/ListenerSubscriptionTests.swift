import Foundation
import Ingest
import Testing
import WeirTestSupport

/// Subscribers served from the log, checked with paho-mqtt (3.1.1 and 5.0) and mosquitto_pub:
/// live delivery with wildcards and `$` topics, retained messages (also after a restart), a
/// persistent subscriber away for 50,000 messages (and a restart) gets all of them in order, a
/// will reaches the subscribers of its topic, and a taken-over session keeps its subscriptions.
@Suite(.serialized) struct ListenerSubscriptionTests {
  /// One paho-mqtt subscriber: what it got, as JSON lines in `path`.
  struct Subscriber {
    let process: ChildProcess
    let path: String

    var lines: [[String: Any]] {
      let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
      return text.split(separator: "\n").compactMap {
        try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
      }
    }
    var messages: [[String: Any]] { lines.filter { $0["topic"] != nil } }
    /// The `seq` of each reading got, by `device` (readings as the harness's devices publish them).
    var sequences: [String: [Int]] {
      var seen: [String: [Int]] = [:]
      for m in messages {
        guard let payload = m["payload"] as? String,
          let json = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any],
          let device = json["device"] as? String, let seq = json["seq"] as? Int
        else { continue }
        seen[device, default: []].append(seq)
      }
      return seen
    }
    var granted: [Int]? { lines.first { $0["suback"] != nil }?["suback"] as? [Int] }

    /// Waits until the SUBACK came (or the session was resumed without subscribing).
    func ready(timeout: Double = 20) async throws {
      let deadline = Date().addingTimeInterval(timeout)
      while !lines.contains(where: { $0["ready"] != nil }) {
        if Date() > deadline { throw BrokerError("subscriber not ready: \(process.output)") }
        try await Task.sleep(for: .milliseconds(20))
      }
    }

    func finish(timeout: Double = 120) async throws {
      let status = await process.waitForExit(timeout: timeout)
      guard status == 0 else {
        process.signal(SIGKILL)
        throw BrokerError("subscriber failed (\(String(describing: status))): \(process.output)")
      }
    }
  }

  static let script = #"""
    import json, sys, threading, time
    import paho.mqtt.client as mqtt
    from paho.mqtt.properties import Properties
    from paho.mqtt.packettypes import PacketTypes

    port, version, client_id, clean, subs, expect, seconds, out_path = sys.argv[1:9]
    port, clean, expect, seconds = int(port), clean == "1", int(expect), float(seconds)
    user = sys.argv[9] if len(sys.argv) > 10 else None
    password = sys.argv[10] if len(sys.argv) > 10 else None
    v5 = version == "5"
    out = open(out_path, "a", buffering=1)
    got = [0]
    done = threading.Event()
    def write(obj):
        out.write(json.dumps(obj) + "\n")
    def on_message(client, userdata, msg):
        write({"topic": msg.topic, "payload": msg.payload.decode("utf-8", "replace"), "qos": msg.qos,
               "retain": int(msg.retain), "dup": int(msg.dup)})
        got[0] += 1
        if got[0] >= expect:
            done.set()
    def on_subscribe(client, userdata, mid, reason_codes, properties=None):
        write({"suback": [r.value if hasattr(r, "value") else int(r) for r in reason_codes]})
        write({"ready": 1})
    def on_connect(client, userdata, flags, reason_code, properties=None):
        write({"connack": str(reason_code), "session_present": int(flags.session_present)})
        if subs:
            pairs = []
            for s in subs.split(","):
                f, q = s.rsplit(":", 1)
                pairs.append((f, int(q)))
            client.subscribe(pairs)
        else:
            write({"ready": 1})
    kwargs = {"protocol": mqtt.MQTTv5 if v5 else mqtt.MQTTv311}
    if not v5:
        kwargs["clean_session"] = clean
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, **kwargs)
    if user is not None:
        c.username_pw_set(user, password)
    c.on_message = on_message
    c.on_subscribe = on_subscribe
    c.on_connect = on_connect
    if v5:
        p = Properties(PacketTypes.CONNECT)
        p.SessionExpiryInterval = 0 if clean else 3600
        c.connect("127.0.0.1", port, keepalive=30, clean_start=clean, properties=p)
    else:
        c.connect("127.0.0.1", port, keepalive=30)
    c.loop_start()
    if expect > 0:
        done.wait(seconds)
    else:
        time.sleep(seconds)
    c.disconnect()
    c.loop_stop()
    """#

  /// Starts a subscriber: `subs` as `filter:qos,...` (empty: resume the session without
  /// subscribing); it stops after `expect` messages or `seconds`.
  static func subscriber(
    _ h: ListenerHarness, port: Int, version: String = "3.1.1", id: String, clean: Bool = true, subs: String,
    expect: Int, seconds: Double = 30, user: String? = nil, password: String? = nil
  ) throws -> Subscriber {
    let script = h.directory + "/subscriber.py"
    if !FileManager.default.fileExists(atPath: script) {
      try Self.script.write(toFile: script, atomically: true, encoding: .utf8)
    }
    let path = h.directory + "/\(id)-\(UUID().uuidString.prefix(6)).jsonl"
    let process = try ChildProcess(
      "/usr/bin/env",
      ["python3", script, "\(port)", version, id, clean ? "1" : "0", subs, "\(expect)", "\(seconds)", path]
        + (user.map { [$0, password ?? ""] } ?? []),
      logPath: path + ".log")
    return Subscriber(process: process, path: path)
  }

  static func publish(
    port: Int, topic: String, _ message: String, qos: Int = 1, retain: Bool = false, extra: [String] = []
  ) async throws {
    var arguments = ["-h", "127.0.0.1", "-p", "\(port)", "-q", "\(qos)", "-t", topic, "-m", message] + extra
    if retain { arguments.append("-r") }
    let pub = try ChildProcess("/usr/bin/mosquitto_pub", arguments)
    guard await pub.waitForExit(timeout: 30) == 0 else { throw BrokerError("mosquitto_pub: \(pub.output)") }
  }

  @Test(arguments: ["3.1.1", "5"])
  func liveDeliveryWithWildcardsAndDollarTopics(_ version: String) async throws {
    let h = try ListenerHarness()
    let port = try await h.start()
    let sub = try Self.subscriber(
      h, port: port, version: version, id: "hmi-\(version)", subs: "sensors/+/telemetry:1,plant/#:0,#:0",
      expect: 4)
    try await sub.ready()
    #expect(sub.granted == [1, 0, 0])
    try await Self.publish(port: port, topic: "sensors/d1/telemetry", #"{"device":"d1","seq":1,"ts":1700000000000}"#)
    try await Self.publish(port: port, topic: "plant/line1/state", "running", qos: 0)
    try await Self.publish(port: port, topic: "$SYS/weir/test", "hidden from #")
    try await Self.publish(port: port, topic: "sensors/d2/telemetry", "not json: a dead letter, still delivered")
    try await Self.publish(port: port, topic: "elsewhere", "only #")
    try await sub.finish()
    try await h.stop()
    let got = sub.messages
    let topics = got.map { $0["topic"] as! String }
    // Overlapping subscriptions deliver once, at the highest QoS granted.
    #expect(Set(topics) == ["sensors/d1/telemetry", "plant/line1/state", "sensors/d2/telemetry", "elsewhere"])
    #expect(topics.count == 4, "\(got)")
    #expect(!topics.contains("$SYS/weir/test"))
    #expect(got.first { $0["topic"] as? String == "sensors/d1/telemetry" }?["qos"] as? Int == 1)
    #expect(got.first { $0["topic"] as? String == "plant/line1/state" }?["qos"] as? Int == 0)
    // And every message is in the log: the dead letter in its topic, with its MQTT topic.
    #expect(try h.records("deadletter").contains { $0.headers["mqtt.topic"] == "sensors/d2/telemetry" })
    #expect(try h.records("mqtt").contains { $0.headers["mqtt.topic"] == "elsewhere" })
  }

  /// A retained message reaches a later subscriber (with the retain flag), survives a restart of
  /// the listener, and an empty retained PUBLISH deletes it.
  @Test func retainedMessagesAreKeptDurably() async throws {
    let h = try ListenerHarness()
    var port = try await h.start()
    try await Self.publish(port: port, topic: "status/d1", "online", retain: true)
    try await Self.publish(port: port, topic: "status/d2", "online", qos: 0, retain: true)
    try await Self.publish(port: port, topic: "status/d2", "offline", retain: true)
    let first = try Self.subscriber(h, port: port, id: "late", subs: "status/+:1", expect: 2, seconds: 10)
    try await first.finish()
    let got = first.messages.map { "\($0["topic"]!)=\($0["payload"]!) r\($0["retain"]!)" }.sorted()
    #expect(got == ["status/d1=online r1", "status/d2=offline r1"])
    // kill -9 is what `ListenerCrashTests` does; here a restart shows the map comes back from
    // weir.db and the log.
    port = try await h.restart()
    try await Self.publish(port: port, topic: "status/d1", "", retain: true)
    let second = try Self.subscriber(h, port: port, id: "later", subs: "status/#:1", expect: 1, seconds: 10)
    try await second.finish()
    #expect(second.messages.map { "\($0["topic"]!)=\($0["payload"]!)" } == ["status/d2=offline"])
    try await h.stop()
  }

  /// A persistent session (3.1.1 clean session 0, and 5.0 with a session expiry) away while
  /// 50,000 QoS 1 messages are published, with a restart of the listener halfway: when it comes
  /// back it gets every one of them, each device's in order.
  @Test(arguments: ["3.1.1", "5"])
  func aPersistentSubscriberGetsItsBacklogFromTheLog(_ version: String) async throws {
    let h = try ListenerHarness()
    var port = try await h.start()
    let id = "hmi-\(version)"
    let setup = try Self.subscriber(
      h, port: port, version: version, id: id, clean: false, subs: "sensors/#:1", expect: 0, seconds: 0.3)
    try await setup.finish()
    #expect(setup.granted == [1])
    let perDevice = 5000
    try await h.devices(port: port, clients: 5, count: perDevice, qos: 1).finish()
    port = try await h.restart()
    try await h.devices(port: port, clients: 5, count: perDevice, qos: 1).finish()
    let back = try Self.subscriber(
      h, port: port, version: version, id: id, clean: false, subs: "", expect: 50_000, seconds: 90)
    try await back.finish(timeout: 120)
    try await h.stop()
    #expect(back.lines.first { $0["connack"] != nil }?["session_present"] as? Int == 1)
    let seen = back.sequences
    #expect(seen.values.reduce(0) { $0 + $1.count } == 50_000, "got \(back.messages.count)")
    for (device, seqs) in seen {
      #expect(seqs == Array(0..<perDevice), "\(device): \(seqs.count) messages, in order: \(seqs == seqs.sorted())")
    }
  }

  /// A device that dies without a DISCONNECT: its will reaches the subscribers of the will's topic.
  @Test func aWillReachesItsSubscribers() async throws {
    let h = try ListenerHarness()
    let port = try await h.start()
    let sub = try Self.subscriber(h, port: port, id: "watch", subs: "devices/+/status:1", expect: 1, seconds: 20)
    try await sub.ready()
    let script = h.directory + "/dying.py"
    try #"""
    import os, sys, time
    import paho.mqtt.client as mqtt
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="w9", protocol=mqtt.MQTTv311)
    c.will_set("devices/w9/status", "offline", qos=1)
    c.connect("127.0.0.1", int(sys.argv[1]))
    c.loop_start()
    time.sleep(0.5)
    os._exit(0)
    """#.write(toFile: script, atomically: true, encoding: .utf8)
    let dying = try ChildProcess("/usr/bin/env", ["python3", script, "\(port)"])
    _ = await dying.waitForExit(timeout: 20)
    try await sub.finish()
    try await h.stop()
    #expect(sub.messages.map { "\($0["topic"]!)=\($0["payload"]!)" } == ["devices/w9/status=offline"])
  }

  /// A second connection with the same client identifier takes the session over: it is told the
  /// session is present, and the subscription made by the first delivers to it.
  @Test func aTakenOverSessionKeepsItsSubscriptions() async throws {
    let h = try ListenerHarness()
    let port = try await h.start()
    let first = try Self.subscriber(h, port: port, id: "panel", clean: false, subs: "plant/#:1", expect: 1, seconds: 20)
    try await first.ready()
    let second = try Self.subscriber(h, port: port, id: "panel", clean: false, subs: "", expect: 1, seconds: 20)
    try await second.ready()
    try await Task.sleep(for: .milliseconds(300))
    try await Self.publish(port: port, topic: "plant/line2/state", "stopped")
    try await second.finish()
    _ = await first.process.waitForExit(timeout: 30)
    try await h.stop()
    #expect(second.lines.first { $0["connack"] != nil }?["session_present"] as? Int == 1)
    #expect(second.messages.map { $0["payload"] as? String } == ["stopped"])
  }
}
