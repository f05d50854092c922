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
  fileprivate let connectedGauge: Gauge
  fileprivate let reconnects: Counter
  fileprivate let errors: Counter
  fileprivate let stalledGauge: Gauge
  fileprivate let backPressureGauge: Gauge
  fileprivate let hooks: MQTTSourceHooks

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

  fileprivate func setStatus(_ change: (inout MQTTSourceStatus) -> Void) {
    statusLock.withLock { status in change(&status) }
  }

  // MARK: The loop

  private func loop() throws {
    let router = try LogRouter(store: store, source: config.name, deadLetterTopic: config.deadLetterTopic)
    let run = try Run(source: self, router: router)
    var committer = SourceCommitter(router: router, logger: logger, source: config.name) { [self] paused in
      setStatus { $0.backPressured = paused }
      backPressureGauge.record(paused ? 1 : 0)
    }
    try runner.drive(
      run, committer: &committer, backoff: Backoff(initialMs: config.reconnectMinMs, maxMs: config.reconnectMaxMs))
  }

  /// One run's protocol: a libmosquitto client per connection, the decoder and the subscriptions;
  /// ``SourceRunner`` does the rest. A read pass is what the socket holds (up to the batch limits);
  /// its PUBACKs, queued by the library, leave only in ``acknowledge(_:committedRecords:)``, after
  /// the commit.
  private final class Run: Source {
    let source: MQTTSource
    let router: LogRouter
    let decoder: MQTTMessageDecoder
    var lastMisc = Monotonic.milliseconds()
    var subscribedAt: [Int32: (index: Int, at: Int64)] = [:]

    init(source: MQTTSource, router: LogRouter) throws {
      self.source = source
      self.router = router
      decoder = try MQTTMessageDecoder(config: source.config, router: router, source: source.config.name)
    }

    var shutdownPatienceMs: Int { 2000 }

    func connect() throws -> MosquittoClient {
      let client = try MosquittoClient(config: source.config.client)
      wire(client)
      try client.connect()
      return client
    }

    func connectFailed(_ error: any Error, retryInMs: Int) {
      source.errors.increment()
      source.setStatus {
        $0.connected = false
        $0.lastError = "\(error)"
      }
      source.logger.warning("cannot connect", metadata: ["error": "\(error)", "retry_ms": "\(retryInMs)"])
    }

    func readPass(_ client: MosquittoClient) throws {
      decoder.now = SystemWallClock.milliseconds()
      let config = source.config
      let read = try client.readAvailable(
        maxMessages: config.batchMaxMessages, maxBytes: config.batchMaxBytes, timeoutMs: 20
      ) { decoder.handle($0) }
      if read > 0 { source.setStatus { $0.messages += Int64(read) } }
    }

    func acknowledge(_ client: MosquittoClient?, committedRecords: Bool) throws {
      guard let client else { return }
      if committedRecords { source.hooks.afterCommitBeforeAck?() }
      try client.writePending()
      let now = Monotonic.milliseconds()
      if now - lastMisc >= 1000 {
        try client.misc()
        try client.writePending()
        lastMisc = now
        checkStalls(now: now)
      }
    }

    func lost(_ client: MosquittoClient, _ error: any Error, retryInMs: Int) {
      // The connection is gone. Records read but not committed were never acknowledged: drop
      // them, the broker delivers them again. The next connection's fresh client also drops any
      // PUBACK the library queued for them.
      router.discardPending()
      down("\(error)")
      source.logger.warning("connection lost", metadata: ["error": "\(error)"])
    }

    func failed(_ client: MosquittoClient?, _ error: LogError) {
      // Acknowledge nothing the log may not hold: the client goes with this run, its queued
      // PUBACKs unsent, so the broker delivers the pass again to the restarted source.
      router.discardPending()
      down("\(error)")
      source.logger.error("log append failed; stopping without acknowledging", metadata: ["error": "\(error)"])
    }

    /// What the client read is in the log already (each pass is committed): nothing to drain.
    func drain(_ client: MosquittoClient?, commit: () throws(LogError) -> Bool) {}

    func close(_ client: MosquittoClient?, shutdownError: LogError?) {
      if let client {
        if shutdownError == nil, router.pendingRecords == 0 {
          try? router.flush()
          client.disconnect()
          try? client.writePending()
        } else {
          // If the log did not take all of the pass, none of it is acknowledged: the client is
          // dropped without writing, so its queued PUBACKs never leave and the broker redelivers.
          source.logger.warning(
            "stopping with records the log did not take; they are not acknowledged and the broker delivers them again",
            metadata: ["records": "\(router.pendingRecords)"])
          router.discardPending()
        }
      }
      source.connectedGauge.record(0)
      source.setStatus { $0.connected = false }
    }

    private func down(_ reason: String) {
      source.errors.increment()
      source.connectedGauge.record(0)
      source.setStatus {
        $0.connected = false
        $0.lastError = reason
      }
      subscribedAt.removeAll()
    }

    private func wire(_ c: MosquittoClient) {
      subscribedAt.removeAll()
      let source = self.source
      let config = source.config
      c.onConnect = { [self] rc, sessionPresent, reason in
        guard rc == 0 else {
          source.setStatus { $0.lastError = "broker refused the connection: \(reason)" }
          source.errors.increment()
          source.logger.error("broker refused the connection", metadata: ["reason": "\(reason)"])
          return
        }
        source.setStatus {
          $0.connected = true
          $0.connects += 1
          $0.lastError = nil
        }
        source.reconnects.increment()
        source.connectedGauge.record(1)
        source.logger.info(
          "connected",
          metadata: ["broker": "\(config.client.host):\(config.client.port)", "session_present": "\(sessionPresent)"])
        if !sessionPresent || source.status.subscriptions.contains(where: { !$0.acknowledged }) {
          for (i, s) in config.subscriptions.enumerated() {
            do {
              let mid = try c.subscribe(s.filter, qos: Int32(s.qos))
              subscribedAt[mid] = (i, Monotonic.milliseconds())
            } catch {
              source.setStatus { $0.lastError = "\(error)" }
            }
          }
        }
      }
      c.onSubscribe = { [self] mid, granted in
        guard let (i, _) = subscribedAt.removeValue(forKey: mid) else { return }
        let refused = granted.first.map { $0 >= 0x80 } ?? true
        source.setStatus {
          $0.subscriptions[i].acknowledged = !refused
          $0.subscriptions[i].stalled = refused
          $0.subscriptions[i].grantedQoS = granted.first
        }
        if refused {
          source.logger.error(
            "the broker refused a subscription", metadata: ["filter": "\(config.subscriptions[i].filter)"])
        }
      }
    }

    /// Marks subscriptions the broker has not acknowledged in time as stalled.
    private func checkStalls(now: Int64) {
      for (_, w) in subscribedAt where now - w.at > Int64(source.config.subscriptionStallMs) {
        source.setStatus { $0.subscriptions[w.index].stalled = true }
      }
      source.stalledGauge.record(source.status.subscriptions.filter(\.stalled).count)
    }
  }
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
