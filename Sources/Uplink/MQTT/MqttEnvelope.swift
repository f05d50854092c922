import Foundation

/// The JSON an MQTT uplink publishes for one record, since MQTT 3.1.1 has no headers:
/// `{"timestamp":..,"key":..,"value":..,"headers":{..}}`. `key`, `value` and header values are
/// strings when they are UTF-8, else `{"base64":".."}`, null when absent; the `weir.*` headers
/// identify the record for deduplication exactly as they do on Kafka.
enum MqttEnvelope {
  static func encode(
    key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?, timestamp: Int64,
    headers: UnsafeBufferPointer<HeaderRef>, into out: inout [UInt8]
  ) {
    out.removeAll(keepingCapacity: true)
    append("{\"timestamp\":", &out)
    append(String(timestamp), &out)
    append(",\"key\":", &out)
    bytes(key, &out)
    append(",\"value\":", &out)
    bytes(value, &out)
    append(",\"headers\":{", &out)
    for (i, h) in headers.enumerated() {
      if i > 0 { out.append(UInt8(ascii: ",")) }
      quote(h.name, &out)
      out.append(UInt8(ascii: ":"))
      bytes(h.value, &out)
    }
    append("}}", &out)
  }

  private static func append(_ text: String, _ out: inout [UInt8]) { out.append(contentsOf: text.utf8) }

  private static func bytes(_ buffer: UnsafeRawBufferPointer?, _ out: inout [UInt8]) {
    guard let buffer else { return append("null", &out) }
    if String(validating: buffer, as: UTF8.self) != nil {
      quote(buffer, &out)
    } else {
      append("{\"base64\":\"", &out)
      append(Data(buffer).base64EncodedString(), &out)
      append("\"}", &out)
    }
  }

  /// A JSON string of UTF-8 bytes already checked valid.
  private static func quote(_ buffer: UnsafeRawBufferPointer, _ out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    for byte in buffer {
      switch byte {
      case UInt8(ascii: "\""): append("\\\"", &out)
      case UInt8(ascii: "\\"): append("\\\\", &out)
      case 0x0A: append("\\n", &out)
      case 0x0D: append("\\r", &out)
      case 0x09: append("\\t", &out)
      case 0..<0x20:
        let hex = String(byte, radix: 16)
        append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex, &out)
      default: out.append(byte)
      }
    }
    out.append(UInt8(ascii: "\""))
  }
}
