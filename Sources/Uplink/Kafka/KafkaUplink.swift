public import Logging
public import Metrics
public import PartitionedLog
public import WeirCore

/// Store-and-forward from the local log to a Kafka cluster through librdkafka: an idempotent
/// producer (`acks=all`), the record key choosing the partition as Kafka's default partitioner
/// does, each partition's cursor advanced only over what delivery reports confirmed.
///
/// A long-lived service: ``run()`` returns when stopped or cancelled, after committing cursors.
public final class KafkaUplink: Sendable {
  public let config: KafkaUplinkConfig
  let engine: ForwardingEngine<KafkaTransport>

  /// Checks the configuration, creates the producer and the cursor. Nothing is sent before ``run()``.
  public init(
    config: KafkaUplinkConfig, store: LogStore, clock: any WallClock = SystemWallClock(),
    logger: Logger = Logger(label: "weir.uplink"), metrics: any MetricsFactory = MetricsSystem.factory
  ) throws(UplinkError) {
    let problems = config.problems()
    if !problems.isEmpty { throw UplinkError(.configuration, problems.summary) }
    self.config = config
    let transport = try KafkaTransport(config: config, logger: logger)
    engine = try ForwardingEngine(
      options: config.uplink, store: store, transport: transport, clock: clock, logger: logger, metrics: metrics)
  }

  public var name: String { config.uplink.name }

  /// Forwards until ``stop()`` or task cancellation; then waits up to the shutdown grace for
  /// records in flight, commits the confirmed positions and returns. ``run()`` (the lifecycle
  /// `Service`) adds graceful shutdown.
  public func runUntilStopped() async throws { try await engine.run() }

  /// Asks ``run()`` to return.
  public func stop() { engine.stop() }

  /// Positions, lag and counters, refreshed every snapshot interval.
  public func snapshot() -> UplinkSnapshot { engine.snapshot() }

  /// Raises librdkafka's fatal error in the running producer (tests of the recovery path).
  func triggerFatalErrorForTesting() { engine.transport.triggerFatalErrorForTesting() }

  /// Watches confirmations in the order they arrive (tests).
  func observeDeliveries(_ observer: @escaping @Sendable (String, Int32, Int64) -> Void) {
    engine.deliveryObserver = observer
  }
}
