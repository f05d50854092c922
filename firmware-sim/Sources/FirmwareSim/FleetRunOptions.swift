/// How the fleet reaches the broker.
public struct FleetRunOptions: Sendable {
  public var broker: BrokerURL
  /// Topics are `<topicPrefix>/<device>/telemetry`. Default: `sensors`.
  public var topicPrefix: String = "sensors"
  /// Connections shared by the devices (device i uses connection i mod count). Default: 4.
  public var connections: Int = 4
  /// One connection per device instead (client id per device). Default: false.
  public var connectionPerDevice: Bool = false
  /// Client ids are `<clientIDPrefix>-<n>`, n from 1. Default: `firmware-sim`.
  public var clientIDPrefix: String = "firmware-sim"
  /// Every this many real seconds, every connection is cut at once and reconnects one second later.
  /// Default: nil (no storms).
  public var reconnectStormSeconds: Double?
  /// How long to wait for the first connections, real seconds. Default: 10.
  public var connectTimeoutSeconds: Double = 10
  /// How long to wait at the end for QoS 1 acknowledgements, real seconds. Default: 10.
  public var drainTimeoutSeconds: Double = 10
  /// QoS 1 messages in flight per connection. Default: 1000.
  public var maxInflight: Int32 = 1000

  public init(broker: BrokerURL) {
    self.broker = broker
  }
}
