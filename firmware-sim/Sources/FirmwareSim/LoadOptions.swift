/// Load mode: publish as fast as the broker takes, for benchmarks.
public struct LoadOptions: Sendable {
  public var broker: BrokerURL
  /// Messages in total, split evenly over the publishers. Default: 100 000.
  public var messages: Int = 100_000
  /// Payload size in bytes. Default: 100.
  public var payloadBytes: Int = 100
  /// 0 or 1. Default: 0.
  public var qos: Int32 = 0
  /// Connections publishing in parallel, one thread each. Default: 1.
  public var publishers: Int = 1
  /// Topics are `<topicPrefix>/<publisher>/<n>`, n = message number mod ``topicsPerPublisher``.
  /// Default: `bench`.
  public var topicPrefix: String = "bench"
  /// Distinct topics per publisher. Default: 1.
  public var topicsPerPublisher: Int = 1
  /// QoS 1 messages in flight per publisher (libmosquitto's send maximum, and our own window).
  /// Default: 1000.
  public var maxInflight: Int32 = 1000
  /// Client ids are `<clientIDPrefix>-<n>`. Default: `firmware-sim-load`.
  public var clientIDPrefix: String = "firmware-sim-load"

  public init(broker: BrokerURL) {
    self.broker = broker
  }
}
