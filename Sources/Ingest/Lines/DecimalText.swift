/// A decimal number as a device writes it (`-12.50`, `+3`, `.5`, `1.2E-3`), split into its
/// parts without converting it, so it can be copied into JSON digit for digit or turned into a
/// number exactly when that is needed.
struct DecimalText {
  var negative = false
  /// Digits before the point (may be empty: `.5`).
  var integer: Range<Int> = 0..<0
  /// Digits after the point (may be empty: `3.`).
  var fraction: Range<Int> = 0..<0
  var exponentNegative = false
  /// Exponent digits, empty when there is no exponent.
  var exponent: Range<Int> = 0..<0

  /// Parses all of `text`; nil unless it is `[+-]digits[.digits][(e|E)[+-]digits]` with at least
  /// one mantissa digit.
  @inline(__always)
  init?(_ text: UnsafeRawBufferPointer) {
    let n = text.count
    var i = 0
    if i < n && (text[i] == UInt8(ascii: "-") || text[i] == UInt8(ascii: "+")) {
      negative = text[i] == UInt8(ascii: "-")
      i += 1
    }
    let intStart = i
    while i < n && Self.isDigit(text[i]) { i += 1 }
    integer = intStart..<i
    if i < n && text[i] == UInt8(ascii: ".") {
      i += 1
      let fracStart = i
      while i < n && Self.isDigit(text[i]) { i += 1 }
      fraction = fracStart..<i
    }
    guard !integer.isEmpty || !fraction.isEmpty else { return nil }
    if i < n && (text[i] == UInt8(ascii: "e") || text[i] == UInt8(ascii: "E")) {
      i += 1
      if i < n && (text[i] == UInt8(ascii: "-") || text[i] == UInt8(ascii: "+")) {
        exponentNegative = text[i] == UInt8(ascii: "-")
        i += 1
      }
      let expStart = i
      while i < n && Self.isDigit(text[i]) { i += 1 }
      exponent = expStart..<i
      guard !exponent.isEmpty else { return nil }
    }
    guard i == n else { return nil }
  }

  @inline(__always)
  static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

  var isInteger: Bool { fraction.isEmpty && exponent.isEmpty }

  /// The value as a double. Up to 15 significant digits and a power of ten up to 22 this is the
  /// correctly rounded value computed without allocating; longer numbers take the standard library's
  /// parser.
  func doubleValue(_ text: UnsafeRawBufferPointer) -> Double {
    var mantissa: UInt64 = 0
    var digits = 0
    var scale = 0
    for i in integer {
      if digits < 19 {
        mantissa = mantissa * 10 + UInt64(text[i] &- 48)
        if mantissa != 0 { digits += 1 }
      } else {
        scale += 1
      }
    }
    for i in fraction where digits < 19 {
      mantissa = mantissa * 10 + UInt64(text[i] &- 48)
      if mantissa != 0 { digits += 1 }
      scale -= 1
    }
    var exp = 0
    for i in exponent {
      exp = min(exp * 10 + Int(text[i] &- 48), 100_000)
    }
    scale += exponentNegative ? -exp : exp
    if digits <= 15 && abs(scale) <= 22 {
      var value = Double(mantissa)
      let power = Self.powersOfTen[abs(scale)]
      value = scale < 0 ? value / power : value * power
      return negative ? -value : value
    }
    let slow = String(decoding: text, as: UTF8.self).replacingLeadingPlus()
    return Double(slow) ?? (negative ? -.infinity : .infinity)
  }

  /// The value is within a double's range: a JSON reader would turn a larger one (`1e999`) into
  /// infinity. Decided from the digits, converting only near the limit.
  func isFinite(_ text: UnsafeRawBufferPointer) -> Bool {
    // Digits before the point, counted from the first significant one (negative for `0.00x`).
    var magnitude: Int?
    for i in integer where text[i] != UInt8(ascii: "0") {
      magnitude = integer.upperBound - i
      break
    }
    if magnitude == nil {
      for i in fraction where text[i] != UInt8(ascii: "0") {
        magnitude = fraction.lowerBound - i
        break
      }
    }
    guard let magnitude else { return true }
    var exp = 0
    for i in exponent { exp = min(exp * 10 + Int(text[i] &- 48), 100_000) }
    let power = magnitude + (exponentNegative ? -exp : exp)
    if power <= 308 { return true }
    if power > 309 { return false }
    return doubleValue(text).isFinite
  }

  /// The value as an integer; nil when it has a fraction or exponent or does not fit.
  func int64Value(_ text: UnsafeRawBufferPointer) -> Int64? {
    guard isInteger else { return nil }
    var value: Int64 = 0
    for i in integer {
      let (m, o1) = value.multipliedReportingOverflow(by: 10)
      let (s, o2) = m.addingReportingOverflow(Int64(text[i] &- 48))
      if o1 || o2 {
        // Int64.min has no positive counterpart.
        if negative && value == 922_337_203_685_477_580 && text[i] == UInt8(ascii: "8") && i == integer.upperBound - 1 {
          return .min
        }
        return nil
      }
      value = s
    }
    return negative ? -value : value
  }

  static let powersOfTen: [Double] = (0...22).map { p in (0..<p).reduce(1.0) { a, _ in a * 10 } }

  /// Parses a whole field as an integer.
  @inline(__always)
  static func int64(_ text: UnsafeRawBufferPointer) -> Int64? {
    DecimalText(text)?.int64Value(text)
  }

  /// Parses a whole field as a double.
  @inline(__always)
  static func double(_ text: UnsafeRawBufferPointer) -> Double? {
    guard let d = DecimalText(text) else { return nil }
    return d.doubleValue(text)
  }
}

extension String {
  /// `Double(String)` rejects a leading `+`.
  fileprivate func replacingLeadingPlus() -> String {
    hasPrefix("+") ? String(dropFirst()) : self
  }
}
