/// One header of a consumed record.
public struct KafkaHeader: Sendable, Equatable {
  public var name: String
  public var value: [UInt8]?

  public init(name: String, value: [UInt8]?) {
    self.name = name
    self.value = value
  }
}

/// A record as a Kafka consumer received it, copied out of librdkafka.
public struct KafkaConsumedRecord: Sendable, Equatable {
  public var topic: String
  public var partition: Int32
  public var offset: Int64
  /// Milliseconds since the epoch, or -1.
  public var timestamp: Int64
  public var key: [UInt8]?
  public var value: [UInt8]?
  public var headers: [KafkaHeader]

  /// The last header named `name` (Kafka's `lastHeader`), as UTF-8 text.
  public func header(_ name: String) -> String? {
    headers.last { $0.name == name }?.value.map { String(decoding: $0, as: UTF8.self) }
  }
}
