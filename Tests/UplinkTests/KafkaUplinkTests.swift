import Foundation
import PartitionedLog
import Testing

@testable import Uplink

@Suite(.serialized) struct KafkaUplinkTests {
  @Test func murmur2VectorsMatchKafka() {
    #expect(kafkaMurmur2(Array("foobar".utf8)) == -790_332_482)
    #expect(kafkaPartition(Array("foobar".utf8), 6) == Int32((UInt32(bitPattern: -790_332_482) & 0x7fff_ffff) % 6))
  }

  /// 200,000 records over six partitions and an alerts topic: each arrives exactly once after
  /// deduplication, in order per partition, in the partition Kafka's murmur2 gives its key, with
  /// key, value, timestamp and headers intact.
  @Test func forwardsEverythingInOrderWithHeaders() async throws {
    let dir = TempDirectory()
    let store = try openTestStore(dir, topics: ["telemetry": 6, "alerts": 1])
    let mock = try RdKafkaMockCluster(brokers: 3)
    try mock.createTopic("edge.telemetry", partitions: 6)
    try mock.createTopic("edge.alerts", partitions: 1)
    let counts = try appendKeyed(store, topic: "telemetry", count: 199_000)
    try appendKeyed(store, topic: "alerts", count: 1000)
    let uplink = try KafkaUplink(
      config: KafkaUplinkConfig(
        uplink: kafkaOptions(topics: [UplinkTopic("telemetry"), UplinkTopic("alerts")]),
        bootstrapServers: mock.bootstrapServers),
      store: store)
    let running = Running(uplink)
    let records = try await consume(
      bootstrap: mock.bootstrapServers, topics: ["edge.telemetry", "edge.alerts"], timeout: 120
    ) { $0.count >= 200_000 }
    try await eventually("lag back to zero", timeout: 10) { uplink.snapshot().lagRecords == 0 }
    try await running.stop()

    #expect(records.count == 200_000)
    let (order, duplicates) = firstArrivals(records)
    #expect(duplicates.isEmpty)
    for (p, n) in counts {
      #expect(order["telemetry/\(p)"] ?? [] == Array(0..<Int64(n)), "telemetry/\(p): \(summary(order["telemetry/\(p)"]))")
    }
    #expect(order["alerts/0"] ?? [] == Array(0..<1000), "alerts: \(summary(order["alerts/0"]))")
    var checked = 0
    for r in records where r.topic == "edge.telemetry" {
      let local = Int32(r.header("weir.partition")!)!
      #expect(r.partition == local)
      #expect(r.partition == kafkaPartition(r.key!, 6))
      #expect(r.header("weir.gateway") == "gw-test")
      #expect(r.header("weir.epoch") == String(store.epoch))
      #expect(r.header("weir.topic") == "telemetry")
      #expect(r.header("source") == "test")
      #expect(r.header("weir.replayed") == "true")  // in the log before the uplink started
      let value = String(decoding: r.value!, as: UTF8.self)
      let seq = Int64(value.dropFirst(7).prefix { $0 != "," })!
      #expect(r.timestamp == testEpochMs + seq)
      checked += 1
      if checked > 2000 { break }
    }
    let snapshot = uplink.snapshot()
    #expect(snapshot.state == .stopped)
    #expect(snapshot.ackedRecords == 200_000)
    #expect(snapshot.errors == 0)
    for p in 0..<6 {
      #expect(
        store.metadata.cursor("uplink:central", topic: "telemetry", partition: Int32(p))
          == store.partition("telemetry", Int32(p))!.highWatermark)
    }
    try store.close()
  }
}
