/// Appends JSON tokens to a byte buffer without going through `String` or `Foundation`, so payloads
/// can be formatted into a reused buffer on hot paths.
enum JSONBytes {
  static func append(_ literal: StaticString, to buffer: inout [UInt8]) {
    literal.withUTF8Buffer { buffer.append(contentsOf: $0) }
  }

  /// A JSON string. Device ids and field names are ASCII; quotes, backslashes and control
  /// characters are escaped anyway.
  static func appendString(_ value: String, to buffer: inout [UInt8]) {
    buffer.append(UInt8(ascii: "\""))
    for byte in value.utf8 {
      switch byte {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"):
        buffer.append(UInt8(ascii: "\\"))
        buffer.append(byte)
      case 0..<0x20:
        append("\\u00", to: &buffer)
        buffer.append(hexDigit(byte >> 4))
        buffer.append(hexDigit(byte & 0xF))
      default:
        buffer.append(byte)
      }
    }
    buffer.append(UInt8(ascii: "\""))
  }

  static func appendInt(_ value: Int64, to buffer: inout [UInt8]) {
    if value < 0 {
      buffer.append(UInt8(ascii: "-"))
    }
    appendDigits(value.magnitude, minimumDigits: 1, to: &buffer)
  }

  /// A decimal number with exactly `decimals` fractional digits (the sensor's resolution), rounded
  /// half away from zero. Non-finite values become `null`, which is what JSON can say about them.
  static func appendFixed(_ value: Double, decimals: Int, to buffer: inout [UInt8]) {
    guard value.isFinite else {
      append("null", to: &buffer)
      return
    }
    let scaled = (value * powersOfTen[decimals]).rounded()
    guard abs(scaled) < 9.0e18 else {
      append("null", to: &buffer)
      return
    }
    let fixed = Int64(scaled)
    if fixed < 0 {
      buffer.append(UInt8(ascii: "-"))
    }
    let magnitude = fixed.magnitude
    let divisor = UInt64(powersOfTen[decimals])
    appendDigits(magnitude / divisor, minimumDigits: 1, to: &buffer)
    if decimals > 0 {
      buffer.append(UInt8(ascii: "."))
      appendDigits(magnitude % divisor, minimumDigits: decimals, to: &buffer)
    }
  }

  /// Digits of `value`, left-padded with zeros to `minimumDigits`.
  static func appendDigits(_ value: UInt64, minimumDigits: Int, to buffer: inout [UInt8]) {
    var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
      UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
      (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var count = 0
    var rest = value
    withUnsafeMutableBytes(of: &digits) { scratch in
      repeat {
        scratch[count] = UInt8(ascii: "0") + UInt8(rest % 10)
        rest /= 10
        count += 1
      } while rest > 0
      while count < minimumDigits && count < scratch.count {
        scratch[count] = UInt8(ascii: "0")
        count += 1
      }
      for index in stride(from: count - 1, through: 0, by: -1) {
        buffer.append(scratch[index])
      }
    }
  }

  static func hexDigit(_ nibble: UInt8) -> UInt8 {
    nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
  }
}
