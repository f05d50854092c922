import Dispatch
import Logging
import Synchronization

/// What every partition of a store shares: settings, the clock, the epoch, the byte counts the
/// full policies look at, and the way to wake the background thread.
final class LogContext: Sendable {
  let options: LogOptions
  let clock: any LogClock
  let epoch: Int32
  let logger: Logger
  /// Bytes of all segments and indexes.
  let totalBytes = Atomic<Int64>(0)
  /// Free bytes on the file system as last measured, less what was written since.
  let freeBytesEstimate = Atomic<Int64>(Int64.max)
  let io = BlockingIO()
  let wake = ConditionLock()
  let wakeRequested = Atomic<Bool>(false)

  init(options: LogOptions, clock: any LogClock, epoch: Int32, logger: Logger) {
    self.options = options
    self.clock = clock
    self.epoch = epoch
    self.logger = logger
  }

  /// Checks the full policies for an append of `bytes` to `partition` (its lock held). Topics
  /// that reject throw ``LogError/Code/full``; topics that drop wake retention instead.
  func admit(bytes: Int, partition: Partition) throws(LogError) {
    let config = partition.config
    let total = totalBytes.load(ordering: .relaxed) + Int64(bytes)
    let free = freeBytesEstimate.load(ordering: .relaxed) - Int64(bytes)
    var reason: String?
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
      throw LogError(.full, "\(partition.name) rejects new records: \(reason)")
    }
    wakeBackground()
  }

  func wakeBackground() {
    if !wakeRequested.exchange(true, ordering: .relaxed) {
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
