import Payload

/// Writes alert JSON field by field in a fixed order, so equal alerts are equal bytes.
enum AlertEncoder {
  static func encode(
    rule: String, severity: String, key: String, state: AlertEvent.State, start: Int64, end: Int64,
    values: [AlertEvent.NamedValue], message: String
  ) -> [UInt8] {
    let out = JSONWriter.object()
    out.add("rule", rule)
    out.add("severity", severity)
    out.add("key", key)
    out.add("state", state.rawValue)
    out.add("window_start", RFC3339.format(start))
    out.add("window_end", RFC3339.format(end))
    out.add("window_start_ms", start)
    out.add("window_end_ms", end)
    out.key("values")
    out.beginObject()
    for v in values {
      out.key(text: v.name)
      value(v.value, into: out)
    }
    out.endObject()
    out.add("message", message)
    out.endObject()
    return Array(out.bytes)
  }

  static func value(_ v: Value, into out: JSONWriter) {
    switch v {
    case .null: out.null()
    case .bool(let b): out.bool(b)
    case .number(let d): out.double(d)
    case .string(let s): out.text(s)
    }
  }
}
