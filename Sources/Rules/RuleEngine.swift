import Payload

/// Evaluates windowed alert rules over telemetry records, one synchronous caller at a time.
///
/// Feed it records in offset order per partition (any number of partitions, interleaved as you like): all state is
/// per rule and per group key, so partitions stay independent. Each call appends what it produced to a
/// `RuleOutput`. Records at or below a partition's last processed offset are skipped, which makes replay after a
/// restore from `checkpoint()` idempotent. Idle timeouts run on processing time read from the injected clock.
///
/// The engine is not thread-safe: give it one owner (the log consumer's thread).
public final class RuleEngine {
  var runtimes: [any RuleRuntimeProtocol] = []
  var topicNames: [String] = []
  var topicIndex: [String: Int] = [:]
  var plans: [TopicPlan?] = []
  /// Per topic, per partition: the last processed offset (-1: none).
  var offsets: [[Int64]] = []
  var engineStats = RuleEngineStatistics()
  /// Increases whenever state that `checkpoint()` saves changes, and never otherwise.
  ///
  /// It moves when a record is taken (its offset is new), a window closes in `tick(into:)` or
  /// `closeAllWindows(into:)`, a reload starts or stops a rule, a checkpoint is restored, a partition is rewound
  /// or a topic is first named. Checkpoint only when it moved since the last checkpoint: an idle engine then
  /// writes nothing to disk.
  public internal(set) var changeCount: UInt64 = 0
  let now: () -> Int64
  var nextIdleCheck = Int64.max
  /// About 36 million years either side of 1970.
  static let timestampLimit: Int64 = 1 << 60
  private var lastTopicName = ""
  private var lastTopic = -1

  /// Creates an engine with no rules whose idle timeouts follow `clock`.
  public convenience init<C: Clock>(clock: C) where C.Duration == Swift.Duration {
    let origin = clock.now
    self.init {
      let elapsed = origin.duration(to: clock.now).components
      return elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000
    }
  }

  /// Creates an engine running the rules in `source`; throws every error if any rule is invalid.
  public convenience init<C: Clock>(source: String, fileName: String, clock: C) throws(RuleLoadError)
  where C.Duration == Swift.Duration {
    self.init(clock: clock)
    let report = reload(source: source, fileName: fileName)
    if !report.refused.isEmpty { throw RuleLoadError(errors: report.refused) }
  }

  /// Creates an engine whose processing time (epoch or any milliseconds) is read from `now`.
  init(now: @escaping () -> Int64) {
    self.now = now
  }

  /// Calls `observer` for every window any rule evaluates (rule, key, start, end, SELECT values, HAVING result).
  func observeWindows(_ observer: @escaping (String, String, Int64, Int64, [Value], Bool) -> Void) {
    for runtime in runtimes { runtime.windowObserver = observer }
  }

  /// The names of the running rules, in file order.
  public var ruleNames: [String] { runtimes.map(\.compiled.name) }

  /// Counters for metrics.
  public var statistics: RuleEngineStatistics {
    var s = engineStats
    s.rules = runtimes.map(\.statistics)
    return s
  }

  /// The last processed offset of a partition, if any record of it was processed.
  public func lastOffset(topic: String, partition: Int32) -> Int64? {
    guard let t = topicIndex[topic], Int(partition) < offsets[t].count, offsets[t][Int(partition)] >= 0 else {
      return nil
    }
    return offsets[t][Int(partition)]
  }

  /// Interns a topic name; reuse the id for every record of that topic.
  public func topic(_ name: String) -> TopicID {
    if let i = topicIndex[name] { return TopicID(index: i) }
    topicNames.append(name)
    topicIndex[name] = topicNames.count - 1
    plans.append(nil)
    offsets.append([])
    rebuildPlans()
    // The checkpoint lists every topic.
    changeCount &+= 1
    return TopicID(index: topicNames.count - 1)
  }

