import Foundation
import Gateway
import Ingest
import MQTT
import PartitionedLog
import Payload
import Synchronization
import WeirCore

/// `weir bench ingest`: K publishers through a real broker into a real log, beside the same
/// publishers to a bare libmosquitto subscriber that only counts (the ceiling), in one run.
public enum IngestBenchmark {
  public struct Options: Sendable {
    public var broker: String
    public var directory: String
    public var messages: Int
    public var payloadBytes: Int
    public var qos: Int32
    public var publishers: Int

    public init(broker: String, directory: String, messages: Int, payloadBytes: Int, qos: Int32, publishers: Int) {
      self.broker = broker
      self.directory = directory
      self.messages = messages
      self.payloadBytes = payloadBytes
      self.qos = qos
      self.publishers = publishers
    }
  }

  public static func run(_ o: Options, progress: @escaping @Sendable (String) -> Void) async throws -> String {
    guard let url = MQTTClientConfig.parseURL(o.broker), !url.tls else {
      throw BenchmarkError("cannot read the broker URL '\(o.broker)' (mqtt://host:port)")
    }
    let run = getpid()
    progress("broker only: \(o.messages) messages to a bare subscriber")
    let bare = try bareSubscriberRun(o, host: url.host, port: url.port, topicRoot: "weir-bench-bare-\(run)")
    progress("ingest: \(o.messages) messages into the log")
    let ingest = try await ingestRun(o, host: url.host, port: url.port, topicRoot: "weir-bench-ingest-\(run)")
    let json = JSONWriter.object()
    json.add("benchmark", "ingest")
    json.add("messages", o.messages)
    json.add("payload_bytes", o.payloadBytes)
    json.add("qos", Int(o.qos))
    json.add("publishers", o.publishers)
    json.add("broker_only_received", bare.received)
    json.add("broker_only_msgs_per_s", Double(bare.received) / bare.seconds)
    json.add("ingest_received", ingest.received)
    json.add("ingest_msgs_per_s", Double(ingest.received) / ingest.seconds)
    json.add(
      "ingest_vs_broker_only", (Double(ingest.received) / ingest.seconds) / (Double(bare.received) / bare.seconds))
    return json.result
  }

  /// A libmosquitto client subscribed to `filter` (the subscription acknowledged).
  static func subscribedClient(host: String, port: Int, clientID: String, filter: String, qos: Int32) throws
    -> MosquittoClient
  {
    let subscriber = try MosquittoClient(
      config: MQTTClientConfig(host: host, port: port, clientID: clientID, cleanSession: true))
    let subscribed = Atomic<Bool>(false)
    subscriber.onConnect = { _, _, _ in _ = try? subscriber.subscribe(filter, qos: qos) }
    subscriber.onSubscribe = { _, _ in subscribed.store(true, ordering: .relaxed) }
    try subscriber.connect()
    while !subscribed.load(ordering: .relaxed) {
      try subscriber.writePending()
      _ = try subscriber.readAvailable(maxMessages: 10, timeoutMs: 10) { _ in }
    }
    return subscriber
  }

  /// The ceiling: a libmosquitto subscriber that counts and acknowledges at once.
  static func bareSubscriberRun(_ o: Options, host: String, port: Int, topicRoot: String) throws -> (
    received: Int, seconds: Double
  ) {
    let subscriber = try subscribedClient(
      host: host, port: port, clientID: "\(topicRoot)-sub", filter: topicRoot + "/#", qos: o.qos)
    let counted = Atomic<Int>(0)
    let start = Monotonic.seconds()
    let publishing = try startPublishers(o, host: host, port: port, topicRoot: topicRoot)
    var last = Monotonic.seconds()
    var lastChange = last
    while counted.load(ordering: .relaxed) < o.messages && Monotonic.seconds() - lastChange < 2 {
      let n = try subscriber.readAvailable(maxMessages: 1000, timeoutMs: 20) { _ in }
      try subscriber.writePending()
      if n > 0 {
        counted.add(n, ordering: .relaxed)
        last = Monotonic.seconds()
        lastChange = last
      }
    }
    publishing.wait()
    subscriber.disconnect()
    try? subscriber.writePending()
    return (counted.load(ordering: .relaxed), last - start)
  }

