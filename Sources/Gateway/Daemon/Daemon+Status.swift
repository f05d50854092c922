import Foundation
import Ingest
import Metrics
import PartitionedLog
import Payload
import Rules
import RulesService
import Synchronization
import Uplink

/// The last hour of the figures the status page charts, sampled every 5 s.
final class StatusSampler: Sendable {
  static let intervalMs: Int64 = 5000
  static let capacity = 720

  struct State {
    var points: [HistoryPoint] = []
    var baseline: Int64?
    var lastTotal: Int64 = 0
    var lastTime: Date?
    var lastAlertsTotal: Int64?
    var rate = 0.0
  }

  let state = Mutex(State())

  var history: [HistoryPoint] { state.withLock { $0.points } }
}

/// The `alerts` topic folded into the latest state of each (rule, key) and the latest
/// transitions, read incrementally.
final class AlertIndex: Sendable {
  struct State {
    var next: Int64 = 0
    var latest: [String: AlertInfo] = [:]
    var recent: [AlertInfo] = []
    var total: Int64 = 0
  }

  let partition: Partition
  let state = Mutex(State())
  /// Used only under `state`'s lock.
  private let reader: PartitionReader
  static let recentCapacity = 500

  init(partition: Partition) {
    self.partition = partition
    reader = PartitionReader(partition: partition, bufferCapacity: 256 << 10)
  }

  /// Reads what was appended since the last call.
  func refresh() {
    state.withLock { s in
      s.next = max(s.next, partition.logStartOffset)
      reading: while true {
        switch (try? reader.readOrSkip(from: s.next)) ?? .caughtUp {
        case .caughtUp: break reading
        case .skip(_, let to, _): s.next = to  // a damaged alert batch: the others still show
        case .batches(let r):
          r.forEachRecord { record in
            guard let value = record.value,
              let alert = Self.decode(value, offset: record.offset, timestamp: record.timestamp)
            else { return }
            s.latest[alert.rule + "\u{0}" + alert.key] = alert
            s.recent.append(alert)
          }
          s.next = r.nextOffset
        }
      }
      if s.recent.count > Self.recentCapacity { s.recent.removeFirst(s.recent.count - Self.recentCapacity) }
      s.total = partition.highWatermark - partition.logStartOffset
    }
  }

  func snapshot(limit: Int) -> AlertsResponse {
    refresh()
    return state.withLock { s in
      let active = s.latest.values.filter { $0.state == "raised" }.sorted { $0.offset > $1.offset }
      return AlertsResponse(active: active, recent: Array(s.recent.suffix(limit).reversed()), total: s.total)
    }
  }

  var activeCount: Int { state.withLock { s in s.latest.values.count { $0.state == "raised" } } }

  static func decode(_ bytes: UnsafeRawBufferPointer, offset: Int64, timestamp: Int64) -> AlertInfo? {
    guard let alert = AlertRecord(json: bytes) else { return nil }
    return AlertInfo(
      offset: offset, timestampMs: timestamp, rule: alert.rule, severity: alert.severity, key: alert.key,
      state: alert.state.rawValue, windowEndMs: alert.windowEnd, message: alert.message)
  }

}

/// Gauges and counters the daemon keeps up to date from its components' snapshots.
struct DaemonMetrics {
  let rss = Gauge(label: "weir_process_resident_memory_bytes")
  let uptime = Gauge(label: "weir_process_uptime_seconds")
  var topicBytes: [String: Gauge] = [:]
  var topicSegments: [String: Gauge] = [:]
  let diskFree = Gauge(label: "weir_log_disk_free_bytes")
  let ingestRate = Gauge(label: "weir_ingest_records_per_second")
  let rulesRecords = Counter(label: "weir_rules_records_total")
  let rulesMalformed = Counter(label: "weir_rules_malformed_payloads_total")
  var ruleCounters: [String: (windows: Counter, raised: Counter, cleared: Counter, late: Counter, active: Gauge)] = [:]
  var previous = RuleEngineStatistics()
  let activeAlerts = Gauge(label: "weir_alerts_active")

