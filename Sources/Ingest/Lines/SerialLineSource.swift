public import Logging
public import Metrics
public import PartitionedLog
import Synchronization
public import WeirCore

/// Ingests a line protocol (NMEA 0183, CSV or JSON lines) from one serial port into the log.
///
/// A long-lived service: ``run()`` reads on a thread of its own until ``stop()`` is called or the
/// task is cancelled, then drains what the port still holds, commits it, and returns. The port
/// is reopened with back-off whenever the device goes away. Each read pass ends in one group commit
/// per partition; when the log refuses appends (full, `reject_new`) reading pauses and the pass's
/// records stay pending until it accepts them.
public final class SerialLineSource: Sendable {
  public let port: SerialPortConfig
  public let lineProtocol: LineProtocolConfig
  fileprivate let store: LogStore
  fileprivate let clock: any WallClock
  fileprivate let logger: Logger
  fileprivate let metrics: any MetricsFactory
  private let runner: SourceRunner
  fileprivate var wake: WakePipe { runner.wake }
  fileprivate let statusBox: StatusBox<SerialPortStatus>
  /// How long the last commit at shutdown retries a full log before ``run()`` gives up and throws.
  let shutdownPatienceMs = Atomic<Int>(5000)

  /// Wait in `poll(2)` before checking for stop again (stop also wakes it at once).
  static let pollTimeoutMs = 500
  /// Most bytes read in one pass before committing.
  static let passBudgetBytes = 1 << 20

  /// Checks both configurations and throws ``SerialError/Code/invalidConfiguration`` listing every
  /// problem; opens nothing until ``run()``.
  public init(
    port: SerialPortConfig, lineProtocol: LineProtocolConfig, store: LogStore,
    clock: any WallClock = SystemWallClock(), logger: Logger = Logger(label: "weir.serial"),
    metrics: any MetricsFactory = MetricsSystem.factory
  ) throws(SerialError) {
    let problems = port.problems() + lineProtocol.problems()
    if !problems.isEmpty { throw SerialError(.invalidConfiguration, "serial source \(port.path): " + problems.summary) }
    self.port = port
    self.lineProtocol = lineProtocol
    self.store = store
    self.clock = clock
    self.logger = logger
    self.metrics = metrics
    runner = try SourceRunner.serial(threadName: "weir-serial")
    statusBox = StatusBox(SerialPortStatus(path: port.path, deviceId: port.deviceId))
  }

  /// The port's state and what has been ingested from it.
  public var status: SerialPortStatus { statusBox.value }

  /// Reads until stopped or cancelled, then drains and commits. Throws only when the log fails for
  /// good (not when it is merely full) or when called while a run is going on. ``run()`` (the lifecycle `Service`)
  /// adds graceful shutdown.
  public func runUntilStopped() async throws {
    try await runner.run(alreadyRunning: SerialError(.alreadyStarted, "serial source \(port.path) is already running"))
    {
      [self] in try readLoop()
    }
  }

  /// Asks the source to stop; ``run()`` returns once it has drained and committed. Safe from any
  /// thread, any number of times.
  public func stop() { runner.stop() }

  private func readLoop() throws {
    let router = try LogRouter(store: store, source: "serial:\(port.path)")
    let route = try router.route(lineProtocol.topic)
    let run = Run(source: self, router: router, route: route)
    var committer = SourceCommitter(router: router, logger: logger, source: "serial:\(port.path)") {
      [statusBox] paused in statusBox.update { $0.backPressured = paused }
    }
    try runner.drive(run, committer: &committer, backoff: run.connection.backoff)
  }

  /// One run's protocol: the port, the framer and the line pipeline; ``SourceRunner`` does the rest.
  private final class Run: Source {
    let source: SerialLineSource
    let pipeline: LinePipeline
    let framer: LineFramer
    let connection: SerialPortConnection
    let bytesCounter: Counter

