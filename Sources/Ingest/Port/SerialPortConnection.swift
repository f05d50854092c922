import Logging
import Metrics
import PartitionedLog
import WeirCore

/// Keeps one serial port open for a source thread: opens it, reports every change (a log line,
/// `weir_serial_port_up{port}` 0/1, the status), and after a failure or a disappearance reopens it
/// with exponential back-off and jitter until it returns. Not thread-safe: the source thread's.
final class SerialPortConnection {
  let config: SerialPortConfig
  private let wake: WakePipe
  private let logger: Logger
  private let clock: any WallClock
  private let updateStatus: ((inout SerialPortStatus) -> Void) -> Void
  private let upGauge: Gauge
  private let reconnectCounter: Counter
  private var backoff: Backoff
  private var random = SystemRandomNumberGenerator()
  private(set) var port: SerialPort?
  /// The port was up once and went away: the next successful open is a reconnect.
  private var wasLost = false

  init(
    config: SerialPortConfig, wake: WakePipe, logger: Logger, clock: any WallClock,
    metrics: any MetricsFactory, updateStatus: @escaping ((inout SerialPortStatus) -> Void) -> Void
  ) {
    self.config = config
    self.wake = wake
    self.logger = logger
    self.clock = clock
    self.updateStatus = updateStatus
    upGauge = Gauge(label: "weir_serial_port_up", dimensions: [("port", config.path)], factory: metrics)
    reconnectCounter = Counter(
      label: "weir_serial_reconnects_total", dimensions: [("port", config.path)], factory: metrics)
    backoff = Backoff(
      initialMs: config.reopenInitialDelayMs, maxMs: config.reopenMaxDelayMs, jitter: config.reopenJitter)
    upGauge.record(0)
  }

  /// The open port, opened first if need be, retrying with back-off; nil once `shouldStop`
  /// says so (checked between attempts, and the back-off sleep ends early on ``WakePipe``).
  func open(shouldStop: () -> Bool) -> SerialPort? {
    while !shouldStop() {
      if let port { return port }
      do {
        let opened = try SerialPort(config: config)
        port = opened
        markUp()
        return opened
      } catch {
        let delay = backoff.nextDelayMs(random: Double.random(in: 0..<1, using: &random))
        markOpenFailed(error, retryInMs: delay)
        wake.wait(timeoutMs: delay)
      }
    }
    return nil
  }

  /// The device went away or failed: closes the port and reports it down. The next ``open(shouldStop:)``
  /// waits the first back-off delay, so an adapter being unplugged is not hammered.
  func lost(_ error: SerialError) {
    guard let port else { return }
    port.close()
    self.port = nil
    wasLost = true
    let delay = backoff.nextDelayMs(random: Double.random(in: 0..<1, using: &random))
    logger.warning(
      "serial port lost, reopening",
      metadata: ["port": "\(config.path)", "error": "\(error)", "retry_in_ms": "\(delay)"])
    upGauge.record(0)
    let now = clock.nowMilliseconds()
    updateStatus {
      $0.up = false
      $0.sinceMs = now
      $0.lastError = error.description
      $0.nextRetryInMs = delay
    }
    wake.wait(timeoutMs: delay)
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
    let reconnect = wasLost || backoff.failures > 0
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
    backoff.reset()
  }

  private func markOpenFailed(_ error: SerialError, retryInMs: Int) {
    let failures = backoff.failures
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
      $0.lastError = error.description
      $0.failedOpens += 1
      $0.nextRetryInMs = retryInMs
    }
  }
}
