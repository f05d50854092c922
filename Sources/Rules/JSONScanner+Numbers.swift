/// Numbers, read straight from the payload bytes.
extension JSONScanner {
  mutating func number() throws(ScanStop) -> Double {
    let start = pos
    var negative = false
    if p[pos] == UInt8(ascii: "-") {
      negative = true
      pos += 1
    }
    var mantissa: UInt64 = 0
    var digits = 0
    var exponent = 0
    while pos < end, p[pos] &- 0x30 < 10 {
      if digits < 19 {
        mantissa = mantissa &* 10 &+ UInt64(p[pos] &- 0x30)
        if mantissa != 0 { digits += 1 }
      } else {
        exponent += 1
      }
      pos += 1
    }
    guard pos > start + (negative ? 1 : 0) else { throw ScanStop() }
    if pos < end, p[pos] == UInt8(ascii: ".") {
      pos += 1
      let fracStart = pos
      while pos < end, p[pos] &- 0x30 < 10 {
        if digits < 19 {
          mantissa = mantissa &* 10 &+ UInt64(p[pos] &- 0x30)
          if mantissa != 0 { digits += 1 }
          exponent -= 1
        }
        pos += 1
      }
      guard pos > fracStart else { throw ScanStop() }
    }
    if pos < end, p[pos] | 0x20 == UInt8(ascii: "e") {
      pos += 1
      var expNegative = false
      if pos < end, p[pos] == UInt8(ascii: "-") || p[pos] == UInt8(ascii: "+") {
        expNegative = p[pos] == UInt8(ascii: "-")
        pos += 1
      }
      var e = 0
      let expStart = pos
      while pos < end, p[pos] &- 0x30 < 10 {
        if e < 100_000 { e = e * 10 + Int(p[pos] &- 0x30) }
        pos += 1
      }
      guard pos > expStart else { throw ScanStop() }
      exponent += expNegative ? -e : e
    }
    // Clinger's fast path is exact when the mantissa and the power of ten are both exact doubles.
    if digits <= 15, exponent >= -22, exponent <= 22 {
      var v = Double(mantissa)
      if exponent < 0 { v /= JSONScanner.powers[-exponent] } else { v *= JSONScanner.powers[exponent] }
      return negative ? -v : v
    }
    return JSONScanner.slowParse(p + start, pos - start)
  }

  static let powers: [Double] = (0...22).map { e in
    var v = 1.0
    for _ in 0..<e { v *= 10 }
    return v
  }

  /// Rare numbers (more than 15 significant digits, huge exponents) go through the standard library's parser.
  static func slowParse(_ p: UnsafePointer<UInt8>, _ count: Int) -> Double {
    let bytes = UnsafeBufferPointer(start: p, count: count)
    let text = count <= 1100 ? String(decoding: bytes, as: UTF8.self) : shortened(bytes)
    return Double(text) ?? .nan
  }

  /// The same number with at most 800 significant digits, a final 1 standing for any non-zero digits dropped:
  /// it rounds to the same double (a halfway point between doubles has at most 767 significant digits), and the
  /// standard parser's work stays bounded however long a payload's digits run.
  static func shortened(_ b: UnsafeBufferPointer<UInt8>) -> String {
    let zero = UInt8(ascii: "0")
    var out: [UInt8] = []
    var i = 0
    if b[0] == UInt8(ascii: "-") {
      out.append(b[0])
      i = 1
    }
    out += Array("0.".utf8)
    var significant = 0
    var started = false
    var sticky = false
    // The number is 0.DDD... × 10^scale, D the significant digits.
    var scale = 0
    func digit(_ d: UInt8) {
      if significant < 800 {
        out.append(d)
        significant += 1
      } else if d != zero {
        sticky = true
      }
    }
    while i < b.count, Lexer.isDigit(b[i]) {
      if started || b[i] != zero {
        started = true
        scale += 1
        digit(b[i])
      }
      i += 1
    }
    if i < b.count, b[i] == UInt8(ascii: ".") {
      i += 1
      while i < b.count, Lexer.isDigit(b[i]) {
        if started || b[i] != zero {
          started = true
          digit(b[i])
        } else {
          scale -= 1
        }
        i += 1
      }
    }
    guard started else { return out.first == UInt8(ascii: "-") ? "-0" : "0" }
    if sticky { out.append(UInt8(ascii: "1")) }
    var exponent = 0
    if i < b.count, b[i] | 0x20 == UInt8(ascii: "e") {
      i += 1
      var negative = false
      if i < b.count, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") {
        negative = b[i] == UInt8(ascii: "-")
        i += 1
      }
      while i < b.count, Lexer.isDigit(b[i]) {
        if exponent < 1_000_000 { exponent = exponent * 10 + Int(b[i] - zero) }
        i += 1
      }
      if negative { exponent = -exponent }
    }
    return String(decoding: out, as: UTF8.self) + "e\(scale + exponent)"
  }
}
