import Foundation
public import Logging
public import PartitionedLog
public import Rules
import Synchronization

/// Runs the rule engine as a log consumer: reads its topics in offset order per partition,
/// appends alerts to the `alerts` topic (and hands them to `publish`, for local MQTT), routes
/// late records aside, and checkpoints the engine (its state holds the last offset of every
/// partition) to SQLite. After a restart it restores the checkpoint and replays the log after
/// it; alerts already in the `alerts` topic from before the crash are not written again, so no
/// alert is lost and none is duplicated.
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
  private let shared = Mutex<Shared>(Shared())

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

  public func stop() { stopping.store(true, ordering: .relaxed) }

  /// The engine's counters, refreshed about twice a second.
  public var statistics: RuleEngineStatistics { shared.withLock { $0.statistics } }

  /// The running rules.
  public var ruleNames: [String] { shared.withLock { $0.ruleNames } }

  /// Swaps in new rule files on the loop's thread at its next pass (rules whose text did not
  /// change keep their state); `done` gets the report.
  public func reload(files: [(source: String, fileName: String)], done: @escaping @Sendable (RuleReloadReport) -> Void) {
    shared.withLock { $0.reload = (files, done) }
  }

  public func run() async throws {
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
        let thread = Thread { [self] in
          do {
            try loop()
            c.resume()
          } catch {
            c.resume(throwing: error)
          }
        }
        thread.name = "weir-rules"
        thread.start()
      }
    } onCancel: {
      stop()
    }
  }

  private func loop() throws {
    let alerts =
      try store.topic(options.alertsTopic) ?? store.createTopic(options.alertsTopic, config: Self.alertsTopicConfig)
    let alertPartition = alerts.partitions[0]
    // Restore: 8 bytes of the alerts topic's end at checkpoint time, then the engine's state.
    var alreadyWritten: [[UInt8]: Int] = [:]
    if let saved = try store.metadata.loadCheckpoint(options.checkpointName), saved.count >= 8 {
      let alertsEnd = saved.prefix(8).reduce(Int64(0)) { $0 << 8 | Int64($1) }
      try engine.restore(from: Array(saved.dropFirst(8)))
      let reader = PartitionReader(partition: alertPartition)
      var offset = max(alertsEnd, alertPartition.logStartOffset)
      while true {
        let r = try reader.read(from: offset)
        if r.isEmpty { break }
        r.forEachRecord { if let v = $0.value { alreadyWritten[Array(v), default: 0] += 1 } }
        offset = r.nextOffset
      }
    }
    var sources: [(TopicID, String, Partition, PartitionReader, Int64)] = []
    func addSources(_ names: [String]) throws {
      for name in names where !sources.contains(where: { $0.1 == name }) {
        guard let topic = store.topic(name) else { throw BenchmarkError("rules read topic '\(name)', which does not exist") }
        let id = engine.topic(name)
        for p in topic.partitions {
          let start = max((engine.lastOffset(topic: name, partition: p.id) ?? -1) + 1, p.logStartOffset)
          sources.append((id, name, p, PartitionReader(partition: p), start))
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
    let builder = RecordBatchBuilder()
    var output = RuleOutput()
    var lastCheckpoint = Date()
    func emit() throws {
      for alert in output.alerts {
        if let n = alreadyWritten[alert.json] {
          if n == 1 { alreadyWritten.removeValue(forKey: alert.json) } else { alreadyWritten[alert.json] = n - 1 }
          continue
        }
        builder.reset()
        builder.append(timestamp: alert.timestamp, key: alert.recordKey, value: alert.json)
        try alertPartition.append(builder)
        alertCount.add(1, ordering: .relaxed)
        publish?(alert.mqttTopic, alert.json)
      }
      for late in output.lateRecords {
        let side = try store.topic(late.topic) ?? store.createTopic(late.topic)
        builder.reset()
        builder.append(timestamp: late.timestamp, key: late.key, value: late.value)
        try side.partitions[0].append(builder)
      }
      output.removeAll()
    }
    func checkpoint() throws {
      try alertPartition.flush()
      let end = alertPartition.state.logEndOffset
      var bytes = (0..<8).map { UInt8(truncatingIfNeeded: end >> (56 - 8 * $0)) }
      bytes += engine.checkpoint()
      try store.metadata.saveCheckpoint(options.checkpointName, bytes, now: Int64(Date().timeIntervalSince1970 * 1000))
      lastCheckpoint = Date()
    }
    while !stopping.load(ordering: .relaxed) {
      var progressed = false
      for i in sources.indices {
        let (id, _, p, reader, offset) = sources[i]
        let r = try reader.read(from: offset)
        if r.isEmpty { continue }
        progressed = true
        r.forEachRecord { rec in
          engine.process(
            RuleInputRecord(
              partition: p.id, offset: rec.offset, timestamp: rec.timestamp, key: rec.key,
              value: rec.value ?? UnsafeRawBufferPointer(start: nil, count: 0)),
            topic: id, into: &output)
        }
        sources[i].4 = r.nextOffset
        try emit()
      }
      if !progressed {
        engine.tick(into: &output)
        try emit()
        usleep(20_000)
      }
      if Date().timeIntervalSince(lastCheckpoint) * 1000 >= Double(options.checkpointEveryMs) { try checkpoint() }
      if Date().timeIntervalSince(lastShared) >= 0.5 { try share() }
    }
    try checkpoint()
  }
}
