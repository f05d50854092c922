import Foundation
import Logging
import Metrics
import PartitionedLog
import Synchronization
import WeirCore

/// The store-and-forward loop every uplink runs, whatever its transport: reads each partition
/// through the uplink's cursor in offset order, hands records to the transport within a bounded
/// in-flight window, a bandwidth cap and topic priorities, advances each partition's confirmed
/// position over the contiguous prefix its delivery reports confirm, rewinds a partition to that
/// position after a failed report, and commits positions to `weir.db`.
///
/// Everything but ``run()``, ``stop()`` and ``snapshot()`` runs on one thread of its own, which
/// also serves the transport's reports (librdkafka's poll loop), so the bookkeeping needs no locks.
/// `@unchecked Sendable`: all mutable state belongs to the engine's own thread; `stop()` and `snapshot()` touch only the atomics `stopRequested`/`started` and `published` (a `Mutex`).
final class ForwardingEngine<Transport: UplinkTransport>: @unchecked Sendable {
  let options: UplinkOptions
  let store: LogStore
  let transport: Transport
  let clock: any WallClock
  let logger: Logger
  let lanes: [Lane]
  /// The uplink's cursor; its members are the lanes, in lane order.
  let consumer: LogConsumer
  /// Lanes by priority, highest first, for strict priority between topics.
  let priorityGroups: [[Lane]]
  var roundRobin: [Int]
  let wakeup: WakePipe
  private let stopRequested = Atomic<Bool>(false)
  private let started = Atomic<Bool>(false)
  let published: Mutex<UplinkSnapshot>

  // Header values shared by every record.
  let gatewayBytes: OwnedBytes
  let headerBuffer: HeaderBuffer
  let offsetText = OwnedBytes(count: 24)

  // Thread-confined state.
  var inFlightRecords = 0
  var inFlightBytes = 0
  var peakInFlightRecords = 0
  var peakInFlightBytes = 0
  var inFlightSinceNs: Int64 = 0
  var bucket: TokenBucket?
  var reachable = true
  var lastReportNs: Int64 = 0
  /// Confirmations served so far (to stamp ``lastReportNs`` once per poll, not per report).
  var confirmedReports = 0
  var lastPurgeNs: Int64 = 0
  var nextRestartNs: Int64 = 0
  var globalFailures = 0
  var transportRestarts: Int64 = 0
  var rewinds: Int64 = 0
  var lastError: String?
  var nextCommitNs: Int64 = 0
  var nextSnapshotNs: Int64 = 0
  var transportBusy = false
  var liveShareBytes: Int64 = 0
  var backlogShareBytes: Int64 = 0
  /// Bytes handed to the transport since start.
  var submittedBytes: Int64 = 0
  var random = SystemRandomNumberGenerator()
  var stopping = false
  /// Called on every confirmed send, in report order (tests watch the order of arrival with it).
  var deliveryObserver: (@Sendable (_ topic: String, _ partition: Int32, _ offset: Int64) -> Void)?

  init(
    options: UplinkOptions, store: LogStore, transport: Transport, clock: any WallClock, logger: Logger,
    metrics: any MetricsFactory
  ) throws(UplinkError) {
    let problems = options.problems()
    if !problems.isEmpty { throw UplinkError(.configuration, problems.summary) }
    self.options = options
    self.store = store
    self.transport = transport
    self.clock = clock
    self.logger = logger
    do {
      self.wakeup = try WakePipe()
    } catch {
      throw UplinkError(.transport, "\(error)")
    }
    self.gatewayBytes = OwnedBytes(Array(options.gateway.utf8))
    self.headerBuffer = HeaderBuffer()
    let liveFirst: Bool
    if case .liveFirst = options.drainOrder { liveFirst = true } else { liveFirst = false }
    var lanes: [Lane] = []
    // The uplink's place in each partition is its cursor: what the remote end confirmed.
    let consumer = LogConsumer(store: store, name: options.cursorName)
    for uplinkTopic in options.topics {
      guard let topic = store.topic(uplinkTopic.name) else {
        throw UplinkError(
          .configuration,
          "uplink \(options.name): local topic \(uplinkTopic.name) does not exist (create it in the log first)")
      }
      let remote = try options.remoteName(of: uplinkTopic)
      let added: Range<Int>
      do {
        // A cursor that exists is counted by retention when it deletes records not yet read.
        added = try consumer.add(
          topic: topic, startAt: options.startAt == .earliest ? .earliest : .latest, now: clock.nowMilliseconds())
      } catch {
        throw UplinkError(.log, "uplink \(options.name): cannot create its cursor: \(error)")
      }
      guard added.count == topic.partitions.count else {
        throw UplinkError(.configuration, "uplink \(options.name): local topic \(topic.name) is listed twice")
      }
      for member in consumer.members[added] {
        let partition = member.partition
        let start = member.position
        let lane = Lane(
          slot: lanes.count, topic: topic.name, partition: partition, priority: uplinkTopic.priority,
          remoteTopic: remote, start: start, committed: start, highWatermark: partition.state.highWatermark,
          liveFirst: liveFirst, readBytes: options.readBytes,
          metrics: LaneMetrics(uplink: options.name, topic: topic.name, partition: partition.id, factory: metrics))
        lane.remoteIndex = try transport.remoteTopic(remote)
        lanes.append(lane)
      }
    }
    if lanes.count >= 1 << 16 {
      throw UplinkError(.configuration, "uplink \(options.name): more than 65535 partitions")
    }
    self.consumer = consumer
    self.lanes = lanes
    let priorities = Set(lanes.map(\.priority)).sorted(by: >)
    priorityGroups = priorities.map { p in lanes.filter { $0.priority == p } }
    roundRobin = Array(repeating: 0, count: priorityGroups.count)
    published = Mutex(.initial(name: options.name, kind: transport.kind, window: options.window))
    if let rate = options.bandwidthBytesPerSecond {
      bucket = TokenBucket(bytesPerSecond: rate, burst: options.burstBytes, nowNs: Monotonic.nanoseconds())
    }
  }

