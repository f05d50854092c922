import Foundation
public import Logging
import Synchronization
public import WeirCore

/// What recovery did to one partition after an unclean stop.
public struct RecoveryEvent: Sendable, Equatable {
  public var topic: String
  public var partition: Int32
  public var segment: String
  public var truncatedBytes: Int64
  public var reason: String
}

/// The partitioned log of one data directory: `<dir>/log/<topic>-<partition>/` segment files and
/// `<dir>/weir.db`. Open it once per process; it runs one background thread for interval
/// fsyncs, recovery points and retention.
/// `@unchecked Sendable`: the topic table is guarded by `topicsLock` and the recovery points by `savedPoints` (both `Mutex`es), topic creation by `createLock`; `background` is set once while opening; partitions guard themselves.
public final class LogStore: @unchecked Sendable {
  public let directory: String
  public let metadata: MetadataStore
  /// Bumped at every unclean recovery; written into every batch's partitionLeaderEpoch.
  public var epoch: Int32 { context.epoch }
  /// What recovery truncated at open (empty after a clean stop).
  public let recoveryEvents: [RecoveryEvent]
  /// Whether the previous run stopped without closing the store.
  public let recoveredFromUncleanStop: Bool
  let context: LogContext
  let logger: Logger
  private let topicsLock = Mutex<[String: Topic]>([:])
  /// Recovery points as last saved.
  private let savedPoints = Mutex<[String: RecoveryPoint]>([:])
  /// Serialises topic creation, so two sources creating one topic open its partitions once.
  private let createLock = ConditionLock()
  var background: BackgroundWorker?
  let retention = RetentionCounters()

  var logDirectory: String { directory + "/log" }

  /// Opens (creating if needed) the log in `directory`, recovering from an unclean stop.
  public static func open(
    directory: String, options: LogOptions = LogOptions(), clock: any WallClock = SystemWallClock(),
    logger: Logger = Logger(label: "weir.log")
  ) throws(LogError) -> LogStore {
    try Posix.mkdirs(directory + "/log")
    let reserve = DiskReserve(directory: directory, bytes: options.metadataReserveBytes)
    let metadata = try MetadataStore(path: directory + "/weir.db")
    metadata.onDiskFull { reserve.release() }
    let wasClean = try metadata.value("clean_shutdown") != "0"
    let previous = Int32(try metadata.value("log_epoch") ?? "0") ?? 0
    let epoch = wasClean ? previous : previous + 1
    try metadata.setValue("log_epoch", String(epoch))
    try metadata.setValue("clean_shutdown", "0")
    let context = LogContext(options: options, clock: clock, epoch: epoch, logger: logger, reserve: reserve)
    var events: [RecoveryEvent] = []
    var topics: [String: Topic] = [:]
    let points = try metadata.recoveryPoints()
    for (name, config) in try metadata.topics() {
      var partitions: [Partition] = []
      for id in 0..<Int32(config.partitions) {
        let (partition, event) = try openPartition(
          topic: name, id: id, logDirectory: directory + "/log", config: config, context: context,
          point: points[MetadataStore.key(name, id)], clean: wasClean)
        partitions.append(partition)
        if let event { events.append(event) }
      }
      topics[name] = Topic(name: name, config: config, partitions: partitions)
    }
    let store = LogStore(
      directory: directory, metadata: metadata, context: context, topics: topics, events: events,
      unclean: !wasClean, logger: logger)
    try store.clampCursors()
    try store.saveRecoveryPoints()
    context.freeBytesEstimate.store((try? Posix.freeBytes(directory)) ?? Int64.max, ordering: .relaxed)
    if !reserve.restore() {
      context.noteDiskFull(LogError(.full, "no room for the \(reserve.bytes)-byte metadata reserve \(reserve.path)"))
    }
    store.background = BackgroundWorker(store: store)
    if !wasClean {
      logger.warning(
        "recovered from an unclean stop", metadata: ["epoch": "\(epoch)", "truncations": "\(events.count)"])
    }
    return store
  }

