import Metrics

/// The swift-metrics series of one uplink partition.
struct LaneMetrics {
  let sent: Counter
  let acked: Counter
  let errors: Counter
  let lost: Counter
  let lagRecords: Gauge
  let lagSeconds: Gauge
  let oldestUnconfirmedAge: Gauge

  init(uplink: String, topic: String, partition: Int32, factory: any MetricsFactory) {
    let dimensions = [("uplink", uplink), ("topic", topic), ("partition", String(partition))]
    sent = Counter(label: "weir_uplink_sent_records_total", dimensions: dimensions, factory: factory)
    acked = Counter(label: "weir_uplink_acked_records_total", dimensions: dimensions, factory: factory)
    errors = Counter(label: "weir_uplink_errors_total", dimensions: dimensions, factory: factory)
    lost = Counter(label: "weir_uplink_lost_records_total", dimensions: dimensions, factory: factory)
    lagRecords = Gauge(label: "weir_uplink_lag_records", dimensions: dimensions, factory: factory)
    lagSeconds = Gauge(label: "weir_uplink_lag_seconds", dimensions: dimensions, factory: factory)
    oldestUnconfirmedAge = Gauge(
      label: "weir_uplink_oldest_unconfirmed_age_seconds", dimensions: dimensions, factory: factory)
  }
}
