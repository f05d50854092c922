import Payload

/// How a payload's event-time field is written (MQTT subscriptions' `time_format`).
public enum TimeFormat: String, Sendable {
  /// Numbers of at least 10^11 are milliseconds, others seconds; strings are RFC 3339.
  case auto
  case epochMs = "epoch_ms"
  case epochS = "epoch_s"
  case rfc3339
}

/// The one event-time reader of every source: epoch numbers in a unit and RFC 3339 text to epoch milliseconds,
/// without allocating. Every result is a value the input really denotes, in checked integer arithmetic: a number
/// past Int64 milliseconds is nil, never a trap, and no digit goes through a binary float.
enum EpochTime {
  /// A time field of an MQTT payload: `bytes` is a JSON number's text or a string's contents.
  static func parse(_ bytes: UnsafeRawBufferPointer, isString: Bool, format: TimeFormat) -> Int64? {
    switch format {
    case .rfc3339: return isString ? RFC3339.parse(bytes) : nil
    case .epochMs: return isString ? nil : epochNumber(bytes, unit: .milliseconds)
    case .epochS: return isString ? nil : epochNumber(bytes, unit: .seconds)
    case .auto:
      if isString { return RFC3339.parse(bytes) }
      guard let v = JSONNumber.parse(bytes), v.isFinite else { return nil }
      return epochNumber(bytes, unit: v.magnitude >= 1e11 ? .milliseconds : .seconds)
    }
  }

  /// A JSON value (number, or string holding RFC 3339 text or a number) as epoch milliseconds;
  /// nil when it is neither or out of range.
  static func milliseconds(
    _ bytes: UnsafeRawBufferPointer, _ value: JSONSpan, unit: LineProtocolConfig.TimestampUnit
  ) -> Int64? {
    let text = UnsafeRawBufferPointer(rebasing: bytes[value.range])
    switch value.kind {
    case .number:
      return epochNumber(text, unit: unit)
    case .string where !value.escaped:
      if let ms = RFC3339.parse(text) { return ms }
      return epochNumber(text, unit: unit)
    default:
      return nil
    }
  }

  /// A decimal number of `unit` since the epoch, as milliseconds (fractions truncated toward the
  /// past); nil when it does not fit in 64-bit milliseconds. Exact, in integer arithmetic with every
  /// step checked: `1714564800.25` s is 1714564800250 ms, `1e19` ms and `-1e400` s are nil.
  static func epochNumber(_ text: UnsafeRawBufferPointer, unit: LineProtocolConfig.TimestampUnit) -> Int64? {
    guard let decimal = DecimalText(text) else { return nil }
    var exponent = 0
    for i in decimal.exponent { exponent = min(exponent * 10 + Int(text[i] &- 48), 100_000) }
    if decimal.exponentNegative { exponent = -exponent }
    let unitPower: Int
    switch unit {
    case .seconds: unitPower = 3
    case .milliseconds: unitPower = 0
    case .microseconds: unitPower = -3
    case .nanoseconds: unitPower = -6
    }
    // The value in ms is the digits (integer part, then fraction) times 10^power.
    let power = exponent + unitPower - decimal.fraction.count
    let integerDigits = decimal.integer.count
    let digitCount = integerDigits + decimal.fraction.count
    // Digits left of the point of the millisecond value; the others are its fraction.
    let whole = power >= 0 ? digitCount : digitCount + power
    var magnitude: Int64 = 0
    var fractional = false
    for k in 0..<digitCount {
      let at = k < integerDigits ? decimal.integer.lowerBound + k : decimal.fraction.lowerBound + k - integerDigits
      let digit = Int64(text[at] &- 48)
      if k < whole {
        let (shifted, o1) = magnitude.multipliedReportingOverflow(by: 10)
        let (sum, o2) = shifted.addingReportingOverflow(digit)
        if o1 || o2 { return nil }
        magnitude = sum
      } else if digit != 0 {
        fractional = true
      }
    }
    if power > 0 && magnitude != 0 {
      for _ in 0..<power {
        let (shifted, overflow) = magnitude.multipliedReportingOverflow(by: 10)
        if overflow { return nil }
        magnitude = shifted
      }
    }
    guard decimal.negative else { return magnitude }
    return fractional ? -magnitude - 1 : -magnitude
  }
}