  private init(
    directory: String, metadata: MetadataStore, context: LogContext, topics: [String: Topic], events: [RecoveryEvent],
    unclean: Bool, logger: Logger
  ) {
    self.directory = directory
    self.metadata = metadata
    self.context = context
    self.recoveryEvents = events
    self.recoveredFromUncleanStop = unclean
    self.logger = logger
    var total: Int64 = 0
    for topic in topics.values { for p in topic.partitions { total += p.diskBytes } }
    context.totalBytes.store(total, ordering: .relaxed)
    topicsLock.withLock { $0 = topics }
  }

  /// Opens one partition directory: sealed segments as they are, the last one recovered from
  /// its recovery point (a clean stop left that point at the end, so nothing is scanned).
  static func openPartition(
    topic: String, id: Int32, logDirectory: String, config: TopicConfig, context: LogContext, point: RecoveryPoint?,
    clean: Bool
  ) throws(LogError) -> (Partition, RecoveryEvent?) {
    let dir = logDirectory + "/\(topic)-\(id)"
    try Posix.mkdirs(dir)
    let now = context.clock.nowMilliseconds()
    var bases: [Int64] = []
    for file in try Posix.listDirectory(dir) where file.hasSuffix(".log") {
      if let base = Int64(file.dropLast(4)) { bases.append(base) }
    }
    bases.sort()
    if bases.isEmpty {
      let segment = try Segment.create(
        directory: dir, baseOffset: point?.offset ?? 0, indexIntervalBytes: config.indexIntervalBytes, nowMs: now)
      return (
        Partition(topic: topic, id: id, directory: dir, config: config, segments: [segment], context: context), nil
      )
    }
    var segments: [Segment] = []
    for (i, base) in bases.dropLast().enumerated() {
      segments.append(
        try Segment.openSealed(
          directory: dir, baseOffset: base, nextOffset: bases[i + 1], indexIntervalBytes: config.indexIntervalBytes,
          nowMs: now))
    }
    let last = try Segment.openActive(
      directory: dir, baseOffset: bases.last!, indexIntervalBytes: config.indexIntervalBytes, nowMs: now)
    let from: RecoveryPoint
    if let point, point.segmentBase == last.baseOffset {
      from = point
    } else {
      from = RecoveryPoint(segmentBase: last.baseOffset, position: 0, offset: last.baseOffset)
    }
    let (truncated, problem) = try last.recover(from: from)
    try last.sync()
    segments.append(last)
    var event: RecoveryEvent?
    if truncated > 0 {
      event = RecoveryEvent(
        topic: topic, partition: id, segment: last.name, truncatedBytes: truncated, reason: problem ?? "torn tail")
      context.logger.warning(
        "truncated the log tail",
        metadata: [
          "topic": "\(topic)", "partition": "\(id)", "segment": "\(last.name)", "bytes": "\(truncated)",
          "reason": "\(problem ?? "")",
        ])
    }
    return (
      Partition(topic: topic, id: id, directory: dir, config: config, segments: segments, context: context), event
    )
  }

  // MARK: Topics

  /// Creates a topic, or updates an existing one's settings (partitions can only grow).
  @discardableResult
  public func createTopic(_ name: String, config: TopicConfig = TopicConfig()) throws(LogError) -> Topic {
    if let problem = Topic.nameProblem(name) { throw LogError(.invalidArgument, problem) }
    let problems = config.problems()
    if !problems.isEmpty { throw LogError(.invalidArgument, "topic \(name): \(problems.summary)") }
    createLock.lock()
    defer { createLock.unlock() }
    let existing = topic(name)
    if let existing, config.partitions < existing.partitions.count {
      throw LogError(
        .invalidArgument,
        "topic \(name) has \(existing.partitions.count) partitions; partitions can be added, never removed")
    }
    try metadata.saveTopic(name, config, now: context.clock.nowMilliseconds())
    var partitions = existing?.partitions ?? []
    for p in partitions { p.lock.withLock { p.config = config } }
    for id in Int32(partitions.count)..<Int32(config.partitions) {
      let (partition, _) = try Self.openPartition(
        topic: name, id: id, logDirectory: logDirectory, config: config, context: context, point: nil, clean: true)
      partitions.append(partition)
      context.totalBytes.add(partition.diskBytes, ordering: .relaxed)
    }
    let topic = Topic(name: name, config: config, partitions: partitions)
    topicsLock.withLock { $0[name] = topic }
    return topic
  }

