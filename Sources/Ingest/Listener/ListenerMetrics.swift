import CoreMetrics
import MQTTWire
import Metrics

/// The listener's metrics (`listener` is the listener's name):
/// - `weir_listener_connections`, `weir_listener_sessions`: gauges;
/// - `weir_listener_packets_total{type}`: packets received, by type (counted per read pass, not
///   per packet);
/// - `weir_listener_ack_latency_seconds`: from a PUBLISH's receipt to its PUBACK or PUBREC leaving,
///   recorded for the first and last acknowledgement of each write (a write carries every
///   acknowledgement a connection's durable epoch released);
/// - `weir_listener_rejected_total{reason}`: connections refused or closed, by reason code name or
///   `max_connections`, `auth`;
/// - `weir_listener_back_pressured`: 1 while the log refuses appends and no socket is read.
final class ListenerMetrics: Sendable {
  let connections: Gauge
  let sessions: Gauge
  let backPressured: Gauge
  let ackLatency: Timer
  private let packets: [Counter]
  private let listener: String
  private let factory: any MetricsFactory

  init(listener: String, factory: any MetricsFactory) {
    self.listener = listener
    self.factory = factory
    let d = [("listener", listener)]
    connections = Gauge(label: "weir_listener_connections", dimensions: d, factory: factory)
    sessions = Gauge(label: "weir_listener_sessions", dimensions: d, factory: factory)
    backPressured = Gauge(label: "weir_listener_back_pressured", dimensions: d, factory: factory)
    ackLatency = Timer(
      label: "weir_listener_ack_latency_seconds", dimensions: d, preferredDisplayUnit: .seconds, factory: factory)
    packets = (0...15).map { raw in
      let name = PacketType(rawValue: UInt8(raw))?.description ?? "reserved"
      return Counter(label: "weir_listener_packets_total", dimensions: d + [("type", name)], factory: factory)
    }
  }

  /// Adds one read pass's packet counts (indexed by packet type).
  func count(_ counts: inout [Int]) {
    for (i, n) in counts.enumerated() where n > 0 {
      packets[i].increment(by: Int64(n))
      counts[i] = 0
    }
  }

  func rejected(_ reason: String) {
    Counter(
      label: "weir_listener_rejected_total", dimensions: [("listener", listener), ("reason", reason)], factory: factory
    )
    .increment()
  }
}
