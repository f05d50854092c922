import Logging
import Metrics
import Synchronization
import WeirCore

/// Offsets assigned to one appended batch.
public struct AppendResult: Sendable, Equatable {
  public var baseOffset: Int64
  public var lastOffset: Int64
}

/// A point in a partition's log: the offset, and where it sits on disk.
struct LogPoint: Equatable {
  var offset: Int64
  var segmentBase: Int64
  var position: Int64
}

/// One partition: its segments, the single writer, group commit, the high watermark, readers'
/// entry points and retention. All mutable state is guarded by `lock`; file writes happen under
/// it (they go to the page cache), fsyncs for `fsync: always` outside it, which is what lets
/// concurrent appends pile up and share one write and one fsync (group commit).
/// `@unchecked Sendable`: `lock` guards all mutable state (segments, offsets, the fence); fsyncs run outside it on the group commit leader.
public final class Partition: @unchecked Sendable {
  public let topic: String
  public let id: Int32
  let directory: String
  let context: LogContext
  let lock = ConditionLock()

  // Guarded by `lock`.
  var config: TopicConfig
  var segments: [Segment]
  /// The next offset to hand out.
  var nextOffset: Int64
  /// Offsets below are written to the log file.
  var written: LogPoint
  /// Offsets below are durable: readers see only these (the high watermark).
  var durable: LogPoint
  var leaderActive = false
  var pending = ByteBuffer(capacity: 256 * 1024)
  var pendingGroup = 0
  var lastWrittenGroup = -1
  var failedGroups: [Int: LogError] = [:]
  /// Set when an fsync failed: no more appends (the kernel may have dropped dirty pages).
  var failure: LogError?
  var closed = false
  var unsyncedBytes = 0
  var lastSyncNs: Int64 = Monotonic.nanoseconds()
  var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
  var nextWaiterID = 0
  var diskBytes: Int64 = 0
  /// fsyncs of the log data done so far (tests check group commit with it).
  var syncCount = 0
  /// The last point known fsynced, saved as the recovery point.
  var synced: RecoveryPoint

  let appendedRecords: Counter
  let appendedBytes: Counter
  let fsyncTimer: Timer
  let rolls: Counter