  mutating func topic(_ name: String) -> (Gauge, Gauge) {
    if let b = topicBytes[name], let s = topicSegments[name] { return (b, s) }
    let b = Gauge(label: "weir_log_bytes", dimensions: [("topic", name)])
    let s = Gauge(label: "weir_log_segments", dimensions: [("topic", name)])
    topicBytes[name] = b
    topicSegments[name] = s
    return (b, s)
  }

  mutating func rules(_ statistics: RuleEngineStatistics) {
    rulesRecords.increment(by: max(0, statistics.recordsReceived - previous.recordsReceived))
    rulesMalformed.increment(by: max(0, statistics.malformedPayloads - previous.malformedPayloads))
    for rule in statistics.rules {
      let c =
        ruleCounters[rule.rule]
        ?? (
          Counter(label: "weir_rules_windows_evaluated_total", dimensions: [("rule", rule.rule)]),
          Counter(label: "weir_rules_alerts_raised_total", dimensions: [("rule", rule.rule)]),
          Counter(label: "weir_rules_alerts_cleared_total", dimensions: [("rule", rule.rule)]),
          Counter(label: "weir_rules_late_records_total", dimensions: [("rule", rule.rule)]),
          Gauge(label: "weir_rules_active_alerts", dimensions: [("rule", rule.rule)])
        )
      ruleCounters[rule.rule] = c
      let before = previous.rules.first { $0.rule == rule.rule } ?? RuleStatistics(rule: rule.rule)
      c.windows.increment(by: max(0, rule.windowsClosed - before.windowsClosed))
      c.raised.increment(by: max(0, rule.alertsRaised - before.alertsRaised))
      c.cleared.increment(by: max(0, rule.alertsCleared - before.alertsCleared))
      c.late.increment(by: max(0, rule.lateRecords - before.lateRecords))
      c.active.record(rule.activeAlerts)
    }
    previous = statistics
  }
}

extension Daemon {
  /// Records ingested into the source topics now (sum of log end offsets).
  var sourceRecordsTotal: Int64 {
    sourceTopics.reduce(0) { sum, name in
      sum + (store.topic(name)?.partitions.reduce(0) { $0 + $1.state.logEndOffset } ?? 0)
    }
  }

  /// One sampling pass: history for the charts and the gauges for `/metrics`.
  func sample(into metrics: inout DaemonMetrics) {
    let now = Date()
    let total = sourceRecordsTotal
    alertIndex.refresh()
    let alertsTotal = alertIndex.partition.highWatermark
    let uplinks = uplinkSummaries()
    let active = alertIndex.activeCount
    sampler.state.withLock { s in
      if s.baseline == nil { s.baseline = total }
      if let last = s.lastTime {
        let dt = now.timeIntervalSince(last)
        s.rate = dt > 0 ? Double(total - s.lastTotal) / dt : 0
      }
      let raised = s.lastAlertsTotal.map { Int(alertsTotal - $0) } ?? 0
      s.lastTotal = total
      s.lastTime = now
      s.lastAlertsTotal = alertsTotal
      s.points.append(
        HistoryPoint(
          timeMs: Int64(now.timeIntervalSince1970 * 1000), recordsPerSecond: s.rate,
          lag: uplinks.map { NamedValue(name: $0.name, value: Double($0.lagRecords)) }, alertsRaised: raised,
          activeAlerts: active))
      if s.points.count > StatusSampler.capacity { s.points.removeFirst(s.points.count - StatusSampler.capacity) }
      metrics.ingestRate.record(s.rate)
    }
    metrics.rss.record(Self.residentBytes())
    metrics.uptime.record(now.timeIntervalSince(startedAt))
    metrics.diskFree.record(Self.diskFree(config.dataDirectory))
    metrics.activeAlerts.record(active)
    for topic in store.topics {
      let (bytes, segments) = metrics.topic(topic.name)
      let states = topic.partitions.map(\.state)
      bytes.record(states.reduce(0) { $0 + $1.sizeBytes })
      segments.record(states.reduce(0) { $0 + $1.segments })
    }
    if let ruleService { metrics.rules(ruleService.statistics) }
  }

