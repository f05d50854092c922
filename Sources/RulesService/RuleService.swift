import Foundation
public import Logging
public import PartitionedLog
public import Rules
import Synchronization
import WeirCore

/// Runs the rule engine as a log consumer: reads its topics in offset order per partition,
/// appends alerts to the `alerts` topic (and hands them to `publish`, for local MQTT), routes
/// late records aside, and checkpoints the engine together with its cursor (`rules`) to SQLite.
///
/// Its position is a cursor like any other consumer's: clamped to the recovered log end at start,
/// seen by retention's unread accounting. After a restart it restores the checkpoint and replays
/// the log after it; alerts already in the `alerts` topic from before the crash are not written
/// again, so no alert is lost and none is duplicated. A damaged or deleted stretch of log is
/// skipped, counted and logged once; a full disk holds alerts back until they fit. If `run()`
/// throws, calling it again continues from the engine's state in memory.
///
/// `@unchecked Sendable`: the loop state (`restored`, `alreadyWritten`, `output`, the engine) is
/// touched only by the loop's thread, one `run()` at a time; what other threads ask or read is in
/// `shared` (a `Mutex`) or in atomics.
public final class RuleService: @unchecked Sendable {
  public struct Options: Sendable {
    public var topics: [String]
    public var alertsTopic: String
    public var checkpointName: String
    public var checkpointEveryMs: Int

    public init(
      topics: [String], alertsTopic: String = "alerts", checkpointName: String = "rules", checkpointEveryMs: Int = 5000
    ) {
      self.topics = topics
      self.alertsTopic = alertsTopic
      self.checkpointName = checkpointName
      self.checkpointEveryMs = checkpointEveryMs
    }
  }

  /// The alerts topic's settings when nobody declared it: one partition (one order of
  /// transitions), fsync on every append, kept 90 days, evicted last under disk pressure.
  public static var alertsTopicConfig: TopicConfig {
    var config = TopicConfig(fsync: .always, maxAgeMs: 90 * 86_400_000, evictionPriority: 100)
    config.partitions = 1
    return config
  }

  let store: LogStore
  let engine: RuleEngine
  let options: Options
  let publish: (@Sendable (String, [UInt8]) -> Void)?
  let logger: Logger
  private let stopping = Atomic<Bool>(false)
  private let alertCount = Atomic<Int>(0)
  private let skipped = Atomic<Int64>(0)
  private let shared = Mutex<Shared>(Shared())
  /// Loop state that outlives one `run()` (a restart continues from it). Only the loop's thread
  /// touches it, and one `run()` at a time.
  private var restored = false
  private var alreadyWritten: [[UInt8]: Int] = [:]
  private var output = RuleOutput()

  /// What other threads may ask of the loop or read from it.
  private struct Shared {
    var reload: (files: [(source: String, fileName: String)], done: @Sendable (RuleReloadReport) -> Void)?
    var statistics = RuleEngineStatistics()
    var ruleNames: [String] = []
  }

  /// `engine` is owned by the service from now on.
  public init(
    store: LogStore, engine: RuleEngine, options: Options, publish: (@Sendable (String, [UInt8]) -> Void)? = nil,
    logger: Logger = Logger(label: "weir.rules")
  ) {
    self.store = store
    self.engine = engine
    self.options = options
    self.publish = publish
    self.logger = logger
    let statistics = engine.statistics
    let names = engine.ruleNames
    shared.withLock {
      $0.statistics = statistics
      $0.ruleNames = names
    }
  }

  /// Alerts written since start.
  public var alertsWritten: Int { alertCount.load(ordering: .relaxed) }

  /// Offsets stepped over since start (deleted by retention or damaged) without being read.
  public var skippedRecords: Int64 { skipped.load(ordering: .relaxed) }

  public func stop() { stopping.store(true, ordering: .relaxed) }

  /// The engine's counters, refreshed about twice a second.
  public var statistics: RuleEngineStatistics { shared.withLock { $0.statistics } }

  /// The running rules.
  public var ruleNames: [String] { shared.withLock { $0.ruleNames } }

  /// Swaps in new rule files on the loop's thread at its next pass (rules whose text did not
  /// change keep their state); `done` gets the report.
  public func reload(files: [(source: String, fileName: String)], done: @escaping @Sendable (RuleReloadReport) -> Void)
  {
    shared.withLock { $0.reload = (files, done) }
  }

  /// How often an idle rule service ticks the engine (wall-clock timeouts, absence rules).
  static let idleTickNs: Int64 = 50_000_000

  /// Runs the loop on its own thread until cancelled or ``stop()``, then checkpoints and returns.
  /// ``run()`` (the lifecycle `Service`) adds graceful shutdown.
  public func runUntilStopped() async throws { try await thread.runUntilStopped() }

  /// The loop's thread: the service is this thread (see ``run()``).
  var thread: OwnedThread { OwnedThread(name: "weir-rules", stop: { [self] in stop() }) { [self] in try loop() } }

