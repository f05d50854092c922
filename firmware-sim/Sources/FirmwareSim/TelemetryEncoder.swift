/// Formats a reading as the telemetry JSON every transport carries:
///
/// ```json
/// {"device":"motor-0007","kind":"motor","ts":1767600000000,"vibration":2.13,"temperature":41.2,"current":11.84,"rpm":1474}
/// ```
///
/// `ts` is epoch milliseconds of the (possibly skewed) device clock; measurements have the sensor's
/// fixed number of decimals. The content faults are applied here: a missing field, a value written
/// as a string, or bytes that are not JSON at all.
public enum TelemetryEncoder {
  /// Which key is affected by a content fault: the device id, the timestamp, or a measurement.
  public enum Key: Sendable, Equatable {
    case device
    case timestamp
    case field(Int)

    /// The JSON key name for a device kind.
    public func name(for kind: DeviceKind) -> String {
      switch self {
      case .device: "device"
      case .timestamp: "ts"
      case .field(let index): kind.fields[index].name
      }
    }
  }

  /// A content fault to apply while encoding.
  public enum ContentFault: Sendable, Equatable {
    case none
    /// Leave a key out.
    case missing(Key)
    /// Write a number as a JSON string (`"ts":"1767600000000"`), or the device id as a number.
    case wrongType(Key)
    /// Produce bytes that no JSON parser accepts; the variant picks how (see ``malform``).
    case malformed(variant: Int)
  }

  /// Number of distinct malformations ``malform(_:variant:cut:)`` knows.
  public static let malformedVariants = 3

  /// Encode one reading into `buffer` (which is cleared first).
  public static func encode(
    device: String, kind: DeviceKind, timestamp: Int64, values: SIMD4<Double>,
    fault: ContentFault = .none, malformCut: Double = 0.5, into buffer: inout [UInt8]
  ) {
    buffer.removeAll(keepingCapacity: true)
    var missing: Key?
    var stringly: Key?
    switch fault {
    case .missing(let key): missing = key
    case .wrongType(let key): stringly = key
    case .none, .malformed: break
    }
    var first = true
    func separator(_ buffer: inout [UInt8]) {
      if !first { buffer.append(UInt8(ascii: ",")) }
      first = false
    }

    buffer.append(UInt8(ascii: "{"))
    if missing != .device {
      separator(&buffer)
      JSONBytes.append("\"device\":", to: &buffer)
      if stringly == .device {
        JSONBytes.appendInt(Int64(deviceNumber(device)), to: &buffer)
      } else {
        JSONBytes.appendString(device, to: &buffer)
      }
    }
    separator(&buffer)
    JSONBytes.append("\"kind\":", to: &buffer)
    JSONBytes.appendString(kind.rawValue, to: &buffer)
    if missing != .timestamp {
      separator(&buffer)
      JSONBytes.append("\"ts\":", to: &buffer)
      if stringly == .timestamp { buffer.append(UInt8(ascii: "\"")) }
      JSONBytes.appendInt(timestamp, to: &buffer)
      if stringly == .timestamp { buffer.append(UInt8(ascii: "\"")) }
    }
    for (index, field) in kind.fields.enumerated() where missing != .field(index) {
      separator(&buffer)
      buffer.append(UInt8(ascii: "\""))
      buffer.append(contentsOf: field.name.utf8)
      JSONBytes.append("\":", to: &buffer)
      let quoted = stringly == .field(index)
      if quoted { buffer.append(UInt8(ascii: "\"")) }
      JSONBytes.appendFixed(values[index], decimals: field.decimals, to: &buffer)
      if quoted { buffer.append(UInt8(ascii: "\"")) }
    }
    buffer.append(UInt8(ascii: "}"))

    if case .malformed(let variant) = fault {
      malform(&buffer, variant: variant, cut: malformCut)
    }
  }

  /// Break a JSON object so that no parser accepts it:
  /// 0. truncated (a proper prefix of an object never closes it), `cut` in [0, 1) picks where;
  /// 1. the first `:` replaced by `=`;
  /// 2. a doubled opening brace (`{{"device":…`). A trailing comma would not do: lenient parsers,
  ///    Foundation's among them, accept it.
  public static func malform(_ buffer: inout [UInt8], variant: Int, cut: Double) {
    switch variant % malformedVariants {
    case 0:
      let keep = 1 + Int(Double(buffer.count - 2) * min(max(cut, 0), 0.999))
      buffer.removeSubrange(keep...)
    case 1:
      if let colon = buffer.firstIndex(of: UInt8(ascii: ":")) {
        buffer[colon] = UInt8(ascii: "=")
      }
    default:
      buffer.insert(UInt8(ascii: "{"), at: 0)
    }
  }

  /// The number in a device id (`motor-0007` → 7), for the wrong-type fault on `device`.
  static func deviceNumber(_ device: String) -> Int {
    var number = 0
    for byte in device.utf8 where byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
      number = number &* 10 &+ Int(byte - UInt8(ascii: "0"))
    }
    return number
  }
}
