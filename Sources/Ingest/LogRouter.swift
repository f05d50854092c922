import Logging
import Metrics
public import PartitionedLog

/// A log topic as a source sees it: its partitions and the batches being filled for each.
public final class TopicRoute {
  public let topic: Topic
  let partitions: [PendingBatches]
  var dirty: [Int] = []
  var isDirty: [Bool]
  var stickyPartition = 0
  let recordsIn: Counter
  let bytesIn: Counter

  init(topic: Topic, source: String) {
    self.topic = topic
    partitions = topic.partitions.map { _ in PendingBatches() }
    isDirty = Array(repeating: false, count: topic.partitions.count)
    recordsIn = Counter(label: "weir_ingest_records_total", dimensions: [("source", source), ("topic", topic.name)])
    bytesIn = Counter(label: "weir_ingest_bytes_total", dimensions: [("source", source), ("topic", topic.name)])
  }

  public var partitionCount: Int { partitions.count }

  /// The batches not yet committed, partition by partition, in order (tests and fuzz harnesses).
  var pendingBatches: [RecordBatchBuilder] { partitions.flatMap { $0.filled + [$0.current] } }
}

/// One partition's records not yet committed: batches that reached the size limit, in order,
/// then the one being filled. A read pass bigger than one batch becomes several appends.
final class PendingBatches {
  var filled: [RecordBatchBuilder] = []
  var current = RecordBatchBuilder(capacity: 64 * 1024)
  /// Dead letters among these records, by reason (counted once they are in the log).
  var deadLetters: [Int] = Array(repeating: 0, count: DeadLetterReason.allCases.count)
}

/// Routes a source's records to partitions (murmur2 of the key, as Kafka's default partitioner)
/// and gathers them into batches per partition; ``commit()`` appends them, one group commit per
/// batch. One router per source thread; not thread-safe.
///
/// Every batch fits the log's batch limit whatever the source hands in: a batch that would grow
/// past it is closed and a new one started, and a single record too large for any batch becomes
/// an `oversize` dead letter that keeps only a prefix of its value.
public final class LogRouter {
  public let store: LogStore
  public let source: String
  private var routes: [String: TopicRoute] = [:]
  private var dirtyRoutes: [TopicRoute] = []
  private let deadLetters: TopicRoute
  private let deadLetterHeaders = RecordHeaders()
  private var deadLetterCounters: [Counter] = []
  /// Closed batches kept for reuse, so steady state allocates no builder.
  private var spare: [RecordBatchBuilder] = []
  /// A batch never grows past this (the log's batch limit less room for the batch header).
  let batchLimitBytes: Int
  /// The largest record that fits a batch on its own.
  public let maxRecordBytes: Int
  /// Dead letters keep at most this much of a value that is too large (plus its size and CRC-32C).
  public static let deadLetterPrefixBytes = 4096
  /// Records added since the last successful commit.
  public private(set) var pendingRecords = 0
  /// Bytes those records take in their batches; a source ends its read pass on this.
  public private(set) var pendingBytes = 0

  /// `source` names the source in metrics and in the `source` header (`mqtt`, `serial:/dev/ttyUSB0`).
  public init(store: LogStore, source: String, deadLetterTopic: String = "deadletter") throws(LogError) {
    self.store = store
    self.source = source
    var dead = store.topic(deadLetterTopic)
    if dead == nil {
      dead = try store.createTopic(deadLetterTopic, config: TopicConfig(maxAgeMs: 30 * 86_400_000, evictionPriority: 5))
    }
    deadLetters = TopicRoute(topic: dead!, source: source)
    batchLimitBytes = store.options.maxBatchBytes
    maxRecordBytes = batchLimitBytes - RecordBatchView.headerSize - 64
    for reason in DeadLetterReason.allCases {
      deadLetterCounters.append(
        Counter(
          label: "weir_ingest_deadletter_records_total", dimensions: [("source", source), ("reason", reason.rawValue)]))
    }
  }

