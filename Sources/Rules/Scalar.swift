import Payload

/// A value seen while evaluating one record: borrowed text, never an owned String, so evaluation never allocates.
///
/// Text points into the record's payload (valid only while the record is being processed) or into a
/// `TextConstant`. `escaped` is true when the bytes still contain JSON escapes (`\n`, `\u00e9`).
enum Scalar {
  case null
  case number(Double)
  case bool(Bool)
  case text(UnsafeRawPointer, Int, escaped: Bool)

  var number: Double? {
    if case .number(let v) = self { return v }
    return nil
  }

  var isNull: Bool {
    if case .null = self { return true }
    return false
  }

  /// SQL truth: only `true` passes a filter; null and non-booleans do not.
  var isTrue: Bool {
    if case .bool(true) = self { return true }
    return false
  }

  /// Converts to an owned value (allocates for text; used once per window or per new key, not per record).
  var value: Value {
    switch self {
    case .null: .null
    case .number(let v): v.isFinite ? .number(v) : .null
    case .bool(let b): .bool(b)
    case .text(let p, let n, let escaped):
      .string(String(decoding: Scalar.bytes(p, n, escaped: escaped), as: UTF8.self))
    }
  }

  /// The text's bytes with JSON escapes decoded.
  static func bytes(_ p: UnsafeRawPointer, _ n: Int, escaped: Bool) -> [UInt8] {
    let raw = UnsafeRawBufferPointer(start: p, count: n)
    return escaped ? JSONString.unescape(raw) : Array(raw)
  }

  /// Compares two texts bytewise; -1, 0 or 1.
  static func compareText(
    _ a: UnsafeRawPointer, _ an: Int, _ ae: Bool, _ b: UnsafeRawPointer, _ bn: Int, _ be: Bool
  ) -> Int {
    if ae || be {
      let x = bytes(a, an, escaped: ae)
      let y = bytes(b, bn, escaped: be)
      return x.lexicographicallyPrecedes(y) ? -1 : (x == y ? 0 : 1)
    }
    let common = min(an, bn)
    if common > 0 {
      let c = memcmpBytes(a, b, common)
      if c != 0 { return c }
    }
    return an < bn ? -1 : (an == bn ? 0 : 1)
  }

  static func memcmpBytes(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Int {
    var i = 0
    // Eight bytes at a time; big-endian order of the words gives the same answer as a byte compare.
    while i + 8 <= n {
      let x = a.loadUnaligned(fromByteOffset: i, as: UInt64.self)
      let y = b.loadUnaligned(fromByteOffset: i, as: UInt64.self)
      if x != y { return x.bigEndian < y.bigEndian ? -1 : 1 }
      i += 8
    }
    while i < n {
      let x = a.load(fromByteOffset: i, as: UInt8.self)
      let y = b.load(fromByteOffset: i, as: UInt8.self)
      if x != y { return x < y ? -1 : 1 }
      i += 1
    }
    return 0
  }
}

/// String literal bytes kept at a stable address for the life of a compiled rule.
/// `@unchecked Sendable`: immutable after `init` (the bytes are written once and never changed or freed before `deinit`).
final class TextConstant: @unchecked Sendable {
  let pointer: UnsafeMutableRawPointer
  let count: Int
  let string: String

  init(_ string: String) {
    let bytes = Array(string.utf8)
    self.string = string
    count = bytes.count
    pointer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 8)
    bytes.withUnsafeBytes { raw in
      if let base = raw.baseAddress { pointer.copyMemory(from: base, byteCount: raw.count) }
    }
  }

  deinit { pointer.deallocate() }

  var scalar: Scalar { .text(UnsafeRawPointer(pointer), count, escaped: false) }
}
