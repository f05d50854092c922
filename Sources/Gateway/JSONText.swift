import Foundation

/// Builds one line of JSON by hand, for tools that print many lines fast (`weir log dump`) and
/// for benchmark output whose key order should stay as written.
public struct JSONText {
  public private(set) var text = "{"
  private var first = true

  public init() {}

  private mutating func key(_ k: String) {
    if !first { text += "," }
    first = false
    text += Self.quote(k) + ":"
  }

  public mutating func add(_ k: String, _ v: String) {
    key(k)
    text += Self.quote(v)
  }

  public mutating func add(_ k: String, _ v: Int64) {
    key(k)
    text += String(v)
  }

  public mutating func add(_ k: String, _ v: Int) { add(k, Int64(v)) }

  public mutating func add(_ k: String, _ v: Double) {
    key(k)
    if !v.isFinite {
      text += "null"
    } else if abs(v) >= 1000 {
      text += String(format: "%.0f", v)
    } else {
      text += String(format: "%.4g", v).replacingOccurrences(of: "e+", with: "e")
    }
  }

  public mutating func add(_ k: String, _ v: Bool) {
    key(k)
    text += v ? "true" : "false"
  }

  /// Adds raw JSON (an object or array already encoded).
  public mutating func add(_ k: String, raw: String) {
    key(k)
    text += raw
  }

  public mutating func addNull(_ k: String) {
    key(k)
    text += "null"
  }

  /// Bytes as a JSON string when they are UTF-8, else `{"base64": "..."}`.
  public mutating func add(_ k: String, bytes: UnsafeRawBufferPointer?) {
    key(k)
    text += Self.bytes(bytes)
  }

  public var result: String { text + "}" }

  public static func bytes(_ bytes: UnsafeRawBufferPointer?) -> String {
    guard let bytes else { return "null" }
    if let s = String(validating: bytes, as: UTF8.self) {
      return quote(s)
    }
    return "{\"base64\":\"" + Data(bytes).base64EncodedString() + "\"}"
  }

  public static func quote(_ s: String) -> String {
    var out = "\""
    out.reserveCapacity(s.utf8.count + 2)
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20:
        out += String(format: "\\u%04x", scalar.value)
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}