  /// The route to a topic, created with `config` when the topic does not exist yet.
  public func route(_ name: String, config: TopicConfig = TopicConfig()) throws(LogError) -> TopicRoute {
    if let route = routes[name] { return route }
    var topic = store.topic(name)
    if topic == nil { topic = try store.createTopic(name, config: config) }
    let route = TopicRoute(topic: topic!, source: source)
    routes[name] = route
    return route
  }

  /// Adds a record to the pending batch of its partition: murmur2 of `key`, or for a null key
  /// one partition per commit (Kafka's sticky partitioner). A record too large for a batch goes
  /// to the dead-letter topic instead (`oversize`).
  @inline(__always)
  public func append(
    _ route: TopicRoute, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?, timestamp: Int64,
    headers: RecordHeaders?
  ) {
    let size = Self.recordBytes(key: key, value: value, headers: headers)
    if size > maxRecordBytes {
      deadLetter(
        value, reason: .oversize, detail: "record of \(size) bytes, larger than a log batch (\(maxRecordBytes))",
        timestamp: timestamp, headers: headers)
      return
    }
    let partition: Int
    if let key {
      partition = Murmur2.partition(for: key, partitions: route.partitionCount)
    } else {
      partition = route.stickyPartition
    }
    add(route, partition, size: size) {
      $0.append(timestamp: timestamp, key: key, value: value, headers: headers)
    }
  }

  /// A record's bytes in a batch, at most: its fields, their varint lengths and the attributes.
  @inline(__always)
  static func recordBytes(key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?, headers: RecordHeaders?) -> Int
  {
    (key?.count ?? 0) + (value?.count ?? 0) + (headers?.byteCount ?? 0) + 48
  }

  @inline(__always)
  private func add(_ route: TopicRoute, _ partition: Int, size: Int, _ body: (RecordBatchBuilder) -> Void) {
    let pending = route.partitions[partition]
    if !pending.current.isEmpty && pending.current.byteCount + size > batchLimitBytes {
      pending.filled.append(pending.current)
      pending.current = spare.popLast() ?? RecordBatchBuilder(capacity: 64 * 1024)
    }
    body(pending.current)
    if !route.isDirty[partition] {
      route.isDirty[partition] = true
      if route.dirty.isEmpty { dirtyRoutes.append(route) }
      route.dirty.append(partition)
    }
    pendingRecords += 1
    pendingBytes += size
  }

  /// Sends `raw` to the dead-letter topic with `weir.error: "<reason>: <detail>"`, the source's
  /// headers (`extra`) and `source`. A value over ``deadLetterPrefixBytes`` for `oversize` (or one
  /// too large for a batch for any reason) keeps only its first ``deadLetterPrefixBytes``, with
  /// `weir.payload_bytes` and `weir.payload_crc32c` (hex) naming the whole.
  public func deadLetter(
    _ raw: UnsafeRawBufferPointer?, reason: DeadLetterReason, detail: String, timestamp: Int64,
    headers extra: RecordHeaders? = nil
  ) {
    deadLetterHeaders.removeAll()
    deadLetterHeaders.add("weir.error", detail.isEmpty ? reason.rawValue : "\(reason.rawValue): \(detail)")
    deadLetterHeaders.add("source", source)
    var value = raw
    if let raw, raw.count > Self.deadLetterPrefixBytes,
      reason == .oversize || raw.count > maxRecordBytes / 2
    {
      deadLetterHeaders.add("weir.payload_bytes", String(raw.count))
      deadLetterHeaders.add("weir.payload_crc32c", String(CRC32C.checksum(raw), radix: 16))
      value = UnsafeRawBufferPointer(rebasing: raw[0..<Self.deadLetterPrefixBytes])
    }
    // The source's headers (an MQTT topic, user properties) go along while they fit.
    if let extra, extra.byteCount <= maxRecordBytes / 4 { deadLetterHeaders.append(contentsOf: extra) }
    let size = Self.recordBytes(key: nil, value: value, headers: deadLetterHeaders)
    let partition = deadLetters.stickyPartition
    add(deadLetters, partition, size: size) {
      $0.append(timestamp: timestamp, key: nil, value: value, headers: deadLetterHeaders)
    }
    deadLetters.partitions[partition].deadLetters[reason.index] += 1
  }