  private func loop() throws {
    let alerts =
      try store.topic(options.alertsTopic) ?? store.createTopic(options.alertsTopic, config: Self.alertsTopicConfig)
    let alertPartition = alerts.partitions[0]
    if !restored {
      try restore(alertPartition)
      restored = true
    }
    // The rules' place in each partition is the `rules` cursor, moved with every checkpoint.
    let consumer = LogConsumer(store: store, name: options.checkpointName)
    var ids: [TopicID] = []  // the engine's id of each member's topic
    func addSources(_ names: [String]) throws {
      for name in names where !consumer.members.contains(where: { $0.topic == name }) {
        guard let topic = store.topic(name) else {
          throw RuleServiceError("rules read topic '\(name)', which does not exist")
        }
        let id = engine.topic(name)
        for i in try consumer.add(topic: topic, startAt: .earliest, now: SystemWallClock.milliseconds()) {
          ids.append(id)
          consumer.seek(i, to: startPosition(consumer.members[i]))
        }
      }
    }
    try addSources(options.topics)
    var lastShared = Date.distantPast
    func share() throws {
      let pending = shared.withLock { s in
        defer { s.reload = nil }
        return s.reload
      }
      if let pending {
        let report = engine.reload(files: pending.files)
        logger.info(
          "rules reloaded",
          metadata: [
            "started": "\(report.started)", "kept": "\(report.kept)", "removed": "\(report.removed)",
            "refused": "\(report.refused.map(\.description))",
          ])
        let topics = Set(pending.files.flatMap { RuleFile.parse($0.source, fileName: $0.fileName).rules.map(\.topic) })
        try addSources(topics.sorted().filter { store.topic($0) != nil })
        pending.done(report)
      }
      let statistics = engine.statistics
      let names = engine.ruleNames
      shared.withLock {
        $0.statistics = statistics
        $0.ruleNames = names
      }
      lastShared = Date()
    }
    let emitter = AlertEmitter(store: store, alerts: alertPartition, publish: publish, logger: logger)
    var checkpointer = Checkpointer(everyMs: options.checkpointEveryMs)
    while !stopping.load(ordering: .relaxed) {
      // Alerts the log refused (a full disk) go first; nothing more is read until they are in.
      if !(try emitter.emit(&output, alreadyWritten: &alreadyWritten, count: alertCount)) {
        usleep(200_000)
        if Date().timeIntervalSince(lastShared) >= 0.5 { try share() }
        continue
      }
      var progressed = false
      let generation = consumer.generation
      for i in consumer.members.indices {
        if try step(consumer, i, ids[i]) { progressed = true }
        if !output.isEmpty, try !emitter.emit(&output, alreadyWritten: &alreadyWritten, count: alertCount) { break }
      }
      if !progressed {
        engine.tick(into: &output)
        _ = try emitter.emit(&output, alreadyWritten: &alreadyWritten, count: alertCount)
        // Sleeps until some partition gets records (wakes at once) or the next tick is due.
        _ = consumer.waitForData(after: generation, timeoutNs: Self.idleTickNs)
      }
      // Never checkpoint past alerts not yet in the log: a restart would not make them again.
      if output.isEmpty { checkpointer.saveIfDue(self, alertPartition, consumer) }
      if Date().timeIntervalSince(lastShared) >= 0.5 { try share() }
    }
    if try emitter.emit(&output, alreadyWritten: &alreadyWritten, count: alertCount) {
      checkpointer.save(self, alertPartition, consumer, force: true)
    } else {
      logger.warning(
        "stopping with alerts the log did not take; the checkpoint stays before them, so the next start makes them again",
        metadata: ["alerts": "\(output.alerts.count)"])
    }
  }

  /// Reads and processes one stretch of a partition; false when there was nothing new.
  private func step(_ consumer: LogConsumer, _ index: Int, _ id: TopicID) throws -> Bool {
    let member = consumer.members[index]
    let partitionID = member.partition.id
    let topic = member.topic
    switch try consumer.read(index) {
    case .caughtUp:
      return false
    case .skip(let from, let to, let reason):
      skip(topic: topic, partitionID, from: from, to: to, reason: reason)
      consumer.seek(index, to: to)
      return true
    case .batches(let result):
      var expected = member.position
      result.forEachRecord { rec in
        if rec.offset > expected {
          // A batch vanished between two good ones.
          skip(topic: topic, partitionID, from: expected, to: rec.offset, reason: .corrupt)
        }
        expected = rec.offset + 1
        engine.process(
          RuleInputRecord(
            partition: partitionID, offset: rec.offset, timestamp: rec.timestamp, key: rec.key,
            value: rec.value ?? UnsafeRawBufferPointer(start: nil, count: 0)),
          topic: id, into: &output)
      }
      consumer.seek(index, to: max(result.nextOffset, expected))
      return true
    }
  }