  static func residentBytes() -> Int64 {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int64(fields[1]) else { return 0 }
    return pages * Int64(sysconf(Int32(_SC_PAGESIZE)))
  }

  static func diskFree(_ path: String) -> Int64 {
    var s = statvfs()
    guard statvfs(path, &s) == 0 else { return 0 }
    return Int64(s.f_bavail) * Int64(s.f_frsize)
  }

  // MARK: API documents

  func uplinkSummaries() -> [UplinkSummary] {
    let snapshots = kafkaUplinks.map { $0.snapshot() } + mqttUplinks.map { $0.snapshot() }
    return snapshots.map { u in
      UplinkSummary(
        name: u.name, kind: u.kind, state: u.state.rawValue, connected: u.connected, sentRecords: u.sentRecords,
        ackedRecords: u.ackedRecords, errors: u.errors, lostRecords: u.lostRecords, inFlightRecords: u.inFlightRecords,
        lagRecords: u.lagRecords, lagSeconds: u.partitions.map(\.lagSeconds).max() ?? 0, lastError: u.lastError,
        partitions: u.partitions.map {
          UplinkPartitionInfo(
            topic: $0.topic, partition: $0.partition, remoteTopic: $0.remoteTopic, committedOffset: $0.committedOffset,
            confirmedOffset: $0.confirmedOffset, highWatermark: $0.highWatermark, lagRecords: $0.lagRecords,
            lagSeconds: $0.lagSeconds)
        })
    }
  }

  func sources() -> [SourceInfo] {
    var out: [SourceInfo] = []
    for s in mqttSources {
      let st = s.status
      out.append(
        SourceInfo(
          name: s.config.name, kind: "mqtt", connected: st.connected, records: st.messages, lastError: st.lastError))
    }
    for l in listeners {
      let st = l.status
      out.append(
        SourceInfo(
          name: l.config.name, kind: "listener", connected: st.listening, records: st.records, lastError: st.lastError,
          clients: st.connections))
    }
    for s in serialSources {
      let st = s.status
      out.append(
        SourceInfo(name: st.path, kind: "serial", connected: st.up, records: st.records, lastError: st.lastError))
    }
    for s in modbusSources {
      let st = s.status
      out.append(
        SourceInfo(
          name: st.port.path, kind: "modbus", connected: st.port.up && st.slaves.allSatisfy(\.up),
          records: st.port.records + st.slaves.reduce(0) { $0 + $1.polls - $1.failedPolls },
          lastError: st.port.lastError ?? st.slaves.compactMap(\.lastError).first))
    }
    return out
  }

  /// Why the daemon is not ready: a source not connected, or the log's disk below its reserve.
  func notReady(_ sources: [SourceInfo]? = nil) -> [String] {
    var reasons: [String] = []
    for s in sources ?? self.sources() where !s.connected {
      reasons.append("\(s.kind) source \(s.name) is not connected" + (s.lastError.map { ": \($0)" } ?? ""))
    }
    if let reason = store.fullReason { reasons.append("the log is full and refuses new records: \(reason)") }
    if let failure = store.failure { reasons.append("the log has failed: \(failure)") }
    let free = Self.diskFree(config.dataDirectory)
    if free < config.log.minFreeBytes {
      reasons.append("the log's disk has \(free) bytes free, below the \(config.log.minFreeBytes) reserve")
    }
    if access(config.dataDirectory + "/log", W_OK) != 0 { reasons.append("the log directory is not writable") }
    return reasons
  }

