import Foundation
public import Logging
import MQTT
import Metrics
public import PartitionedLog
import Synchronization
public import WeirCore

/// What the MQTT source is doing, for status pages and tests.
public struct MQTTSourceStatus: Sendable {
  public struct Subscription: Sendable {
    public var filter: String
    public var acknowledged: Bool
    public var stalled: Bool
    public var grantedQoS: Int32?
  }

  public var connected = false
  public var backPressured = false
  public var lastError: String?
  public var connects = 0
  public var messages: Int64 = 0
  public var subscriptions: [Subscription] = []
}

/// Subscribes to the local broker and writes every message into the log, acknowledging a QoS 1
/// message to the broker only after the log holds it.
///
/// One thread drives libmosquitto: wait for the socket, read every packet available (a read
/// pass; the library queues the PUBACKs), append the whole pass to the log as one group commit
/// per partition (fsynced first under `fsync: always`), and only then write, which sends the
/// PUBACKs. A crash at any point before the write leaves the messages unacknowledged and the
/// broker's persistent session delivers them again.
public final class MQTTSource: Sendable {
  public let config: MQTTSourceConfig
  let store: LogStore
  let logger: Logger
  private let runner: SourceRunner
  private let statusLock = Mutex(MQTTSourceStatus())
  private let connectedGauge: Gauge
  private let reconnects: Counter
  private let errors: Counter
  private let stalledGauge: Gauge
  private let backPressureGauge: Gauge
  private let hooks: MQTTSourceHooks

  public init(
    config: MQTTSourceConfig, store: LogStore, logger: Logger = Logger(label: "weir.ingest.mqtt"),
    hooks: MQTTSourceHooks = MQTTSourceHooks()
  ) throws(WakePipeError) {
    runner = try SourceRunner(threadName: "weir-mqtt-\(config.name)")
    self.config = config
    self.hooks = hooks
    self.store = store
    self.logger = logger
    let d = [("source", config.name)]
    connectedGauge = Gauge(label: "weir_mqtt_connected", dimensions: d)
    reconnects = Counter(label: "weir_mqtt_connects_total", dimensions: d)
    errors = Counter(label: "weir_mqtt_errors_total", dimensions: d)
    stalledGauge = Gauge(label: "weir_mqtt_stalled_subscriptions", dimensions: d)
    backPressureGauge = Gauge(label: "weir_mqtt_back_pressured", dimensions: d)
    statusLock.withLock {
      $0.subscriptions = config.subscriptions.map { .init(filter: $0.filter, acknowledged: false, stalled: false) }
    }
  }

  public var status: MQTTSourceStatus { statusLock.withLock { $0 } }

  /// Runs until cancelled or ``stop()``; then drains what was read into the log, fsyncs,
  /// acknowledges and disconnects. ``run()`` (the lifecycle `Service`) adds graceful shutdown.
  public func runUntilStopped() async throws {
    try await runner.run(alreadyRunning: MQTTSourceError.alreadyRunning(config.name)) { [self] in try loop() }
  }

  /// Starts the loop on a thread of its own, needing nothing from Swift's cooperative pool;
  /// `onExit` runs on that thread when the loop ends (callers that are not async).
  public func start(onExit: @escaping @Sendable (Result<Void, any Error>) -> Void) {
    runner.start(alreadyRunning: MQTTSourceError.alreadyRunning(config.name), { [self] in try loop() }, onExit: onExit)
  }

  public func stop() { runner.stop() }

  private var isStopping: Bool { runner.isStopping }

  private func setStatus(_ change: (inout MQTTSourceStatus) -> Void) {
    statusLock.withLock { status in change(&status) }
  }

  // MARK: The loop

