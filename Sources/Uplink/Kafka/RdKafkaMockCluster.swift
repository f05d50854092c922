import CRdKafka

/// librdkafka's mock Kafka cluster (`rdkafka_mock.h`, an experimental API): N brokers on
/// loopback ports, in this process, for development and tests. A development stand-in, never a
/// real Kafka: it keeps everything in memory and implements only what librdkafka's own tests need.
///
/// Owns the `rd_kafka_t` the cluster needs for its bookkeeping and the cluster itself; both are
/// destroyed in `deinit`. Its methods are thread-safe (the mock serialises them on its own thread).
/// `@unchecked Sendable`: immutable handles; librdkafka's mock cluster serialises every call on its own thread.
public final class RdKafkaMockCluster: @unchecked Sendable {
  private let handle: OpaquePointer
  private let cluster: OpaquePointer
  /// `host:port,host:port,...` for `bootstrap.servers`, reachable from other processes too.
  public let bootstrapServers: String
  public let brokerCount: Int

  /// The Kafka protocol's ProduceRequest api key, for ``pushRequestErrors(apiKey:_:)``.
  public static let produceApiKey: Int16 = 0

  public init(brokers: Int) throws(KafkaError) {
    guard brokers >= 1 else {
      throw KafkaError(.invalidArgument, "a mock cluster needs at least one broker, got \(brokers)")
    }
    guard let conf = rd_kafka_conf_new() else {
      throw KafkaError(.invalidArgument, "librdkafka: cannot allocate a configuration")
    }
    var errstr = [CChar](repeating: 0, count: 512)
    _ = rd_kafka_conf_set(conf, "log_level", "3", &errstr, errstr.count)
    guard let rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errstr, errstr.count) else {
      rd_kafka_conf_destroy(conf)
      throw KafkaError(.invalidArgument, "librdkafka cannot create the mock cluster's handle: \(cText(errstr))")
    }
    guard let mock = rd_kafka_mock_cluster_new(rk, Int32(brokers)) else {
      rd_kafka_destroy(rk)
      throw KafkaError(.invalidArgument, "librdkafka could not start a mock cluster of \(brokers) brokers")
    }
    handle = rk
    cluster = mock
    bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(mock))
    brokerCount = brokers
  }

  deinit {
    rd_kafka_mock_cluster_destroy(cluster)
    rd_kafka_destroy(handle)
  }

  /// Creates a topic (the mock has no CreateTopics API).
  public func createTopic(_ name: String, partitions: Int, replicationFactor: Int? = nil) throws(KafkaError) {
    let replicas = replicationFactor ?? min(3, brokerCount)
    try check(rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(replicas)), "create topic \(name)")
  }

  /// Disconnects a broker (-1: every broker) and refuses new connections. Leadership does not move.
  public func setBrokerDown(_ broker: Int32 = -1) throws(KafkaError) {
    try check(rd_kafka_mock_broker_set_down(cluster, broker), "set broker \(broker) down")
  }

  /// Lets a broker (-1: every broker) accept connections again.
  public func setBrokerUp(_ broker: Int32 = -1) throws(KafkaError) {
    try check(rd_kafka_mock_broker_set_up(cluster, broker), "set broker \(broker) up")
  }

  /// Delays every response of a broker (-1: every broker).
  public func setRoundTripTime(milliseconds: Int, broker: Int32 = -1) throws(KafkaError) {
    try check(rd_kafka_mock_broker_set_rtt(cluster, broker, Int32(milliseconds)), "set round-trip time")
  }

  /// Makes the next requests of `apiKey` fail with these errors, in order, whichever broker gets them.
  public func pushRequestErrors(apiKey: Int16, _ errors: [KafkaErrorCode]) {
    let codes = errors.map { rd_kafka_resp_err_t(rawValue: $0.rawValue) }
    codes.withUnsafeBufferPointer { buffer in
      rd_kafka_mock_push_request_errors_array(cluster, apiKey, buffer.count, buffer.baseAddress)
    }
  }

  /// Moves a partition's leadership to `broker` (-1: leaderless).
  public func setPartitionLeader(topic: String, partition: Int32, broker: Int32) throws(KafkaError) {
    try check(
      rd_kafka_mock_partition_set_leader(cluster, topic, partition, broker), "set leader of \(topic)/\(partition)")
  }

  private func check(_ code: rd_kafka_resp_err_t, _ what: String) throws(KafkaError) {
    guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
      throw KafkaError(
        KafkaErrorCode(rawValue: Int32(code.rawValue)),
        "mock cluster: \(what): \(String(cString: rd_kafka_err2str(code)))")
    }
  }
}

/// The text of a NUL-terminated C buffer.
private func cText(_ buffer: [CChar]) -> String {
  buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}