  /// Weir: the MQTT source writing into a fresh log.
  static func ingestRun(_ o: Options, host: String, port: Int, topicRoot: String) async throws -> (
    received: Int, seconds: Double
  ) {
    let dir = o.directory + "/weir-bench-ingest-\(getpid())"
    try? FileManager.default.removeItem(atPath: dir)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let store = try LogStore.open(directory: dir, options: LogOptions(minFreeBytes: 0))
    let topic = try store.createTopic("telemetry", config: TopicConfig(partitions: 4, maxAgeMs: nil))
    let source = try MQTTSource(
      config: MQTTSourceConfig(
        client: MQTTClientConfig(host: host, port: port, clientID: "\(topicRoot)-weir", cleanSession: true),
        subscriptions: [
          MQTTSubscription(
            filter: topicRoot + "/#", qos: Int(o.qos), topic: "telemetry", key: .topicLevel(1), format: .raw)
        ]),
      store: store)
    let running = Task { try await source.run() }
    while !(source.status.connected && source.status.subscriptions.allSatisfy(\.acknowledged)) {
      try await Task.sleep(nanoseconds: 5_000_000)
    }
    func inLog() -> Int { Int(topic.partitions.reduce(0) { $0 + $1.state.logEndOffset }) }
    let start = Monotonic.seconds()
    let publishing = try startPublishers(o, host: host, port: port, topicRoot: topicRoot)
    var last = Monotonic.seconds()
    var seen = 0
    var lastChange = last
    while seen < o.messages && Monotonic.seconds() - lastChange < 2 {
      try await Task.sleep(nanoseconds: 1_000_000)
      let n = inLog()
      if n > seen {
        seen = n
        last = Monotonic.seconds()
        lastChange = last
      }
    }
    publishing.wait()
    source.stop()
    try await running.value
    try store.close()
    return (seen, last - start)
  }

  /// K publisher threads, each with its own connection, publishing its share as fast as the
  /// broker takes it (QoS 1 with a window of 1,000 unacknowledged).
  static func startPublishers(_ o: Options, host: String, port: Int, topicRoot: String) throws -> DispatchGroup {
    let group = DispatchGroup()
    let payload = [UInt8](repeating: UInt8(ascii: "x"), count: max(1, o.payloadBytes))
    for p in 0..<o.publishers {
      let share = o.messages / o.publishers + (p < o.messages % o.publishers ? 1 : 0)
      let client = try MosquittoClient(
        config: MQTTClientConfig(host: host, port: port, clientID: "\(topicRoot)-pub-\(p)", cleanSession: true))
      let connected = Atomic<Bool>(false)
      let acked = Atomic<Int>(0)
      client.onConnect = { rc, _, _ in connected.store(rc == 0, ordering: .relaxed) }
      client.onPublish = { _, _ in acked.add(1, ordering: .relaxed) }
      try client.connect()
      group.enter()
      OwnedThread.start(name: "weir-bench-publisher-\(p)") {
        defer { group.leave() }
        do {
          while !connected.load(ordering: .relaxed) {
            try client.writePending()
            _ = try client.readAvailable(maxMessages: 10, timeoutMs: 10) { _ in }
          }
          let topics = (0..<10).map { "\(topicRoot)/dev-\(p)-\($0)/telemetry" }
          var sent = 0
          while sent < share || (o.qos > 0 && acked.load(ordering: .relaxed) < share) {
            while sent < share && (o.qos == 0 || sent - acked.load(ordering: .relaxed) < 1000) {
              _ = try payload.withUnsafeBytes { try client.publish(topic: topics[sent % 10], payload: $0, qos: o.qos) }
              sent += 1
              if o.qos == 0 && sent % 64 == 0 { try client.writePending() }
            }
            try client.writePending()
            _ = try client.readAvailable(maxMessages: 1000, timeoutMs: o.qos == 0 ? 0 : 5) { _ in }
          }
          client.disconnect()
          try client.writePending()
        } catch {
          FileHandle.standardError.write(Data("publisher \(p): \(error)\n".utf8))
        }
      }
    }
    return group
  }
}
