import Foundation
import Logging
import Metrics
import Synchronization
import WeirCore

/// The store's one background thread: interval fsyncs, recovery points, free-space measurement
/// and retention. It sleeps until the next deadline or until an append wakes it.
/// `@unchecked Sendable`: `stopping` is atomic and `done` (a `ConditionLock`) guards the thread's exit; the rest belongs to the worker's own thread.
final class BackgroundWorker: @unchecked Sendable {
  private weak var store: LogStore?
  private let context: LogContext
  private let stopping = Atomic<Bool>(false)
  private let done = ConditionLock()
  private var finished = false

  init(store: LogStore) {
    self.store = store
    self.context = store.context
    OwnedThread.start(name: "weir-log-background") { [self] in run() }
  }

  func stop() {
    guard !stopping.exchange(true, ordering: .relaxed) else { return }
    context.wake.withLock { context.wake.broadcast() }
    done.withLock {
      while !finished { done.wait() }
    }
  }

  private func run() {
    var nextRecoverySave = Monotonic.nanoseconds()
    var nextRetention = Monotonic.nanoseconds()
    let recoveryEvery = Int64(context.options.recoveryPointSaveMs) * 1_000_000
    let retentionEvery = Int64(context.options.retentionCheckMs) * 1_000_000
    var saveFailing = false
    // 1 while appends are refused: a full disk, or `reject_new` at a limit within the last 2 s.
    let fullGauge = Gauge(label: "weir_log_full")
    while !stopping.load(ordering: .relaxed) {
      guard let store else { break }
      let partitions = store.allPartitions
      var now = Monotonic.nanoseconds()
      // Cleared before the deadlines are read: a partition that gets data after this wakes us again.
      _ = context.flushWakeRequested.exchange(false, ordering: .relaxed)
      for p in partitions { p.flushIfDue(nowNs: now) }
      let woken = context.wakeRequested.exchange(false, ordering: .relaxed)
      now = Monotonic.nanoseconds()
      if now >= nextRetention || woken {
        store.runRetention()
        nextRetention = now + retentionEvery
        fullGauge.record(context.fullReason == nil ? 0 : 1)
      }
      if now >= nextRecoverySave {
        do {
          try store.saveRecoveryPoints()
          saveFailing = false
        } catch {
          // Recovery then scans further back; nothing is lost. Said once per episode.
          if !saveFailing {
            context.logger.error("could not save recovery points", metadata: ["error": "\(error)"])
          }
          saveFailing = true
        }
        nextRecoverySave = now + recoveryEvery
      }
      var sleep = min(nextRecoverySave, nextRetention) - now
      for p in partitions {
        if let due = p.nanosecondsUntilFlush(nowNs: now) { sleep = min(sleep, due) }
      }
      if sleep > 0 && !context.wakeRequested.load(ordering: .relaxed)
        && !context.flushWakeRequested.load(ordering: .relaxed)
      {
        context.wake.withLock {
          if !stopping.load(ordering: .relaxed) && !context.wakeRequested.load(ordering: .relaxed)
            && !context.flushWakeRequested.load(ordering: .relaxed)
          {
            context.wake.wait(nanoseconds: max(sleep, 100_000))
          }
        }
      }
    }
    done.withLock {
      finished = true
      done.broadcast()
    }
  }
}
