import Dispatch
import Logging
import Synchronization
import WeirCore

/// What every partition of a store shares: settings, the clock, the epoch, the byte counts the
/// full policies look at, and the way to wake the background thread.
final class LogContext: Sendable {
  let options: LogOptions
  let clock: any WallClock
  let epoch: Int32
  let logger: Logger
  /// Bytes of all segments and indexes.
  let totalBytes = Atomic<Int64>(0)
  /// Free bytes on the file system as last measured, less what was written since.
  let freeBytesEstimate = Atomic<Int64>(Int64.max)
  let io = BlockingIO()
  let wake = ConditionLock()
  let wakeRequested = Atomic<Bool>(false)
  /// Set by a partition's first unsynced append: the background thread only recomputes when to
  /// flush (no retention run, unlike ``wakeRequested``).
  let flushWakeRequested = Atomic<Bool>(false)
  /// The file system ran out of space (a write got ENOSPC, or SQLite reported it full): every
  /// append is refused until the background finds room again and has rebuilt the reserve.
  let diskFull = Atomic<Bool>(false)
  let reserve: DiskReserve
  private let lastRefusal = Mutex<(Int64, String)?>(nil)
  /// Bumped whenever a partition's high watermark moves; ``arrivals`` wakes threads waiting for
  /// it (``LogStore/waitForData(after:timeoutNs:)``), locked only while someone waits.
  let dataGeneration = Atomic<UInt64>(0)
  let dataWaiters = Atomic<Int>(0)
  let arrivals = ConditionLock()

  init(options: LogOptions, clock: any WallClock, epoch: Int32, logger: Logger, reserve: DiskReserve) {
    self.options = options
    self.clock = clock
    self.epoch = epoch
    self.logger = logger
    self.reserve = reserve
  }

  /// Free bytes above which a full disk counts as recovered: the reserve back in place plus the
  /// configured floor and some headroom, so one append does not flip the state back at once.
  var recoveredFreeBytes: Int64 { options.minFreeBytes + max(reserve.bytes, 4 << 20) }

  /// Whether appends are refused for want of disk space (see ``diskFull``); a released reserve
  /// means SQLite found the disk full.
  var isDiskFull: Bool { diskFull.load(ordering: .relaxed) || !reserve.isPresent }

  /// A write found the disk full: refuse appends from now on and let retention make room.
  func noteDiskFull(_ error: LogError) {
    freeBytesEstimate.store(0, ordering: .relaxed)
    if !diskFull.exchange(true, ordering: .relaxed) {
      logger.error(
        "the disk is full; the log refuses new records until space returns",
        metadata: ["error": "\(error)", "drop_oldest_topics": "retention deletes their oldest segments"])
    }
    wakeBackground()
  }

  /// Checks the full policies for an append of `bytes` to `partition` (its lock held). Topics
  /// that reject throw ``LogError/Code/full``; topics that drop wake retention instead.
  func admit(bytes: Int, partition: Partition) throws(LogError) {
    let config = partition.config
    let total = totalBytes.load(ordering: .relaxed) + Int64(bytes)
    let free = freeBytesEstimate.load(ordering: .relaxed) - Int64(bytes)
    var reason: String?
    if isDiskFull {
      // Refused whatever the topic's policy: a write would fail anyway, and what space exists
      // belongs to the metadata that keeps acknowledged records safe.
      wakeBackground()
      noteRefusal("the disk is full (no space left on device)")
      throw LogError(.full, "\(partition.name) rejects new records: the disk is full (no space left on device)")
    }
    if let budget = options.diskBudgetBytes, total > budget {
      reason = "the log's disk budget of \(budget) bytes is used up (\(total - Int64(bytes)) bytes in use)"
    } else if free < options.minFreeBytes {
      reason = "free disk space is down to the reserve of \(options.minFreeBytes) bytes"
    } else if let maxBytes = config.maxBytes,
      partition.diskBytes + Int64(bytes) > maxBytes / Int64(config.partitions)
    {
      reason = "topic \(partition.topic) reached its limit of \(maxBytes) bytes"
    }
    guard let reason else { return }
    if config.onFull == .rejectNew {
      noteRefusal(reason)
      throw LogError(.full, "\(partition.name) rejects new records: \(reason)")
    }
    wakeBackground()
  }

  /// Remembers the latest refusal for status (`/readyz`, `weir_log_full`).
  func noteRefusal(_ reason: String) {
    lastRefusal.withLock { $0 = (Monotonic.nanoseconds(), reason) }
  }

  /// Forgets the latest refusal (the disk has room again).
  func clearRefusal() {
    lastRefusal.withLock { $0 = nil }
  }

  /// Why appends are refused now: a full disk, or a refusal within the last two seconds.
  var fullReason: String? {
    if isDiskFull { return "the disk is full (no space left on device)" }
    guard let (at, reason) = lastRefusal.withLock({ $0 }), Monotonic.nanoseconds() - at < 2_000_000_000 else {
      return nil
    }
    return reason
  }

  /// A high watermark moved (its partition's lock held): count it, and wake any waiting thread.
  func noteData() {
    // Both sides sequentially consistent: a waiter counted before it reads the generation is
    // seen here, or it reads the new generation.
    dataGeneration.add(1, ordering: .sequentiallyConsistent)
    if dataWaiters.load(ordering: .sequentiallyConsistent) > 0 { arrivals.withLock { arrivals.broadcast() } }
  }

  /// Blocks until ``dataGeneration`` passes `generation` or `timeoutNs` pass; returns it.
  func waitForData(after generation: UInt64, timeoutNs: Int64) -> UInt64 {
    let deadline = Monotonic.nanoseconds() + timeoutNs
    dataWaiters.add(1, ordering: .sequentiallyConsistent)
    defer { dataWaiters.subtract(1, ordering: .sequentiallyConsistent) }
    return arrivals.withLock {
      while true {
        let now = dataGeneration.load(ordering: .sequentiallyConsistent)
        let left = deadline - Monotonic.nanoseconds()
        if now != generation || left <= 0 { return now }
        arrivals.wait(nanoseconds: left)
      }
    }
  }

  func wakeBackground() {
    if !wakeRequested.exchange(true, ordering: .relaxed) {
      wake.withLock { wake.broadcast() }
    }
  }

  /// A partition has unsynced data again: the background thread sleeps until its flush is due
  /// instead of until its next housekeeping (up to a second later).
  func wakeFlusher() {
    if !flushWakeRequested.exchange(true, ordering: .relaxed) {
      wake.withLock { wake.broadcast() }
    }
  }
}

/// Runs blocking log calls for async callers on threads outside the cooperative pool.
struct BlockingIO: Sendable {
  private let queue = DispatchQueue(label: "weir.log.io", qos: .userInitiated, attributes: .concurrent)

  func run<T: Sendable>(_ body: @escaping @Sendable () throws(LogError) -> T) async throws(LogError) -> T {
    let result: Result<T, LogError> = await withCheckedContinuation { continuation in
      queue.async { continuation.resume(returning: Result { () throws(LogError) -> T in try body() }) }
    }
    return try result.get()
  }
}
