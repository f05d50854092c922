import Foundation
import Gateway
import Ingest
import Logging
import PartitionedLog
import Payload
public import Uplink
import WeirCore

/// `weir bench uplink`: fills a log, forwards it through a ``KafkaUplink`` to librdkafka's mock
/// cluster started in this process, then sends the same records with a bare ``RdKafkaProducer``
/// (same settings, keys, values and headers) as the ceiling to compare with. Optionally times the
/// catch-up of a large backlog.
public enum UplinkBenchmark {
  public struct Options: Sendable {
    public var directory: String
    public var records: Int
    public var recordBytes: Int
    public var partitions: Int
    public var brokers: Int
    public var compression: KafkaCompression
    public var lingerMs: Int
    public var window: InFlightWindow
    /// Bytes of backlog whose catch-up is timed (nil: skip).
    public var backlogBytes: Int64?
    /// Uplink and bare-producer runs, alternated; the medians are reported (the host is shared).
    public var rounds: Int
    public var keepData: Bool

    public init(
      directory: String, records: Int, recordBytes: Int, partitions: Int = 6, brokers: Int = 3,
      compression: KafkaCompression = .lz4, lingerMs: Int = 5,
      window: InFlightWindow = InFlightWindow(maxRecords: 200_000, maxBytes: 64 << 20),
      backlogBytes: Int64? = nil, rounds: Int = 3, keepData: Bool = false
    ) {
      self.rounds = rounds
      self.directory = directory
      self.records = records
      self.recordBytes = recordBytes
      self.partitions = partitions
      self.brokers = brokers
      self.compression = compression
      self.lingerMs = lingerMs
      self.window = window
      self.backlogBytes = backlogBytes
      self.keepData = keepData
    }
  }

  /// Runs the benchmark; `progress` gets a line now and then; returns the JSON result line.
  public static func run(_ options: Options, progress: @escaping @Sendable (String) -> Void) async throws -> String {
    let dir = options.directory + "/weir-bench-uplink-\(getpid())"
    try? FileManager.default.removeItem(atPath: dir)
    defer { if !options.keepData { try? FileManager.default.removeItem(atPath: dir) } }
    let logger = {
      var logger = Logger(label: "weir.bench.uplink")
      logger.logLevel = .warning
      return logger
    }()
    let store = try LogStore.open(directory: dir, options: LogOptions(minFreeBytes: 0), logger: logger)
    let pool = ValuePool(recordBytes: options.recordBytes)
    let cluster = try RdKafkaMockCluster(brokers: options.brokers)
    for name in ["bench", "bench-bare", "backlog"] {
      try cluster.createTopic(name, partitions: options.partitions)
    }

    progress("filling the log with \(options.records) records of \(options.recordBytes) bytes")
    try await OwnedThread.run(name: "weir-bench", stackSize: 4 << 20) {
      try fill(store, topic: "bench", records: options.records, partitions: options.partitions, pool: pool)
    }

    var uplinkRuns: [Double] = []
    var bareRuns: [Double] = []
    for round in 1...max(1, options.rounds) {
      progress("round \(round): forwarding through the uplink to a \(options.brokers)-broker mock cluster")
      uplinkRuns.append(
        try await forward(
          store, topic: "bench", name: "bench-\(round)", options: options, cluster: cluster, logger: logger))
      progress("round \(round): sending the same records with a bare librdkafka producer")
      let epoch = store.epoch
      bareRuns.append(
        try await OwnedThread.run(name: "weir-bench", stackSize: 4 << 20) {
          try bareProducer(options: options, cluster: cluster, pool: pool, epoch: epoch, logger: logger)
        })
    }
    let uplinkSeconds = median(uplinkRuns)
    let bareSeconds = median(bareRuns)

    var backlog: (records: Int, bytes: Int64, seconds: Double)?
    if let bytes = options.backlogBytes {
      let count = Int(bytes / Int64(max(1, options.recordBytes)))
      progress("filling a backlog of \(bytes) bytes (\(count) records)")
      try await OwnedThread.run(name: "weir-bench", stackSize: 4 << 20) {
        try fill(store, topic: "backlog", records: count, partitions: options.partitions, pool: pool)
      }
      let logBytes = store.topic("backlog")!.partitions.reduce(Int64(0)) { $0 + $1.state.sizeBytes }
      progress("timing the catch-up")
      let seconds = try await forward(
        store, topic: "backlog", name: "backlog", options: options, cluster: cluster, logger: logger)
      backlog = (count, logBytes, seconds)
    }
    try store.close()

    let uplinkRate = Double(options.records) / uplinkSeconds
    let bareRate = Double(options.records) / bareSeconds
    let json = JSONWriter.object()
    json.add("benchmark", "uplink")
    json.add("records", options.records)
    json.add("record_bytes", options.recordBytes)
    json.add("partitions", options.partitions)
    json.add("brokers", options.brokers)
    json.add("compression", options.compression.rawValue)
    json.add("linger_ms", options.lingerMs)
    json.add("window_records", options.window.maxRecords)
    json.add("librdkafka", RdKafkaProducer.version)
    json.add("rounds", uplinkRuns.count)
    json.add("uplink_seconds", uplinkSeconds)
    json.add("producer_only_seconds", bareSeconds)
    json.add(
      "uplink_rounds_records_per_s",
      raw: "[" + uplinkRuns.map { String(Int(Double(options.records) / $0)) }.joined(separator: ",") + "]")
    json.add(
      "producer_only_rounds_records_per_s",
      raw: "[" + bareRuns.map { String(Int(Double(options.records) / $0)) }.joined(separator: ",") + "]")
    if let backlog {
      json.add("backlog_records", backlog.records)
      json.add("backlog_log_bytes", backlog.bytes)
      json.add("catch_up_seconds", backlog.seconds)
      json.add("catch_up_records_per_s", Double(backlog.records) / backlog.seconds)
    }
    json.add("uplink_records_per_s", uplinkRate)
    json.add("producer_only_records_per_s", bareRate)
    json.add("uplink_vs_producer", uplinkRate / bareRate)
    return json.result
  }