  public func topic(_ name: String) -> Topic? { topicsLock.withLock { $0[name] } }

  public var topics: [Topic] { topicsLock.withLock { $0.values.sorted { $0.name < $1.name } } }

  public func partition(_ topic: String, _ id: Int32) -> Partition? { self.topic(topic)?.partition(id) }

  var allPartitions: [Partition] { topics.flatMap(\.partitions) }

  /// The store-wide settings it was opened with.
  public var options: LogOptions { context.options }

  /// Counts high-watermark moves across every partition: read it, read the partitions, and if
  /// they had nothing new, ``waitForData(after:timeoutNs:)`` with it. Consumers that read many
  /// partitions from one thread of their own (the rule service) wait this way instead of polling.
  public var dataGeneration: UInt64 { context.dataGeneration.load(ordering: .acquiring) }

  /// Blocks the calling thread until some partition's high watermark moves after `generation`
  /// was read, or `timeoutNs` pass; returns the generation now. Never call it from Swift's
  /// cooperative pool (async consumers use ``Partition/waitForData(after:)``).
  public func waitForData(after generation: UInt64, timeoutNs: Int64) -> UInt64 {
    context.waitForData(after: generation, timeoutNs: timeoutNs)
  }

  /// Bytes the log uses on disk.
  public var totalBytes: Int64 { context.totalBytes.load(ordering: .relaxed) }

  /// Why the log refuses new records right now (a full disk, the disk budget or the free-space
  /// reserve under `reject_new`), or nil when it takes them.
  public var fullReason: String? { context.fullReason }

  /// Set once a partition stopped accepting appends after a failed fsync: the log itself has
  /// failed, and only a restart (which recovers from what is on disk) brings it back.
  public var failure: LogError? {
    for p in allPartitions {
      if let failure = p.lock.withLock({ p.failure }) { return failure }
    }
    return nil
  }

  // MARK: Durability bookkeeping

  /// Saves every partition's last fsynced point that moved since the last save, so recovery
  /// scans only what follows it (and an idle log writes nothing).
  func saveRecoveryPoints() throws(LogError) {
    let points = allPartitions.map { ($0.topic, $0.id, $0.recoveryPoint) }
    let changed = savedPoints.withLock { saved in
      points.filter { saved[MetadataStore.key($0.0, $0.1)] != $0.2 }
    }
    guard !changed.isEmpty else { return }
    try metadata.saveRecoveryPoints(changed)
    savedPoints.withLock { saved in
      for (topic, id, point) in changed { saved[MetadataStore.key(topic, id)] = point }
    }
  }

  /// A cursor ahead of the recovered log end would skip records: pull it back to the end.
  func clampCursors() throws(LogError) {
    for cursor in try metadata.allCursors() {
      guard let partition = partition(cursor.topic, cursor.partition) else { continue }
      let end = partition.state.logEndOffset
      if cursor.offset > end {
        logger.warning(
          "cursor was ahead of the recovered log end; moved back",
          metadata: [
            "cursor": "\(cursor.name)", "topic": "\(cursor.topic)", "from": "\(cursor.offset)", "to": "\(end)",
          ])
        try metadata.commit(
          cursor: cursor.name, [(cursor.topic, cursor.partition, end)], now: context.clock.nowMilliseconds())
      }
    }
  }

  /// fsyncs every partition now.
  public func flush() throws(LogError) {
    for p in allPartitions { try p.flush() }
    try saveRecoveryPoints()
  }

  /// Flushes and fsyncs everything, saves recovery points, marks the stop clean.
  public func close() throws(LogError) {
    background?.stop()
    background = nil
    var firstError: LogError?
    for p in allPartitions {
      do { try p.close() } catch { firstError = firstError ?? error }
    }
    try saveRecoveryPoints()
    if let firstError { throw firstError }
    try metadata.setValue("clean_shutdown", "1")
  }

  deinit { background?.stop() }
}

extension LogStore {
  /// Stops the background thread and abandons the store without flushing or marking the stop
  /// clean: what `kill -9` leaves behind, for recovery tests in one process.
  func abandonForTesting() {
    background?.stop()
    background = nil
  }
}
