import Foundation
import Gateway
public import PartitionedLog
import Payload
import WeirCore

/// `weir bench log`: appends realistic records to a fresh log, reads them all back, and writes the
/// same number of bytes to a plain file in the same directory as the ceiling to compare with.
public enum LogBenchmark {
  public struct Options: Sendable {
    public var directory: String
    public var records: Int
    public var recordBytes: Int
    public var partitions: Int
    public var fsync: FsyncPolicy
    public var batchRecords: Int
    public var keepData: Bool

    public init(
      directory: String, records: Int, recordBytes: Int, partitions: Int, fsync: FsyncPolicy, batchRecords: Int,
      keepData: Bool = false
    ) {
      self.directory = directory
      self.records = records
      self.recordBytes = recordBytes
      self.partitions = partitions
      self.fsync = fsync
      self.batchRecords = batchRecords
      self.keepData = keepData
    }
  }

  /// Runs the benchmark; `progress` gets a line now and then; returns the JSON result line.
  public static func run(_ options: Options, progress: @escaping @Sendable (String) -> Void) throws -> String {
    let dir = options.directory + "/weir-bench-log-\(getpid())"
    try? FileManager.default.removeItem(atPath: dir)
    defer { if !options.keepData { try? FileManager.default.removeItem(atPath: dir) } }
    let store = try LogStore.open(directory: dir, options: LogOptions(minFreeBytes: 0))
    let topic = try store.createTopic(
      "bench",
      config: TopicConfig(
        partitions: options.partitions, fsync: options.fsync, segmentBytes: 256 << 20, maxAgeMs: nil))
    let pool = ValuePool(recordBytes: options.recordBytes)

    // Append: one thread per partition, each with its share of the records.
    let perPartition = (0..<options.partitions).map { p in
      options.records / options.partitions + (p < options.records % options.partitions ? 1 : 0)
    }
    // Start each timed phase with no other dirty pages being written back.
    sync()
    progress(
      "appending \(options.records) records of \(options.recordBytes) bytes to \(options.partitions) partition(s)")
    let appendStart = Monotonic.seconds()
    try runThreads(options.partitions) { p in
      let partition = topic.partitions[p]
      let builder = RecordBatchBuilder(capacity: options.batchRecords * (options.recordBytes + 64))
      var written = 0
      var timestamp: Int64 = 1_700_000_000_000
      while written < perPartition[p] {
        builder.reset()
        let n = min(options.batchRecords, perPartition[p] - written)
        for i in 0..<n {
          pool.withRecord(written + i) { key, value in
            builder.append(timestamp: timestamp, key: key, value: value)
          }
          timestamp += 1
        }
        try partition.append(builder)
        written += n
        if p == 0 && written % (options.batchRecords * 500) == 0 {
          progress("appended \(written * options.partitions) records")
        }
      }
    }
    try store.flush()
    let appendSeconds = Monotonic.seconds() - appendStart
    let logBytes = topic.partitions.reduce(Int64(0)) { $0 + $1.state.sizeBytes }

    // Read everything back through readers, touching every record.
    progress("reading back")
    let readStart = Monotonic.seconds()
    let counted = ManagedCounter()
    try runThreads(options.partitions) { p in
      let reader = PartitionReader(partition: topic.partitions[p], bufferCapacity: 2 << 20)
      var offset: Int64 = 0
      var records = 0
      var valueBytes = 0
      while true {
        let result = try reader.read(from: offset, maxBytes: 1 << 20)
        if result.isEmpty { break }
        result.forEachRecord { r in
          records += 1
          valueBytes &+= r.value?.count ?? 0
        }
        offset = result.nextOffset
      }
      counted.add(records)
    }
    let readSeconds = Monotonic.seconds() - readStart
    guard counted.value == options.records else {
      throw BenchmarkError("read back \(counted.value) records, expected \(options.records)")
    }
    let segments = topic.partitions.reduce(0) { $0 + $1.state.segments }
    try store.close()

    progress("measuring the disk: \(logBytes) bytes written sequentially and fsynced")
    sync()
    let diskSeconds = try DiskCeiling.sequentialWrite(directory: dir, bytes: logBytes)

    let appendMBps = Double(logBytes) / appendSeconds / 1e6
    let diskMBps = Double(logBytes) / diskSeconds / 1e6
    let json = JSONWriter.object()
    json.add("benchmark", "log")
    json.add("records", options.records)
    json.add("record_bytes", options.recordBytes)
    json.add("partitions", options.partitions)
    json.add("batch_records", options.batchRecords)
    json.add("fsync", options.fsync.name)
    json.add("log_bytes", logBytes)
    json.add("segments", segments)
    json.add("append_seconds", appendSeconds)
    json.add("append_records_per_s", Double(options.records) / appendSeconds)
    json.add("append_mb_per_s", appendMBps)
    json.add("read_seconds", readSeconds)
    json.add("read_records_per_s", Double(options.records) / readSeconds)
    json.add("read_mb_per_s", Double(logBytes) / readSeconds / 1e6)
    json.add("disk_write_mb_per_s", diskMBps)
    json.add("append_vs_disk", appendMBps / diskMBps)
    json.add("crc32c_hardware", CRC32C.hardwareAvailable)
    return json.result
  }
}

/// Keys and JSON-like values, prepared once so the benchmark measures the log, not formatting.
final class ValuePool: Sendable {
  let keys: [[UInt8]]
  let values: [[UInt8]]

  init(recordBytes: Int, devices: Int = 1000, variants: Int = 4096) {
    keys = (0..<devices).map { Array(String(format: "motor-%04d", $0).utf8) }
    var rng = SplitMix64(seed: 1)
    values = (0..<variants).map { i in
      let vibration = Double(rng.next() % 10_000) / 1000
      let temperature = 40 + Double(rng.next() % 6000) / 100
      var text = String(
        format: "{\"device\":\"motor-%04d\",\"kind\":\"motor\",\"vibration\":%.3f,\"temperature\":%.2f,\"seq\":%d",
        i % devices, vibration, temperature, i)
      let pad = recordBytes - text.utf8.count - 11
      text += pad > 0 ? ",\"pad\":\"" + String(repeating: "x", count: pad) + "\"}" : "}"
      return Array(text.utf8.prefix(max(recordBytes, 2)))
    }
  }

  @inline(__always)
  func withRecord<R>(_ i: Int, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> R) -> R {
    keys[i % keys.count].withUnsafeBytes { k in values[i % values.count].withUnsafeBytes { v in body(k, v) } }
  }
}

extension FsyncPolicy {
  var name: String {
    switch self {
    case .always: "always"
    case .interval(let ms, let bytes): "interval(\(ms)ms,\(bytes)B)"
    case .never: "never"
    }
  }
}
