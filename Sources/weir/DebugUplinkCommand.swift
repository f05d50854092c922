import ArgumentParser
import Foundation
import Ingest
import Logging
import PartitionedLog
import Uplink

/// `weir debug uplink`: a gateway in miniature for crash tests: appends numbered records to a
/// log at a steady rate while a Kafka uplink forwards them, so a test can `kill -9` it mid-flow
/// and start it again on the same data directory.
struct DebugUplink: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "uplink",
    abstract: "Append records and forward them with a Kafka uplink until all are confirmed; print progress.")

  @Option var dir: String
  @Option var bootstrap: String
  @Option var topic: String = "telemetry"
  @Option var partitions: Int = 3
  @Option(help: "Records the topic should hold in the end (a restart appends the rest).")
  var records: Int = 50_000
  @Option(help: "Records per append; one append every 10 ms.")
  var batch: Int = 100
  @Option var commitIntervalMs: Int = 200
  @Option(help: "Stop appending once this many records are in (forwarding goes on) and wait to be killed.")
  var holdAt: Int?
  @Option var gateway: String = "gw-crash"

  func run() async throws {
    var logger = Logger(label: "weir.debug.uplink")
    logger.logLevel = .warning
    let store = try LogStore.open(directory: dir, options: LogOptions(minFreeBytes: 0), logger: logger)
    let topic =
      try store.topic(topic)
      ?? store.createTopic(topic, config: TopicConfig(partitions: partitions, fsync: .interval(milliseconds: 20, bytes: 1 << 20), maxAgeMs: nil))
    let uplink = try KafkaUplink(
      config: KafkaUplinkConfig(
        uplink: UplinkOptions(
          name: "crash", gateway: gateway, topics: [UplinkTopic(topic.name)], topicTemplate: "edge.{topic}",
          commitIntervalMs: commitIntervalMs, snapshotIntervalMs: 20),
        bootstrapServers: bootstrap),
      store: store, logger: logger)
    let forwarding = Task { try await uplink.run() }
    let start = topic.partitions.reduce(0) { $0 + Int($1.highWatermark) }
    Self.say("epoch \(store.epoch) start \(start)")
    let builder = RecordBatchBuilder()
    let keys = (0..<50).map { d in
      let key = Array("device-\(d)".utf8)
      return (key, key.withUnsafeBytes { Murmur2.partition(for: $0, partitions: topic.partitions.count) })
    }
    var appended = start
    while appended < records {
      let n = min(batch, records - appended)
      // Each key to the partition Kafka's murmur2 gives it, so local and remote partitions match.
      for p in 0..<topic.partitions.count {
        builder.reset()
        for i in appended..<(appended + n) where keys[i % keys.count].1 == p {
          builder.append(
            timestamp: Int64(Date().timeIntervalSince1970 * 1000), key: keys[i % keys.count].0,
            value: Array("{\"seq\":\(i)}".utf8))
        }
        if !builder.isEmpty { try await topic.partitions[p].append(builder) }
      }
      appended += n
      if appended % 1000 < n { Self.say("appended \(appended)") }
      if let holdAt, appended >= holdAt {
        Self.say("holding \(appended)")
        while true { try await Task.sleep(nanoseconds: 1_000_000_000) }
      }
      try await Task.sleep(nanoseconds: 10_000_000)
    }
    // Everything durable, then wait for a snapshot taken after that with nothing left to confirm.
    try store.flush()
    let flushedAt = Int64(Date().timeIntervalSince1970 * 1000)
    while true {
      let snapshot = uplink.snapshot()
      if snapshot.takenAt > flushedAt && snapshot.lagRecords == 0 { break }
      try await Task.sleep(nanoseconds: 20_000_000)
    }
    uplink.stop()
    try await forwarding.value
    try store.close()
    Self.say("done \(appended)")
  }

  static func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
  }
}
