import CRdKafka

#if canImport(Glibc)
  import Glibc
#endif

/// The one owner of a librdkafka consumer handle: assigned partitions, no consumer group, no
/// commits. For `weir dev-cluster consume` and tests. Blocking calls: use it from one thread of
/// its own, never from the cooperative pool.
/// `@unchecked Sendable`: no lock: one owner thread at a time, as librdkafka's consumer API allows.
public final class RdKafkaConsumer: @unchecked Sendable {
  private let handle: OpaquePointer

  public init(bootstrapServers: String, properties: [(String, String)] = []) throws(KafkaError) {
    guard let conf = rd_kafka_conf_new() else {
      throw KafkaError(.invalidArgument, "librdkafka: cannot allocate a configuration")
    }
    var errstr = [CChar](repeating: 0, count: 512)
    let settings =
      [
        ("bootstrap.servers", bootstrapServers), ("group.id", "weir-consume"), ("enable.auto.commit", "false"),
        ("enable.auto.offset.store", "false"), ("log_level", "3"),
      ] + properties
    for (key, value) in settings where rd_kafka_conf_set(conf, key, value, &errstr, errstr.count) != RD_KAFKA_CONF_OK {
      rd_kafka_conf_destroy(conf)
      throw KafkaError(.invalidArgument, "librdkafka property \(key)=\(value): \(cText(errstr))")
    }
    guard let rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &errstr, errstr.count) else {
      rd_kafka_conf_destroy(conf)
      throw KafkaError(.invalidArgument, "librdkafka cannot create a consumer: \(cText(errstr))")
    }
    handle = rk
    rd_kafka_poll_set_consumer(rk)
  }

  deinit {
    _ = rd_kafka_consumer_close(handle)
    rd_kafka_destroy(handle)
  }

  /// The partition ids of `topic`, from the cluster's metadata (retried until `timeoutMs`).
  public func partitions(of topic: String, timeoutMs: Int32 = 10_000) throws(KafkaError) -> [Int32] {
    guard let rkt = rd_kafka_topic_new(handle, topic, nil) else {
      throw KafkaError(.invalidArgument, "topic \(topic): \(String(cString: rd_kafka_err2str(rd_kafka_last_error())))")
    }
    defer { rd_kafka_topic_destroy(rkt) }
    var lastError = "no answer"
    var left = Int(timeoutMs)
    while left > 0 {
      var metadata: UnsafePointer<rd_kafka_metadata>?
      let code = rd_kafka_metadata(handle, 0, rkt, &metadata, min(Int32(left), 2000))
      if code == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata {
        defer { rd_kafka_metadata_destroy(metadata) }
        if metadata.pointee.topic_cnt > 0 {
          let t = metadata.pointee.topics[0]
          if t.err == RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt > 0 {
            return (0..<Int(t.partition_cnt)).map { t.partitions[$0].id }.sorted()
          }
          lastError = String(cString: rd_kafka_err2str(t.err))
        }
      } else {
        lastError = String(cString: rd_kafka_err2str(code))
      }
      usleep(100_000)
      left -= 2100
    }
    throw KafkaError(.timedOut, "metadata of topic \(topic): \(lastError)")
  }

  /// Reads these partitions from their beginning or from their end (only what arrives next).
  /// Replaces the whole assignment, as `rd_kafka_assign` does.
  public func assign(_ topics: [(topic: String, partitions: [Int32])], fromBeginning: Bool) throws(KafkaError) {
    let list = rd_kafka_topic_partition_list_new(Int32(topics.reduce(0) { $0 + $1.partitions.count }))
    defer { rd_kafka_topic_partition_list_destroy(list) }
    for (topic, partitions) in topics {
      for p in partitions {
        let entry = rd_kafka_topic_partition_list_add(list, topic, p)
        entry?.pointee.offset = fromBeginning ? -2 : -1  // RD_KAFKA_OFFSET_BEGINNING / _END
      }
    }
    let code = rd_kafka_assign(handle, list)
    guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
      throw KafkaError(
        KafkaErrorCode(rawValue: Int32(code.rawValue)), "assign: \(String(cString: rd_kafka_err2str(code)))")
    }
  }

  /// Reads every partition of `topic`.
  public func assign(topic: String, partitions: [Int32], fromBeginning: Bool) throws(KafkaError) {
    try assign([(topic, partitions)], fromBeginning: fromBeginning)
  }

  /// The next record, or nil when none arrived within `timeoutMs`. Blocks the calling thread.
  public func poll(timeoutMs: Int32) throws(KafkaError) -> KafkaConsumedRecord? {
    guard let message = rd_kafka_consumer_poll(handle, timeoutMs) else { return nil }
    defer { rd_kafka_message_destroy(message) }
    let m = message.pointee
    if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
      if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { return nil }
      let text = rd_kafka_message_errstr(message).map { String(cString: $0) } ?? ""
      throw KafkaError(
        KafkaErrorCode(rawValue: Int32(m.err.rawValue)), "consume: \(String(cString: rd_kafka_err2str(m.err))): \(text)"
      )
    }
    var headers: [KafkaHeader] = []
    var list: OpaquePointer?
    if rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list {
      var index = 0
      var name: UnsafePointer<CChar>?
      var value: UnsafeRawPointer?
      var size = 0
      while rd_kafka_header_get_all(list, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
        headers.append(
          KafkaHeader(
            name: name.map { String(cString: $0) } ?? "",
            value: value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }))
        index += 1
      }
    }
    var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
    let timestamp = rd_kafka_message_timestamp(message, &timestampType)
    return KafkaConsumedRecord(
      topic: m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "", partition: m.partition, offset: m.offset,
      timestamp: timestamp,
      key: m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) },
      value: m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) },
      headers: headers)
  }
}

/// The text of a NUL-terminated C buffer.
private func cText(_ buffer: [CChar]) -> String {
  buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}
