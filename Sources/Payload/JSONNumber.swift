/// JSON numbers read straight from the bytes, without making a String (but for rare, very long numbers).
public enum JSONNumber {
  /// The number `bytes` holds when they are exactly one JSON number (`-0.5e3`; not `+1`, `.5`, `01` or `1e`), else
  /// nil. Infinite results (`1e400`) are returned as they are; callers decide what they mean.
  public static func parse(_ bytes: UnsafeRawBufferPointer) -> Double? {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return nil }
    let p = base.assumingMemoryBound(to: UInt8.self)
    var problem: JSONProblem?
    guard grammarEnd(p, 0, bytes.count, strict: true, &problem) == bytes.count else { return nil }
    return value(p, bytes.count)
  }

  @inline(__always)
  static func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }

  /// Where the JSON number that starts at `start` ends, or nil (with `problem` set) when it breaks the grammar.
  /// `strict: false` lets leading zeros (`007`) through, as the field finder always has.
  @inline(__always)
  static func grammarEnd(
    _ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, strict: Bool, _ problem: inout JSONProblem?
  ) -> Int? {
    var pos = start
    if pos < end && p[pos] == UInt8(ascii: "-") { pos += 1 }
    guard pos < end, isDigit(p[pos]) else {
      problem = JSONProblem("unexpected character", at: start)
      return nil
    }
    if strict && p[pos] == UInt8(ascii: "0") {
      pos += 1
    } else {
      while pos < end && isDigit(p[pos]) { pos += 1 }
    }
    if pos < end && p[pos] == UInt8(ascii: ".") {
      pos += 1
      guard pos < end, isDigit(p[pos]) else {
        problem = JSONProblem("digit expected after '.'", at: pos)
        return nil
      }
      while pos < end && isDigit(p[pos]) { pos += 1 }
    }
    if pos < end && p[pos] | 0x20 == UInt8(ascii: "e") {
      pos += 1
      if pos < end && (p[pos] == UInt8(ascii: "+") || p[pos] == UInt8(ascii: "-")) { pos += 1 }
      guard pos < end, isDigit(p[pos]) else {
        problem = JSONProblem("digit expected in exponent", at: pos)
        return nil
      }
      while pos < end && isDigit(p[pos]) { pos += 1 }
    }
    return pos
  }

  /// The value of the `count` bytes at `p`, which hold a number in JSON's grammar (leading zeros tolerated).
  public static func value(_ p: UnsafePointer<UInt8>, _ count: Int) -> Double {
    var pos = 0
    var negative = false
    if p[0] == UInt8(ascii: "-") {
      negative = true
      pos = 1
    }
    var mantissa: UInt64 = 0
    var digits = 0
    var exponent = 0
    while pos < count, isDigit(p[pos]) {
      if digits < 19 {
        mantissa = mantissa &* 10 &+ UInt64(p[pos] &- 0x30)
        if mantissa != 0 { digits += 1 }
      } else {
        exponent += 1
      }
      pos += 1
    }
    if pos < count, p[pos] == UInt8(ascii: ".") {
      pos += 1
      while pos < count, isDigit(p[pos]) {
        if digits < 19 {
          mantissa = mantissa &* 10 &+ UInt64(p[pos] &- 0x30)
          if mantissa != 0 { digits += 1 }
          exponent -= 1
        }
        pos += 1
      }
    }
    if pos < count, p[pos] | 0x20 == UInt8(ascii: "e") {
      pos += 1
      var expNegative = false
      if pos < count, p[pos] == UInt8(ascii: "-") || p[pos] == UInt8(ascii: "+") {
        expNegative = p[pos] == UInt8(ascii: "-")
        pos += 1
      }
      var e = 0
      while pos < count, isDigit(p[pos]) {
        if e < 100_000 { e = e * 10 + Int(p[pos] &- 0x30) }
        pos += 1
      }
      exponent += expNegative ? -e : e
    }
    // Clinger's fast path is exact when the mantissa and the power of ten are both exact doubles.
    if digits <= 15, exponent >= -22, exponent <= 22 {
      var v = Double(mantissa)
      if exponent < 0 { v /= powers[-exponent] } else { v *= powers[exponent] }
      return negative ? -v : v
    }
    return slowParse(p, count)
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
    while i < b.count, isDigit(b[i]) {
      if started || b[i] != zero {
        started = true
        scale += 1
        digit(b[i])
      }
      i += 1
    }
    if i < b.count, b[i] == UInt8(ascii: ".") {
      i += 1
      while i < b.count, isDigit(b[i]) {
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
      while i < b.count, isDigit(b[i]) {
        if exponent < 1_000_000 { exponent = exponent * 10 + Int(b[i] - zero) }
        i += 1
      }
      if negative { exponent = -exponent }
    }
    return String(decoding: out, as: UTF8.self) + "e\(scale + exponent)"
  }
}
