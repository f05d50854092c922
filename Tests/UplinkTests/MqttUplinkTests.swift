import Foundation
import MQTT
import PartitionedLog
import Testing
import WeirCore
import WeirTestSupport

@testable import Uplink

@Suite(
  .serialized,
  .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/mosquitto"), "needs /usr/sbin/mosquitto"))
struct MqttUplinkTests {
  func uplink(_ store: LogStore, port: Int, topics: [UplinkTopic]) throws -> MqttUplink {
    try MqttUplink(
      config: MqttUplinkConfig(
        uplink: UplinkOptions(
          name: "central-mqtt", gateway: "gw-test", topics: topics,
          topicTemplate: MqttUplinkConfig.defaultTopicTemplate,
          window: InFlightWindow(maxRecords: 5000), commitIntervalMs: 200,
          backoff: Backoff(initialMs: 100, maxMs: 1000), snapshotIntervalMs: 50, stallTimeoutMs: 2000),
        broker: MQTTClientConfig(host: "127.0.0.1", port: port, clientID: "weir-gw-test-central-mqtt"),
        ackTimeoutMs: 5000, reconnectBackoff: Backoff(initialMs: 100, maxMs: 500)),
      store: store)
  }

  /// The central subscriber: `mosquitto_sub`, an independent client, on a persistent session.
  func subscriber(_ broker: MosquittoBroker) async throws -> ChildProcess {
    let sub = try ChildProcess(
      "/usr/bin/mosquitto_sub",
      [
        "-h", "127.0.0.1", "-p", String(broker.port), "-q", "1", "-c", "-i", "central-\(UUID().uuidString.prefix(8))",
        "-t", "weir/#",
      ], mergeErrors: false)
    // Subscribed once a probe comes through.
    for _ in 0..<100 {
      let probe = try ChildProcess(
        "/usr/bin/mosquitto_pub",
        ["-h", "127.0.0.1", "-p", String(broker.port), "-q", "1", "-t", "weir/probe", "-m", "probe"],
        mergeErrors: false)
      _ = try await probe.exitStatus()
      if try await sub.waitForLine(timeout: 0.2, { $0 == "probe" }) != nil { return sub }
    }
    throw BrokerError("the subscriber never subscribed")
  }

  func received(_ sub: ChildProcess) -> [EnvelopeRecord] { sub.lines.compactMap(EnvelopeRecord.init) }

  /// Records reach the central broker as JSON envelopes with key, value, timestamp and headers,
  /// each exactly once, in order per partition; alerts on their own topic.
  @Test func forwardsEnvelopesInOrder() async throws {
    let dir = TempDirectory()
    let broker = try MosquittoBroker()
    let sub = try await subscriber(broker)
    let store = try openTestStore(dir, topics: ["telemetry": 3, "alerts": 1])
    let counts = try appendKeyed(store, topic: "telemetry", count: 6000)
    try appendKeyed(store, topic: "alerts", count: 10)
    let up = try uplink(store, port: broker.port, topics: [UplinkTopic("telemetry"), UplinkTopic("alerts")])
    let running = Task { try await up.run() }
    try await eventually("everything confirmed", timeout: 60) { up.snapshot().lagRecords == 0 }
    try await eventually("everything received", timeout: 20) { self.received(sub).count >= 6010 }
    up.stop()
    try await running.value

    let records = received(sub)
    let (order, duplicates) = firstArrivals(records)
    #expect(duplicates == 0)
    for (p, n) in counts {
      #expect(
        order["telemetry/\(p)"] ?? [] == Array(0..<Int64(n)), "telemetry/\(p): \(summary(order["telemetry/\(p)"]))")
    }
    #expect(order["alerts/0"] ?? [] == Array(0..<10))
    let first = try #require(records.first { $0.headers["weir.topic"] == "telemetry" })
    #expect(first.key?.hasPrefix("device-") == true)
    #expect(first.value?.hasPrefix("{\"seq\":") == true)
    #expect(first.headers["source"] == "test")
    #expect(first.headers["weir.gateway"] == "gw-test")
    #expect(first.headers["weir.replayed"] == "true")
    let seq = Int64(first.value!.dropFirst(7).prefix { $0 != "," })!
    #expect(first.timestamp == testEpochMs + seq)
    #expect(up.snapshot().ackedRecords == 6010)
    #expect(store.metadata.cursor("uplink:central-mqtt", topic: "alerts", partition: 0) == 10)
    try store.close()
    sub.signal(SIGTERM)
  }

  /// The central broker is stopped while records keep arriving, then started again: everything
  /// arrives (duplicates only as re-sends the headers identify), in order of first arrival, and
  /// the in-flight window holds.
  @Test func brokerStoppedAndRestartedLosesNothing() async throws {
    let dir = TempDirectory()
    let broker = try MosquittoBroker()
    let sub = try await subscriber(broker)
    let store = try openTestStore(dir, topics: ["telemetry": 3])
    let up = try uplink(store, port: broker.port, topics: [UplinkTopic("telemetry")])
    let running = Task { try await up.run() }
    let sampler = SnapshotSampler { up.snapshot() }
    let appender = appendSteadily(store, topic: "telemetry", total: 15_000, slice: 50, intervalMs: 10)
    try await Task.sleep(nanoseconds: 1_000_000_000)
    broker.stop()
    try await Task.sleep(nanoseconds: 2_000_000_000)
    try broker.start()
    let counts = try await appender.value
    try await eventually("the backlog drains", timeout: 60) { up.snapshot().lagRecords == 0 }
    try await eventually("everything received", timeout: 30) {
      firstArrivals(self.received(sub)).order.values.reduce(0) { $0 + $1.count } >= 15_000
    }
    let extremes = sampler.stop()
    up.stop()
    try await running.value

    let (order, _) = firstArrivals(received(sub))
    for (p, n) in counts {
      #expect(
        order["telemetry/\(p)"] ?? [] == Array(0..<Int64(n)), "telemetry/\(p): \(summary(order["telemetry/\(p)"]))")
    }
    #expect(extremes.sawDisconnected)
    #expect(extremes.maxLag > 500)
    #expect(up.snapshot().peakInFlightRecords <= 5000)
    try store.close()
    sub.signal(SIGTERM)
  }
}
