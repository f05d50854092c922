/// Decoding JSON string contents and checking UTF-8: shared by the reader, the writer and every consumer that needs
/// a string's text.
public enum JSONString {
  /// The bytes of a string's contents (between the quotes) with its escapes decoded. A `\u` escape that is not four
  /// hex digits is kept as written; a lone surrogate becomes U+FFFD.
  public static func unescape(_ raw: UnsafeRawBufferPointer) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(raw.count)
    unescape(raw) { out.append($0) }
    return out
  }

  /// The contents as a String (escapes decoded); no copy beyond the String's own when there are none.
  public static func text(_ raw: UnsafeRawBufferPointer, escaped: Bool) -> String {
    escaped ? String(decoding: unescape(raw), as: UTF8.self) : String(decoding: raw, as: UTF8.self)
  }

  /// Decodes the escapes of `raw`, handing each output byte to `emit` (for callers with their own buffer).
  @inline(__always)
  public static func unescape(_ raw: UnsafeRawBufferPointer, _ emit: (UInt8) -> Void) {
    var i = 0
    while i < raw.count {
      let c = raw[i]
      guard c == UInt8(ascii: "\\"), i + 1 < raw.count else {
        emit(c)
        i += 1
        continue
      }
      let e = raw[i + 1]
      i += 2
      switch e {
      case UInt8(ascii: "n"): emit(0x0A)
      case UInt8(ascii: "t"): emit(0x09)
      case UInt8(ascii: "r"): emit(0x0D)
      case UInt8(ascii: "b"): emit(0x08)
      case UInt8(ascii: "f"): emit(0x0C)
      case UInt8(ascii: "u"):
        guard var code = hex4(raw, i) else {
          emit(UInt8(ascii: "\\"))
          emit(e)
          continue
        }
        i += 4
        if code >= 0xD800, code < 0xDC00, i + 6 <= raw.count, raw[i] == UInt8(ascii: "\\"),
          raw[i + 1] == UInt8(ascii: "u"), let low = hex4(raw, i + 2), low >= 0xDC00, low < 0xE000
        {
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
          i += 6
        }
        for b in UTF8.encode(Unicode.Scalar(code) ?? "\u{FFFD}")! { emit(b) }
      default: emit(e)
      }
    }
  }

  static func hex4(_ raw: UnsafeRawBufferPointer, _ at: Int) -> UInt32? {
    guard at + 4 <= raw.count else { return nil }
    var v: UInt32 = 0
    for k in 0..<4 {
      guard let d = hexValue(raw[at + k]) else { return nil }
      v = v << 4 | UInt32(d)
    }
    return v
  }

  @inline(__always)
  public static func hexValue(_ b: UInt8) -> UInt8? {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
    default: return nil
    }
  }

  /// The length of the well-formed UTF-8 sequence at `i`, or 0 when it is not one: overlong forms, surrogates and
  /// code points above U+10FFFF are refused (RFC 3629).
  @inline(__always)
  public static func utf8SequenceLength(_ s: UnsafeRawBufferPointer, at i: Int) -> Int {
    let b0 = s[i]
    let n = s.count
    @inline(__always) func cont(_ j: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
      j < n && s[j] >= low && s[j] <= high
    }
    switch b0 {
    case 0x00...0x7F: return 1
    case 0xC2...0xDF: return cont(i + 1) ? 2 : 0
    case 0xE0: return cont(i + 1, 0xA0) && cont(i + 2) ? 3 : 0
    case 0xE1...0xEC, 0xEE...0xEF: return cont(i + 1) && cont(i + 2) ? 3 : 0
    case 0xED: return cont(i + 1, 0x80, 0x9F) && cont(i + 2) ? 3 : 0
    case 0xF0: return cont(i + 1, 0x90) && cont(i + 2) && cont(i + 3) ? 4 : 0
    case 0xF1...0xF3: return cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0
    case 0xF4: return cont(i + 1, 0x80, 0x8F) && cont(i + 2) && cont(i + 3) ? 4 : 0
    default: return 0
    }
  }
}