  func status() -> StatusResponse {
    let sources = sources()
    let reasons = notReady(sources)
    let (baseline, rate) = sampler.state.withLock { ($0.baseline, $0.rate) }
    let stats = ruleService?.statistics
    let dead = store.topic("deadletter")?.partitions.reduce(Int64(0)) { $0 + $1.highWatermark - $1.logStartOffset } ?? 0
    let states = store.topics.flatMap { $0.partitions.map(\.state) }
    return StatusResponse(
      gateway: config.gatewayID, version: WeirVersion.current,
      startedAtMs: Int64(startedAt.timeIntervalSince1970 * 1000),
      uptimeSeconds: Date().timeIntervalSince(startedAt), ready: reasons.isEmpty, notReady: reasons,
      ingest: IngestSummary(
        records: sourceRecordsTotal - (baseline ?? sourceRecordsTotal), recordsPerSecond: rate,
        deadLetters: dead),
      log: LogSummary(
        directory: config.dataDirectory, bytes: states.reduce(0) { $0 + $1.sizeBytes },
        segments: states.reduce(0) { $0 + $1.segments }, topics: store.topics.count,
        diskFreeBytes: Self.diskFree(config.dataDirectory), recoveredFromUncleanStop: store.recoveredFromUncleanStop),
      sources: sources, uplinks: uplinkSummaries(),
      rules: RulesSummary(
        rules: stats?.rules.count ?? 0, recordsProcessed: stats?.recordsReceived ?? 0,
        malformedPayloads: stats?.malformedPayloads ?? 0, alertsWritten: Int64(ruleService?.alertsWritten ?? 0),
        activeAlerts: alertIndex.activeCount))
  }

  func topics() -> TopicsResponse {
    TopicsResponse(
      topics: store.topics.map { topic in
        TopicInfo(name: topic.name, config: topic.config, partitions: topic.partitions.map { PartitionInfo($0.state) })
      })
  }

  func rules() -> RulesResponse {
    let stats = ruleService?.statistics ?? RuleEngineStatistics()
    return RulesResponse(
      files: config.ruleFiles, recordsProcessed: stats.recordsReceived, duplicatesSkipped: stats.duplicatesSkipped,
      malformedPayloads: stats.malformedPayloads, invalidTimestamps: stats.invalidTimestamps,
      rules: stats.rules.map {
        RuleInfo(
          name: $0.rule, recordsMatched: $0.recordsMatched, lateRecords: $0.lateRecords,
          windowsClosed: $0.windowsClosed,
          alertsRaised: $0.alertsRaised, alertsCleared: $0.alertsCleared, keys: $0.keys, activeAlerts: $0.activeAlerts)
      })
  }

