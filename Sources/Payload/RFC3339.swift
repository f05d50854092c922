/// RFC 3339 timestamps to and from epoch milliseconds, and the proleptic Gregorian calendar under them: the one
/// time parser every source, the rule engine's offline input and the config use, without Foundation's formatters.
public enum RFC3339 {
  /// `2026-11-22T03:00:00Z`, `2026-11-22T03:00:00.123+01:00`, `2026-11-22 03:00:00.5z` as epoch milliseconds;
  /// nil when the text is not RFC 3339 or names no real date (`2023-02-30`). Digits past milliseconds are
  /// truncated; a leap second (`23:59:60`) counts as `23:59:59`.
  public static func parse(_ s: UnsafeRawBufferPointer) -> Int64? {
    guard s.count >= 20 else { return nil }
    func digits(_ at: Int, _ count: Int) -> Int? {
      var v = 0
      for i in at..<at + count {
        guard i < s.count, s[i] &- 0x30 < 10 else { return nil }
        v = v * 10 + Int(s[i] &- 0x30)
      }
      return v
    }
    guard let year = digits(0, 4), s[4] == UInt8(ascii: "-"), let month = digits(5, 2), s[7] == UInt8(ascii: "-"),
      let day = digits(8, 2), s[10] | 0x20 == UInt8(ascii: "t") || s[10] == 0x20,
      let hour = digits(11, 2), s[13] == UInt8(ascii: ":"), let minute = digits(14, 2), s[16] == UInt8(ascii: ":"),
      let second = digits(17, 2)
    else { return nil }
    guard (1...12).contains(month), day >= 1, day <= Civil.daysIn(month: month, year: year), hour < 24,
      minute < 60, second <= 60
    else { return nil }
    var i = 19
    var millis = 0
    if i < s.count && s[i] == UInt8(ascii: ".") {
      i += 1
      var place = 100
      let start = i
      while i < s.count && s[i] &- 0x30 < 10 {
        millis += Int(s[i] &- 0x30) * place
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
    let days = Civil.days(year: year, month: month, day: day)
    let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offsetMinutes * 60)
    return seconds * 1000 + Int64(millis)
  }

  public static func parse(_ text: String) -> Int64? {
    var text = text
    return text.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
  }

  /// Epoch milliseconds in UTC: `2023-11-14T22:13:20.000Z`, or to the second (`2023-11-14T22:13:20Z`) without
  /// `milliseconds`. Years outside 0...9999, which RFC 3339 cannot write, come out with their sign and all their
  /// digits (`-0044-03-15`, `292278994-08-17`), so every Int64 instant has a text.
  public static func format(_ ms: Int64, milliseconds: Bool = true) -> String {
    var days = ms / 86_400_000
    var msOfDay = ms % 86_400_000
    if msOfDay < 0 {
      days -= 1
      msOfDay += 86_400_000
    }
    let date = Civil.date(fromDays: days)
    func pad(_ v: Int64, _ width: Int) -> String {
      let s = String(v.magnitude)
      return (v < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - s.count)) + s
    }
    let h = msOfDay / 3_600_000
    let m = msOfDay / 60_000 % 60
    let s = msOfDay / 1000 % 60
    let date0 = "\(pad(date.year, 4))-\(pad(Int64(date.month), 2))-\(pad(Int64(date.day), 2))"
    let time = "T\(pad(h, 2)):\(pad(m, 2)):\(pad(s, 2))"
    return date0 + time + (milliseconds ? ".\(pad(msOfDay % 1000, 3))Z" : "Z")
  }
}

/// Dates of the proleptic Gregorian calendar as day counts since 1970-01-01 (Howard Hinnant's algorithms).
public enum Civil {
  public static func daysIn(month: Int, year: Int) -> Int {
    switch month {
    case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }

  /// Days since 1970-01-01 of a date (month 1...12, day 1...31).
  public static func days(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }

  /// The date of a day count; every Int64 millisecond instant's day count is in range.
  public static func date(fromDays days: Int64) -> (year: Int64, month: Int, day: Int) {
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
}
