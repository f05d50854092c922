/// Parses RFC 3339 timestamps for offline input, without Foundation's date formatters.
enum Timestamp {
  /// `2023-11-14T22:13:20Z`, `2023-11-14T22:13:20.123+01:00`, or a space instead of `T`; nil if not RFC 3339.
  static func parseRFC3339(_ text: String) -> Int64? {
    let b = Array(text.utf8)
    func digits(_ at: Int, _ count: Int) -> Int64? {
      guard at + count <= b.count else { return nil }
      var v: Int64 = 0
      for i in at..<at + count {
        guard Lexer.isDigit(b[i]) else { return nil }
        v = v * 10 + Int64(b[i] - 48)
      }
      return v
    }
    guard b.count >= 20, let year = digits(0, 4), b[4] == UInt8(ascii: "-"), let month = digits(5, 2),
      b[7] == UInt8(ascii: "-"), let day = digits(8, 2), b[10] | 0x20 == UInt8(ascii: "t") || b[10] == 0x20,
      let hour = digits(11, 2), b[13] == UInt8(ascii: ":"), let minute = digits(14, 2), b[16] == UInt8(ascii: ":"),
      let second = digits(17, 2), (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60,
      second < 61
    else { return nil }
    var i = 19
    var millis: Int64 = 0
    if i < b.count, b[i] == UInt8(ascii: ".") {
      i += 1
      var scale: Int64 = 100
      let start = i
      while i < b.count, Lexer.isDigit(b[i]) {
        millis += Int64(b[i] - 48) * scale
        scale /= 10
        i += 1
      }
      guard i > start else { return nil }
    }
    guard i < b.count else { return nil }
    var offset: Int64 = 0
    if b[i] | 0x20 == UInt8(ascii: "z") {
      i += 1
    } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
      guard let oh = digits(i + 1, 2), b.count > i + 3, b[i + 3] == UInt8(ascii: ":"), let om = digits(i + 4, 2) else {
        return nil
      }
      offset = (oh * 60 + om) * 60_000 * (b[i] == UInt8(ascii: "-") ? -1 : 1)
      i += 6
    } else {
      return nil
    }
    guard i == b.count else { return nil }
    // Howard Hinnant's days_from_civil.
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    let days = era * 146_097 + doe - 719_468
    return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis - offset
  }
}
