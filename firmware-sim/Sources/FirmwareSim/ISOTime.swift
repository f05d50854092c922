/// Parses the two ways a scenario gives its start: epoch milliseconds, or a UTC time
/// `YYYY-MM-DDTHH:MM:SS[.fff]Z`. Written out (days-from-civil, Howard Hinnant's algorithm) so the
/// result never depends on the machine's time zone or locale.
enum ISOTime {
  static func epochMillis(_ text: String) -> Int64? {
    if let millis = Int64(text) { return millis }
    let bytes = Array(text.utf8)
    guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z") || bytes.last == UInt8(ascii: "z") else {
      return nil
    }
    func number(_ from: Int, _ length: Int) -> Int? {
      var value = 0
      for index in from..<(from + length) {
        let byte = bytes[index]
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        value = value * 10 + Int(byte - UInt8(ascii: "0"))
      }
      return value
    }
    guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
      bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "),
      bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
      let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
      let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
      (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
    else { return nil }
    var millis = 0
    if bytes.count > 20 {
      guard bytes[19] == UInt8(ascii: "."), bytes.count >= 22 else { return nil }
      let digits = bytes.count - 21
      guard let fraction = number(20, digits) else { return nil }
      var scaled = Double(fraction)
      for _ in 0..<digits { scaled /= 10 }
      millis = Int((scaled * 1000).rounded(.down))
    } else if bytes[19] != UInt8(ascii: "Z") && bytes[19] != UInt8(ascii: "z") {
      return nil
    }
    let days = daysFromCivil(year: year, month: month, day: day)
    let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    return seconds * 1000 + Int64(millis)
  }

  static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
  }
}