  private func skip(topic: String, _ partition: Int32, from: Int64, to: Int64, reason: SkipReason) {
    guard to > from else { return }
    skipped.add(to - from, ordering: .relaxed)
    ConsumerSkips.count(consumer: options.checkpointName, topic: topic, records: to - from, reason: reason)
    logger.warning(
      "rules skipped records they cannot read",
      metadata: [
        "topic": "\(topic)", "partition": "\(partition)", "from": "\(from)", "to": "\(to - 1)",
        "reason": "\(reason.rawValue)",
      ])
  }

  /// Where the rules start in a partition: their cursor (clamped to the log at open), else just
  /// after the engine's last processed offset; never below the log start. When recovery cut the
  /// log below the engine's position, the engine is rewound so the reused offsets are processed.
  private func startPosition(_ member: LogConsumer.Member) -> Int64 {
    let topic = member.topic
    let partition = member.partition
    let state = partition.state
    let engineNext = engine.lastOffset(topic: topic, partition: partition.id).map { $0 + 1 }
    let cursor = member.isNew ? nil : member.position
    var start: Int64
    switch (cursor, engineNext) {
    case (let c?, let e?): start = min(c, e)
    case (let c?, nil): start = c  // the checkpoint could not be read: carry on from the cursor
    case (nil, let e?): start = e  // a checkpoint from before the rules had a cursor
    case (nil, nil): start = state.logStartOffset
    }
    start = min(start, state.logEndOffset)
    // Offsets from `start` on may have been handed out again after a truncation: process them.
    if let e = engineNext, start < e {
      logger.warning(
        "the log ends before the rules' position (recovery truncated it); the rules go on from the log end",
        metadata: [
          "topic": "\(topic)", "partition": "\(partition.id)", "position": "\(e)", "log_end": "\(state.logEndOffset)",
        ])
      engine.rewind(topic: topic, partition: partition.id, lastProcessed: start - 1)
    }
    if start < state.logStartOffset {
      skip(topic: topic, partition.id, from: start, to: state.logStartOffset, reason: .retention)
      start = state.logStartOffset
    }
    return start
  }

  /// First start: the checkpoint (8 bytes of the alerts topic's end at checkpoint time, then the
  /// engine's state) and the alerts written after it, which replay must not write again. A
  /// checkpoint that cannot be read is reported and the rules start learning from the cursor.
  private func restore(_ alertPartition: Partition) throws {
    guard let saved = try store.metadata.loadCheckpoint(options.checkpointName), saved.count >= 8 else { return }
    let alertsEnd = saved.prefix(8).reduce(Int64(0)) { $0 << 8 | Int64($1) }
    do {
      try engine.restore(from: Array(saved.dropFirst(8)))
    } catch {
      logger.error(
        "the rules checkpoint cannot be read; rules start with empty windows", metadata: ["error": "\(error)"])
      return
    }
    let reader = PartitionReader(partition: alertPartition)
    var offset = min(max(alertsEnd, alertPartition.logStartOffset), alertPartition.state.logEndOffset)
    while true {
      switch try reader.readOrSkip(from: offset) {
      case .caughtUp: return
      case .skip(_, let to, _): offset = to
      case .batches(let r):
        r.forEachRecord { if let v = $0.value { alreadyWritten[Array(v), default: 0] += 1 } }
        offset = r.nextOffset
      }
    }
  }

  /// Saves the engine and the cursor when something changed and the interval passed.
  struct Checkpointer {
    let everyMs: Int
    var last = Date()
    var savedChange: UInt64?
    var savedAlertsEnd: Int64 = -1
    var failing = false

    init(everyMs: Int) { self.everyMs = everyMs }

    mutating func saveIfDue(_ service: RuleService, _ alerts: Partition, _ consumer: LogConsumer) {
      guard Date().timeIntervalSince(last) * 1000 >= Double(everyMs) else { return }
      save(service, alerts, consumer, force: false)
    }

    /// An idle engine (nothing processed, no window closed) writes nothing. A failed save (a full
    /// disk) is retried at the next interval; the log still holds everything after the last one.
    mutating func save(_ service: RuleService, _ alerts: Partition, _ consumer: LogConsumer, force: Bool) {
      last = Date()
      let change = service.engine.changeCount
      let alertsEnd = alerts.state.logEndOffset
      guard change != savedChange || alertsEnd != savedAlertsEnd || (force && savedChange == nil) else { return }
      do {
        try alerts.flush()
        var bytes = (0..<8).map { UInt8(truncatingIfNeeded: alertsEnd >> (56 - 8 * $0)) }
        bytes += service.engine.checkpoint()
        try consumer.commit(
          checkpoint: service.options.checkpointName, bytes, now: Int64(Date().timeIntervalSince1970 * 1000))
        savedChange = change
        savedAlertsEnd = alertsEnd
        if failing { service.logger.notice("rules checkpoint saved again") }
        failing = false
      } catch {
        if !failing {
          service.logger.error("could not save the rules checkpoint; retrying", metadata: ["error": "\(error)"])
        }
        failing = true
      }
    }
  }
}

/// The rule service cannot run as configured (a topic its rules read is missing).
public struct RuleServiceError: Error, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}
