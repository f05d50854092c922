import Foundation
import PartitionedLog
import Testing

@testable import Uplink

@Suite(.serialized) struct KafkaGapTests {
  static let options = LogOptions(minFreeBytes: 0, retentionCheckMs: 3_600_000)

  /// Retention deletes records the uplink had not read: its cursor jumps to the log start, the
  /// loss is counted and a gap marker goes upstream in their place.
  @Test func retentionOvertakingTheCursorSendsAGapMarker() async throws {
    let dir = TempDirectory()
    let store = try LogStore.open(directory: dir.path, options: Self.options)
    try store.createTopic(
      "telemetry",
      config: TopicConfig(fsync: .never, segmentBytes: 8192, maxBytes: 32_768, maxAgeMs: nil, indexIntervalBytes: 512))
    let mock = try RdKafkaMockCluster(brokers: 1)
    try mock.createTopic("edge.telemetry", partitions: 1)
    let uplink = try KafkaUplink(
      config: KafkaUplinkConfig(
        uplink: kafkaOptions(topics: [UplinkTopic("telemetry")]), bootstrapServers: mock.bootstrapServers),
      store: store)
    // The cursor exists before the appends: retention may run on the log's own thread as soon as
    // the topic passes its limit, and counts only what a known cursor had not read.
    try store.metadata.commit(cursor: "uplink:central", [("telemetry", 0, 0)], now: 0)
    try appendKeyed(store, topic: "telemetry", count: 2000, batch: 20)
    store.runRetention()
    let start = store.partition("telemetry", 0)!.logStartOffset
    #expect(start > 0)
    #expect(store.retentionTotals.unreadByCursor["uplink:central"] == start)
    let running = Running(uplink)
    try await eventually("everything confirmed", timeout: 30) { uplink.snapshot().lagRecords == 0 }
    let records = try await consume(bootstrap: mock.bootstrapServers, topics: ["edge.telemetry"], timeout: 20) {
      $0.count >= 2000 - Int(start) + 1
    }
    try await running.stop()

    let marker = try #require(records.first)
    #expect(marker.header("weir.gap") == "0-\(start - 1)")
    #expect(marker.header("weir.gap.reason") == "retention")
    #expect(marker.header("weir.offset") == "0")
    #expect(marker.header("weir.gateway") == "gw-test")
    #expect(String(decoding: marker.value ?? [], as: UTF8.self).contains("\"records\":\(start)"))
    let offsets = records.dropFirst().compactMap { $0.header("weir.offset").flatMap { Int64($0) } }
    #expect(offsets == Array(start..<2000))
    #expect(uplink.snapshot().lostRecords == start)
    #expect(store.metadata.cursor("uplink:central", topic: "telemetry", partition: 0) == 2000)
    try store.close()
  }

  /// A batch that fails its CRC is reported with a gap marker covering exactly its offsets, and
  /// forwarding goes on after it rather than stopping for good.
  @Test func corruptBatchIsSkippedWithAGapMarker() async throws {
    let dir = TempDirectory()
    var store = try LogStore.open(directory: dir.path, options: Self.options)
    try store.createTopic(
      "telemetry", config: TopicConfig(fsync: .never, segmentBytes: 4096, maxAgeMs: nil, indexIntervalBytes: 512))
    try appendKeyed(store, topic: "telemetry", count: 600, batch: 3)
    try store.close()
    // Damage one record inside a batch in the middle of the second segment.
    let partitionDir = dir.path + "/log/telemetry-0"
    let segments = try FileManager.default.contentsOfDirectory(atPath: partitionDir).filter { $0.hasSuffix(".log") }.sorted()
    let path = partitionDir + "/" + segments[1]
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    var position = 0
    var batches: [(position: Int, base: Int64, count: Int64)] = []
    while position + RecordBatchView.logOverhead <= bytes.count {
      let base = bytes[position..<position + 8].reduce(Int64(0)) { $0 << 8 | Int64($1) }
      let length = bytes[position + 8..<position + 12].reduce(0) { $0 << 8 | Int($1) }
      let delta = bytes[position + 23..<position + 27].reduce(Int64(0)) { $0 << 8 | Int64($1) }
      batches.append((position, base, delta + 1))
      position += length + RecordBatchView.logOverhead
    }
    let victim = batches[batches.count / 2]
    bytes[victim.position + RecordBatchView.headerSize + 5] ^= 0x40
    try Data(bytes).write(to: URL(fileURLWithPath: path))

    store = try LogStore.open(directory: dir.path, options: Self.options)
    let mock = try RdKafkaMockCluster(brokers: 1)
    try mock.createTopic("edge.telemetry", partitions: 1)
    let uplink = try KafkaUplink(
      config: KafkaUplinkConfig(
        uplink: kafkaOptions(topics: [UplinkTopic("telemetry")]), bootstrapServers: mock.bootstrapServers),
      store: store)
    let running = Running(uplink)
    try await eventually("everything confirmed", timeout: 30) { uplink.snapshot().lagRecords == 0 }
    let records = try await consume(bootstrap: mock.bootstrapServers, topics: ["edge.telemetry"], timeout: 20) {
      $0.count >= 600 - Int(victim.count) + 1
    }
    try await running.stop()

    let last = victim.base + victim.count - 1
    let markers = records.filter { $0.header("weir.gap") != nil }
    #expect(markers.count == 1)
    #expect(markers.first?.header("weir.gap") == "\(victim.base)-\(last)")
    #expect(markers.first?.header("weir.gap.reason") == "corrupt")
    let offsets = records.filter { $0.header("weir.gap") == nil }.compactMap { $0.header("weir.offset").flatMap { Int64($0) } }
    #expect(offsets == Array(0..<victim.base) + Array((last + 1)..<600))
    #expect(uplink.snapshot().lostRecords == victim.count)
    try store.close()
  }
}
