/// A validating JSON scanner over raw bytes that allocates nothing: it checks that a payload is
/// one well-formed JSON value (RFC 8259) and finds the value at a path of object keys, so ingest
/// can validate and pick a key or time field at full speed. Depth is capped at 64.
struct JSONScanner {
  let base: UnsafeRawPointer
  let end: Int
  var position = 0
  var error: String?

  init(_ bytes: UnsafeRawBufferPointer) {
    base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
    end = bytes.count
  }

  /// nil when `bytes` is one valid JSON value (surrounded by optional whitespace), else why not.
  static func validate(_ bytes: UnsafeRawBufferPointer) -> String? {
    var s = JSONScanner(bytes)
    s.skipWhitespace()
    guard s.skipValue(depth: 0) else { return s.error }
    s.skipWhitespace()
    if s.position != s.end { return "unexpected \(s.describe()) after the value at byte \(s.position)" }
    return nil
  }

  /// The value at `path` (object keys from the top) in a valid document: its bytes (strings
  /// without their quotes, still escaped) and whether it is a string.
  static func find(_ path: [[UInt8]], in bytes: UnsafeRawBufferPointer) -> (range: Range<Int>, isString: Bool, escaped: Bool)? {
    var s = JSONScanner(bytes)
    var level = 0
    s.skipWhitespace()
    while level < path.count {
      guard s.peek() == UInt8(ascii: "{") else { return nil }
      s.position += 1
      s.skipWhitespace()
      if s.peek() == UInt8(ascii: "}") { return nil }
      while true {
        s.skipWhitespace()
        guard let key = s.stringRange() else { return nil }
        s.skipWhitespace()
        guard s.peek() == UInt8(ascii: ":") else { return nil }
        s.position += 1
        s.skipWhitespace()
        if s.equals(key.range, path[level]) { break }
        guard s.skipValue(depth: 0) else { return nil }
        s.skipWhitespace()
        if s.peek() == UInt8(ascii: ",") {
          s.position += 1
          continue
        }
        return nil
      }
      level += 1
    }
    if s.peek() == UInt8(ascii: "\"") {
      guard let value = s.stringRange() else { return nil }
      return (value.range, true, value.escaped)
    }
    let start = s.position
    guard s.skipValue(depth: 0) else { return nil }
    return (start..<s.position, false, false)
  }

  @inline(__always) func peek() -> UInt8? {
    position < end ? base.load(fromByteOffset: position, as: UInt8.self) : nil
  }

  func describe() -> String {
    guard let c = peek() else { return "end of input" }
    if c >= 0x20 && c < 0x7f { return "'\(Character(Unicode.Scalar(c)))'" }
    return "byte 0x" + String(c, radix: 16)
  }

  mutating func fail(_ what: String) -> Bool {
    if error == nil { error = "\(what) at byte \(position), found \(describe())" }
    return false
  }

  @inline(__always) mutating func skipWhitespace() {
    while let c = peek(), c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09 { position += 1 }
  }

  func equals(_ range: Range<Int>, _ key: [UInt8]) -> Bool {
    guard range.count == key.count else { return false }
    return key.withUnsafeBytes { k in memcmp(base + range.lowerBound, k.baseAddress!, key.count) == 0 }
  }

  mutating func skipValue(depth: Int) -> Bool {
    guard depth < 64 else { return fail("nesting deeper than 64") }
    guard let c = peek() else { return fail("expected a value") }
    switch c {
    case UInt8(ascii: "{"):
      position += 1
      skipWhitespace()
      if peek() == UInt8(ascii: "}") {
        position += 1
        return true
      }
      while true {
        skipWhitespace()
        guard peek() == UInt8(ascii: "\"") else { return fail("expected a string key") }
        guard stringRange() != nil else { return false }
        skipWhitespace()
        guard peek() == UInt8(ascii: ":") else { return fail("expected ':'") }
        position += 1
        skipWhitespace()
        guard skipValue(depth: depth + 1) else { return false }
        skipWhitespace()
        if peek() == UInt8(ascii: ",") {
          position += 1
        } else if peek() == UInt8(ascii: "}") {
          position += 1
          return true
        } else {
          return fail("expected ',' or '}'")
        }
      }
    case UInt8(ascii: "["):
      position += 1
      skipWhitespace()
      if peek() == UInt8(ascii: "]") {
        position += 1
        return true
      }
      while true {
        skipWhitespace()
        guard skipValue(depth: depth + 1) else { return false }
        skipWhitespace()
        if peek() == UInt8(ascii: ",") {
          position += 1
        } else if peek() == UInt8(ascii: "]") {
          position += 1
          return true
        } else {
          return fail("expected ',' or ']'")
        }
      }
    case UInt8(ascii: "\""):
      return stringRange() != nil
    case UInt8(ascii: "t"): return literal("true")
    case UInt8(ascii: "f"): return literal("false")
    case UInt8(ascii: "n"): return literal("null")
    default:
      return number()
    }
  }

