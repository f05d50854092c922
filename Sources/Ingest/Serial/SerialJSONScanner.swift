#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Validates one JSON object (RFC 8259, UTF-8 checked, nesting up to 64) in a single pass and
/// finds the values of up to two top-level fields (the key and the event time). Works on the
/// bytes in place; allocates nothing unless a matching field name contains escapes.
struct SerialJSONScanner {
  /// Where a value sits in the scanned bytes.
  struct Value {
    enum Kind { case string, number, bool, null, object, array }
    var kind: Kind
    /// For strings, the content between the quotes (escapes not decoded).
    var range: Range<Int>
    var hasEscapes = false
  }

  /// Why the text is not a JSON object; `offset` is where the scan stopped.
  struct Failure: Error {
    var message: StaticString
    var offset: Int
    var detail: String { "\(message) at byte \(offset)" }
  }

  private let bytes: UnsafeRawBufferPointer
  private var pos = 0
  private let maxDepth = 64

  private init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

  /// Scans `bytes`, which must hold exactly one JSON object (whitespace around it allowed), and
  /// returns the top-level values named `first` and `second` (nil when absent or not asked for).
  static func scanObject(
    _ bytes: UnsafeRawBufferPointer, first: UnsafeRawBufferPointer?, second: UnsafeRawBufferPointer?
  ) throws(Failure) -> (Value?, Value?) {
    var scanner = SerialJSONScanner(bytes)
    scanner.skipWhitespace()
    guard scanner.pos < bytes.count else { throw Failure(message: "empty line", offset: 0) }
    guard bytes[scanner.pos] == UInt8(ascii: "{") else {
      throw Failure(message: "not a JSON object (expected '{')", offset: scanner.pos)
    }
    let found = try scanner.topLevelObject(first: first, second: second)
    scanner.skipWhitespace()
    guard scanner.pos == bytes.count else {
      throw Failure(message: "unexpected text after the object", offset: scanner.pos)
    }
    return found
  }

  @inline(__always)
  private mutating func skipWhitespace() {
    while pos < bytes.count {
      let b = bytes[pos]
      guard b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D else { return }
      pos += 1
    }
  }

  private mutating func topLevelObject(
    first: UnsafeRawBufferPointer?, second: UnsafeRawBufferPointer?
  ) throws(Failure) -> (Value?, Value?) {
    var a: Value?
    var b: Value?
    pos += 1
    skipWhitespace()
    if pos < bytes.count && bytes[pos] == UInt8(ascii: "}") {
      pos += 1
      return (nil, nil)
    }
    while true {
      guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else {
        throw Failure(message: "expected a field name", offset: pos)
      }
      let name = try string()
      skipWhitespace()
      guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else {
        throw Failure(message: "expected ':'", offset: pos)
      }
      pos += 1
      skipWhitespace()
      let v = try value(depth: 1)
      if let first, a == nil, Self.matches(bytes, name, first) { a = v }
      if let second, b == nil, Self.matches(bytes, name, second) { b = v }
      skipWhitespace()
      guard pos < bytes.count else { throw Failure(message: "unterminated object", offset: pos) }
      if bytes[pos] == UInt8(ascii: ",") {
        pos += 1
        skipWhitespace()
        continue
      }
      guard bytes[pos] == UInt8(ascii: "}") else { throw Failure(message: "expected ',' or '}'", offset: pos) }
      pos += 1
      return (a, b)
    }
  }

  private static func matches(_ bytes: UnsafeRawBufferPointer, _ name: Value, _ wanted: UnsafeRawBufferPointer) -> Bool
  {
    if !name.hasEscapes {
      guard name.range.count == wanted.count else { return false }
      return memcmp(bytes.baseAddress! + name.range.lowerBound, wanted.baseAddress!, wanted.count) == 0
    }
    return decodeString(bytes, name).utf8.elementsEqual(wanted)
  }

  /// `depth` counts the containers around the value, the top-level object's included.
  private mutating func value(depth: Int) throws(Failure) -> Value {
    guard pos < bytes.count else { throw Failure(message: "expected a value", offset: pos) }
    // As Ingest's JSONScanner counts: 64 levels in all, the innermost value included.
    guard depth < maxDepth else { throw Failure(message: "nested deeper than 64 levels", offset: pos) }
    switch bytes[pos] {
    case UInt8(ascii: "\""):
      return try string()
    case UInt8(ascii: "{"), UInt8(ascii: "["):
      let start = pos
      let isObject = bytes[pos] == UInt8(ascii: "{")
      try container(depth: depth + 1)
      return Value(kind: isObject ? .object : .array, range: start..<pos)
    case UInt8(ascii: "t"):
      try literal("true")
      return Value(kind: .bool, range: pos - 4..<pos)
    case UInt8(ascii: "f"):
      try literal("false")
      return Value(kind: .bool, range: pos - 5..<pos)
    case UInt8(ascii: "n"):
      try literal("null")
      return Value(kind: .null, range: pos - 4..<pos)
    default:
      return try number()
    }
  }

  private mutating func container(depth: Int) throws(Failure) {
    guard depth <= maxDepth else { throw Failure(message: "nested deeper than 64 levels", offset: pos) }
    let isObject = bytes[pos] == UInt8(ascii: "{")
    let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
    pos += 1
    skipWhitespace()
    if pos < bytes.count && bytes[pos] == close {
      pos += 1
      return
    }
    while true {
      if isObject {
        guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else {
          throw Failure(message: "expected a field name", offset: pos)
        }
        _ = try string()
        skipWhitespace()
        guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else {
          throw Failure(message: "expected ':'", offset: pos)
        }
        pos += 1
        skipWhitespace()
      }
      _ = try value(depth: depth)
      skipWhitespace()
      guard pos < bytes.count else {
        throw Failure(message: isObject ? "unterminated object" : "unterminated array", offset: pos)
      }
      if bytes[pos] == UInt8(ascii: ",") {
        pos += 1
        skipWhitespace()
        continue
      }
      guard bytes[pos] == close else {
        throw Failure(message: isObject ? "expected ',' or '}'" : "expected ',' or ']'", offset: pos)
      }
      pos += 1
      return
    }
  }

