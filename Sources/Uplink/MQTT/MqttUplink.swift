public import Logging
public import Metrics
public import PartitionedLog
public import WeirCore

/// Store-and-forward from the local log to a central MQTT broker: QoS 1 publishes on a persistent
/// session, each record as a JSON envelope carrying its key, value, timestamp and headers (the
/// `weir.*` identity included), each partition's cursor advanced over what PUBACKs confirmed.
///
/// A long-lived service: ``run()`` returns when stopped or cancelled, after committing cursors.
public final class MqttUplink: Sendable {
  public let config: MqttUplinkConfig
  let engine: ForwardingEngine<MqttTransport>

  /// Checks the configuration, creates the client and the cursor. Nothing connects before ``run()``.
  public init(
    config: MqttUplinkConfig, store: LogStore, clock: any WallClock = SystemWallClock(),
    logger: Logger = Logger(label: "weir.uplink"), metrics: any MetricsFactory = MetricsSystem.factory
  ) throws(UplinkError) {
    let problems = config.problems()
    if !problems.isEmpty { throw UplinkError(.configuration, problems.summary) }
    self.config = config
    let transport = try MqttTransport(config: config, logger: logger)
    engine = try ForwardingEngine(
      options: config.uplink, store: store, transport: transport, clock: clock, logger: logger, metrics: metrics)
  }

  public var name: String { config.uplink.name }

  /// Forwards until ``stop()`` or task cancellation; then waits up to the shutdown grace for
  /// PUBACKs, commits the confirmed positions and returns. ``run()`` (the lifecycle `Service`)
  /// adds graceful shutdown.
  public func runUntilStopped() async throws { try await engine.run() }

  /// Asks ``run()`` to return.
  public func stop() { engine.stop() }

  /// Positions, lag and counters, refreshed every snapshot interval.
  public func snapshot() -> UplinkSnapshot { engine.snapshot() }
}