  /// Up to `limit` records of `topic`: from `offsets` (per partition) when given, else from each
  /// partition's start (`fromBeginning`) or its last `limit` records. Total over its arguments:
  /// `limit` is clamped to 1...10000, an offset is clamped into the partition's log start...high
  /// watermark (so `Int64.max` reads nothing and a negative one or one that retention deleted
  /// reads from the start), and offsets of partitions the topic does not have are ignored.
  func records(topic name: String, offsets: [Int32: Int64], fromBeginning: Bool, limit: Int) -> RecordsResponse? {
    guard let topic = store.topic(name) else { return nil }
    let limit = min(max(limit, 1), RecordsQuery.maxLimit)
    var records: [RecordInfo] = []
    var next: [PartitionOffset] = []
    let perPartition = max(1, limit / max(1, topic.partitions.count))
    // A reader without a name: `weir tail` holds no cursor, so it never holds back retention.
    let consumer = LogConsumer(store: store, name: nil, bufferCapacity: 256 << 10)
    consumer.add(topic: topic) { p in
      let tail = p.highWatermark.subtractingReportingOverflow(Int64(perPartition))
      return offsets[p.id] ?? (fromBeginning || tail.overflow ? p.logStartOffset : tail.partialValue)
    }
    for (i, member) in consumer.members.enumerated() {
      let p = member.partition
      let hw = p.highWatermark
      var taken = 0
      reading: while taken < perPartition, consumer.members[i].position < hw {
        let offset = consumer.members[i].position
        let read: ConsumerRead
        do throws(LogError) { read = try consumer.read(i, maxBytes: 256 << 10, limit: hw) } catch { break }
        switch read {
        case .caughtUp:
          break reading
        case .skip(_, let to, _):
          // Deleted by retention or damaged since the page started: the page goes on after it.
          consumer.seek(i, to: max(to, offset + 1))
        case .batches(let r):
          var last = offset
          r.forEachRecord { rec in
            guard taken < perPartition, rec.offset >= offset else { return }
            records.append(Self.recordInfo(rec, partition: p.id))
            taken += 1
            last = rec.offset < Int64.max ? rec.offset + 1 : rec.offset
          }
          // Both only move forward, so the loop ends.
          consumer.seek(i, to: taken < perPartition ? max(r.nextOffset, offset + 1) : max(last, offset))
        }
      }
      next.append(PartitionOffset(partition: p.id, offset: min(consumer.members[i].position, hw)))
    }
    records.sort { ($0.timestampMs, $0.partition, $0.offset) < ($1.timestampMs, $1.partition, $1.offset) }
    if offsets.isEmpty && records.count > limit {
      records = fromBeginning ? Array(records.prefix(limit)) : Array(records.suffix(limit))
    }
    return RecordsResponse(topic: name, records: records, next: next)
  }

  /// Waits up to `seconds` for a record at or after `next` in some partition of `topic` (the long
  /// poll of `weir tail --follow`).
  func awaitRecords(topic name: String, after next: [PartitionOffset], seconds: Int) async {
    guard let topic = store.topic(name), seconds > 0 else { return }
    let positions = topic.partitions.map { p in (p, next.first { $0.partition == p.id }?.offset ?? p.highWatermark) }
    await LogConsumer.awaitData(positions, timeoutNs: Int64(seconds) * 1_000_000_000)
  }

  static func recordInfo(_ rec: RecordView, partition: Int32) -> RecordInfo {
    func text(_ b: UnsafeRawBufferPointer?) -> (String?, Bool) {
      guard let b else { return (nil, true) }
      if let s = String(validating: b, as: UTF8.self) { return (s, true) }
      return (Data(b).base64EncodedString(), false)
    }
    let (value, utf8) = text(rec.value)
    var headers: [HeaderInfo] = []
    var it = rec.headers
    while let h = it.next() {
      headers.append(HeaderInfo(key: text(h.key).0 ?? "", value: text(h.value).0 ?? ""))
    }
    return RecordInfo(
      partition: partition, offset: rec.offset, timestampMs: rec.timestamp, key: text(rec.key).0, value: value,
      valueEncoding: utf8 ? "utf8" : "base64", headers: headers)
  }
}

extension PartitionInfo {
  init(_ state: PartitionState) {
    self.init(
      partition: state.partition, logStartOffset: state.logStartOffset, highWatermark: state.highWatermark,
      logEndOffset: state.logEndOffset, segments: state.segments, bytes: state.sizeBytes)
  }
}

extension TopicInfo {
  /// A topic's settings and its partitions summed (records up to the high watermark).
  init(name: String, config: TopicConfig, partitions: [PartitionInfo]) {
    let fsync: String =
      switch config.fsync {
      case .always: "always"
      case .never: "never"
      case .interval(let ms, _): "interval \(ms)ms"
      }
    self.init(
      name: name, fsync: fsync, maxAgeMs: config.maxAgeMs, maxBytes: config.maxBytes,
      evictionPriority: config.evictionPriority,
      records: partitions.reduce(0) { $0 + $1.highWatermark - $1.logStartOffset },
      bytes: partitions.reduce(0) { $0 + $1.bytes }, segments: partitions.reduce(0) { $0 + $1.segments },
      partitions: partitions)
  }
}
