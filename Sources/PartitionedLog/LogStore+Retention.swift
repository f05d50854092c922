import Logging
import Metrics
import Synchronization
import WeirCore

/// Totals of what retention deleted, for status and tests (metrics carry the same).
public struct RetentionTotals: Sendable, Equatable {
  public var segmentsDeleted = 0
  public var recordsDeleted: Int64 = 0
  /// Records deleted before a cursor had read them, by cursor name.
  public var unreadByCursor: [String: Int64] = [:]
}

final class RetentionCounters: Sendable {
  let totals = Mutex(RetentionTotals())
  /// Whether "nothing more can be deleted" was logged in this episode of pressure.
  let stuckLogged = Atomic<Bool>(false)
  /// One retention pass at a time: the background worker's and an explicit ``LogStore/runRetention()``
  /// would otherwise interleave, and a caller could see a segment gone before it is counted.
  let pass = Mutex(())
}

/// Why a segment was deleted.
enum RetentionReason: String {
  case age, size
  case diskBudget = "disk_budget"
  case freeSpace = "free_space"
}

extension Partition {
  /// Deletes the oldest sealed segment when `shouldDelete` says so; returns its offset range and size.
  func deleteOldestSegment(_ shouldDelete: (Segment) -> Bool) -> (base: Int64, next: Int64, bytes: Int64)? {
    lock.withLock {
      guard segments.count > 1, shouldDelete(segments[0]) else { return nil }
      let segment = segments.removeFirst()
      do {
        try segment.deleteFiles()
      } catch {
        context.logger.error(
          "could not delete a segment", metadata: ["segment": "\(name)/\(segment.name)", "error": "\(error)"])
      }
      diskBytes -= segment.diskBytes
      context.totalBytes.subtract(segment.diskBytes, ordering: .relaxed)
      return (segment.baseOffset, segment.nextOffset, segment.diskBytes)
    }
  }

  /// Rolls a non-empty active segment whose newest record is older than `cutoff`, so age
  /// retention can delete it (Kafka does the same).
  func rollIfExpired(cutoff: Int64) {
    lock.withLock {
      let segment = active
      guard failure == nil, !closed, segment.size > 0, segment.maxTimestamp < cutoff, !leaderActive else { return }
      do { try rollLocked(now: context.clock.nowMilliseconds()) } catch {
        context.logger.error(
          "could not roll an expired segment", metadata: ["partition": "\(name)", "error": "\(error)"])
      }
    }
  }

  /// The oldest sealed segment's newest timestamp, if there is a sealed segment.
  var oldestSealedTimestamp: Int64? {
    lock.withLock { segments.count > 1 ? segments[0].maxTimestamp : nil }
  }
}

extension LogStore {
  /// Totals of what retention deleted since open.
  public var retentionTotals: RetentionTotals { retention.totals.withLock { $0 } }

  /// Applies every retention rule now: age, topic size, then the disk budget and the free-space
  /// reserve (lowest eviction priority first, oldest first). Runs on the background thread every
  /// `retentionCheckMs` and whenever an append crosses a limit.
  public func runRetention() {
    retention.pass.withLock { _ in retentionPass() }
  }