  private mutating func literal(_ word: StaticString) throws(Failure) {
    let n = word.utf8CodeUnitCount
    guard pos + n <= bytes.count, memcmp(bytes.baseAddress! + pos, word.utf8Start, n) == 0 else {
      throw Failure(message: "invalid literal", offset: pos)
    }
    pos += n
  }

  private mutating func string() throws(Failure) -> Value {
    pos += 1
    let start = pos
    var escapes = false
    while pos < bytes.count {
      let b = bytes[pos]
      if b == UInt8(ascii: "\"") {
        pos += 1
        return Value(kind: .string, range: start..<pos - 1, hasEscapes: escapes)
      }
      if b == UInt8(ascii: "\\") {
        escapes = true
        guard pos + 1 < bytes.count else { break }
        switch bytes[pos + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
          UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
          pos += 2
        case UInt8(ascii: "u"):
          guard pos + 6 <= bytes.count, (2..<6).allSatisfy({ Self.hexValue(bytes[pos + $0]) != nil }) else {
            throw Failure(message: "invalid \\u escape", offset: pos)
          }
          pos += 6
        default:
          throw Failure(message: "invalid escape", offset: pos)
        }
        continue
      }
      if b < 0x20 { throw Failure(message: "control character in string", offset: pos) }
      if b < 0x80 {
        pos += 1
        continue
      }
      let length = SerialJSONWriter.utf8SequenceLength(bytes, at: pos)
      if length == 0 { throw Failure(message: "invalid UTF-8", offset: pos) }
      pos += length
    }
    throw Failure(message: "unterminated string", offset: pos)
  }

  private mutating func number() throws(Failure) -> Value {
    let start = pos
    if pos < bytes.count && bytes[pos] == UInt8(ascii: "-") { pos += 1 }
    guard pos < bytes.count, SerialDecimal.isDigit(bytes[pos]) else {
      throw Failure(message: "unexpected character", offset: start)
    }
    if bytes[pos] == UInt8(ascii: "0") {
      pos += 1
    } else {
      while pos < bytes.count && SerialDecimal.isDigit(bytes[pos]) { pos += 1 }
    }
    if pos < bytes.count && bytes[pos] == UInt8(ascii: ".") {
      pos += 1
      guard pos < bytes.count, SerialDecimal.isDigit(bytes[pos]) else {
        throw Failure(message: "digit expected after '.'", offset: pos)
      }
      while pos < bytes.count && SerialDecimal.isDigit(bytes[pos]) { pos += 1 }
    }
    if pos < bytes.count && (bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E")) {
      pos += 1
      if pos < bytes.count && (bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-")) { pos += 1 }
      guard pos < bytes.count, SerialDecimal.isDigit(bytes[pos]) else {
        throw Failure(message: "digit expected in exponent", offset: pos)
      }
      while pos < bytes.count && SerialDecimal.isDigit(bytes[pos]) { pos += 1 }
    }
    return Value(kind: .number, range: start..<pos)
  }

  @inline(__always)
  static func hexValue(_ b: UInt8) -> UInt8? {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
    default: return nil
    }
  }

  /// The text of a string value with its escapes decoded (a lone surrogate becomes U+FFFD).
  static func decodeString(_ bytes: UnsafeRawBufferPointer, _ value: Value) -> String {
    let raw = UnsafeRawBufferPointer(rebasing: bytes[value.range])
    guard value.hasEscapes else { return String(decoding: raw, as: UTF8.self) }
    var scalars = String.UnicodeScalarView()
    var utf8: [UInt8] = []
    var i = 0
    func flush() {
      if !utf8.isEmpty {
        scalars.append(contentsOf: String(decoding: utf8, as: UTF8.self).unicodeScalars)
        utf8.removeAll()
      }
    }
    func hex4(_ at: Int) -> UInt32 {
      (0..<4).reduce(UInt32(0)) { $0 << 4 | UInt32(hexValue(raw[at + $1]) ?? 0) }
    }
    while i < raw.count {
      guard raw[i] == UInt8(ascii: "\\"), i + 1 < raw.count else {
        utf8.append(raw[i])
        i += 1
        continue
      }
      let e = raw[i + 1]
      i += 2
      switch e {
      case UInt8(ascii: "b"): utf8.append(0x08)
      case UInt8(ascii: "f"): utf8.append(0x0C)
      case UInt8(ascii: "n"): utf8.append(0x0A)
      case UInt8(ascii: "r"): utf8.append(0x0D)
      case UInt8(ascii: "t"): utf8.append(0x09)
      case UInt8(ascii: "u"):
        flush()
        var code = hex4(i)
        i += 4
        if (0xD800..<0xDC00).contains(code), i + 6 <= raw.count, raw[i] == UInt8(ascii: "\\"),
          raw[i + 1] == UInt8(ascii: "u")
        {
          let low = hex4(i + 2)
          if (0xDC00..<0xE000).contains(low) {
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            i += 6
          }
        }
        scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
      default: utf8.append(e)
      }
    }
    flush()
    return String(scalars)
  }
}