  /// Appends `records` keyed records, each to the partition Kafka's murmur2 gives its key.
  static func fill(_ store: LogStore, topic name: String, records: Int, partitions: Int, pool: ValuePool) throws {
    let topic = try store.createTopic(
      name, config: TopicConfig(partitions: partitions, fsync: .never, segmentBytes: 256 << 20, maxAgeMs: nil))
    let builders = (0..<partitions).map { _ in RecordBatchBuilder(capacity: 1 << 20) }
    var timestamp = Int64(Date().timeIntervalSince1970 * 1000)
    for i in 0..<records {
      pool.withRecord(i) { key, value in
        let p = Murmur2.partition(for: key, partitions: partitions)
        builders[p].append(timestamp: timestamp, key: key, value: value)
      }
      timestamp += 1
      if i % 1000 == 999 {
        for (p, b) in builders.enumerated() where b.recordCount >= 1000 {
          try topic.partitions[p].append(b)
          b.reset()
        }
      }
    }
    for (p, b) in builders.enumerated() where !b.isEmpty {
      try topic.partitions[p].append(b)
      b.reset()
    }
    try store.flush()
  }

  /// Seconds for a fresh uplink to get every record of `topic` confirmed.
  static func forward(
    _ store: LogStore, topic: String, name: String, options: Options, cluster: RdKafkaMockCluster, logger: Logger
  ) async throws -> Double {
    let total = store.topic(topic)!.partitions.reduce(Int64(0)) { $0 + $1.highWatermark }
    let config = KafkaUplinkConfig(
      uplink: UplinkOptions(
        name: name, gateway: "bench", topics: [UplinkTopic(topic)], window: options.window, snapshotIntervalMs: 20),
      bootstrapServers: cluster.bootstrapServers, compression: options.compression, lingerMs: options.lingerMs)
    let uplink = try KafkaUplink(config: config, store: store, logger: logger)
    let start = Monotonic.seconds()
    let task = Task { try await uplink.run() }
    while uplink.snapshot().ackedRecords < total {
      try await Task.sleep(nanoseconds: 2_000_000)
      if Monotonic.seconds() - start > 3600 { throw BenchmarkError("the uplink did not finish within an hour") }
    }
    let seconds = Monotonic.seconds() - start
    uplink.stop()
    try await task.value
    if uplink.snapshot().errors > 0 { throw BenchmarkError("the uplink reported \(uplink.snapshot().errors) errors") }
    return seconds
  }

