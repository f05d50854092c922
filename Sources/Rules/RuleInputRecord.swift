/// One record handed to the engine: borrowed views of the log's buffers, valid only for the call.
///
/// The engine never keeps `key` or `value` beyond the call (late records routed aside are copied).
public struct RuleInputRecord {
  /// The record's partition.
  public var partition: Int32
  /// The record's offset in its partition.
  public var offset: Int64
  /// Event time, epoch milliseconds.
  public var timestamp: Int64
  /// The record key, if any.
  public var key: UnsafeRawBufferPointer?
  /// The JSON payload.
  public var value: UnsafeRawBufferPointer

  /// Creates a record view.
  public init(
    partition: Int32, offset: Int64, timestamp: Int64, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer
  ) {
    self.partition = partition
    self.offset = offset
    self.timestamp = timestamp
    self.key = key
    self.value = value
  }
}

/// A topic name interned by the engine; get one from `RuleEngine.topic(_:)` and reuse it for every record.
public struct TopicID: Hashable, Sendable {
  let index: Int
}