  private func loop() throws {
    let router = try LogRouter(store: store, source: config.name, deadLetterTopic: config.deadLetterTopic)
    let decoder = try MQTTMessageDecoder(config: config, router: router, source: config.name)
    var committer = SourceCommitter(router: router, logger: logger, source: config.name) { [self] paused in
      setStatus { $0.backPressured = paused }
      backPressureGauge.record(paused ? 1 : 0)
    }
    var client = try makeClient()
    var connected = false
    var backoff = Backoff(initialMs: config.reconnectMinMs, maxMs: config.reconnectMaxMs)
    var lastMisc = Monotonic.milliseconds()
    var subscribedAt: [Int32: (index: Int, at: Int64)] = [:]

    func wire(_ c: MosquittoClient) {
      c.onConnect = { [self] rc, sessionPresent, reason in
        guard rc == 0 else {
          setStatus { $0.lastError = "broker refused the connection: \(reason)" }
          errors.increment()
          logger.error("broker refused the connection", metadata: ["reason": "\(reason)"])
          return
        }
        setStatus {
          $0.connected = true
          $0.connects += 1
          $0.lastError = nil
        }
        reconnects.increment()
        connectedGauge.record(1)
        logger.info(
          "connected",
          metadata: ["broker": "\(config.client.host):\(config.client.port)", "session_present": "\(sessionPresent)"])
        if !sessionPresent || status.subscriptions.contains(where: { !$0.acknowledged }) {
          for (i, s) in config.subscriptions.enumerated() {
            do {
              let mid = try c.subscribe(s.filter, qos: Int32(s.qos))
              subscribedAt[mid] = (i, Monotonic.milliseconds())
            } catch {
              setStatus { $0.lastError = "\(error)" }
            }
          }
        }
      }
      c.onSubscribe = { [self] mid, granted in
        guard let (i, _) = subscribedAt.removeValue(forKey: mid) else { return }
        let refused = granted.first.map { $0 >= 0x80 } ?? true
        setStatus {
          $0.subscriptions[i].acknowledged = !refused
          $0.subscriptions[i].stalled = refused
          $0.subscriptions[i].grantedQoS = granted.first
        }
        if refused {
          logger.error("the broker refused a subscription", metadata: ["filter": "\(config.subscriptions[i].filter)"])
        }
      }
    }
    wire(client)

    while !isStopping {
      if !connected {
        do {
          try client.connect()
          connected = true
          backoff.reset()
        } catch {
          errors.increment()
          setStatus {
            $0.connected = false
            $0.lastError = "\(error)"
          }
          let delay = backoff.nextDelayMs()
          logger.warning("cannot connect", metadata: ["error": "\(error)", "retry_ms": "\(delay)"])
          sleepInterruptibly(ms: delay)
          continue
        }
      }
      do {
        // Back-pressure: records the log refused stay pending; read nothing until they fit.
        if router.pendingRecords > 0 {
          if try committer.commit() {
            try client.writePending()
          } else {
            sleepInterruptibly(ms: committer.retryDelayMs)
          }
          continue
        }
        decoder.now = SystemWallClock.milliseconds()
        let read = try client.readAvailable(
          maxMessages: config.batchMaxMessages, maxBytes: config.batchMaxBytes, timeoutMs: 20
        ) { decoder.handle($0) }
        if read > 0 { setStatus { $0.messages += Int64(read) } }
        if router.pendingRecords > 0 {
          guard try committer.commit() else { continue }
          hooks.afterCommitBeforeAck?()
        }
        try client.writePending()
        let now = Monotonic.milliseconds()
        if now - lastMisc >= 1000 {
          try client.misc()
          try client.writePending()
          lastMisc = now
          checkStalls(subscribedAt, now: now)
        }
      } catch let error as MQTTError {
        // The connection is gone. Records read but not committed were never acknowledged:
        // drop them, the broker delivers them again. A fresh client also drops any PUBACK the
        // library queued for them.
        router.discardPending()
        errors.increment()
        connectedGauge.record(0)
        setStatus {
          $0.connected = false
          $0.lastError = error.message
        }
        logger.warning("connection lost", metadata: ["error": "\(error)"])
        connected = false
        subscribedAt.removeAll()
        client = try makeClient()
        wire(client)
        sleepInterruptibly(ms: backoff.nextDelayMs())
      } catch let error as LogError {
        // The log failed (not full): acknowledge nothing it may not hold. The client goes with
        // this loop, its queued PUBACKs unsent, so the broker delivers the pass again to the
        // restarted source.
        router.discardPending()
        errors.increment()
        connectedGauge.record(0)
        setStatus {
          $0.connected = false
          $0.lastError = "\(error)"
        }
        logger.error("log append failed; stopping without acknowledging", metadata: ["error": "\(error)"])
        throw error
      }
    }
    // Drain: what was read goes into the log and is acknowledged, then a clean disconnect. If
    // the log will not take all of it (full), none of the pass is acknowledged: the client is
    // dropped without writing, so its queued PUBACKs never leave and the broker redelivers.
    if connected {
      try? committer.commitAtShutdown(patienceMs: 2000)
      if router.pendingRecords == 0 {
        try? client.writePending()
        try? router.flush()
        client.disconnect()
        try? client.writePending()
      } else {
        logger.warning(
          "stopping with records the log did not take; they are not acknowledged and the broker delivers them again",
          metadata: ["records": "\(router.pendingRecords)"])
        router.discardPending()
      }
    }
    connectedGauge.record(0)
    setStatus { $0.connected = false }
  }

  /// Marks subscriptions the broker has not acknowledged in time as stalled.
  private func checkStalls(_ waiting: [Int32: (index: Int, at: Int64)], now: Int64) {
    for (_, w) in waiting where now - w.at > Int64(config.subscriptionStallMs) {
      setStatus { $0.subscriptions[w.index].stalled = true }
    }
    stalledGauge.record(status.subscriptions.filter(\.stalled).count)
  }

  private func makeClient() throws -> MosquittoClient {
    try MosquittoClient(config: config.client)
  }

  private func sleepInterruptibly(ms: Int) { runner.sleep(ms: ms) }

}

/// Why an MQTT source could not run.
public enum MQTTSourceError: Error, CustomStringConvertible {
  /// ``MQTTSource/run()`` was called while a run was going on.
  case alreadyRunning(String)

  public var description: String {
    switch self {
    case .alreadyRunning(let name): "MQTT source \(name) is already running"
    }
  }
}

/// The testing seam of ``MQTTSource``: points where crash tests and `weir debug mqtt-ingest` step
/// in. The daemon never sets any.
public struct MQTTSourceHooks: Sendable {
  /// Runs on the source's thread after a pass is committed to the log and before its PUBACKs
  /// are written, so a test can kill the process in between.
  public var afterCommitBeforeAck: (@Sendable () -> Void)?

  public init(afterCommitBeforeAck: (@Sendable () -> Void)? = nil) {
    self.afterCommitBeforeAck = afterCommitBeforeAck
  }

  /// Sleeps `milliseconds` between the commit and the PUBACKs (0: no hook).
  public static func pauseBeforeAck(milliseconds: Int) -> MQTTSourceHooks {
    guard milliseconds > 0 else { return MQTTSourceHooks() }
    let microseconds = UInt32(clamping: min(milliseconds, 3_600_000) * 1000)
    return MQTTSourceHooks { usleep(microseconds) }
  }
}
