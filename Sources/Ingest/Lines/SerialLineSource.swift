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
  private let store: LogStore
  private let clock: any WallClock
  private let logger: Logger
  private let metrics: any MetricsFactory
  private let runner: SourceRunner
  private var wake: WakePipe { runner.wake }
  private let statusBox: StatusBox<SerialPortStatus>
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
    let problems = port.validate() + lineProtocol.validate()
    if !problems.isEmpty {
      throw SerialError(.invalidConfiguration, "serial source \(port.path): " + problems.joined(separator: "; "))
    }
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

  private var isStopping: Bool { runner.isStopping }

  private func readLoop() throws {
    let router = try LogRouter(store: store, source: "serial:\(port.path)")
    let route = try router.route(lineProtocol.topic)
    let pipeline = LinePipeline(config: lineProtocol, port: port, router: router, route: route)
    let framer = LineFramer(maxLineLength: lineProtocol.maxLineLength, terminator: lineProtocol.terminator)
    let connection = SerialPortConnection(
      config: port, wake: wake, logger: logger, clock: clock, metrics: metrics,
      updateStatus: { [statusBox] body in statusBox.update { body(&$0) } })
    let bytesCounter = Counter(label: "weir_serial_bytes_total", dimensions: [("port", port.path)], factory: metrics)
    var committer = SourceCommitter(router: router, logger: logger, source: "serial:\(port.path)") {
      [statusBox] paused in statusBox.update { $0.backPressured = paused }
    }
    defer { connection.close() }

    while !isStopping {
      if router.pendingRecords > 0 {
        guard try commit(&committer, pipeline) else {
          wake.wait(timeoutMs: committer.retryDelayMs)
          continue
        }
      }
      guard let serial = connection.open(shouldStop: { isStopping }) else { break }
      do throws(SerialError) {
        if framer.hasUnframed {
          // The last pass stopped at its output budget: frame what it left before reading more.
          _ = try readPass(serial, framer, pipeline, bytesCounter)
        } else {
          let readiness = try serial.wait(wake: wake, timeoutMs: Self.pollTimeoutMs)
          guard readiness.readable || readiness.hangUp else { continue }
          let bytes = try readPass(serial, framer, pipeline, bytesCounter)
          if bytes == 0 && readiness.hangUp { throw SerialError(.deviceGone, "\(port.path): the device hung up") }
        }
      } catch {
        // Whatever was framed before the failure is kept; a line cut in half is a dead letter.
        // (A read fails only once everything buffered has been framed.)
        if let partial = framer.takePartial() {
          pipeline.handleIncomplete(partial, why: "the device went away", readTime: clock.nowMilliseconds())
        }
        _ = try commit(&committer, pipeline)
        connection.lost(error)
        continue
      }
      _ = try commit(&committer, pipeline)
    }

    // Drain: what the device already sent is read, framed and committed before returning, unless
    // the log is refusing appends (then nothing more is read, and the error below says what is lost).
    if !committer.isRefused {
      if let serial = connection.port {
        do { _ = try readPass(serial, framer, pipeline, bytesCounter) } catch {}
      }
      while framer.hasUnframed, try commit(&committer, pipeline) {
        let readTime = clock.nowMilliseconds()
        framer.frameBuffered { pipeline.handle($0, readTime: readTime) }
      }
      if !framer.hasUnframed, let partial = framer.takePartial() {
        pipeline.handleIncomplete(partial, why: "the source stopped", readTime: clock.nowMilliseconds())
      }
    }
    try committer.commitAtShutdown(patienceMs: shutdownPatienceMs.load(ordering: .relaxed))
    publish(pipeline)
  }

  /// Commits what the pipeline appended and only then counts it in the status: a record is counted
  /// as ingested once the log has it. False when the log is full (the counts wait with the records).
  private func commit(_ committer: inout SourceCommitter, _ pipeline: LinePipeline) throws(LogError) -> Bool {
    guard try committer.commit() else { return false }
    publish(pipeline)
    return true
  }

  /// Reads until the port has nothing more, the pass budget is spent, or the pipeline's output
  /// budget is; frames every line (first whatever the last pass left unframed).
  private func readPass(
    _ serial: SerialPort, _ framer: LineFramer, _ pipeline: LinePipeline, _ bytesCounter: Counter
  ) throws(SerialError) -> Int {
    if framer.hasUnframed {
      let readTime = clock.nowMilliseconds()
      framer.frameBuffered { pipeline.handle($0, readTime: readTime) }
    }
    var total = 0
    while total < Self.passBudgetBytes && pipeline.hasRoom && !framer.hasUnframed {
      let n = try serial.read(into: framer.readSpace)
      if n == 0 { break }
      total += n
      let readTime = clock.nowMilliseconds()
      framer.consume(n) { pipeline.handle($0, readTime: readTime) }
    }
    if total > 0 {
      bytesCounter.increment(by: Int64(total))
      statusBox.update { $0.bytesRead += Int64(total) }
    }
    return total
  }

  private func publish(_ pipeline: LinePipeline) {
    guard pipeline.records > 0 || pipeline.skipped > 0 || pipeline.deadLetterCount > 0 else { return }
    let now = clock.nowMilliseconds()
    statusBox.update { pipeline.drainCounts(into: &$0, now: now) }
  }
}