  /// Drops every record not yet committed (their source will deliver them again).
  public func discardPending() {
    for route in dirtyRoutes {
      for partition in route.dirty {
        let pending = route.partitions[partition]
        for builder in pending.filled { recycle(builder) }
        pending.filled.removeAll()
        pending.current.reset()
        for i in pending.deadLetters.indices { pending.deadLetters[i] = 0 }
        route.isDirty[partition] = false
      }
      route.dirty.removeAll()
    }
    dirtyRoutes.removeAll()
    pendingRecords = 0
    pendingBytes = 0
  }

  /// fsyncs every partition this router has written to (at shutdown).
  public func flush() throws(LogError) {
    for route in routes.values { for p in route.topic.partitions { try p.flush() } }
    for p in deadLetters.topic.partitions { try p.flush() }
  }

  /// Appends every pending batch to its partition, in order (each append returns once written,
  /// or fsynced under `fsync: always`). When the log refuses (`LogError.Code.full`), what is not
  /// yet appended stays pending and the error is thrown: stop reading from the source and call
  /// again later.
  @discardableResult
  public func commit() throws(LogError) -> Int {
    var committed = 0
    while let route = dirtyRoutes.last {
      while let partition = route.dirty.last {
        let pending = route.partitions[partition]
        let log = route.topic.partitions[partition]
        while let builder = pending.filled.first {
          committed += try append(builder, to: log, route)
          pending.filled.removeFirst()
          recycle(builder)
        }
        committed += try append(pending.current, to: log, route)
        pending.current.reset()
        for (i, n) in pending.deadLetters.enumerated() where n > 0 {
          deadLetterCounters[i].increment(by: Int64(n))
          pending.deadLetters[i] = 0
        }
        route.isDirty[partition] = false
        route.dirty.removeLast()
      }
      route.stickyPartition = (route.stickyPartition + 1) % route.partitionCount
      dirtyRoutes.removeLast()
    }
    pendingBytes = 0
    return committed
  }

  /// Each partition appended to since ``takeCommittedEnds()`` last ran, with the offset after its
  /// last record: what must be durable before the commits' records may be acknowledged.
  private var committedEnds: [(partition: Partition, end: Int64)] = []
  /// Whether commits record ``takeCommittedEnds(into:)``'s ends (the listener's acknowledgements
  /// need them; a source that never takes them must not let them grow).
  public var tracksCommittedEnds = false

  /// The partitions committed to since the last call and the offset after each one's last record
  /// (a partition once, with its highest end), then forgets them.
  public func takeCommittedEnds(into out: inout [(partition: Partition, end: Int64)]) {
    out.removeAll(keepingCapacity: true)
    for e in committedEnds {
      if let i = out.firstIndex(where: { $0.partition === e.partition }) {
        out[i].end = max(out[i].end, e.end)
      } else {
        out.append(e)
      }
    }
    committedEnds.removeAll(keepingCapacity: true)
  }

  private func append(_ builder: RecordBatchBuilder, to partition: Partition, _ route: TopicRoute) throws(LogError)
    -> Int
  {
    guard !builder.isEmpty else { return 0 }
    let result = try partition.append(builder)
    if tracksCommittedEnds { committedEnds.append((partition, result.lastOffset + 1)) }
    let records = Int(builder.recordCount)
    pendingRecords -= records
    route.recordsIn.increment(by: Int64(records))
    route.bytesIn.increment(by: Int64(builder.byteCount))
    return records
  }

  private func recycle(_ builder: RecordBatchBuilder) {
    builder.reset()
    // Kept for the next burst, a few at most: a pass is bounded in bytes, so are they.
    if spare.count < 4 { spare.append(builder) }
  }
}

extension DeadLetterReason {
  /// Position in `allCases`, for per-reason arrays.
  var index: Int { DeadLetterReason.allCases.firstIndex(of: self) ?? 0 }
}
