/// A record that arrived behind its key's watermark, to append to the side topic named by `late = 'topic:NAME'`.
public struct LateRecord: Sendable, Hashable {
  /// The rule that found it late.
  public var rule: String
  /// The side topic to append it to.
  public var topic: String
  /// Where it came from.
  public var sourceTopic: String
  /// Its partition in the source topic.
  public var partition: Int32
  /// Its offset in the source topic.
  public var offset: Int64
  /// Its timestamp (epoch milliseconds).
  public var timestamp: Int64
  /// A copy of its key.
  public var key: [UInt8]?
  /// A copy of its value.
  public var value: [UInt8]
}