  /// Sets the last processed offset of a partition: records after `offset` are processed, those at or below it
  /// skipped as duplicates.
  ///
  /// When recovery truncates the log below the engine's position and hands the lost offsets out again (with a new
  /// log epoch), rewind the engine to the log's new end, so the records written at those offsets are processed
  /// rather than taken for ones already seen. An offset below 0 means nothing of the partition was processed.
  /// Window and alert state is kept. Partitions outside 0..<`RuleLimits.maximumPartitions` are ignored.
  public func rewind(topic name: String, partition: Int32, lastProcessed offset: Int64) {
    guard partition >= 0, partition < RuleLimits.maximumPartitions else { return }
    let t = topic(name).index
    let p = Int(partition)
    let value = max(offset, -1)
    if p >= offsets[t].count {
      guard value >= 0 else { return }
      offsets[t].append(contentsOf: repeatElement(-1, count: p + 1 - offsets[t].count))
    }
    guard offsets[t][p] != value else { return }
    offsets[t][p] = value
    changeCount &+= 1
  }

  /// Processes one record of `topic`, reading the clock once.
  public func process(_ record: RuleInputRecord, topic: TopicID, into output: inout RuleOutput) {
    let time = now()
    process(record, topic: topic.index, now: time, into: &output)
    closeIdleKeysIfDue(now: time, into: &output)
  }

  /// Processes one record of the topic named `topic`.
  public func process(_ record: RuleInputRecord, topic: String, into output: inout RuleOutput) {
    if topic != lastTopicName || lastTopic < 0 {
      lastTopic = self.topic(topic).index
      lastTopicName = topic
    }
    process(record, topic: TopicID(index: lastTopic), into: &output)
  }

  /// Processes records of one topic, in order, reading the clock once for the batch.
  public func process(_ records: some Sequence<RuleInputRecord>, topic: TopicID, into output: inout RuleOutput) {
    let time = now()
    for record in records { process(record, topic: topic.index, now: time, into: &output) }
    closeIdleKeysIfDue(now: time, into: &output)
  }

  /// Closes every open window of every key now, as at the end of an offline input.
  public func closeAllWindows(into output: inout RuleOutput) {
    for runtime in runtimes where runtime.closeIdleKeys(now: Int64.max, into: &output, force: true).closed {
      changeCount &+= 1
    }
  }

  /// Closes the windows of keys that have been silent for their rule's idle timeout.
  ///
  /// Processing records does this too; call it on a timer so silent keys close when no records arrive at all.
  public func tick(into output: inout RuleOutput) {
    closeIdleKeysIfDue(now: now(), into: &output)
  }

  @inline(__always) private func process(
    _ record: RuleInputRecord, topic: Int, now: Int64, into output: inout RuleOutput
  ) {
    engineStats.recordsReceived += 1
    guard record.partition >= 0, record.partition < RuleLimits.maximumPartitions else {
      engineStats.invalidPartitions += 1
      return
    }
    let partition = Int(record.partition)
    if partition >= offsets[topic].count {
      offsets[topic].append(contentsOf: repeatElement(-1, count: partition + 1 - offsets[topic].count))
    }
    guard record.offset > offsets[topic][partition] else {
      engineStats.duplicatesSkipped += 1
      return
    }
    offsets[topic][partition] = record.offset
    changeCount &+= 1
    guard let plan = plans[topic] else { return }
    // Window arithmetic adds sizes to event times; keep far-out timestamps from overflowing it.
    guard record.timestamp > -RuleEngine.timestampLimit, record.timestamp < RuleEngine.timestampLimit else {
      engineStats.invalidTimestamps += 1
      return
    }
    guard plan.extract(record.value) else {
      engineStats.malformedPayloads += 1
      return
    }
    let context = RecordContext(slots: plan.slots, key: record.key, timestamp: record.timestamp)
    let info = RecordInfo(
      topic: topicNames[topic], partition: record.partition, offset: record.offset, value: record.value)
    for handle in plan.handles { handle.process(context, info, now: now, into: &output) }
    if let idle = plan.idleTimeout { nextIdleCheck = min(nextIdleCheck, now &+ idle) }
  }

  private func closeIdleKeysIfDue(now: Int64, into output: inout RuleOutput) {
    guard now >= nextIdleCheck else { return }
    var next = Int64.max
    for runtime in runtimes {
      let result = runtime.closeIdleKeys(now: now, into: &output, force: false)
      next = min(next, result.next)
      if result.closed { changeCount &+= 1 }
    }
    nextIdleCheck = next
  }

  func rebuildPlans() {
    for t in topicNames.indices {
      let reading = runtimes.filter { $0.compiled.definition.topic == topicNames[t] }
      plans[t] = reading.isEmpty ? nil : TopicPlan(runtimes: reading)
    }
    nextIdleCheck = Int64.min
  }
}
