/// What the engine produced while processing records; the caller drains it.
public struct RuleOutput: Sendable {
  /// Alert transitions, in the order they happened.
  public var alerts: [AlertEvent] = []
  /// Late records to route to side topics.
  public var lateRecords: [LateRecord] = []

  /// Creates an empty output.
  public init() {}

  /// True if nothing was produced.
  public var isEmpty: Bool { alerts.isEmpty && lateRecords.isEmpty }

  /// Empties both lists, keeping their storage.
  public mutating func removeAll() {
    alerts.removeAll(keepingCapacity: true)
    lateRecords.removeAll(keepingCapacity: true)
  }
}