  /// Seconds for a bare producer with the uplink's settings to get the same records, with the
  /// same headers, acknowledged.
  static func bareProducer(options: Options, cluster: RdKafkaMockCluster, pool: ValuePool, epoch: Int32, logger: Logger)
    throws -> Double
  {
    let config = KafkaUplinkConfig(
      uplink: UplinkOptions(name: "bare", gateway: "bench", topics: [UplinkTopic("bench")], window: options.window),
      bootstrapServers: cluster.bootstrapServers, compression: options.compression, lingerMs: options.lingerMs)
    let producer = try RdKafkaProducer(properties: config.producerProperties, logger: logger)
    let topic = try producer.topic("bench-bare")
    let names = ["weir.gateway", "weir.epoch", "weir.topic", "weir.partition", "weir.offset", "weir.replayed"].map {
      Array($0.utf8)
    }
    let partitionNames = (0..<options.partitions).map { Array(String($0).utf8) }
    let fixed = [Array("bench".utf8), Array(String(epoch).utf8), Array("bench".utf8)]
    let trueBytes = Array("true".utf8)
    var delivered = 0
    var failed = 0
    let start = Monotonic.seconds()
    let headers = UnsafeMutableBufferPointer<HeaderRef>.allocate(capacity: 6)
    defer { headers.deallocate() }
    try withPinned(names + fixed + partitionNames + [trueBytes]) { pinned in
      var offsets = [Int](repeating: 0, count: options.partitions)
      var offsetText = [UInt8](repeating: 0, count: 24)
      for i in 0..<options.records {
        var failure: BenchmarkError?
        pool.withRecord(i) { key, value in
          let p = Murmur2.partition(for: key, partitions: options.partitions)
          let digits = format(offsets[p], into: &offsetText)
          offsets[p] += 1
          offsetText.withUnsafeBytes { text in
            headers[0] = HeaderRef(name: pinned[0], value: pinned[6])
            headers[1] = HeaderRef(name: pinned[1], value: pinned[7])
            headers[2] = HeaderRef(name: pinned[2], value: pinned[8])
            headers[3] = HeaderRef(name: pinned[3], value: pinned[9 + p])
            headers[4] = HeaderRef(name: pinned[4], value: UnsafeRawBufferPointer(rebasing: text[0..<digits]))
            headers[5] = HeaderRef(name: pinned[5], value: pinned[9 + options.partitions])
            while true {
              let code = producer.produce(
                topic: topic, key: key, value: value, timestamp: 1_700_000_000_000 + Int64(i),
                headers: UnsafeBufferPointer(headers), token: UInt64(i))
              if !code.isError { break }
              guard code == .queueFull else {
                failure = BenchmarkError("produce: \(RdKafkaProducer.describe(code))")
                break
              }
              producer.poll(
                timeoutMs: 1, onReport: { if $0.error.isError { failed += 1 } else { delivered += 1 } },
                onError: { _, _ in })
            }
          }
        }
        if let failure { throw failure }
        if i % 1000 == 999 {
          producer.poll(
            timeoutMs: 0, onReport: { if $0.error.isError { failed += 1 } else { delivered += 1 } },
            onError: { _, _ in })
        }
      }
    }
    while delivered + failed < options.records {
      producer.poll(
        timeoutMs: 10, onReport: { if $0.error.isError { failed += 1 } else { delivered += 1 } }, onError: { _, _ in })
    }
    let seconds = Monotonic.seconds() - start
    if failed > 0 { throw BenchmarkError("the bare producer had \(failed) failed deliveries") }
    return seconds
  }

  static func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1
      ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
  }

  /// Decimal digits of `value` at the start of `buffer`; returns their count.
  @inline(__always)
  static func format(_ value: Int, into buffer: inout [UInt8]) -> Int {
    var v = value
    var digits = 0
    repeat {
      buffer[23 - digits] = UInt8(48 + v % 10)
      v /= 10
      digits += 1
    } while v > 0
    for j in 0..<digits { buffer[j] = buffer[24 - digits + j] }
    return digits
  }

  /// Copies byte arrays to stable memory for the duration of `body`.
  static func withPinned<R>(_ arrays: [[UInt8]], _ body: ([UnsafeRawBufferPointer]) throws -> R) rethrows -> R {
    let pinned = arrays.map { array -> UnsafeMutableRawBufferPointer in
      let p = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, array.count), alignment: 1)
      array.withUnsafeBytes { if $0.count > 0 { p.copyMemory(from: $0) } }
      return p
    }
    defer { for p in pinned { p.deallocate() } }
    return try body(zip(pinned, arrays).map { UnsafeRawBufferPointer(rebasing: $0.0[0..<$0.1.count]) })
  }
}
