import Payload

/// Event times read from records: epoch numbers in a configured unit and RFC 3339 text, to epoch
/// milliseconds, without allocating.
enum SerialEventTime {
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
      if let ms = rfc3339(text) { return ms }
      return epochNumber(text, unit: unit)
    default:
      return nil
    }
  }

  /// A decimal number of `unit` since the epoch, as milliseconds (fractions truncated toward the
  /// past); nil when it does not fit in 64-bit milliseconds. Exact, in integer arithmetic with every
  /// step checked: `1714564800.25` s is 1714564800250 ms, `1e19` ms and `-1e400` s are nil.
  static func epochNumber(_ text: UnsafeRawBufferPointer, unit: LineProtocolConfig.TimestampUnit) -> Int64? {
    guard let decimal = SerialDecimal(text) else { return nil }
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

  /// `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)` (a space or `t` for `T`, `z` for `Z`) as epoch ms.
  static func rfc3339(_ s: UnsafeRawBufferPointer) -> Int64? {
    guard s.count >= 20 else { return nil }
    func digits(_ at: Int, _ count: Int) -> Int? {
      var v = 0
      for i in at..<at + count {
        guard i < s.count, SerialDecimal.isDigit(s[i]) else { return nil }
        v = v * 10 + Int(s[i] &- 48)
      }
      return v
    }
    guard let year = digits(0, 4), s[4] == UInt8(ascii: "-"), let month = digits(5, 2), s[7] == UInt8(ascii: "-"),
      let day = digits(8, 2), s[10] == UInt8(ascii: "T") || s[10] == UInt8(ascii: "t") || s[10] == 0x20,
      let hour = digits(11, 2), s[13] == UInt8(ascii: ":"), let minute = digits(14, 2), s[16] == UInt8(ascii: ":"),
      let second = digits(17, 2)
    else { return nil }
    guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour < 24, minute < 60,
      second <= 60
    else { return nil }
    var i = 19
    var millis = 0
    if i < s.count && s[i] == UInt8(ascii: ".") {
      i += 1
      var place = 100
      let start = i
      while i < s.count && SerialDecimal.isDigit(s[i]) {
        millis += Int(s[i] &- 48) * place
        place /= 10
        i += 1
      }
      guard i > start else { return nil }
    }
    guard i < s.count else { return nil }
    var offsetMinutes = 0
    switch s[i] {
    case UInt8(ascii: "Z"), UInt8(ascii: "z"):
      i += 1
    case UInt8(ascii: "+"), UInt8(ascii: "-"):
      guard let oh = digits(i + 1, 2), i + 3 < s.count, s[i + 3] == UInt8(ascii: ":"), let om = digits(i + 4, 2),
        oh < 24, om < 60
      else { return nil }
      offsetMinutes = (oh * 60 + om) * (s[i] == UInt8(ascii: "-") ? -1 : 1)
      i += 6
    default:
      return nil
    }
    guard i == s.count else { return nil }
    let days = daysFromCivil(year: year, month: month, day: day)
    let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offsetMinutes * 60)
    return seconds * 1000 + Int64(millis)
  }

  static func daysIn(month: Int, year: Int) -> Int {
    switch month {
    case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }

  /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
  static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }
}
