/// An alert transition as the rule engine emits it and as the `alerts` topic and MQTT carry it: one type for the
/// writer (the rule engine), the readers (the HTTP API's alert index, `weir central`) and the schema in between.
///
/// The JSON, field by field in this order (so equal alerts are equal bytes and replays reproduce them):
/// `{"rule","severity","key","state":"raised"|"cleared","window_start","window_end"` (RFC 3339, UTC, ms),
/// `"window_start_ms","window_end_ms","values":{alias: value, ...},"message"}`.
public struct AlertRecord: Sendable, Hashable {
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

    public init(name: String, value: Value) {
      self.name = name
      self.value = value
    }
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
  public let json: [UInt8]

  public init(
    rule: String, severity: String, key: String, state: State, windowStart: Int64, windowEnd: Int64,
    values: [NamedValue], message: String
  ) {
    self.rule = rule
    self.severity = severity
    self.key = key
    self.state = state
    self.windowStart = windowStart
    self.windowEnd = windowEnd
    self.values = values
    self.message = message
    json = Self.encode(rule, severity, key, state, windowStart, windowEnd, values, message)
  }

  /// The timestamp to give the alert record: the window's end, so replays produce identical records.
  public var timestamp: Int64 { windowEnd }
  /// The record key to give the alert record: the group key's UTF-8 bytes.
  public var recordKey: [UInt8] { Array(key.utf8) }
  /// The JSON as a String.
  public var jsonString: String { String(decoding: json, as: UTF8.self) }

  /// The value of the SELECT item `name`.
  public subscript(_ name: String) -> Value? { values.first { $0.name == name }?.value }

  static func encode(
    _ rule: String, _ severity: String, _ key: String, _ state: State, _ start: Int64, _ end: Int64,
    _ values: [NamedValue], _ message: String
  ) -> [UInt8] {
    let out = JSONWriter.object()
    out.add("rule", rule)
    out.add("severity", severity)
    out.add("key", key)
    out.add("state", state.rawValue)
    out.add("window_start", RFC3339.format(start))
    out.add("window_end", RFC3339.format(end))
    out.add("window_start_ms", start)
    out.add("window_end_ms", end)
    out.key("values")
    out.beginObject()
    for v in values {
      out.key(text: v.name)
      switch v.value {
      case .null: out.null()
      case .bool(let b): out.bool(b)
      case .number(let d): out.double(d)
      case .string(let s): out.text(s)
      }
    }
    out.endObject()
    out.add("message", message)
    out.endObject()
    return Array(out.bytes)
  }

  /// Reads an alert back from its JSON; nil when the bytes are not an alert record (a required member missing or of
  /// the wrong type). Members it does not know are ignored, so newer writers stay readable.
  public init?(json bytes: UnsafeRawBufferPointer) {
    let fields = JSONFields(keys: Self.members)
    guard fields.validate(bytes, requireObject: true) == nil else { return nil }
    func text(_ slot: Int) -> String? {
      guard let span = fields[slot], span.kind == .string else { return nil }
      return JSONString.text(UnsafeRawBufferPointer(rebasing: bytes[span.range]), escaped: span.escaped)
    }
    func integer(_ slot: Int) -> Int64? {
      guard let span = fields[slot], span.kind == .number,
        let v = JSONNumber.parse(UnsafeRawBufferPointer(rebasing: bytes[span.range]))
      else { return nil }
      return Int64(exactly: v)
    }
    guard let rule = text(0), let severity = text(1), let key = text(2), let state = text(3).flatMap(State.init),
      let start = integer(4), let end = integer(5)
    else { return nil }
    var values: [NamedValue] = []
    if let span = fields[6], span.kind == .object {
      for (name, value) in JSONFields.members(of: UnsafeRawBufferPointer(rebasing: bytes[span.range])) {
        let raw = UnsafeRawBufferPointer(
          rebasing: bytes[
            span.range.lowerBound + value.range.lowerBound..<span.range.lowerBound + value.range.upperBound])
        let v: Value
        switch value.kind {
        case .string: v = .string(JSONString.text(raw, escaped: value.escaped))
        case .number: v = JSONNumber.parse(raw).map { $0.isFinite ? .number($0) : .null } ?? .null
        case .bool: v = .bool(raw.first == UInt8(ascii: "t"))
        case .null, .object, .array: v = .null
        }
        values.append(NamedValue(name: name, value: v))
      }
    }
    self.rule = rule
    self.severity = severity
    self.key = key
    self.state = state
    windowStart = start
    windowEnd = end
    self.values = values
    message = text(7) ?? ""
    json = Array(bytes)
  }

  static let members = ["rule", "severity", "key", "state", "window_start_ms", "window_end_ms", "values", "message"]

  public static func == (a: AlertRecord, b: AlertRecord) -> Bool { a.json == b.json }
  public func hash(into hasher: inout Hasher) { hasher.combine(json) }
}
