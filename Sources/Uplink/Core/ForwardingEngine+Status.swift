import Metrics
import PartitionedLog
import Synchronization
import WeirCore

extension ForwardingEngine {
  /// Refreshes lag, the gauges and the counters, and publishes a snapshot for ``snapshot()``.
  func publishSnapshot(now: Int64, final: Bool) {
    let wallMs = clock.nowMilliseconds()
    var partitions: [UplinkPartitionStatus] = []
    partitions.reserveCapacity(lanes.count)
    var totals = (sent: Int64(0), acked: Int64(0), errors: Int64(0), lost: Int64(0), lag: Int64(0))
    var oldestAge = 0.0
    var backingOff = false
    for lane in lanes {
      let state = lane.partition.state
      let lag = max(0, state.highWatermark - lane.confirmed)
      var lagSeconds = 0.0
      var age = 0.0
      if lag > 0, let oldest = timestamp(lane, at: lane.confirmed) {
        age = max(0, Double(wallMs - oldest) / 1000)
        if let newest = newestTimestamp(lane, highWatermark: state.highWatermark) {
          lagSeconds = max(0, Double(newest - oldest) / 1000)
        }
      }
      oldestAge = max(oldestAge, age)
      if lane.resumeAtNs > now || !lane.isActive { backingOff = true }
      lane.metrics.lagRecords.record(lag)
      lane.metrics.lagSeconds.record(lagSeconds)
      lane.metrics.oldestUnconfirmedAge.record(age)
      lane.flushCounters()
      totals.sent += lane.sent
      totals.acked += lane.ackedCount
      totals.errors += lane.errors
      totals.lost += lane.lost
      totals.lag += lag
      partitions.append(
        UplinkPartitionStatus(
          topic: lane.topic, partition: lane.partitionID, remoteTopic: lane.remoteTopic, priority: lane.priority,
          committedOffset: lane.committed, confirmedOffset: lane.confirmed, highWatermark: state.highWatermark,
          logStartOffset: state.logStartOffset, lagRecords: lag, lagSeconds: lagSeconds,
          oldestUnconfirmedAgeSeconds: age, inFlightRecords: lane.inFlightRecords, sentRecords: lane.sent,
          ackedRecords: lane.ackedCount, errors: lane.errors, lostRecords: lane.lost))
    }
    let state: UplinkSnapshot.State =
      final ? .stopped : transport.brokenReason != nil ? .recovering : backingOff ? .backingOff : .running
    let snapshot = UplinkSnapshot(
      name: options.name, kind: transport.kind, state: state, connected: reachable, sentRecords: totals.sent,
      sentBytes: submittedBytes,
      ackedRecords: totals.acked, errors: totals.errors, lostRecords: totals.lost, rewinds: rewinds,
      transportRestarts: transportRestarts, inFlightRecords: inFlightRecords, inFlightBytes: inFlightBytes,
      peakInFlightRecords: peakInFlightRecords, peakInFlightBytes: peakInFlightBytes, window: options.window,
      lagRecords: totals.lag, oldestUnconfirmedAgeSeconds: oldestAge, lastError: lastError, partitions: partitions,
      takenAt: wallMs)
    published.withLock { $0 = snapshot }
  }

  /// The event time of the record at `offset` (the first one still in the log at or after it).
  private func timestamp(_ lane: Lane, at offset: Int64) -> Int64? {
    if let first = lane.ring.first, first.offset == offset { return first.timestamp }
    func first(from offset: Int64) throws(LogError) -> Int64? {
      let result = try lane.probe.read(from: offset, maxBytes: 1)
      var batches = BatchScanner(result.bytes)
      while let batch = batches.next() {
        var records = batch.records
        while let record = records.next() {
          if record.offset >= offset { return record.timestamp }
        }
      }
      return nil
    }
    do {
      return try first(from: offset)
    } catch {
      guard error.code == .offsetOutOfRange else { return nil }
      return try? first(from: lane.partition.logStartOffset)
    }
  }

  /// The newest event time in the batch that ends the durable log (its header has it).
  private func newestTimestamp(_ lane: Lane, highWatermark: Int64) -> Int64? {
    guard highWatermark > 0, let result = try? lane.probe.read(from: highWatermark - 1, maxBytes: 1) else { return nil }
    var batches = BatchScanner(result.bytes)
    var newest: Int64?
    while let batch = batches.next() { newest = max(newest ?? batch.maxTimestamp, batch.maxTimestamp) }
    return newest
  }
}
