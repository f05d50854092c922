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
    raw(",\"state\":\"\(state.rawValue)\",\"window_start\":\"\(rfc3339(start))\",\"window_end\":\"\(rfc3339(end))\"")
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

  /// Formats epoch milliseconds as RFC 3339 in UTC with milliseconds: `2023-11-14T22:13:20.000Z`.
  static func rfc3339(_ ms: Int64) -> String {
    let days = ms.alignedDown(to: 86_400_000) / 86_400_000
    let msOfDay = ms - days * 86_400_000
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    func pad(_ v: Int64, _ width: Int) -> String {
      let s = String(v)
      return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    let h = msOfDay / 3_600_000
    let m = msOfDay / 60_000 % 60
    let s = msOfDay / 1000 % 60
    let f = msOfDay % 1000
    return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(h, 2)):\(pad(m, 2)):\(pad(s, 2)).\(pad(f, 3))Z"
  }
}
