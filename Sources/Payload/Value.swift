/// A JSON scalar as the rule engine computes it per window (a SELECT column, the HAVING result, a group key part)
/// and as an alert carries it.
public enum Value: Sendable, Hashable, CustomStringConvertible {
  /// No value (SQL NULL): a missing field, an empty window, an undefined result.
  case null
  /// A finite number.
  case number(Double)
  /// Text.
  case string(String)
  /// A boolean.
  case bool(Bool)

  /// The number, if this is one (NaN and infinities count as no number).
  public var number: Double? {
    if case .number(let v) = self, v.isFinite { return v }
    return nil
  }

  public var description: String {
    switch self {
    case .null: "null"
    case .number(let v): Value.format(v)
    case .string(let s): s
    case .bool(let b): b ? "true" : "false"
    }
  }

  /// Formats a number the way alerts show it: integers without a fraction, others in shortest round-trip form.
  public static func format(_ v: Double) -> String {
    if v == v.rounded(.towardZero), v.magnitude < 9.0e15 { return String(Int64(v)) }
    return String(v)
  }
}
