import Logging
import PartitionedLog
import WeirCore

extension ForwardingEngine {
  /// Serves the transport's reports.
  func serveReports(timeoutMs: Int32) {
    let confirmedBefore = confirmedReports
    transport.poll(timeoutMs: timeoutMs) { token, outcome in
      self.report(token, outcome)
    }
    if confirmedReports != confirmedBefore { lastReportNs = Monotonic.nanoseconds() }
  }

  /// One delivery report: confirms, or fails the lane. Reports of an older generation (sent
  /// before a rewind) are ignored: those records are read and sent again.
  @inline(__always)
  private func report(_ token: UInt64, _ outcome: DeliveryOutcome) {
    let slot = Int(token >> 48)
    guard slot < lanes.count else { return }
    let lane = lanes[slot]
    guard UInt8(truncatingIfNeeded: token >> 40) == lane.generation,
      let position = lane.ring.position(of: token & InFlightRing.sequenceMask)
    else { return }
    var entry = lane.ring[position]
    guard entry.state == .pending else { return }
    entry.state = .done
    lane.ring[position] = entry
    inFlightRecords -= 1
    inFlightBytes -= Int(entry.bytes)
    lane.inFlightRecords -= 1
    switch outcome {
    case .delivered:
      lane.ackedCount += 1
      lane.confirmed = lane.acked.confirm(entry.offset, entry.next, after: lane.confirmed)
      if lane.isActive { lane.failures = 0 }
      globalFailures = 0
      confirmedReports &+= 1
      if !reachable { markReachable() }
      deliveryObserver?(lane.topic, lane.partitionID, entry.offset)
    case .failed(let reason, let purged):
      if !purged {
        lane.errors += 1
        noteError(reason, lane: lane)
        if reachable { markUnreachable(reason) }
      }
      failLane(lane, now: Monotonic.nanoseconds(), purge: true)
    case .rejected(let reason):
      lane.errors += 1
      noteError(reason, lane: lane)
      if entry.next == entry.offset + 1 { lane.rejected.insert(entry.offset) }
      failLane(lane, now: Monotonic.nanoseconds(), purge: false)
    }
    lane.ring.popDone()
  }

  /// Stops a lane after a failed send: it rewinds once all its reports are back. With `purge`,
  /// the transport drops what is queued behind, so nothing overtakes the failed record.
  func failLane(_ lane: Lane, now: Int64, purge: Bool) {
    if lane.isActive {
      lane.state = .draining(sinceNs: now)
      lane.failures += 1
    }
    if purge && now - lastPurgeNs > 50_000_000 {
      lastPurgeNs = now
      transport.abandonQueued()
    }
  }

  /// Rewinds the lanes whose reports are all back; restarts the transport when they take too long.
  func processDrainingLanes(now: Int64) {
    for lane in lanes {
      guard case .draining(let since) = lane.state else { continue }
      if lane.inFlightRecords == 0 {
        rewind(lane, now: now)
      } else if now - since > Int64(transport.drainTimeoutMs) * 1_000_000 {
        restartTransport(
          "\(lane.inFlightRecords) delivery reports of \(lane.topic)/\(lane.partitionID) did not come back within \(transport.drainTimeoutMs) ms",
          now: now)
        return
      }
    }
  }

  private func rewind(_ lane: Lane, now: Int64) {
    let delay = options.backoff.delayMs(failures: max(1, lane.failures), using: &random)
    lane.rejected = lane.rejected.filter { $0 >= lane.confirmed }
    lane.rewind(highWatermark: lane.partition.highWatermark)
    lane.resumeAtNs = now + Int64(delay) * 1_000_000
    rewinds += 1
    logger.info(
      "partition rewound to its confirmed position after a failed delivery",
      metadata: [
        "uplink": "\(options.name)", "topic": "\(lane.topic)", "partition": "\(lane.partitionID)",
        "offset": "\(lane.confirmed)", "retry_in_ms": "\(delay)",
      ])
  }

  /// Destroys and recreates the transport's client (librdkafka's fatal error, reports that never
  /// come back) and rewinds every partition.
  func restartTransport(_ reason: String, now: Int64) {
    globalFailures += 1
    transportRestarts += 1
    lastError = reason
    reachable = false
    logger.error(
      "uplink transport failed; recreating it and rewinding every partition",
      metadata: ["uplink": "\(options.name)", "reason": "\(reason)"])
    let delay = Int64(options.backoff.delayMs(failures: globalFailures, using: &random)) * 1_000_000
    for lane in lanes {
      lane.rejected = lane.rejected.filter { $0 >= lane.confirmed }
      lane.rewind(highWatermark: lane.partition.highWatermark)
      lane.resumeAtNs = now + delay
    }
    inFlightRecords = 0
    inFlightBytes = 0
    do {
      try transport.restart()
    } catch {
      lastError = "\(reason); recreating the transport failed: \(error)"
      logger.error(
        "cannot recreate the uplink transport", metadata: ["uplink": "\(options.name)", "error": "\(error)"])
    }
    nextRestartNs = now + delay
  }

  func markUnreachable(_ reason: String) {
    guard reachable else { return }
    reachable = false
    logger.warning(
      "remote end unreachable; the log buffers", metadata: ["uplink": "\(options.name)", "reason": "\(reason)"])
  }

  /// The remote end answered again: what the log holds now is a backlog (replayed; with
  /// `liveFirst`, drained beside new records rather than ahead of them).
  func markReachable() {
    reachable = true
    var backlog: Int64 = 0
    for lane in lanes {
      let hw = lane.partition.highWatermark
      lane.backlogEnd = max(lane.backlogEnd, hw)
      backlog += max(0, hw - lane.confirmed)
      if lane.backlog != nil, lane.main.position < hw {
        lane.appendBacklog(lane.main.position, hw)
        lane.main.reset(to: hw)
      }
    }
    logger.info("remote end reachable", metadata: ["uplink": "\(options.name)", "backlog_records": "\(backlog)"])
  }

  func noteError(_ reason: String, lane: Lane?) {
    if lastError != reason {
      logger.warning(
        "delivery failed",
        metadata: [
          "uplink": "\(options.name)", "topic": "\(lane?.topic ?? "-")", "partition": "\(lane?.partitionID ?? -1)",
          "error": "\(reason)",
        ])
    }
    lastError = reason
  }
}
