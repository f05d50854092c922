import Logging
import Metrics
public import PartitionedLog

/// A log topic as a source sees it: its partitions and one batch being filled for each.
public final class TopicRoute {
  public let topic: Topic
  let builders: [RecordBatchBuilder]
  var dirty: [Int] = []
  var isDirty: [Bool]
  var stickyPartition = 0
  let recordsIn: Counter
  let bytesIn: Counter

  init(topic: Topic, source: String) {
    self.topic = topic
    builders = topic.partitions.map { _ in RecordBatchBuilder(capacity: 64 * 1024) }
    isDirty = Array(repeating: false, count: topic.partitions.count)
    recordsIn = Counter(label: "weir_ingest_records_total", dimensions: [("source", source), ("topic", topic.name)])
    bytesIn = Counter(label: "weir_ingest_bytes_total", dimensions: [("source", source), ("topic", topic.name)])
  }

  public var partitionCount: Int { builders.count }
}

/// Routes a source's records to partitions (murmur2 of the key, as Kafka's default partitioner)
/// and gathers them into one batch per partition; ``commit()`` appends every batch, one group
/// commit per partition. One router per source thread; not thread-safe.
public final class LogRouter {
  public let store: LogStore
  public let source: String
  private var routes: [String: TopicRoute] = [:]
  private var dirtyRoutes: [TopicRoute] = []
  private let deadLetters: TopicRoute
  private let deadLetterHeaders = RecordHeaders()
  private var deadLetterCounters: [DeadLetterReason: Counter] = [:]
  /// Records added since the last successful commit.
  public private(set) var pendingRecords = 0

  /// `source` names the source in metrics and in the `source` header (`mqtt`, `serial:/dev/ttyUSB0`).
  public init(store: LogStore, source: String, deadLetterTopic: String = "deadletter") throws(LogError) {
    self.store = store
    self.source = source
    var dead = store.topic(deadLetterTopic)
    if dead == nil {
      dead = try store.createTopic(deadLetterTopic, config: TopicConfig(maxAgeMs: 30 * 86_400_000, evictionPriority: 5))
    }
    deadLetters = TopicRoute(topic: dead!, source: source)
    for reason in DeadLetterReason.allCases {
      deadLetterCounters[reason] = Counter(
        label: "weir_ingest_deadletter_records_total", dimensions: [("source", source), ("reason", reason.rawValue)])
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
  /// one partition per commit (Kafka's sticky partitioner).
  @inline(__always)
  public func append(
    _ route: TopicRoute, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?, timestamp: Int64,
    headers: RecordHeaders?
  ) {
    let partition: Int
    if let key {
      partition = Murmur2.partition(for: key, partitions: route.partitionCount)
    } else {
      partition = route.stickyPartition
    }
    let builder = route.builders[partition]
    builder.append(timestamp: timestamp, key: key, value: value, headers: headers)
    if !route.isDirty[partition] {
      route.isDirty[partition] = true
      if route.dirty.isEmpty { dirtyRoutes.append(route) }
      route.dirty.append(partition)
    }
    pendingRecords += 1
  }

  /// Sends `raw` to the dead-letter topic with `weir.error: "<reason>: <detail>"`, the source's
  /// headers (`extra`) and `source`.
  public func deadLetter(
    _ raw: UnsafeRawBufferPointer?, reason: DeadLetterReason, detail: String, timestamp: Int64,
    headers extra: RecordHeaders? = nil
  ) {
    deadLetterHeaders.removeAll()
    deadLetterHeaders.add("weir.error", detail.isEmpty ? reason.rawValue : "\(reason.rawValue): \(detail)")
    deadLetterHeaders.add("source", source)
    if let extra { deadLetterHeaders.append(contentsOf: extra) }
    append(deadLetters, key: nil, value: raw, timestamp: timestamp, headers: deadLetterHeaders)
    deadLetterCounters[reason]?.increment()
  }

  /// Drops every record not yet committed (their source will deliver them again).
  public func discardPending() {
    for route in dirtyRoutes {
      for partition in route.dirty {
        route.builders[partition].reset()
        route.isDirty[partition] = false
      }
      route.dirty.removeAll()
    }
    dirtyRoutes.removeAll()
    pendingRecords = 0
  }

  /// fsyncs every partition this router has written to (at shutdown).
  public func flush() throws(LogError) {
    for route in routes.values { for p in route.topic.partitions { try p.flush() } }
    for p in deadLetters.topic.partitions { try p.flush() }
  }

  /// Appends every pending batch to its partition (each returns once written, or fsynced under
  /// `fsync: always`). When the log refuses (`LogError.Code.full`), the batches not yet appended
  /// stay pending and the error is thrown: stop reading from the source and call again later.
  @discardableResult
  public func commit() throws(LogError) -> Int {
    var committed = 0
    while let route = dirtyRoutes.last {
      while let partition = route.dirty.last {
        let builder = route.builders[partition]
        try route.topic.partitions[partition].append(builder)
        committed += Int(builder.recordCount)
        pendingRecords -= Int(builder.recordCount)
        route.recordsIn.increment(by: Int64(builder.recordCount))
        route.bytesIn.increment(by: Int64(builder.byteCount))
        builder.reset()
        route.isDirty[partition] = false
        route.dirty.removeLast()
      }
      route.stickyPartition = (route.stickyPartition + 1) % route.partitionCount
      dirtyRoutes.removeLast()
    }
    return committed
  }
}
