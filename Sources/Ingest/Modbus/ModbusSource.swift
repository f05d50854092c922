public import Logging
public import Metrics
public import PartitionedLog
import Payload
import Synchronization
public import WeirCore

/// A Modbus RTU master polling the slaves of one serial line into the log.
///
/// Each poll of a slave reads its register map (merged into as few requests as allowed) and
/// becomes one JSON record (`{"pressure": 3.2, ...}`) keyed by the slave's device id, with the poll
/// time as event time. A slave that stops answering is reported (log line,
/// `weir_modbus_slave_up{port,slave}`, `weir_modbus_errors_total{port,slave,kind}`, status) and
/// polled with a single attempt until it answers again, so the other slaves keep their schedule.
/// A long-lived service like ``SerialLineSource``: ``run()`` on its own thread, ``stop()`` from anywhere.
public final class ModbusSource: Sendable {
  public let config: ModbusConfig
  private let store: LogStore
  private let clock: any WallClock
  private let logger: Logger
  private let metrics: any MetricsFactory
  private let runner: SourceRunner
  private var wake: WakePipe { runner.wake }
  private let statusBox: StatusBox<ModbusSourceStatus>

  /// Checks the configuration and throws ``SerialError/Code/invalidConfiguration`` listing every
  /// problem; opens nothing until ``run()``.
  public init(
    config: ModbusConfig, store: LogStore, clock: any WallClock = SystemWallClock(),
    logger: Logger = Logger(label: "weir.modbus"), metrics: any MetricsFactory = MetricsSystem.factory
  ) throws(SerialError) {
    let problems = config.validate()
    if !problems.isEmpty {
      throw SerialError(.invalidConfiguration, "modbus source \(config.port.path): " + problems.joined(separator: "; "))
    }
    self.config = config
    self.store = store
    self.clock = clock
    self.logger = logger
    self.metrics = metrics
    runner = try SourceRunner.serial(threadName: "weir-modbus")
    statusBox = StatusBox(
      ModbusSourceStatus(
        port: SerialPortStatus(path: config.port.path, deviceId: config.port.deviceId),
        slaves: config.slaves.map { ModbusSlaveStatus(unitId: $0.unitId, deviceId: $0.deviceId) }))
  }

  public var status: ModbusSourceStatus { statusBox.value }

  /// Polls until stopped or cancelled, then commits what is pending and returns. Throws only when
  /// the log fails for good or when called while a run is going on. ``run()`` (the lifecycle `Service`) adds
  /// graceful shutdown.
  public func runUntilStopped() async throws {
    try await runner.run(
      alreadyRunning: SerialError(.alreadyStarted, "modbus source \(config.port.path) is already running")
    ) { [self] in try pollLoop() }
  }

  /// Asks the source to stop (a request in flight is abandoned). Safe from any thread.
  public func stop() { runner.stop() }

  private var isStopping: Bool { runner.isStopping }

  private func pollLoop() throws {
    let router = try LogRouter(store: store, source: "modbus:\(config.port.path)")
    var routes: [TopicRoute] = []
    for slave in config.slaves { routes.append(try router.route(slave.topic ?? config.topic)) }
    var slaves: [ModbusSlavePoller] = []
    for (i, slave) in config.slaves.enumerated() {
      let route = routes[i]
      slaves.append(
        ModbusSlavePoller(
          index: i, config: slave, port: config.port.path, route: route, metrics: metrics, source: router.source))
    }
    let master = ModbusMaster(config)
    let connection = SerialPortConnection(
      config: config.port, wake: wake, logger: logger, clock: clock, metrics: metrics,
      updateStatus: { [statusBox] body in statusBox.update { body(&$0.port) } })
    var committer = SourceCommitter(router: router, logger: logger, source: "modbus:\(config.port.path)") {
      [statusBox] paused in statusBox.update { $0.port.backPressured = paused }
    }
    let writer = JSONWriter(capacity: 512)
    let values = UnsafeMutableBufferPointer<UInt16>.allocate(
      capacity: max(1, slaves.map(\.plan.storageCount).max() ?? 1))
    defer {
      values.deallocate()
      connection.close()
    }

    // Records of polls not committed yet: counted in the status once the log has them.
    var uncommitted = 0
    var start = Monotonic.nanoseconds()
    for slave in slaves { slave.nextDueNs = start }
    while !isStopping {
      if router.pendingRecords > 0 {
        guard try commit(&committer, &uncommitted) else {
          wake.wait(timeoutMs: committer.retryDelayMs)
          continue
        }
      }
      guard let serial = connection.open(shouldStop: { isStopping }) else { break }
      let now = Monotonic.nanoseconds()
      let slave = slaves.min { ($0.nextDueNs, $0.index) < ($1.nextDueNs, $1.index) }!
      if slave.nextDueNs > now {
        do {
          try idle(serial, until: slave.nextDueNs, master: master)
        } catch {
          lose(error, connection: connection, slaves: slaves)
          start = Monotonic.nanoseconds()
          for slave in slaves { slave.nextDueNs = start }
        }
        continue
      }
      let result = slave.poll(
        master: master, port: serial, wake: wake, attempts: config.retries + 1, values: values, writer: writer,
        router: router, clock: clock, logger: logger, shouldStop: { isStopping })
      statusBox.update { slave.publish(into: &$0.slaves[slave.index]) }
      if case .portFailed(let error) = result {
        lose(error, connection: connection, slaves: slaves)
        start = Monotonic.nanoseconds()
        for slave in slaves { slave.nextDueNs = start }
        continue
      }
      if case .recorded = result { uncommitted += 1 }
      slave.scheduleNext(after: Monotonic.nanoseconds())
      _ = try commit(&committer, &uncommitted)
    }
    try committer.commitAtShutdown(patienceMs: 5000)
    countCommitted(&uncommitted)
  }

  /// Commits, and once the log has the polls' records counts them in the port's status. False
  /// when the log is full: nothing more is polled until it takes them.
  private func commit(_ committer: inout SourceCommitter, _ uncommitted: inout Int) throws(LogError) -> Bool {
    guard try committer.commit() else { return false }
    countCommitted(&uncommitted)
    return true
  }

  private func countCommitted(_ uncommitted: inout Int) {
    guard uncommitted > 0 else { return }
    let count = Int64(uncommitted)
    let now = clock.nowMilliseconds()
    statusBox.update {
      $0.port.records += count
      $0.port.lastRecordMs = now
    }
    uncommitted = 0
  }

  /// Between polls: waits for the next one, dropping anything the line carries meanwhile.
  private func idle(_ serial: SerialPort, until dueNs: Int64, master: ModbusMaster) throws(SerialError) {
    let waitMs = Int((dueNs - Monotonic.nanoseconds() + 999_999) / 1_000_000)
    let readiness = try serial.wait(wake: wake, timeoutMs: max(0, waitMs))
    if readiness.readable || readiness.hangUp {
      var scratch: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
      let n = try withUnsafeMutableBytes(of: &scratch) { (buffer) throws(SerialError) -> Int in
        try serial.read(into: buffer)
      }
      if n == 0 && readiness.hangUp { throw SerialError(.deviceGone, "\(serial.path): the device hung up") }
    }
  }

  private func lose(_ error: SerialError, connection: SerialPortConnection, slaves: [ModbusSlavePoller]) {
    for slave in slaves {
      slave.portDown(error)
      statusBox.update { slave.publish(into: &$0.slaves[slave.index]) }
    }
    connection.lost(error)
  }
}
