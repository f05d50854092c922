/// What a fleet run did.
public struct FleetRunSummary: Sendable, Equatable {
  /// Messages handed to libmosquitto.
  public var published = 0
  /// Messages that could not be published (QoS 0 while a connection was down, or an error).
  public var dropped = 0
  /// Messages written (QoS 0) or acknowledged (QoS 1) by the end.
  public var delivered = 0
  /// Simulated seconds covered.
  public var simulatedSeconds = 0.0
  /// Real seconds the run took.
  public var realSeconds = 0.0
  /// Reconnections after the first connect, over all connections.
  public var reconnections = 0
  /// Reconnect storms triggered.
  public var storms = 0
  /// Whether a stop request ended the run.
  public var stopped = false

  /// The summary as one JSON object.
  public func json() -> String {
    "{\"published\":\(published),\"delivered\":\(delivered),\"dropped\":\(dropped)"
      + ",\"simulated_s\":\(Format.number(simulatedSeconds)),\"real_s\":\(Format.number(realSeconds))"
      + ",\"reconnections\":\(reconnections),\"storms\":\(storms),\"stopped\":\(stopped)}"
  }
}
