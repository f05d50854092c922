import Metrics
import PartitionedLog

/// One local partition an uplink forwards: its streams, what is in flight, what is confirmed and
/// committed, and its counters. Touched only by the uplink's thread.
final class Lane {
  enum State {
    case active
    /// A send failed: nothing more is sent until every report of this generation is back, then
    /// the lane rewinds to its confirmed position.
    case draining(sinceNs: Int64)
  }

  let slot: Int
  let topic: String
  let partitionID: Int32
  let partition: Partition
  let priority: Int
  let remoteTopic: String
  /// The transport's index for ``remoteTopic``.
  var remoteIndex = 0

  /// Everything below is confirmed by the remote end (the cursor to commit).
  var confirmed: Int64
  var committed: Int64
  var acked = OffsetRangeSet()
  var ring = InFlightRing()
  /// Bumped at every rewind; reports of older generations are ignored.
  var generation: UInt8 = 0
  var inFlightRecords = 0
  var state = State.active
  var resumeAtNs: Int64 = 0
  var failures = 0
  /// Offsets the remote end refuses for good: a gap marker goes in their place.
  var rejected: Set<Int64> = []

  /// `fifo`: the only stream. `liveFirst`: the live stream, from ``backlogEnd`` on.
  let main: LogStream
  /// `liveFirst` only: reads ``backlogRanges`` in order.
  let backlog: LogStream?
  var backlogRanges: [(lower: Int64, upper: Int64)] = []
  /// Offsets below were in the log when the uplink started or the remote end came back: sending
  /// them is a replay (`weir.replayed: true`).
  var backlogEnd: Int64

  /// Reads single records for lag timestamps, apart from the streams' buffers.
  let probe: PartitionReader

  // Header values that change rarely, kept as bytes.
  let topicBytes: OwnedBytes
  let partitionBytes: OwnedBytes
  private var epochBytes = OwnedBytes("")
  private var epochOfBytes: Int32 = -1

  // Totals, and the part already given to the metrics backend.
  var sent: Int64 = 0
  var ackedCount: Int64 = 0
  var errors: Int64 = 0
  var lost: Int64 = 0
  var reported = (sent: Int64(0), acked: Int64(0), errors: Int64(0), lost: Int64(0))
  let metrics: LaneMetrics

  init(
    slot: Int, topic: String, partition: Partition, priority: Int, remoteTopic: String, start: Int64, committed: Int64,
    highWatermark: Int64, liveFirst: Bool, readBytes: Int, metrics: LaneMetrics
  ) {
    self.slot = slot
    self.topic = topic
    self.partitionID = partition.id
    self.partition = partition
    self.priority = priority
    self.remoteTopic = remoteTopic
    self.confirmed = start
    self.committed = committed
    self.backlogEnd = highWatermark
    self.topicBytes = OwnedBytes(topic)
    self.partitionBytes = OwnedBytes(String(partition.id))
    self.probe = PartitionReader(partition: partition, bufferCapacity: 64 << 10)
    self.metrics = metrics
    if liveFirst {
      main = LogStream(partition: partition, position: max(start, highWatermark), readBytes: readBytes)
      let backlog = LogStream(partition: partition, position: start, limit: start, readBytes: readBytes)
      self.backlog = backlog
      if start < highWatermark {
        backlogRanges = [(start, highWatermark)]
        backlog.reset(to: start, limit: highWatermark)
      }
    } else {
      main = LogStream(partition: partition, position: start, readBytes: readBytes)
      backlog = nil
    }
  }

  var isActive: Bool {
    if case .active = state { return true }
    return false
  }

  /// The epoch header's bytes for `epoch`, formatted once per change.
  @inline(__always)
  func epochHeader(_ epoch: Int32) -> UnsafeRawBufferPointer {
    if epoch != epochOfBytes {
      epochBytes = OwnedBytes(String(epoch))
      epochOfBytes = epoch
    }
    return epochBytes.bytes
  }

  /// Puts the backlog stream on its next range once the current one is done.
  func advanceBacklogRange() {
    guard let backlog else { return }
    while let first = backlogRanges.first {
      if backlog.limit == first.upper {
        guard backlog.isFinished else { return }
        backlogRanges.removeFirst()
        continue
      }
      backlog.reset(to: first.lower, limit: first.upper)
    }
  }

  /// Everything in `lower..<upper` goes to the backlog (after an outage, in `liveFirst`).
  func appendBacklog(_ lower: Int64, _ upper: Int64) {
    guard lower < upper, let backlog else { return }
    if let last = backlogRanges.last, last.upper == lower {
      backlogRanges[backlogRanges.count - 1].upper = upper
      if backlog.limit == lower { backlog.extend(limit: upper) }
    } else {
      backlogRanges.append((lower, upper))
    }
    advanceBacklogRange()
  }

  /// Starts over from the confirmed position: everything after it is read and sent again.
  func rewind(highWatermark: Int64) {
    generation &+= 1
    ring.removeAll()
    acked.removeAll()
    inFlightRecords = 0
    state = .active
    backlogEnd = max(backlogEnd, highWatermark)
    if let backlog {
      backlogRanges = []
      backlog.reset(to: confirmed, limit: confirmed)
      main.reset(to: max(confirmed, highWatermark))
      appendBacklog(confirmed, highWatermark)
    } else {
      main.reset(to: confirmed)
    }
  }

  /// Pushes the totals' growth to the metrics backend.
  func flushCounters() {
    if sent > reported.sent { metrics.sent.increment(by: sent - reported.sent) }
    if ackedCount > reported.acked { metrics.acked.increment(by: ackedCount - reported.acked) }
    if errors > reported.errors { metrics.errors.increment(by: errors - reported.errors) }
    if lost > reported.lost { metrics.lost.increment(by: lost - reported.lost) }
    reported = (sent, ackedCount, errors, lost)
  }
}
