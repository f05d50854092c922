import Payload

/// How a payload's event-time field is written.
public enum TimeFormat: String, Sendable, Codable {
  /// Numbers above 10^11 are milliseconds, others seconds; strings are RFC 3339.
  case auto
  case epochMs = "epoch_ms"
  case epochS = "epoch_s"
  case rfc3339
}

/// Turns a time field's bytes into epoch milliseconds, without allocating. Every result is a
/// value the input really denotes: a number past Int64 milliseconds is nil, never a trap.
enum Timestamps {
  /// `bytes` is a JSON number's text or a string's contents.
  static func parse(_ bytes: UnsafeRawBufferPointer, isString: Bool, format: TimeFormat) -> Int64? {
    switch format {
    case .rfc3339: return isString ? rfc3339(bytes) : nil
    case .epochMs: return isString ? nil : number(bytes).flatMap(milliseconds)
    case .epochS: return isString ? nil : number(bytes).flatMap { milliseconds($0 * 1000) }
    case .auto:
      if isString { return rfc3339(bytes) }
      guard let v = number(bytes) else { return nil }
      return milliseconds(abs(v) >= 1e11 ? v : v * 1000)
    }
  }

  /// The nearest whole millisecond, or nil outside Int64 (`1e19`, `-1e308`).
  @inline(__always)
  static func milliseconds(_ v: Double) -> Int64? {
    Int64(exactly: v.rounded())
  }

  /// A JSON number's value, or nil when it is not one or not finite (`1e999`).
  static func number(_ bytes: UnsafeRawBufferPointer) -> Double? {
    guard let v = JSONNumber.parse(bytes), v.isFinite else { return nil }
    return v
  }


  /// `2026-11-22T03:00:00Z`, `2026-11-22T03:00:00.123+01:00`, `2026-11-22 03:00:00.5Z`.
  static func rfc3339(_ b: UnsafeRawBufferPointer) -> Int64? {
    let n = b.count
    guard n >= 20 else { return nil }
    func digits(_ at: Int, _ count: Int) -> Int? {
      var v = 0
      for i in at..<(at + count) {
        let c = b[i]
        guard c >= 0x30 && c <= 0x39 else { return nil }
        v = v * 10 + Int(c - 0x30)
      }
      return v
    }
    guard let year = digits(0, 4), b[4] == UInt8(ascii: "-"), let month = digits(5, 2), b[7] == UInt8(ascii: "-"),
      let day = digits(8, 2), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == 0x20,
      let hour = digits(11, 2), b[13] == UInt8(ascii: ":"), let minute = digits(14, 2), b[16] == UInt8(ascii: ":"),
      let second = digits(17, 2), (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60,
      second < 61
    else { return nil }
    var i = 19
    var millis = 0
    if i < n && b[i] == UInt8(ascii: ".") {
      i += 1
      var scale = 100
      let start = i
      while i < n, b[i] >= 0x30 && b[i] <= 0x39 {
        millis += Int(b[i] - 0x30) * scale
        scale /= 10
        i += 1
      }
      if i == start { return nil }
    }
    guard i < n else { return nil }
    var offsetMinutes = 0
    if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
      i += 1
    } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
      guard i + 6 == n, let oh = digits(i + 1, 2), b[i + 3] == UInt8(ascii: ":"), let om = digits(i + 4, 2) else {
        return nil
      }
      offsetMinutes = (oh * 60 + om) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
      i += 6
    } else {
      return nil
    }
    guard i == n else { return nil }
    let days = daysFromCivil(year, month, day)
    let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetMinutes * 60)
    return seconds * 1000 + Int64(millis)
  }

  /// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm);
  /// nil for day counts whose year does not fit in an Int.
  static func civil(fromDays days: Int64) -> (year: Int64, month: Int, day: Int)? {
    guard days > -(1 << 40), days < (1 << 40) else { return nil }
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = Int(doy - (153 * mp + 2) / 5 + 1)
    let month = Int(mp < 10 ? mp + 3 : mp - 9)
    let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    return (year, month, day)
  }

  /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
  static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
    let y = m <= 2 ? y0 - 1 : y0
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }
}
