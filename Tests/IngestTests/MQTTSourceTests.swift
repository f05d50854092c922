import Foundation
import MQTT
import PartitionedLog
import Testing
import WeirTestSupport

@testable import Ingest

/// A fresh directory, removed at the end.
final class TempDir {
  let path = NSTemporaryDirectory() + "weir-ingest-\(UUID().uuidString)"
  init() { try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
  deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Every record of a topic: (partition, offset, key, value, headers).
func records(_ store: LogStore, _ topic: String) throws -> [(Int32, Int64, String?, [UInt8], [String: String])] {
  guard let t = store.topic(topic) else { return [] }
  var out: [(Int32, Int64, String?, [UInt8], [String: String])] = []
  for p in t.partitions {
    let reader = PartitionReader(partition: p)
    var offset = p.logStartOffset
    while true {
      let r = try reader.read(from: offset)
      if r.isEmpty { break }
      r.forEachRecord { rec in
        var headers: [String: String] = [:]
        var it = rec.headers
        while let h = it.next() {
          headers[String(decoding: h.key, as: UTF8.self)] = h.value.map { String(decoding: $0, as: UTF8.self) }
        }
        out.append(
          (
            p.id, rec.offset, rec.key.map { String(decoding: $0, as: UTF8.self) },
            Array(rec.value ?? UnsafeRawBufferPointer(start: nil, count: 0)), headers
          ))
      }
      offset = r.nextOffset
    }
  }
  return out
}

/// Waits until `condition` holds or `seconds` pass.
func waitFor(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
  let deadline = Date().addingTimeInterval(seconds)
  while Date() < deadline {
    if try condition() { return true }
    usleep(20_000)
  }
  return try condition()
}

func totalRecords(_ store: LogStore, _ topic: String) -> Int64 {
  store.topic(topic)?.partitions.reduce(0) { $0 + $1.highWatermark - $1.logStartOffset } ?? 0
}

/// Runs an MQTTSource on its own thread until `stop()` (not through a Task: tests that block
/// their threads while waiting must not keep the source from starting).
final class RunningSource: @unchecked Sendable {
  let source: MQTTSource
  private let exited = DispatchSemaphore(value: 0)
  private var result: Result<Void, any Error>?

  init(_ config: MQTTSourceConfig, store: LogStore, pauseBeforeAckMs: Int = 0) throws {
    let s = try MQTTSource(config: config, store: store, hooks: .pauseBeforeAck(milliseconds: pauseBeforeAckMs))
    source = s
    s.start { [self] in
      result = $0
      exited.signal()
    }
  }

  func stop() async throws {
    source.stop()
    exited.wait()
    try result?.get()
  }

  func waitConnected() -> Bool {
    waitFor(10) { source.status.connected && source.status.subscriptions.allSatisfy(\.acknowledged) }
  }
}

func sourceConfig(
  port: Int, id: String = "weir-test", _ subscriptions: [MQTTSubscription],
  version: MQTTClientConfig.ProtocolVersion = .v311,
  tls: MQTTClientConfig.TLS? = nil, maxPayload: Int = 256 * 1024
) -> MQTTSourceConfig {
  MQTTSourceConfig(
    client: MQTTClientConfig(host: "127.0.0.1", port: port, clientID: id, protocolVersion: version, tls: tls),
    reconnectMinMs: 50, reconnectMaxMs: 500, maxPayloadBytes: maxPayload, subscriptions: subscriptions)
}

@Suite(.serialized) struct MQTTSourceTests {
  static let telemetry = MQTTSubscription(
    filter: "sensors/+/telemetry", qos: 1, topic: "telemetry", key: .topicLevel(1))

  @Test func hundredThousandQoS1MessagesLandOnceInKeyOrder() async throws {
    let broker = try MosquittoBroker()
    let dir = TempDir()
    let store = try LogStore.open(directory: dir.path)
    try store.createTopic("telemetry", config: TopicConfig(partitions: 4))
    let source = try RunningSource(sourceConfig(port: broker.port, [Self.telemetry]), store: store)
    #expect(source.waitConnected())
    let publishers = 4
    let perPublisher = 25_000
    let done = DispatchSemaphore(value: 0)
    let port = broker.port
    for p in 0..<publishers {
      Thread {
        let publisher = try! TestPublisher(port: port, id: "pub-\(p)")
        let messages = (0..<perPublisher).map { n -> (topic: String, payload: [UInt8]) in
          let device = "dev-\(p)-\(n % 10)"
          return ("sensors/\(device)/telemetry", Array("{\"device\":\"\(device)\",\"seq\":\(n)}".utf8))
        }
        let acked = try! publisher.publishAll(messages, qos: 1)
        precondition(acked.count == perPublisher)
        publisher.close()
        done.signal()
      }.start()
    }
    for _ in 0..<publishers { done.wait() }
    #expect(waitFor(60) { totalRecords(store, "telemetry") >= Int64(publishers * perPublisher) })
    try await source.stop()
    let all = try records(store, "telemetry")
    #expect(all.count == publishers * perPublisher)
    var seen = Set<String>()
    var lastSeq: [String: Int] = [:]
    for (_, _, key, value, headers) in all {
      let text = String(decoding: value, as: UTF8.self)
      let seq = Int(text.split(separator: ":").last!.dropLast())!
      #expect(seen.insert(text).inserted, "duplicate \(text)")
      let k = key!
      #expect(seq > lastSeq[k, default: -1], "out of order for \(k)")
      lastSeq[k] = seq
      #expect(headers["mqtt.topic"] == "sensors/\(k)/telemetry")
      #expect(headers["mqtt.qos"] == "1")
      #expect(headers["content-type"] == "application/json")
      #expect(headers["source"] == "mqtt")
    }
    try store.close()
  }

  @Test func messagesPublishedWhileTheGatewayIsDownArriveAfterRestart() async throws {
    let broker = try MosquittoBroker()
    let dir = TempDir()
    let store = try LogStore.open(directory: dir.path)
    let config = sourceConfig(port: broker.port, id: "weir-persistent", [Self.telemetry])
    let first = try RunningSource(config, store: store)
    #expect(first.waitConnected())
    try await first.stop()
    let publisher = try TestPublisher(port: broker.port, id: "pub")
    let messages = (0..<5000).map { n in ("sensors/d\(n % 7)/telemetry", Array("{\"n\":\(n)}".utf8)) }
    #expect(try publisher.publishAll(messages, qos: 1).count == 5000)
    let second = try RunningSource(config, store: store)
    #expect(waitFor(30) { totalRecords(store, "telemetry") >= 5000 })
    try await second.stop()
    #expect(Set(try records(store, "telemetry").map(\.3)).count == 5000)
    try store.close()
  }

  @Test func brokerRestartUnderLoadLosesNothingAcknowledged() async throws {
    let broker = try MosquittoBroker()
    let dir = TempDir()
    let store = try LogStore.open(directory: dir.path)
    let source = try RunningSource(sourceConfig(port: broker.port, id: "weir-restart", [Self.telemetry]), store: store)
    #expect(source.waitConnected())
    let ackedBox = LockedBox<[[UInt8]]>([])
    let finished = DispatchSemaphore(value: 0)
    let port = broker.port
    Thread {
      let publisher = try! TestPublisher(port: port, id: "pub-restart")
      let messages = (0..<20_000).map { n in ("sensors/d\(n % 5)/telemetry", Array("{\"n\":\(n)}".utf8)) }
      ackedBox.set(try! publisher.publishAll(messages, qos: 1, window: 100))
      finished.signal()
    }.start()
    usleep(300_000)
    broker.stop()
    usleep(500_000)
    try broker.start()
    finished.wait()
    let acked = Set(ackedBox.get())
    #expect(acked.count == 20_000)
    let arrived = waitFor(30) { Set((try? records(store, "telemetry"))?.map(\.3) ?? []).isSuperset(of: acked) }
    let have = Set(try records(store, "telemetry").map(\.3))
    let missing = acked.subtracting(have).map { String(decoding: $0, as: UTF8.self) }.sorted()
    #expect(
      arrived,
      "\(missing.count) acknowledged messages missing, e.g. \(missing.prefix(5)); status \(source.source.status)")
    #expect(source.source.status.connects >= 2)
    try await source.stop()
    try store.close()
  }

  @Test func badInputGoesToTheDeadLetterTopicAndGoodInputIsUnaffected() async throws {
    let broker = try MosquittoBroker()
    let dir = TempDir()
    let store = try LogStore.open(directory: dir.path)
    // Event times from 2023: without age retention, or it would delete them at once.
    try store.createTopic("telemetry", config: TopicConfig(maxAgeMs: nil))
    let subs = [
      MQTTSubscription(filter: "json/#", topic: "telemetry", key: .field(["device"]), timeField: ["ts"]),
      MQTTSubscription(filter: "text/#", topic: "notes", format: .text),
    ]
    let source = try RunningSource(sourceConfig(port: broker.port, subs, maxPayload: 1000), store: store)
    #expect(source.waitConnected())
    let publisher = try TestPublisher(port: broker.port, id: "pub-bad")
    let cases: [(String, [UInt8], String?)] = [
      ("json/a", Array(#"{"device":"m1","ts":1700000000000,"v":1}"#.utf8), nil),
      ("json/a", Array(#"{"device":"m1","ts":1700000000000,"v":"#.utf8), "invalid_json"),
      ("json/a", Array(#"{"device":"m2","ts":1700000000001,"v":2}"#.utf8), nil),
      ("json/a", Array(#"{"ts":1700000000000,"v":1}"#.utf8), "missing_key"),
      ("json/a", Array(#"{"device":"m1","v":1}"#.utf8), "missing_timestamp"),
      ("json/a", Array(#"{"device":"m1","ts":"last tuesday","v":1}"#.utf8), "bad_timestamp"),
      (
        "json/a",
        Array(
          ("{\"device\":\"m1\",\"ts\":1700000000000,\"pad\":\"" + String(repeating: "x", count: 2000) + "\"}").utf8),
        "oversize"
      ),
      ("text/a", [0x66, 0xFF, 0x66], "invalid_text"),
      ("text/a", Array("fine".utf8), nil),
      ("json/a", Array(#"{"device":"m3","ts":"2023-11-14T22:13:20Z","v":3}"#.utf8), nil),
    ]
    try publisher.publishAll(cases.map { ($0.0, $0.1) }, qos: 1, window: 1)
    let bad = cases.filter { $0.2 != nil }.count
    #expect(waitFor(10) { totalRecords(store, "deadletter") >= Int64(bad) && totalRecords(store, "telemetry") >= 3 })
    try await source.stop()
    let dead = try records(store, "deadletter")
    #expect(dead.map { $0.4["weir.error"]!.split(separator: ":").first.map(String.init)! } == cases.compactMap(\.2))
    #expect(dead.map(\.3) == cases.filter { $0.2 != nil }.map(\.1))
    #expect(dead.allSatisfy { $0.4["mqtt.topic"] != nil && $0.4["source"] == "mqtt" })
    let good = try records(store, "telemetry")
    #expect(good.map(\.2) == ["m1", "m2", "m3"].map(Optional.some))
    #expect(try records(store, "notes").map(\.3) == [Array("fine".utf8)])
    let partition = store.topic("telemetry")!.partitions[0]
    #expect(try partition.offset(forTimestamp: 1_700_000_000_001) == 1)
    try store.close()
  }

  @Test func wildcardsTopicLevelKeysAndMQTT5UserProperties() async throws {
    let broker = try MosquittoBroker()
    let dir = TempDir()
    let store = try LogStore.open(directory: dir.path)
    let subs = [
      MQTTSubscription(
        filter: "plant/+/line/+/#", topic: "telemetry", key: .topicLevel(3), format: .raw, headers: [("site", "north")])
    ]
    let source = try RunningSource(sourceConfig(port: broker.port, subs, version: .v5), store: store)
    #expect(source.waitConnected())
    // mosquitto_pub sends MQTT 5 user properties.
    let pub = Process()
    pub.executableURL = URL(fileURLWithPath: "/usr/bin/mosquitto_pub")
    pub.arguments = [
      "-p", "\(broker.port)", "-V", "mqttv5", "-q", "1", "-t", "plant/p1/line/L7/motor/3", "-m", "raw-bytes",
      "-D", "publish", "user-property", "firmware", "1.2.3",
    ]
    try pub.run()
    pub.waitUntilExit()
    #expect(pub.terminationStatus == 0)
    #expect(waitFor(10) { totalRecords(store, "telemetry") >= 1 })
    try await source.stop()
    let r = try records(store, "telemetry")
    #expect(r.first?.2 == "L7")
    #expect(r.first?.4["firmware"] == "1.2.3")
    #expect(r.first?.4["site"] == "north")
    #expect(r.first?.4["content-type"] == "application/octet-stream")
    try store.close()
  }
}

final class LockedBox<T>: @unchecked Sendable {
  private var value: T
  private let lock = NSLock()
  init(_ v: T) { value = v }
  func set(_ v: T) {
    lock.lock()
    value = v
    lock.unlock()
  }
  func get() -> T {
    lock.lock()
    defer { lock.unlock() }
    return value
  }
}
