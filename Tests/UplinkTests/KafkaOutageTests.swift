import Foundation
import PartitionedLog
import Synchronization
import Testing
import WeirTestSupport

@testable import Uplink

@Suite(.serialized) struct KafkaOutageTests {
  /// Every broker goes down for longer than librdkafka's message timeout while records keep
  /// arriving: timed-out records are re-read from the log, memory stays within the window, lag
  /// rises and returns to zero, and every record arrives, in order of first arrival.
  @Test func allBrokersDownNothingLostWindowHolds() async throws {
    let dir = TempDirectory()
    let store = try openTestStore(dir, topics: ["telemetry": 3])
    let mock = try RdKafkaMockCluster(brokers: 3)
    try mock.createTopic("edge.telemetry", partitions: 3)
    let window = InFlightWindow(maxRecords: 2000, maxBytes: 1 << 20)
    let metrics = TestMetrics()
    let uplink = try KafkaUplink(
      config: KafkaUplinkConfig(
        uplink: kafkaOptions(topics: [UplinkTopic("telemetry")], window: window),
        bootstrapServers: mock.bootstrapServers, messageTimeoutMs: 2500),
      store: store, metrics: metrics)
    let running = Running(uplink)
    let sampler = SnapshotSampler { uplink.snapshot() }
    let appender = appendSteadily(store, topic: "telemetry", total: 30_000, slice: 50, intervalMs: 10)
    try await Task.sleep(nanoseconds: 1_000_000_000)
    try mock.setBrokerDown()
    try await Task.sleep(nanoseconds: 5_000_000_000)
    let duringOutage = uplink.snapshot()
    let lagDuringOutage = metrics.total("weir_uplink_lag_records")
    let ageDuringOutage = metrics.total("weir_uplink_oldest_unconfirmed_age_seconds")
    try mock.setBrokerUp()
    let counts = try await appender.value
    try await eventually("the backlog drains", timeout: 60) { uplink.snapshot().lagRecords == 0 }
    let extremes = sampler.stop()
    let records = try await consume(bootstrap: mock.bootstrapServers, topics: ["edge.telemetry"], timeout: 30) {
      firstArrivals($0).order.values.reduce(0) { $0 + $1.count } >= 30_000
    }
    try await running.stop()

    expectComplete(records, topic: "telemetry", counts: counts, allowDuplicates: true)
    let snapshot = uplink.snapshot()
    #expect(snapshot.peakInFlightRecords <= window.maxRecords)
    #expect(snapshot.peakInFlightBytes <= window.maxBytes)
    #expect(duringOutage.inFlightRecords <= window.maxRecords)
    #expect(extremes.maxLag > 5000, "lag should have grown during the outage, max \(extremes.maxLag)")
    #expect(extremes.sawDisconnected)
    #expect(snapshot.rewinds > 0, "records should have timed out in librdkafka and been re-read")
    #expect(snapshot.lagRecords == 0)
    #expect(duringOutage.oldestUnconfirmedAgeSeconds > 0.5)
    #expect(duringOutage.partitions.contains { $0.lagSeconds > 0 && $0.lagRecords > 0 })
    #expect(lagDuringOutage > 1000)
    #expect(ageDuringOutage > 0)
    #expect(metrics.total("weir_uplink_lag_records") == 0)
    #expect(metrics.total("weir_uplink_acked_records_total", [("uplink", "central"), ("topic", "telemetry")]) >= 30_000)
    #expect(metrics.total("weir_uplink_errors_total") > 0)
    // Whatever was sent after the outage began carries the replay mark.
    #expect(records.contains { $0.header("weir.replayed") == "true" })
    try store.close()
  }

  /// Produce requests fail with retriable errors and dropped connections: librdkafka retries,
  /// nothing is lost, nothing is duplicated or reordered.
  @Test func injectedRequestErrorsAreRetriedInOrder() async throws {
    let dir = TempDirectory()
    let store = try openTestStore(dir, topics: ["telemetry": 3])
    let mock = try RdKafkaMockCluster(brokers: 3)
    try mock.createTopic("edge.telemetry", partitions: 3)
    let uplink = try KafkaUplink(
      config: KafkaUplinkConfig(
        uplink: kafkaOptions(topics: [UplinkTopic("telemetry")], window: InFlightWindow(maxRecords: 5000)),
        bootstrapServers: mock.bootstrapServers),
      store: store)
    let running = Running(uplink)
    let appender = appendSteadily(store, topic: "telemetry", total: 40_000, slice: 200, intervalMs: 5)
    for round in 0..<6 {
      try await Task.sleep(nanoseconds: 150_000_000)
      mock.pushRequestErrors(
        apiKey: RdKafkaMockCluster.produceApiKey,
        round % 2 == 0
          ? [.notLeaderForPartition, .notEnoughReplicas, .requestTimedOut, .leaderNotAvailable]
          : [.transport, .notEnoughReplicas, .transport])
    }
    let counts = try await appender.value
    try await eventually("everything confirmed", timeout: 60) { uplink.snapshot().lagRecords == 0 }
    let records = try await consume(bootstrap: mock.bootstrapServers, topics: ["edge.telemetry"], timeout: 30) {
      $0.count >= 40_000
    }
    try await running.stop()
    expectComplete(records, topic: "telemetry", counts: counts, allowDuplicates: false)
    #expect(records.count == 40_000)
    try store.close()
  }

  /// librdkafka 2.0.2 can raise a fatal error (sequence desynchronisation); the uplink destroys
  /// the producer, creates a new one, rewinds and goes on. Re-sent records are duplicates the
  /// headers identify; first arrivals stay in order.
  @Test func fatalErrorRecreatesTheProducer() async throws {
    let dir = TempDirectory()
    let store = try openTestStore(dir, topics: ["telemetry": 3])
    let mock = try RdKafkaMockCluster(brokers: 3)
    try mock.createTopic("edge.telemetry", partitions: 3)
    try mock.setRoundTripTime(milliseconds: 20)
    let uplink = try KafkaUplink(
      config: KafkaUplinkConfig(
        uplink: kafkaOptions(topics: [UplinkTopic("telemetry")]), bootstrapServers: mock.bootstrapServers),
      store: store)
    let running = Running(uplink)
    let appender = appendSteadily(store, topic: "telemetry", total: 20_000, slice: 100, intervalMs: 5)
    try await Task.sleep(nanoseconds: 400_000_000)
    uplink.triggerFatalErrorForTesting()
    let counts = try await appender.value
    try await eventually("everything confirmed", timeout: 60) { uplink.snapshot().lagRecords == 0 }
    let records = try await consume(bootstrap: mock.bootstrapServers, topics: ["edge.telemetry"], timeout: 30) {
      firstArrivals($0).order.values.reduce(0) { $0 + $1.count } >= 20_000
    }
    try await running.stop()
    expectComplete(records, topic: "telemetry", counts: counts, allowDuplicates: true)
    #expect(uplink.snapshot().transportRestarts >= 1)
    try store.close()
  }
}
