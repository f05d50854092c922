import Payload

extension FuzzTargets {
  /// The shared payload formats on any bytes: the JSON reader's two scans and its member listing, the alert record
  /// reader, the number, string and RFC 3339 readers, and the writer. Besides not trapping, each must agree with
  /// itself: a document one scan accepts the other accepts, every span lies inside the bytes, an alert read back
  /// writes the same fields again, and a time formatted from a parsed one parses to it.
  static let payload: Harness = { bytes in
    let fields = JSONFields(paths: [[.key("a")], [.key("b"), .index(1)], [.key("values")], [.index(0)]])
    let plain = JSONFields.validate(bytes)
    let withPaths = fields.validate(bytes)
    precondition((plain == nil) == (withPaths == nil), "the two validating scans disagree: \(String(describing: plain))")
    if withPaths == nil {
      for slot in 0..<fields.count {
        if let span = fields[slot] { precondition(span.range.upperBound <= bytes.count, "a span past the bytes") }
      }
      // What validates, the finding scan reads to the end without complaint.
      precondition(fields.find(bytes), "find refused a valid document")
      for (_, span) in JSONFields.members(of: bytes) {
        precondition(span.range.upperBound <= bytes.count, "a member past the bytes")
      }
    } else {
      _ = fields.find(bytes)
    }

    if let alert = AlertRecord(json: bytes) {
      let again = AlertRecord(
        rule: alert.rule, severity: alert.severity, key: alert.key, state: alert.state, windowStart: alert.windowStart,
        windowEnd: alert.windowEnd, values: alert.values, message: alert.message)
      let back = again.json.withUnsafeBytes { AlertRecord(json: $0) }
      precondition(
        back?.rule == alert.rule && back?.severity == alert.severity && back?.key == alert.key
          && back?.state == alert.state && back?.windowStart == alert.windowStart && back?.windowEnd == alert.windowEnd
          && back?.values == alert.values && back?.message == alert.message,
        "an alert does not read back as written")
    }

    _ = JSONNumber.parse(bytes)
    _ = JSONString.unescape(bytes)
    if let ms = RFC3339.parse(bytes) {
      // An offset can move the instant out of years 0...9999, which RFC 3339 cannot write.
      let text = RFC3339.format(ms)
      if text.utf8.count == 24 && text.utf8.first != UInt8(ascii: "-") {
        precondition(RFC3339.parse(text) == ms, "RFC 3339 \(ms) does not round-trip")
      }
    }

    let writer = JSONWriter(capacity: 64)
    writer.beginObject()
    writer.key("s")
    let wrote = writer.string(bytes)
    if wrote {
      writer.endObject()
      precondition(JSONFields.validate(writer.bytes) == nil, "the writer wrote invalid JSON")
    }
  }
}
