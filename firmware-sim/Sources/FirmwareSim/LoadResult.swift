/// The rate a load run achieved.
public struct LoadResult: Sendable, Equatable {
  /// Messages written (QoS 0) or acknowledged (QoS 1).
  public var messages: Int
  /// Seconds from the first publish to the last write or PUBACK.
  public var seconds: Double
  public var qos: Int32
  public var publishers: Int
  public var payloadBytes: Int
  /// Publishes that failed.
  public var errors: Int

  public var messagesPerSecond: Double {
    seconds > 0 ? Double(messages) / seconds : 0
  }

  /// One JSON object: `{"messages":..,"seconds":..,"msgs_per_s":..,...}`.
  public func json() -> String {
    "{\"messages\":\(messages),\"seconds\":\(Format.number(seconds)),\"msgs_per_s\":\(Format.number(messagesPerSecond))"
      + ",\"qos\":\(qos),\"publishers\":\(publishers),\"payload_bytes\":\(payloadBytes),\"errors\":\(errors)}"
  }
}
