import Logging
import PartitionedLog
import WeirCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The one way a source commits a read pass and turns the log's answer into the source's behaviour, for every
/// source kind (MQTT, serial lines, Modbus): `full` is back-pressure (the source reads nothing more, the records stay
/// pending and are retried with a delay growing from 50 ms to 1 s); any other log error is fatal for the source and
/// thrown, and the supervisor restarts it. A source acknowledges (PUBACKs, nothing for serial) only after
/// ``commit()`` returned true.
struct SourceCommitter {
  let router: LogRouter
  let logger: Logger
  /// The source's name, for the log lines.
  let source: String
  /// Told when back-pressure starts (true) and ends (false): the source's status and gauge.
  let backPressured: (Bool) -> Void
  private(set) var retryDelayMs = 0
  private var refusals = 0

  init(router: LogRouter, logger: Logger, source: String, backPressured: @escaping (Bool) -> Void) {
    self.router = router
    self.logger = logger
    self.source = source
    self.backPressured = backPressured
  }

  /// The last commit was refused: the router's batches are sealed, and nothing may be appended
  /// until a commit succeeds.
  var isRefused: Bool { refusals > 0 }

  /// True when everything pending is in the log; false when the log is full.
  mutating func commit() throws(LogError) -> Bool {
    guard router.pendingRecords > 0 else { return true }
    do {
      try router.commit()
      if refusals > 0 {
        logger.info("the log accepts records again; reading resumes", metadata: ["source": "\(source)"])
        backPressured(false)
      }
      refusals = 0
      retryDelayMs = 0
      return true
    } catch where error.code == .full {
      refusals += 1
      retryDelayMs = min(1000, max(50, retryDelayMs * 2))
      if refusals == 1 {
        logger.warning(
          "the log is full; reading paused",
          metadata: ["source": "\(source)", "pending": "\(router.pendingRecords)", "reason": "\(error.message)"])
        backPressured(true)
      }
      return false
    }
  }

  /// The last commit at shutdown: retries a full log for up to `patienceMs`, then throws `full` with what it could
  /// not write (the caller decides whether that is loud: a serial line is lost, an MQTT pass is delivered again).
  mutating func commitAtShutdown(patienceMs: Int) throws(LogError) {
    let deadline = Monotonic.nanoseconds() + Int64(patienceMs) * 1_000_000
    while try !commit() {
      if Monotonic.nanoseconds() > deadline {
        throw LogError(
          .full, "\(source): \(router.pendingRecords) records could not be written at shutdown: the log is full")
      }
      // A stopping source's wake pipe is already signalled, so sleep on the clock.
      usleep(UInt32(retryDelayMs) * 1000)
    }
  }
}
