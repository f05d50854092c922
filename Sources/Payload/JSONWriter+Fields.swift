import WeirCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Members with run-time names, for documents built off the hot path: log lines, alerts, gap markers, tool and
/// benchmark output. Same escaping as every other value the writer writes.
extension JSONWriter {
  /// A writer with an object already open: add members, then read ``result``.
  public static func object(capacity: Int = 256) -> JSONWriter {
    let writer = JSONWriter(capacity: capacity)
    writer.beginObject()
    return writer
  }

  /// A member name from a String.
  public func key(text name: String) {
    var name = name
    name.withUTF8 { _ = key(UnsafeRawBufferPointer($0)) }
  }

  /// A string value from a String (always UTF-8, so always written).
  public func text(_ value: String) {
    var value = value
    value.withUTF8 { _ = string(UnsafeRawBufferPointer($0)) }
  }

  public func add(_ k: String, _ v: String) {
    key(text: k)
    text(v)
  }

  public func add(_ k: String, _ v: Int64) {
    key(text: k)
    int(v)
  }

  public func add(_ k: String, _ v: Int) { add(k, Int64(v)) }

  public func add(_ k: String, _ v: Bool) {
    key(text: k)
    bool(v)
  }

  /// A measurement for people to read: four significant digits (`0.9012`, `12.35`), whole numbers from 1000 on;
  /// null when not finite.
  public func add(_ k: String, _ v: Double) {
    key(text: k)
    guard v.isFinite else { return null() }
    if v.magnitude >= 1000 {
      v.magnitude < 9e18 ? int(Int64(v.rounded())) : double(v)
    } else if v == 0 {
      int(0)
    } else {
      fixed(v, decimals: max(0, 3 - Int(floor(log10(v.magnitude)))))
    }
  }

  /// A member whose value is JSON already encoded.
  public func add(_ k: String, raw json: String) {
    key(text: k)
    var json = json
    json.withUTF8 { raw(UnsafeRawBufferPointer($0)) }
  }

  public func addNull(_ k: String) {
    key(text: k)
    null()
  }

  /// Bytes as a JSON string when they are UTF-8, else `{"base64":"..."}`; null when there are none.
  public func add(_ k: String, bytes: UnsafeRawBufferPointer?) {
    key(text: k)
    guard let bytes else { return null() }
    let mark = buffer.count
    let nonEmptyBefore = saveState()
    if string(bytes) { return }
    // Not UTF-8: take back what was written and write the bytes as base64.
    buffer.count = mark
    restoreState(nonEmptyBefore)
    beginObject()
    key("base64")
    beginString()
    Base64.append(bytes, to: buffer)
    endString()
    endObject()
  }

  /// The document so far with every open object closed (for writers made with ``object(capacity:)``).
  public var result: String {
    var text = String(decoding: bytes, as: UTF8.self)
    for _ in 0..<openContainers { text += "}" }
    return text
  }
}

/// RFC 4648 base64 with padding.
enum Base64 {
  static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

  static func append(_ bytes: UnsafeRawBufferPointer, to out: ByteBuffer) {
    var i = 0
    while i + 3 <= bytes.count {
      let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
      for shift in [18, 12, 6, 0] { out.appendByte(alphabet[Int(v >> UInt32(shift) & 63)]) }
      i += 3
    }
    let rest = bytes.count - i
    guard rest > 0 else { return }
    let v = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
    out.appendByte(alphabet[Int(v >> 18 & 63)])
    out.appendByte(alphabet[Int(v >> 12 & 63)])
    out.appendByte(rest == 2 ? alphabet[Int(v >> 6 & 63)] : UInt8(ascii: "="))
    out.appendByte(UInt8(ascii: "="))
  }
}
