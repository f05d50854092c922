import Foundation
import PartitionedLog
import Synchronization
import Testing

@testable import Uplink

/// Confirmations in the order the uplink received them.
final class DeliveryLog: Sendable {
  private let entries = Mutex<[(topic: String, partition: Int32, offset: Int64)]>([])
  func record(_ topic: String, _ partition: Int32, _ offset: Int64) {
    entries.withLock { $0.append((topic, partition, offset)) }
  }
  var all: [(topic: String, partition: Int32, offset: Int64)] { entries.withLock { $0 } }
}

@Suite(.serialized) struct KafkaDrainOrderTests {
  /// During an outage a telemetry backlog builds up; an alert appended after it is confirmed
  /// before the backlog (only what was already in flight goes ahead of it).
  @Test func alertOvertakesTheTelemetryBacklog() async throws {
    let dir = TempDirectory()
    let store = try openTestStore(dir, topics: ["telemetry": 3, "alerts": 1])
    let mock = try RdKafkaMockCluster(brokers: 3)
    try mock.createTopic("edge.telemetry", partitions: 3)
    try mock.createTopic("edge.alerts", partitions: 1)
    let window = InFlightWindow(maxRecords: 1000, maxBytes: 1 << 20)
    let uplink = try KafkaUplink(
      config: KafkaUplinkConfig(
        uplink: kafkaOptions(topics: [UplinkTopic("telemetry"), UplinkTopic("alerts")], window: window),
        bootstrapServers: mock.bootstrapServers),
      store: store)
    #expect(uplink.config.uplink.topics.map(\.priority) == [0, 100])
    let deliveries = DeliveryLog()
    uplink.observeDeliveries { deliveries.record($0, $1, $2) }
    try mock.setBrokerDown()
    let running = Running(uplink)
    try appendKeyed(store, topic: "telemetry", count: 30_000)
    try await eventually("the window fills", timeout: 10) { uplink.snapshot().inFlightRecords == window.maxRecords }
    try appendKeyed(store, topic: "alerts", count: 1)
    try await Task.sleep(nanoseconds: 300_000_000)
    try mock.setBrokerUp()
    try await eventually("everything confirmed", timeout: 60) { uplink.snapshot().lagRecords == 0 }
    try await running.stop()

    let order = deliveries.all
    let alertIndex = try #require(order.firstIndex { $0.topic == "alerts" })
    let telemetryBefore = order[..<alertIndex].filter { $0.topic == "telemetry" }.count
    // What was in flight when the cluster came back goes first, and whatever librdkafka confirms
    // while the alert's own request is on its way; the 30,000-record backlog does not.
    #expect(telemetryBefore <= 4 * window.maxRecords, "\(telemetryBefore) telemetry records went ahead of the alert")
    #expect(order.filter { $0.topic == "telemetry" }.count >= 30_000)
    try store.close()
  }

  /// With `liveFirst`, records that arrive while a backlog drains go out at once (without the
  /// replay mark); the backlog (marked replayed) still drains completely.
  @Test func liveFirstSendsNewRecordsAheadOfTheBacklog() async throws {
    let dir = TempDirectory()
    let store = try openTestStore(dir, topics: ["telemetry": 2])
    let mock = try RdKafkaMockCluster(brokers: 1)
    try mock.createTopic("edge.telemetry", partitions: 2)
    let backlog = try appendKeyed(store, topic: "telemetry", count: 20_000, valueBytes: 200)
    let uplink = try KafkaUplink(
      config: KafkaUplinkConfig(
        uplink: kafkaOptions(
          topics: [UplinkTopic("telemetry")], drainOrder: .liveFirst(backlogShare: 0.3), bandwidth: 2_000_000),
        bootstrapServers: mock.bootstrapServers),
      store: store)
    let deliveries = DeliveryLog()
    uplink.observeDeliveries { deliveries.record($0, $1, $2) }
    let running = Running(uplink)
    try await Task.sleep(nanoseconds: 500_000_000)
    let live = try appendKeyed(store, topic: "telemetry", count: 200, from: 20_000, valueBytes: 200)
    try await eventually("everything confirmed", timeout: 60) { uplink.snapshot().lagRecords == 0 }
    let records = try await consume(bootstrap: mock.bootstrapServers, topics: ["edge.telemetry"], timeout: 30) {
      $0.count >= 20_200
    }
    try await running.stop()

    let order = deliveries.all
    for (p, n) in backlog {
      let lastBacklog = order.lastIndex { $0.partition == p && $0.offset < Int64(n) }!
      let lastLive = order.lastIndex { $0.partition == p && $0.offset >= Int64(n) }!
      #expect(lastLive < lastBacklog, "partition \(p): live records should finish before the backlog")
    }
    let counts = Dictionary(uniqueKeysWithValues: backlog.map { ($0.key, $0.value + (live[$0.key] ?? 0)) })
    let (orderSeen, duplicates) = firstArrivals(records)
    #expect(duplicates.isEmpty)
    for (p, n) in counts { #expect(Set(orderSeen["telemetry/\(p)"] ?? []) == Set(0..<Int64(n))) }
    for r in records {
      let offset = Int64(r.header("weir.offset")!)!
      let p = Int32(r.header("weir.partition")!)!
      #expect((r.header("weir.replayed") == "true") == (offset < Int64(backlog[p]!)))
    }
    try store.close()
  }

  /// A 300 kB/s cap holds within 10 % over 10 s of backlog.
  @Test func bandwidthCapHolds() async throws {
    let dir = TempDirectory()
    let store = try openTestStore(dir, topics: ["telemetry": 3])
    let mock = try RdKafkaMockCluster(brokers: 1)
    try mock.createTopic("edge.telemetry", partitions: 3)
    try appendKeyed(store, topic: "telemetry", count: 30_000, valueBytes: 200)
    let rate = 300_000
    let uplink = try KafkaUplink(
      config: KafkaUplinkConfig(
        uplink: kafkaOptions(topics: [UplinkTopic("telemetry")], bandwidth: rate), bootstrapServers: mock.bootstrapServers),
      store: store)
    let running = Running(uplink)
    try await Task.sleep(nanoseconds: 500_000_000)
    let start = (uplink.snapshot().sentBytes, Date())
    try await Task.sleep(nanoseconds: 10_000_000_000)
    let end = (uplink.snapshot().sentBytes, Date())
    try await running.stop()
    let measured = Double(end.0 - start.0) / end.1.timeIntervalSince(start.1)
    #expect(abs(measured - Double(rate)) / Double(rate) < 0.10, "measured \(Int(measured)) B/s against a cap of \(rate)")
    #expect(uplink.snapshot().lagRecords > 0)
    try store.close()
  }
}