  // MARK: Service

  /// Runs until ``stop()`` or cancellation; returns after committing the confirmed positions.
  func run() async throws {
    guard !started.exchange(true, ordering: .acquiringAndReleasing) else {
      throw UplinkError(.state, "uplink \(options.name) is already running; run it once")
    }
    try await withTaskCancellationHandler {
      try await withThrowingTaskGroup(of: Void.self) { group in
        let partitions = consumer.partitions
        let wakeup = self.wakeup
        group.addTask { await LogConsumer.watch(partitions) { wakeup.signal() } }
        try await OwnedThread.run(name: "weir-uplink-\(options.name)", stackSize: 1 << 20) { self.threadMain() }
        group.cancelAll()
        try await group.waitForAll()
      }
    } onCancel: {
      stop()
    }
  }

  /// Asks the loop to stop: it waits up to the shutdown grace for what is in flight, commits and
  /// returns from ``run()``.
  func stop() {
    stopRequested.store(true, ordering: .releasing)
    wakeup.signal()
  }

  func snapshot() -> UplinkSnapshot { published.withLock { $0 } }

  // MARK: The loop

  private func threadMain() {
    transport.attach(wakeup)
    let start = Monotonic.nanoseconds()
    lastReportNs = start
    nextCommitNs = start + Int64(options.commitIntervalMs) * 1_000_000
    nextSnapshotNs = start
    logger.info(
      "uplink starting",
      metadata: ["uplink": "\(options.name)", "kind": "\(transport.kind)", "partitions": "\(lanes.count)"])
    while !stopRequested.load(ordering: .acquiring) {
      wakeup.clear()
      serveReports(timeoutMs: 0)
      let now = Monotonic.nanoseconds()
      if let reason = transport.brokenReason, now >= nextRestartNs {
        restartTransport(reason, now: now)
      }
      housekeeping(now: now)
      var sent = 0
      if transport.brokenReason == nil { sent = sendRound(now: now) }
      if sent == 0 { wakeup.wait(timeoutMs: Int(idleTimeoutMs(now: Monotonic.nanoseconds()))) }
    }
    shutdown()
  }

  private func shutdown() {
    stopping = true
    let deadline = Monotonic.nanoseconds() + Int64(options.shutdownGraceMs) * 1_000_000
    while inFlightRecords > 0 && Monotonic.nanoseconds() < deadline && transport.brokenReason == nil {
      wakeup.clear()
      serveReports(timeoutMs: 0)
      if inFlightRecords > 0 { wakeup.wait(timeoutMs: 20) }
    }
    commit()
    transport.close()
    publishSnapshot(now: Monotonic.nanoseconds(), final: true)
    logger.info(
      "uplink stopped",
      metadata: ["uplink": "\(options.name)", "unconfirmed_in_flight": "\(inFlightRecords)"])
  }

  private func housekeeping(now: Int64) {
    processDrainingLanes(now: now)
    if reachable {
      let quietSince = max(lastReportNs, inFlightSinceNs)
      if inFlightRecords > 0 && now - quietSince > Int64(options.stallTimeoutMs) * 1_000_000 {
        markUnreachable("no delivery report for \(options.stallTimeoutMs) ms with \(inFlightRecords) records in flight")
      } else if transport.reachable == false {
        markUnreachable("the transport reports the remote end unreachable")
      }
    }
    if now >= nextCommitNs {
      commit()
      nextCommitNs = now + Int64(options.commitIntervalMs) * 1_000_000
    }
    if now >= nextSnapshotNs {
      publishSnapshot(now: now, final: false)
      nextSnapshotNs = now + Int64(options.snapshotIntervalMs) * 1_000_000
    }
  }

  private func idleTimeoutMs(now: Int64) -> Int32 {
    var until = min(nextCommitNs, nextSnapshotNs)
    for lane in lanes where lane.resumeAtNs > now { until = min(until, lane.resumeAtNs) }
    if let bucket, bucket.tokens <= 0 { until = min(until, now + bucket.nanosecondsUntilAvailable) }
    if lanes.contains(where: { !$0.isActive }) { until = min(until, now + 100_000_000) }
    if transport.brokenReason != nil { until = min(until, max(now, nextRestartNs)) }
    let ms = (until - now + 999_999) / 1_000_000
    return Int32(max(0, min(1000, ms)))
  }

  // MARK: Cursors

  /// Commits every confirmed position that moved.
  func commit() {
    do {
      try consumer.commit(lanes.map(\.confirmed), now: clock.nowMilliseconds())
      for lane in lanes { lane.committed = lane.confirmed }
    } catch {
      lastError = "commit of cursor \(options.cursorName) failed: \(error)"
      logger.error("cursor commit failed", metadata: ["uplink": "\(options.name)", "error": "\(error)"])
    }
  }
}
