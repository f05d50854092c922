/// A librdkafka error code (`rd_kafka_resp_err_t`). The codes Weir branches on are named in
/// `RdKafkaProducer.swift`, the one place that sees the C enum.
public struct KafkaErrorCode: RawRepresentable, Hashable, Sendable {
  public var rawValue: Int32
  public init(rawValue: Int32) { self.rawValue = rawValue }

  public var isError: Bool { rawValue != 0 }
}

/// A librdkafka failure with the library's own text (`rd_kafka_err2str`) and what Weir was doing.
public struct KafkaError: Error, CustomStringConvertible, Sendable {
  public var code: KafkaErrorCode
  public var message: String

  public init(_ code: KafkaErrorCode, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { message }
}
