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
  fileprivate let clock: any WallClock
  fileprivate let logger: Logger
  fileprivate let metrics: any MetricsFactory
  fileprivate let runner: SourceRunner
  fileprivate var wake: WakePipe { runner.wake }
  fileprivate let statusBox: StatusBox<ModbusSourceStatus>

  /// Checks the configuration and throws ``SerialError/Code/invalidConfiguration`` listing every
  /// problem; opens nothing until ``run()``.
  public init(
    config: ModbusConfig, store: LogStore, clock: any WallClock = SystemWallClock(),
    logger: Logger = Logger(label: "weir.modbus"), metrics: any MetricsFactory = MetricsSystem.factory
  ) throws(SerialError) {
    let problems = config.problems()
    if !problems.isEmpty {
      throw SerialError(.invalidConfiguration, "modbus source \(config.port.path): " + problems.summary)
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

  private func pollLoop() throws {
    let router = try LogRouter(store: store, source: "modbus:\(config.port.path)")
    let run = try Run(source: self, router: router)
    defer { run.values.deallocate() }
    var committer = SourceCommitter(router: router, logger: logger, source: "modbus:\(config.port.path)") {
      [statusBox] paused in statusBox.update { $0.port.backPressured = paused }
    }
    try runner.drive(run, committer: &committer, backoff: run.connection.backoff)
  }

  /// One run's protocol: the line, the master and a poller per slave; ``SourceRunner`` does the
  /// rest. A read pass is one poll (or the wait for the next one).
  private final class Run: Source {
    let source: ModbusSource
    let router: LogRouter
    let slaves: [ModbusSlavePoller]
    let master: ModbusMaster
    let connection: SerialPortConnection
    let writer = JSONWriter(capacity: 512)
    let values: UnsafeMutableBufferPointer<UInt16>
    /// Records of polls not committed yet: counted in the status once the log has them.
    var uncommitted = 0

    init(source: ModbusSource, router: LogRouter) throws(LogError) {
      let config = source.config
      self.source = source
      self.router = router
      var slaves: [ModbusSlavePoller] = []
      for (i, slave) in config.slaves.enumerated() {
        let route = try router.route(slave.topic ?? config.topic)
        slaves.append(
          ModbusSlavePoller(
            index: i, config: slave, port: config.port.path, route: route, metrics: source.metrics,
            source: router.source))
      }
      self.slaves = slaves
      master = ModbusMaster(config)
      connection = SerialPortConnection(
        config: config.port, logger: source.logger, clock: source.clock, metrics: source.metrics,
        updateStatus: { [statusBox = source.statusBox] body in statusBox.update { body(&$0.port) } })
      values = .allocate(capacity: max(1, slaves.map(\.plan.storageCount).max() ?? 1))
      reschedule()
    }

    var shutdownPatienceMs: Int { 5000 }

    /// Every slave is due now (at start and after the line came back).
    private func reschedule() {
      let now = Monotonic.nanoseconds()
      for slave in slaves { slave.nextDueNs = now }
    }

    func connect() throws -> SerialPort { try connection.open() }

    func connectFailed(_ error: any Error, retryInMs: Int) { connection.openFailed(error, retryInMs: retryInMs) }

    func readPass(_ serial: SerialPort) throws {
      let now = Monotonic.nanoseconds()
      let slave = slaves.min { ($0.nextDueNs, $0.index) < ($1.nextDueNs, $1.index) }!
      if slave.nextDueNs > now {
        try idle(serial, until: slave.nextDueNs)
        return
      }
      let result = slave.poll(
        master: master, port: serial, wake: source.wake, attempts: source.config.retries + 1, values: values,
        writer: writer, router: router, clock: source.clock, logger: source.logger,
        shouldStop: { [runner = source.runner] in runner.isStopping })
      source.statusBox.update { slave.publish(into: &$0.slaves[slave.index]) }
      if case .portFailed(let error) = result { throw error }
      if case .recorded = result { uncommitted += 1 }
      slave.scheduleNext(after: Monotonic.nanoseconds())
    }

    /// Once the log has the polls' records, counts them in the port's status.
    func acknowledge(_ serial: SerialPort?, committedRecords: Bool) {
      guard uncommitted > 0, router.pendingRecords == 0 else { return }
      let count = Int64(uncommitted)
      let now = source.clock.nowMilliseconds()
      source.statusBox.update {
        $0.port.records += count
        $0.port.lastRecordMs = now
      }
      uncommitted = 0
    }

    func lost(_ serial: SerialPort, _ error: any Error, retryInMs: Int) {
      for slave in slaves {
        slave.portDown(error)
        source.statusBox.update { slave.publish(into: &$0.slaves[slave.index]) }
      }
      connection.lost(error, retryInMs: retryInMs)
      reschedule()
    }

    func failed(_ serial: SerialPort?, _ error: LogError) { connection.close() }

    /// A poll's record is complete when made: nothing is left to read at shutdown.
    func drain(_ serial: SerialPort?, commit: () throws(LogError) -> Bool) {}

    func close(_ serial: SerialPort?, shutdownError: LogError?) throws {
      connection.close()
      if let shutdownError { throw shutdownError }
    }

    /// Between polls: waits for the next one, dropping anything the line carries meanwhile.
    private func idle(_ serial: SerialPort, until dueNs: Int64) throws(SerialError) {
      let waitMs = Int((dueNs - Monotonic.nanoseconds() + 999_999) / 1_000_000)
      let readiness = try serial.wait(wake: source.wake, timeoutMs: max(0, waitMs))
      if readiness.readable || readiness.hangUp {
        var scratch: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        let n = try withUnsafeMutableBytes(of: &scratch) { (buffer) throws(SerialError) -> Int in
          try serial.read(into: buffer)
        }
        if n == 0 && readiness.hangUp { throw SerialError(.deviceGone, "\(serial.path): the device hung up") }
      }
    }
  }
}