    init(source: SerialLineSource, router: LogRouter, route: TopicRoute) {
      self.source = source
      pipeline = LinePipeline(config: source.lineProtocol, port: source.port, router: router, route: route)
      framer = LineFramer(maxLineLength: source.lineProtocol.maxLineLength, terminator: source.lineProtocol.terminator)
      connection = SerialPortConnection(
        config: source.port, logger: source.logger, clock: source.clock, metrics: source.metrics,
        updateStatus: { [statusBox = source.statusBox] body in statusBox.update { body(&$0) } })
      bytesCounter = Counter(
        label: "weir_serial_bytes_total", dimensions: [("port", source.port.path)], factory: source.metrics)
    }

    var shutdownPatienceMs: Int { source.shutdownPatienceMs.load(ordering: .relaxed) }

    func connect() throws -> SerialPort { try connection.open() }

    func connectFailed(_ error: any Error, retryInMs: Int) { connection.openFailed(error, retryInMs: retryInMs) }

    func readPass(_ serial: SerialPort) throws {
      if framer.hasUnframed {
        // The last pass stopped at its output budget: frame what it left before reading more.
        _ = try read(serial)
        return
      }
      let readiness = try serial.wait(wake: source.wake, timeoutMs: SerialLineSource.pollTimeoutMs)
      guard readiness.readable || readiness.hangUp else { return }
      let bytes = try read(serial)
      if bytes == 0 && readiness.hangUp { throw SerialError(.deviceGone, "\(source.port.path): the device hung up") }
    }

    /// Records are counted in the status once the log has them.
    func acknowledge(_ serial: SerialPort?, committedRecords: Bool) { source.publish(pipeline) }

    func lost(_ serial: SerialPort, _ error: any Error, retryInMs: Int) {
      // Whatever was framed before the failure is kept (the runner commits it before reopening);
      // a line cut in half is a dead letter. (A read fails only once everything buffered is framed.)
      if let partial = framer.takePartial() {
        pipeline.handleIncomplete(partial, why: "the device went away", readTime: source.clock.nowMilliseconds())
      }
      connection.lost(error, retryInMs: retryInMs)
    }

    func failed(_ serial: SerialPort?, _ error: LogError) { connection.close() }

    func drain(_ serial: SerialPort?, commit: () throws(LogError) -> Bool) throws(LogError) {
      if let serial {
        do { _ = try read(serial) } catch {}
      }
      while framer.hasUnframed, try commit() {
        let readTime = source.clock.nowMilliseconds()
        framer.frameBuffered { pipeline.handle($0, readTime: readTime) }
      }
      if !framer.hasUnframed, let partial = framer.takePartial() {
        pipeline.handleIncomplete(partial, why: "the source stopped", readTime: source.clock.nowMilliseconds())
      }
    }

    func close(_ serial: SerialPort?, shutdownError: LogError?) throws {
      connection.close()
      source.publish(pipeline)
      if let shutdownError { throw shutdownError }
    }

    /// Reads until the port has nothing more, the pass budget is spent, or the pipeline's output
    /// budget is; frames every line (first whatever the last pass left unframed).
    private func read(_ serial: SerialPort) throws(SerialError) -> Int {
      if framer.hasUnframed {
        let readTime = source.clock.nowMilliseconds()
        framer.frameBuffered { pipeline.handle($0, readTime: readTime) }
      }
      var total = 0
      while total < SerialLineSource.passBudgetBytes && pipeline.hasRoom && !framer.hasUnframed {
        let n = try serial.read(into: framer.readSpace)
        if n == 0 { break }
        total += n
        let readTime = source.clock.nowMilliseconds()
        framer.consume(n) { pipeline.handle($0, readTime: readTime) }
      }
      if total > 0 {
        bytesCounter.increment(by: Int64(total))
        source.statusBox.update { $0.bytesRead += Int64(total) }
      }
      return total
    }
  }

  fileprivate func publish(_ pipeline: LinePipeline) {
    guard pipeline.records > 0 || pipeline.skipped > 0 || pipeline.deadLetterCount > 0 else { return }
    let now = clock.nowMilliseconds()
    statusBox.update { pipeline.drainCounts(into: &$0, now: now) }
  }
}
