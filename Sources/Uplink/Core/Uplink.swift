public import Logging
public import Metrics
public import PartitionedLog
public import ServiceLifecycle
public import WeirCore

/// What an uplink's configuration must offer: the options every uplink shares, its checks, and the
/// engine with its transport (Kafka through librdkafka, or a central MQTT broker).
public protocol UplinkConfiguration: ConfigValidating, Sendable {
  var uplink: UplinkOptions { get }
  /// Creates the transport and the engine over it (the transport connects nowhere yet).
  func makeEngine(store: LogStore, clock: any WallClock, logger: Logger, metrics: any MetricsFactory)
    throws(UplinkError) -> UplinkEngine
}

/// The forwarding engine behind an ``Uplink``, whatever its transport; opaque outside the module.
public final class UplinkEngine: Sendable {
  let run: @Sendable () async throws -> Void
  let stop: @Sendable () -> Void
  let snapshot: @Sendable () -> UplinkSnapshot
  /// The typed engine (tests reach the Kafka producer through it).
  let base: any Sendable

  /// The engine over `transport` for `options`.
  convenience init<T: UplinkTransport>(
    _ options: UplinkOptions, _ transport: T, store: LogStore, clock: any WallClock, logger: Logger,
    metrics: any MetricsFactory
  ) throws(UplinkError) {
    self.init(
      try ForwardingEngine(
        options: options, store: store, transport: transport, clock: clock, logger: logger, metrics: metrics))
  }

  init<T: UplinkTransport>(_ engine: ForwardingEngine<T>) {
    run = { try await engine.run() }
    stop = { engine.stop() }
    snapshot = { engine.snapshot() }
    base = engine
  }
}

/// Store-and-forward from the local log to the central side: every partition of the configured
/// topics in offset order, each partition's cursor advanced only over what the remote end
/// confirmed (``KafkaUplink``: librdkafka's delivery reports from an idempotent producer with
/// `acks=all`; ``MqttUplink``: PUBACKs of QoS 1 publishes on a persistent session, each record a
/// JSON envelope with its key, value, timestamp and headers).
///
/// A long-lived service: ``run()`` returns when stopped or cancelled, after committing cursors.
public final class Uplink<Config: UplinkConfiguration>: Sendable {
  public let config: Config
  let engine: UplinkEngine

  /// Checks the configuration, creates the transport and the cursor. Nothing is sent before ``run()``.
  public init(
    config: Config, store: LogStore, clock: any WallClock = SystemWallClock(),
    logger: Logger = Logger(label: "weir.uplink"), metrics: any MetricsFactory = MetricsSystem.factory
  ) throws(UplinkError) {
    let problems = config.problems()
    if !problems.isEmpty { throw UplinkError(.configuration, problems.summary) }
    self.config = config
    engine = try config.makeEngine(store: store, clock: clock, logger: logger, metrics: metrics)
  }

  public var name: String { config.uplink.name }

  /// Forwards until ``stop()`` or task cancellation; then waits up to the shutdown grace for what
  /// is in flight, commits the confirmed positions and returns. ``run()`` (the lifecycle
  /// `Service`) adds graceful shutdown.
  public func runUntilStopped() async throws { try await engine.run() }

  /// Asks ``run()`` to return.
  public func stop() { engine.stop() }

  /// Positions, lag and counters, refreshed every snapshot interval.
  public func snapshot() -> UplinkSnapshot { engine.snapshot() }
}

extension Uplink: Service {
  /// ``runUntilStopped()`` as a lifecycle `Service`: graceful shutdown calls ``stop()``, and this
  /// returns once what is in flight is confirmed (or the shutdown grace is over) and the cursors
  /// are committed.
  public func run() async throws {
    try await withGracefulShutdownHandler(operation: runUntilStopped, onGracefulShutdown: stop)
  }
}

/// Forwards to a Kafka cluster.
public typealias KafkaUplink = Uplink<KafkaUplinkConfig>
/// Forwards to a central MQTT broker.
public typealias MqttUplink = Uplink<MqttUplinkConfig>

extension KafkaUplinkConfig: UplinkConfiguration {
  public func makeEngine(store: LogStore, clock: any WallClock, logger: Logger, metrics: any MetricsFactory)
    throws(UplinkError) -> UplinkEngine
  {
    try UplinkEngine(
      uplink, KafkaTransport(config: self, logger: logger), store: store, clock: clock, logger: logger,
      metrics: metrics)
  }
}

extension MqttUplinkConfig: UplinkConfiguration {
  public func makeEngine(store: LogStore, clock: any WallClock, logger: Logger, metrics: any MetricsFactory)
    throws(UplinkError) -> UplinkEngine
  {
    try UplinkEngine(
      uplink, MqttTransport(config: self, logger: logger), store: store, clock: clock, logger: logger,
      metrics: metrics)
  }
}

extension Uplink where Config == KafkaUplinkConfig {
  private var kafkaEngine: ForwardingEngine<KafkaTransport> { engine.base as! ForwardingEngine<KafkaTransport> }

  /// Raises librdkafka's fatal error in the running producer (tests of the recovery path).
  func triggerFatalErrorForTesting() { kafkaEngine.transport.triggerFatalErrorForTesting() }

  /// Watches confirmations in the order they arrive (tests).
  func observeDeliveries(_ observer: @escaping @Sendable (String, Int32, Int64) -> Void) {
    kafkaEngine.deliveryObserver = observer
  }
}
