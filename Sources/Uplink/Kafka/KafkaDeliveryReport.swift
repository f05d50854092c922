/// Whether librdkafka knows a failed message reached the broker (`rd_kafka_message_status`).
public enum KafkaPersistence: Sendable, Equatable {
  case notPersisted, possiblyPersisted, persisted
}

/// One delivery report, copied out of librdkafka before its callback returned.
public struct KafkaDeliveryReport: Sendable, Equatable {
  /// The per-message opaque given to ``RdKafkaProducer/produce(topic:key:value:timestamp:headers:token:)``.
  public var token: UInt64
  /// Zero when the broker acknowledged the message.
  public var error: KafkaErrorCode
  public var persistence: KafkaPersistence
  public var partition: Int32
  /// The offset the broker assigned, or -1.
  public var offset: Int64
}
