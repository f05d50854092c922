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
/// - `weir_listener_back_pressured`: 1 while the log refuses appends and no socket is read;
/// - `weir_listener_delivered_total{qos}`: PUBLISHes sent to subscribers, by QoS;
/// - `weir_listener_delivery_skipped_total{reason}`: records a subscriber's feed could not get
///   (`retention`: deleted before it read them; `corrupt`; `too_large`: over the client's maximum
///   packet size, dropped as 5.0 section 3.1.2.11.4 says; `retained_queue`: retained messages over
///   `max_retained` queued for one session);
/// - `weir_listener_subscriptions`, `weir_listener_retained`: gauges;
/// - `weir_listener_retained_dropped_total`: retained PUBLISHes not retained (over `max_retained`);
/// - `weir_listener_denied_total{action}`: PUBLISHes (`publish`) and subscriptions (`subscribe`)
///   the ACL file refused (a delivery the ACL refuses to read is skipped on each record, not counted).
final class ListenerMetrics: Sendable {
  let connections: Gauge
  let sessions: Gauge
  let backPressured: Gauge
  let ackLatency: Timer
  let delivered: [Counter]
  let subscriptions: Gauge
  let retained: Gauge
  let retainedDropped: Counter
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
    delivered = (0...1).map {
      Counter(label: "weir_listener_delivered_total", dimensions: d + [("qos", "\($0)")], factory: factory)
    }
    subscriptions = Gauge(label: "weir_listener_subscriptions", dimensions: d, factory: factory)
    retained = Gauge(label: "weir_listener_retained", dimensions: d, factory: factory)
    retainedDropped = Counter(label: "weir_listener_retained_dropped_total", dimensions: d, factory: factory)
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

  func skipped(_ reason: String, _ count: Int64) {
    Counter(
      label: "weir_listener_delivery_skipped_total", dimensions: [("listener", listener), ("reason", reason)],
      factory: factory
    )
    .increment(by: count)
  }

  /// A PUBLISH or SUBSCRIBE the ACL file refused (`weir_listener_denied_total{action}`).
  func denied(_ action: String) {
    Counter(
      label: "weir_listener_denied_total", dimensions: [("listener", listener), ("action", action)], factory: factory
    )
    .increment()
  }

  func rejected(_ reason: String) {
    Counter(
      label: "weir_listener_rejected_total", dimensions: [("listener", listener), ("reason", reason)], factory: factory
    )
    .increment()
  }
}
