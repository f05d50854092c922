/// One message the fleet sends, in send order.
public struct FleetMessage: Sendable, Equatable {
  /// Index of the device in the fleet.
  public var device: Int
  /// Simulated time the message leaves the device (ms since the start).
  public var sendMillis: Int64
  /// Simulated time of the reading it carries.
  public var readingMillis: Int64
  /// The `ts` in the payload: epoch ms of the device's (possibly skewed) clock.
  public var timestamp: Int64
  /// The payload bytes.
  public var payload: [UInt8]
  /// Faults applied to this message.
  public var faults: FaultSet
  /// The reading itself, for tests and for transports that format it differently.
  public var values: SIMD4<Double>
}