  mutating func literal(_ word: StaticString) -> Bool {
    let n = word.utf8CodeUnitCount
    guard position + n <= end, memcmp(base + position, word.utf8Start, n) == 0 else { return fail("expected \(word)") }
    position += n
    return true
  }

  mutating func number() -> Bool {
    let start = position
    if peek() == UInt8(ascii: "-") { position += 1 }
    guard let first = peek(), first >= 0x30 && first <= 0x39 else {
      position = start
      return fail("expected a value")
    }
    position += 1
    if first != 0x30 { while let c = peek(), c >= 0x30 && c <= 0x39 { position += 1 } }
    if peek() == UInt8(ascii: ".") {
      position += 1
      guard let c = peek(), c >= 0x30 && c <= 0x39 else { return fail("expected a digit") }
      while let c = peek(), c >= 0x30 && c <= 0x39 { position += 1 }
    }
    if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
      position += 1
      if let s = peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { position += 1 }
      guard let c = peek(), c >= 0x30 && c <= 0x39 else { return fail("expected an exponent digit") }
      while let c = peek(), c >= 0x30 && c <= 0x39 { position += 1 }
    }
    return true
  }

  /// Skips a string at `position` (which holds `"`); returns the bytes between the quotes.
  mutating func stringRange() -> (range: Range<Int>, escaped: Bool)? {
    guard peek() == UInt8(ascii: "\"") else {
      _ = fail("expected '\"'")
      return nil
    }
    position += 1
    let start = position
    var escaped = false
    while position < end {
      let c = base.load(fromByteOffset: position, as: UInt8.self)
      if c == UInt8(ascii: "\"") {
        position += 1
        return (start..<(position - 1), escaped)
      }
      if c == UInt8(ascii: "\\") {
        escaped = true
        position += 1
        guard let e = peek() else { break }
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
          UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
          position += 1
        case UInt8(ascii: "u"):
          position += 1
          for _ in 0..<4 {
            guard let h = peek(), (h >= 0x30 && h <= 0x39) || (h | 0x20 >= 0x61 && h | 0x20 <= 0x66) else {
              _ = fail("bad \\u escape")
              return nil
            }
            position += 1
          }
        default:
          _ = fail("bad escape")
          return nil
        }
      } else if c < 0x20 {
        _ = fail("control character in a string")
        return nil
      } else if c < 0x80 {
        position += 1
      } else {
        guard let n = utf8Length(at: position) else {
          _ = fail("invalid UTF-8")
          return nil
        }
        position += n
      }
    }
    _ = fail("unterminated string")
    return nil
  }

  /// Length of the well-formed UTF-8 sequence at `i`, or nil.
  func utf8Length(at i: Int) -> Int? {
    let b0 = base.load(fromByteOffset: i, as: UInt8.self)
    let n: Int
    if b0 & 0xE0 == 0xC0 { n = 2 } else if b0 & 0xF0 == 0xE0 { n = 3 } else if b0 & 0xF8 == 0xF0 { n = 4 } else { return nil }
    guard i + n <= end, b0 >= 0xC2, b0 <= 0xF4 else { return nil }
    for k in 1..<n where base.load(fromByteOffset: i + k, as: UInt8.self) & 0xC0 != 0x80 { return nil }
    return n
  }
}

#if canImport(Glibc)
  import Glibc
#endif
