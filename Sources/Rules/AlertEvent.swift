/// An alert transition, ready to append to the `alerts` topic and to publish on local MQTT.
public struct AlertEvent: Sendable, Hashable {
  /// Whether the alert was raised or cleared.
  public enum State: String, Sendable {
    /// The rule's condition turned true for the key.
    case raised
    /// The condition was false for the rule's `CLEAR AFTER` number of windows.
    case cleared
  }

  /// One named SELECT value of the window that caused the transition.
  public struct NamedValue: Sendable, Hashable {
    /// The SELECT item's alias.
    public var name: String
    /// Its value for the window.
    public var value: Value
  }

  /// The rule's name.
  public var rule: String
  /// The severity from `RAISE ALERT 'severity'`.
  public var severity: String
  /// The group key, as text (parts of a multi-part key joined by `|`).
  public var key: String
  /// Raised or cleared.
  public var state: State
  /// The window's start, epoch milliseconds.
  public var windowStart: Int64
  /// The window's end, epoch milliseconds (exclusive for time windows).
  public var windowEnd: Int64
  /// The SELECT values, in SELECT order.
  public var values: [NamedValue]
  /// The alert's message, with `{name}` placeholders filled in.
  public var message: String
  /// The alert as one JSON object (UTF-8): the value of the record for the `alerts` topic and the MQTT payload.
  public var json: [UInt8]
  /// `weir/alerts/<rule>/<key>`, with MQTT wildcard and level characters in the key replaced by `_`.
  public var mqttTopic: String

  /// The timestamp to give the alert record: the window's end, so replays produce identical records.
  public var timestamp: Int64 { windowEnd }
  /// The record key to give the alert record: the group key's UTF-8 bytes.
  public var recordKey: [UInt8] { Array(key.utf8) }
  /// The JSON as a String.
  public var jsonString: String { String(decoding: json, as: UTF8.self) }
}
