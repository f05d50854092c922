import Logging
import Metrics
import PartitionedLog
import WeirCore

/// One serial port of a source thread: opens it and reports every change (a log line,
/// `weir_serial_port_up{port}` 0/1, the status). The source runner reopens it after a failure or a
/// disappearance, with the back-off of ``backoff`` (exponential, with jitter). Not thread-safe: the
/// source thread's.
final class SerialPortConnection {
  let config: SerialPortConfig
  private let logger: Logger
  private let clock: any WallClock
  private let updateStatus: ((inout SerialPortStatus) -> Void) -> Void
  private let upGauge: Gauge
  private let reconnectCounter: Counter
  /// Failed opens since the port was last up.
  private var failures = 0
  private(set) var port: SerialPort?
  /// The port was up once and went away: the next successful open is a reconnect.
  private var wasLost = false

  init(
    config: SerialPortConfig, logger: Logger, clock: any WallClock,
    metrics: any MetricsFactory, updateStatus: @escaping ((inout SerialPortStatus) -> Void) -> Void
  ) {
    self.config = config
    self.logger = logger
    self.clock = clock
    self.updateStatus = updateStatus
    upGauge = Gauge(label: "weir_serial_port_up", dimensions: [("port", config.path)], factory: metrics)
    reconnectCounter = Counter(
      label: "weir_serial_reconnects_total", dimensions: [("port", config.path)], factory: metrics)
    upGauge.record(0)
  }

  /// The reopening back-off the port's configuration asks for.
  var backoff: Backoff {
    Backoff(initialMs: config.reopenInitialDelayMs, maxMs: config.reopenMaxDelayMs, jitter: config.reopenJitter)
  }

  /// Opens the port and reports it up.
  func open() throws(SerialError) -> SerialPort {
    let opened = try SerialPort(config: config)
    port = opened
    markUp()
    return opened
  }

  /// The device went away or failed: closes the port and reports it down until it is reopened
  /// in `delay` ms (the runner waits the back-off first, so an adapter being unplugged is not
  /// hammered).
  func lost(_ error: any Error, retryInMs delay: Int) {
    guard let port else { return }
    port.close()
    self.port = nil
    wasLost = true
    logger.warning(
      "serial port lost, reopening",
      metadata: ["port": "\(config.path)", "error": "\(error)", "retry_in_ms": "\(delay)"])
    upGauge.record(0)
    let now = clock.nowMilliseconds()
    updateStatus {
      $0.up = false
      $0.sinceMs = now
      $0.lastError = "\(error)"
      $0.nextRetryInMs = delay
    }
  }

  /// Closes the port at shutdown.
  func close() {
    port?.close()
    port = nil
    upGauge.record(0)
    let now = clock.nowMilliseconds()
    updateStatus {
      if $0.up { $0.sinceMs = now }
      $0.up = false
      $0.lastError = "stopped"
      $0.nextRetryInMs = nil
    }
  }

  private func markUp() {
    let reconnect = wasLost || failures > 0
    logger.info(
      reconnect ? "serial port reopened" : "serial port open",
      metadata: [
        "port": "\(config.path)", "baud_rate": "\(config.baudRate)",
        "format": "\(config.dataBits)\(config.parity.rawValue.prefix(1).uppercased())\(config.stopBits)",
      ])
    if wasLost { reconnectCounter.increment() }
    upGauge.record(1)
    let now = clock.nowMilliseconds()
    let wasLost = self.wasLost
    updateStatus {
      $0.up = true
      $0.sinceMs = now
      $0.failedOpens = 0
      $0.nextRetryInMs = nil
      if wasLost { $0.reconnects += 1 }
    }
    self.wasLost = false
    failures = 0
  }

  /// Opening failed; the runner tries again in `retryInMs`.
  func openFailed(_ error: any Error, retryInMs: Int) {
    failures += 1
    // Loud on the first failure, quiet while it stays down: an unplugged adapter must not flood the log.
    if failures == 1 {
      logger.warning(
        "serial port unavailable, retrying",
        metadata: ["port": "\(config.path)", "error": "\(error)", "retry_in_ms": "\(retryInMs)"])
    } else {
      logger.debug(
        "serial port still unavailable",
        metadata: [
          "port": "\(config.path)", "error": "\(error)", "attempt": "\(failures)", "retry_in_ms": "\(retryInMs)",
        ])
    }
    updateStatus {
      $0.up = false
      $0.lastError = "\(error)"
      $0.failedOpens += 1
      $0.nextRetryInMs = retryInMs
    }
  }
}
