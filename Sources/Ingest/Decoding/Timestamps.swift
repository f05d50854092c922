import Payload

/// How a payload's event-time field is written.
public enum TimeFormat: String, Sendable, Codable {
  /// Numbers above 10^11 are milliseconds, others seconds; strings are RFC 3339.
  case auto
  case epochMs = "epoch_ms"
  case epochS = "epoch_s"
  case rfc3339
}

/// Turns a time field's bytes into epoch milliseconds, without allocating. Every result is a
/// value the input really denotes: a number past Int64 milliseconds is nil, never a trap.
enum Timestamps {
  /// `bytes` is a JSON number's text or a string's contents.
  static func parse(_ bytes: UnsafeRawBufferPointer, isString: Bool, format: TimeFormat) -> Int64? {
    switch format {
    case .rfc3339: return isString ? RFC3339.parse(bytes) : nil
    case .epochMs: return isString ? nil : number(bytes).flatMap(milliseconds)
    case .epochS: return isString ? nil : number(bytes).flatMap { milliseconds($0 * 1000) }
    case .auto:
      if isString { return RFC3339.parse(bytes) }
      guard let v = number(bytes) else { return nil }
      return milliseconds(abs(v) >= 1e11 ? v : v * 1000)
    }
  }

  /// The nearest whole millisecond, or nil outside Int64 (`1e19`, `-1e308`).
  @inline(__always)
  static func milliseconds(_ v: Double) -> Int64? {
    Int64(exactly: v.rounded())
  }

  /// A JSON number's value, or nil when it is not one or not finite (`1e999`).
  static func number(_ bytes: UnsafeRawBufferPointer) -> Double? {
    guard let v = JSONNumber.parse(bytes), v.isFinite else { return nil }
    return v
  }
}