  private func retentionPass() {
    let now = context.clock.nowMilliseconds()
    let topics = self.topics
    for topic in topics {
      let config = topic.config
      for p in topic.partitions {
        if let maxAge = config.maxAgeMs {
          let cutoff = now - maxAge
          p.rollIfExpired(cutoff: cutoff)
          while let deleted = p.deleteOldestSegment({ $0.maxTimestamp < cutoff }) {
            account(p, deleted, .age)
          }
        }
        if let maxBytes = config.maxBytes, config.onFull == .dropOldest {
          let share = maxBytes / Int64(config.partitions)
          while let deleted = p.deleteOldestSegment({ _ in p.diskBytes > share }) {
            account(p, deleted, .size)
          }
        }
      }
    }
    var free = (try? Posix.freeBytes(directory)) ?? Int64.max
    context.freeBytesEstimate.store(free, ordering: .relaxed)
    let reserve = context.reserve
    // On a full disk, make room for the reserve and some headroom before taking records again.
    let full = context.isDiskFull
    let floor =
      full ? context.recoveredFreeBytes + (reserve.isPresent ? 0 : reserve.bytes) : context.options.minFreeBytes
    var freed: Int64 = 0
    while true {
      let reason: RetentionReason
      if let budget = context.options.diskBudgetBytes, totalBytes > budget {
        reason = .diskBudget
      } else if free + freed < floor {
        reason = .freeSpace
      } else {
        retention.stuckLogged.store(false, ordering: .relaxed)
        break
      }
      // The victim: lowest eviction priority, then the oldest data.
      var victim: (Partition, Int, Int64)?
      for topic in topics where topic.config.onFull == .dropOldest {
        for p in topic.partitions {
          guard let ts = p.oldestSealedTimestamp else { continue }
          if let (_, priority, oldest) = victim,
            (priority, oldest) <= (topic.config.evictionPriority, ts)
          {
            continue
          }
          victim = (p, topic.config.evictionPriority, ts)
        }
      }
      guard let (p, _, _) = victim, let deleted = p.deleteOldestSegment({ _ in true }) else {
        if !retention.stuckLogged.exchange(true, ordering: .relaxed) {
          logger.warning(
            "the log is over its disk limits and nothing more can be deleted",
            metadata: ["reason": "\(reason.rawValue)", "free_bytes": "\(free + freed)"])
        }
        break
      }
      freed += deleted.bytes
      account(p, deleted, reason)
    }
    if freed > 0 {
      free += freed
      context.freeBytesEstimate.add(freed, ordering: .relaxed)
    }
    if full { recoverFromFullDisk(free: (try? Posix.freeBytes(directory)) ?? free) }
  }

  /// Rebuilds the reserve once there is room for it, and takes records again once the reserve
  /// is back and the free space is above ``LogContext/recoveredFreeBytes``.
  private func recoverFromFullDisk(free: Int64) {
    let reserve = context.reserve
    var free = free
    if !reserve.isPresent, free >= reserve.bytes + context.recoveredFreeBytes, reserve.restore() {
      free -= reserve.bytes
    }
    guard reserve.isPresent, free >= context.recoveredFreeBytes else { return }
    context.freeBytesEstimate.store(free, ordering: .relaxed)
    context.diskFull.store(false, ordering: .relaxed)
    context.clearRefusal()
    logger.notice("disk space is back; the log accepts records again", metadata: ["free_bytes": "\(free)"])
  }

  private func account(_ p: Partition, _ deleted: (base: Int64, next: Int64, bytes: Int64), _ reason: RetentionReason) {
    let records = deleted.next - deleted.base
    let dimensions = [("topic", p.topic), ("reason", reason.rawValue)]
    Counter(label: "weir_log_retention_deleted_segments_total", dimensions: dimensions).increment()
    Counter(label: "weir_log_retention_deleted_records_total", dimensions: dimensions).increment(by: records)
    var unread: [String: Int64] = [:]
    for (cursor, offset) in metadata.cursors(topic: p.topic, partition: p.id) where offset < deleted.next {
      let lost = deleted.next - max(offset, deleted.base)
      unread[cursor] = lost
      Counter(label: "weir_log_retention_unread_records_total", dimensions: [("topic", p.topic), ("cursor", cursor)])
        .increment(by: lost)
    }
    retention.totals.withLock { totals in
      totals.segmentsDeleted += 1
      totals.recordsDeleted += records
      for (cursor, lost) in unread { totals.unreadByCursor[cursor, default: 0] += lost }
    }
    logger.info(
      "retention deleted a segment",
      metadata: [
        "topic": "\(p.topic)", "partition": "\(p.id)", "from": "\(deleted.base)", "to": "\(deleted.next)",
        "reason": "\(reason.rawValue)", "unread_by": "\(unread.keys.sorted())",
      ])
  }
}
