import Logging
import PartitionedLog
import WeirCore

/// Commits a source's router and turns the log's answer into the source's behaviour: `full` is
/// back-pressure (reading pauses, the records stay pending, retried with a growing delay); any other
/// log error is fatal for the source and thrown.
struct SerialCommitter {
  let router: LogRouter
  let logger: Logger
  let what: String
  private(set) var retryDelayMs = 0
  private var refusals = 0

  /// The last commit was refused: the router's batches are sealed, and nothing may be appended
  /// until a commit succeeds.
  var isRefused: Bool { refusals > 0 }

  init(router: LogRouter, logger: Logger, what: String) {
    self.router = router
    self.logger = logger
    self.what = what
  }

  /// True when everything pending is in the log; false when the log is full.
  mutating func commit(status: SerialStatusBox<SerialPortStatus>) throws(LogError) -> Bool {
    try commit { body in status.update { body(&$0) } }
  }

  mutating func commit(status update: ((inout SerialPortStatus) -> Void) -> Void) throws(LogError) -> Bool {
    guard router.pendingRecords > 0 else { return true }
    do {
      try router.commit()
      if refusals > 0 {
        logger.info("log accepts appends again, reading resumes", metadata: ["source": "\(what)"])
        update { $0.backPressured = false }
      }
      refusals = 0
      retryDelayMs = 0
      return true
    } catch where error.code == .full {
      refusals += 1
      retryDelayMs = min(1000, max(50, retryDelayMs * 2))
      if refusals == 1 {
        logger.warning(
          "log is full, reading paused", metadata: ["source": "\(what)", "pending": "\(router.pendingRecords)"])
        update { $0.backPressured = true }
      }
      return false
    }
  }

  /// The last commit at shutdown: retries a full log for up to `patienceMs`, then gives up loudly.
  mutating func commitAtShutdown(
    status update: ((inout SerialPortStatus) -> Void) -> Void, patienceMs: Int = 5000
  ) throws(LogError) {
    let deadline = Monotonic.nanoseconds() + Int64(patienceMs) * 1_000_000
    while try !commit(status: update) {
      if Monotonic.nanoseconds() > deadline {
        throw LogError(
          .full, "\(what): \(router.pendingRecords) records could not be written at shutdown: the log is full")
      }
      // The wake pipe is already signalled at shutdown, so sleep on the clock.
      SerialPosix.sleep(milliseconds: retryDelayMs)
    }
  }

  mutating func commitAtShutdown(status: SerialStatusBox<SerialPortStatus>, patienceMs: Int) throws(LogError) {
    try commitAtShutdown(status: { body in status.update { body(&$0) } }, patienceMs: patienceMs)
  }
}
