import Payload

/// Event times read from records: epoch numbers in a configured unit and RFC 3339 text, to epoch
/// milliseconds, without allocating.
enum EpochTime {
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