  init(topic: String, id: Int32, directory: String, config: TopicConfig, segments: [Segment], context: LogContext) {
    self.topic = topic
    self.id = id
    self.directory = directory
    self.config = config
    self.segments = segments
    self.context = context
    let active = segments.last!
    nextOffset = active.nextOffset
    written = LogPoint(offset: active.nextOffset, segmentBase: active.baseOffset, position: active.size)
    durable = written
    synced = RecoveryPoint(
      segmentBase: active.baseOffset, position: active.size, offset: active.nextOffset,
      maxTimestamp: active.maxTimestamp, offsetOfMaxTimestamp: active.offsetOfMaxTimestamp)
    diskBytes = segments.reduce(0) { $0 + $1.diskBytes }
    let dimensions = [("topic", topic)]
    appendedRecords = Counter(label: "weir_log_appended_records_total", dimensions: dimensions)
    appendedBytes = Counter(label: "weir_log_appended_bytes_total", dimensions: dimensions)
    fsyncTimer = Timer(label: "weir_log_fsync_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
    rolls = Counter(label: "weir_log_segments_rolled_total", dimensions: dimensions)
  }

  var active: Segment { segments[segments.count - 1] }
  var name: String { "\(topic)-\(id)" }

  // MARK: Appending

  /// Appends the builder's batch and returns its offsets. Returns once the batch is written
  /// (`interval`, `never`) or fsynced (`always`). Blocks the calling thread for the write and, with
  /// `fsync: always`, for the shared fsync: call it from an I/O thread, or use ``append(_:)-async``.
  /// The builder's bytes get the offset and epoch stamped in; reset it before reuse.
  @discardableResult
  public func append(_ builder: RecordBatchBuilder) throws(LogError) -> AppendResult {
    guard !builder.isEmpty else { throw LogError(.invalidArgument, "empty batch for \(name)") }
    builder.seal()
    let bytes = builder.buffer
    if bytes.count > context.options.maxBatchBytes {
      throw LogError(
        .invalidArgument, "batch of \(bytes.count) bytes is over the \(context.options.maxBatchBytes)-byte limit")
    }
    lock.lock()
    defer { lock.unlock() }
    if let failure { throw failure }
    if closed { throw LogError(.closed, "\(name) is closed") }
    try context.admit(bytes: bytes.count, partition: self)
    let base = nextOffset
    let end = base + Int64(builder.recordCount)
    bytes.setBigEndian(base, at: RecordBatchView.Field.baseOffset)
    bytes.setBigEndian(context.epoch, at: RecordBatchView.Field.partitionLeaderEpoch)
    let result = AppendResult(baseOffset: base, lastOffset: end - 1)

    if leaderActive {
      // Another append is fsyncing: join the next group and wait for it.
      let myGroup = pendingGroup
      pending.append(bytes.bytes)
      nextOffset = end
      while true {
        if let error = failedGroups.removeValue(forKey: myGroup) { throw error }
        if lastWrittenGroup >= myGroup {
          if durable.offset >= end { return result }
          if let failure { throw failure }
        }
        lock.wait()
      }
    }
    leaderActive = true
    defer {
      leaderActive = false
      lock.broadcast()
    }
    nextOffset = end
    do {
      try writeLocked(bytes.bytes)
    } catch {
      nextOffset = written.offset
      throw error
    }
    if case .always = config.fsync {
      syncLoopLocked()
      if durable.offset < end { throw failure ?? LogError(.io, "fsync of \(name) failed") }
    }
    return result
  }

  /// Appends from async code: the blocking write and fsync run off the cooperative pool.
  @discardableResult
  public func append(_ builder: RecordBatchBuilder) async throws -> AppendResult {
    try await context.io.run { () throws(LogError) -> AppendResult in try self.append(builder) }
  }

  /// With the lock held and leadership taken: fsync until everything written is durable,
  /// writing each group of appends that queued meanwhile. Releases the lock while fsyncing.
  private func syncLoopLocked() {
    while failure == nil {
      if durable.offset < written.offset {
        syncActiveOutsideLock()
        continue
      }
      guard pending.count > 0 else { return }
      let group = pendingGroup
      pendingGroup += 1
      do {
        try writeLocked(pending.bytes)
        lastWrittenGroup = group
      } catch {
        failedGroups[group] = error
        nextOffset = written.offset
      }
      pending.removeAll()
      pending.shrink(to: 1 << 20)
      lock.broadcast()
    }
  }

  /// Writes whole stamped batches to the active segment, rolling first when due.
  func writeLocked(_ bytes: UnsafeRawBufferPointer) throws(LogError) {
    let now = context.clock.nowMilliseconds()
    let segment = active
    if segment.size > 0
      && (segment.size + Int64(bytes.count) > config.segmentBytes || now - segment.createdAtMs >= config.segmentMs)
    {
      try rollLocked(now: now)
    }
    let target = active
    let before = target.diskBytes
    do {
      try target.append(bytes)
    } catch {
      if error.code == .full { context.noteDiskFull(error) }
      throw error
    }
    let grown = target.diskBytes - before
    diskBytes += grown
    context.totalBytes.add(grown, ordering: .relaxed)
    context.freeBytesEstimate.subtract(grown, ordering: .relaxed)
    written = LogPoint(offset: target.nextOffset, segmentBase: target.baseOffset, position: target.size)
    var records: Int64 = 0
    var scanner = BatchScanner(bytes)
    while let batch = scanner.next() { records += Int64(batch.recordCount) }
    appendedRecords.increment(by: records)
    appendedBytes.increment(by: Int64(bytes.count))
    switch config.fsync {
    case .never:
      advanceDurable(to: written)
    case .interval(_, let threshold):
      // The first unsynced bytes set the flush deadline: wake the background thread so it sleeps
      // until then, not until its next housekeeping (up to a second later after an idle spell).
      let first = unsyncedBytes == 0
      unsyncedBytes += bytes.count
      if unsyncedBytes >= threshold {
        context.wakeBackground()
      } else if first {
        context.wakeFlusher()
      }
    case .always:
      break
    }
  }

  /// Seals the active segment (fsynced) and starts a new one at the next offset.
  /// The new segment is created before the old one is sealed, so a full disk at either step
  /// leaves the active segment as it was (and appendable); only a failed fsync fences.
  func rollLocked(now: Int64) throws(LogError) {
    let old = active
    let segment: Segment
    do {
      segment = try Segment.create(
        directory: directory, baseOffset: old.nextOffset, indexIntervalBytes: config.indexIntervalBytes, nowMs: now)
    } catch {
      if error.code == .full { context.noteDiskFull(error) }
      throw error
    }
    do {
      try old.seal()
    } catch {
      try? segment.deleteFiles()
      if error.code == .full {
        context.noteDiskFull(error)
      } else {
        fence(error)
      }
      throw error
    }
    segments.append(segment)
    written = LogPoint(offset: segment.baseOffset, segmentBase: segment.baseOffset, position: 0)
    markSynced(snapshotLocked())
    unsyncedBytes = 0
    rolls.increment()
  }

  /// The written end with the active segment's newest timestamp: what a sync makes durable.
  func snapshotLocked() -> RecoveryPoint {
    let segment = active
    return RecoveryPoint(
      segmentBase: segment.baseOffset, position: segment.size, offset: segment.nextOffset,
      maxTimestamp: segment.maxTimestamp, offsetOfMaxTimestamp: segment.offsetOfMaxTimestamp)
  }

  /// Records a completed fsync up to `point` and moves the high watermark there.
  func markSynced(_ point: RecoveryPoint) {
    if point.offset > synced.offset || point.segmentBase > synced.segmentBase { synced = point }
    advanceDurable(to: LogPoint(offset: point.offset, segmentBase: point.segmentBase, position: point.position))
  }

  /// Moves the high watermark and wakes everyone waiting for data or for durability.
  func advanceDurable(to point: LogPoint) {
    guard point.offset > durable.offset else { return }
    durable = point
    lock.broadcast()
    context.noteData()
    if !waiters.isEmpty {
      let woken = waiters
      waiters.removeAll(keepingCapacity: true)
      for (_, continuation) in woken { continuation.resume() }
    }
  }

  /// An fsync failed: the kernel may have dropped the dirty pages, so retrying could report
  /// success for data that is gone. Stop appending; reopening recovers from what is on disk.
  func fence(_ error: LogError) {
    if failure == nil {
      failure = LogError(
        .fenced, "\(name) stopped accepting appends after a failed fsync: \(error)", errno: error.errno)
      context.logger.critical(
        "fsync failed; partition fenced", metadata: ["topic": "\(topic)", "partition": "\(id)", "error": "\(error)"])
    }
    lock.broadcast()
  }

  // MARK: Flushing

  /// fsyncs now whatever is written, whatever the policy, and moves the high watermark.
  public func flush() throws(LogError) {
    lock.lock()
    defer { lock.unlock() }
    try flushLocked()
  }

  func flushLocked() throws(LogError) {
    if let failure { throw failure }
    guard synced.offset < written.offset || unsyncedBytes > 0 else { return }
    let target = snapshotLocked()
    do {
      try active.sync()
    } catch {
      fence(error)
      throw error
    }
    unsyncedBytes = 0
    lastSyncNs = Monotonic.nanoseconds()
    markSynced(target)
  }

  /// The background thread's tick for `fsync: interval`: fsyncs when the interval or the byte
  /// threshold is reached, outside the lock so appends continue meanwhile.
  func flushIfDue(nowNs: Int64) {
    lock.lock()
    guard case .interval(let ms, let threshold) = config.fsync, failure == nil, !closed,
      durable.offset < written.offset,
      nowNs - lastSyncNs >= Int64(ms) * 1_000_000 || unsyncedBytes >= threshold
    else {
      lock.unlock()
      return
    }
    unsyncedBytes = 0
    lastSyncNs = nowNs
    syncActiveOutsideLock()
    lock.unlock()
  }

  /// With the lock held: fsyncs the active segment up to what is written now, releasing the lock
  /// for the fsync so appends go on meanwhile, then moves the high watermark (or fences).
  private func syncActiveOutsideLock() {
    let target = snapshotLocked()
    let segment = active
    lock.unlock()
    let started = Monotonic.nanoseconds()
    let result = Result { () throws(LogError) in try segment.syncData() }
    fsyncTimer.recordNanoseconds(Monotonic.nanoseconds() - started)
    lock.lock()
    switch result {
    case .success:
      syncCount += 1
      markSynced(target)
    case .failure(let error): fence(error)
    }
  }

  /// Nanoseconds until this partition's next interval fsync is due, if one is pending.
  func nanosecondsUntilFlush(nowNs: Int64) -> Int64? {
    lock.withLock {
      guard case .interval(let ms, _) = config.fsync, durable.offset < written.offset else { return nil }
      return max(0, lastSyncNs + Int64(ms) * 1_000_000 - nowNs)
    }
  }

  /// The recovery point to save: the last fsynced point.
  var recoveryPoint: RecoveryPoint { lock.withLock { synced } }

  /// Flushes everything and refuses further appends; readers still read.
  func close() throws(LogError) {
    lock.lock()
    defer { lock.unlock() }
    guard !closed else { return }
    defer {
      closed = true
      for (_, continuation) in waiters { continuation.resume() }
      waiters.removeAll()
      lock.broadcast()
    }
    if failure == nil {
      try flushLocked()
      try active.sync()
    }
  }
}
