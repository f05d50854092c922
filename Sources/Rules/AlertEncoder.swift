import Payload

/// Writes alert JSON by hand, field by field in a fixed order, so equal alerts are equal bytes.
enum AlertEncoder {
  static func encode(
    rule: String, severity: String, key: String, state: AlertEvent.State, start: Int64, end: Int64,
    values: [AlertEvent.NamedValue], message: String
  ) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(256)
    func raw(_ s: String) { out.append(contentsOf: s.utf8) }
    raw("{\"rule\":")
    string(rule, into: &out)
    raw(",\"severity\":")
    string(severity, into: &out)
    raw(",\"key\":")
    string(key, into: &out)
    raw(",\"state\":\"\(state.rawValue)\",\"window_start\":\"\(RFC3339.format(start))\",\"window_end\":\"\(RFC3339.format(end))\"")
    raw(",\"window_start_ms\":\(start),\"window_end_ms\":\(end),\"values\":{")
    for (i, v) in values.enumerated() {
      if i > 0 { out.append(UInt8(ascii: ",")) }
      string(v.name, into: &out)
      out.append(UInt8(ascii: ":"))
      value(v.value, into: &out)
    }
    raw("},\"message\":")
    string(message, into: &out)
    out.append(UInt8(ascii: "}"))
    return out
  }

  static func value(_ v: Value, into out: inout [UInt8]) {
    switch v {
    case .null: out.append(contentsOf: "null".utf8)
    case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
    case .number(let d): out.append(contentsOf: (d.isFinite ? Value.format(d) : "null").utf8)
    case .string(let s): string(s, into: &out)
    }
  }

  static func string(_ s: String, into out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    for b in s.utf8 {
      switch b {
      case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
      case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
      case 0x0A: out.append(contentsOf: "\\n".utf8)
      case 0x0D: out.append(contentsOf: "\\r".utf8)
      case 0x09: out.append(contentsOf: "\\t".utf8)
      case 0..<0x20:
        let hex = Array("0123456789abcdef".utf8)
        out.append(contentsOf: "\\u00".utf8)
        out.append(hex[Int(b >> 4)])
        out.append(hex[Int(b & 15)])
      default: out.append(b)
      }
    }
    out.append(UInt8(ascii: "\""))
  }
}
