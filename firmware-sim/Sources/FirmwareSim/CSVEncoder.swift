/// CSV lines for a device: a header naming the columns, then one row per reading.
///
/// ```
/// device,kind,ts,vibration,temperature,current,rpm
/// motor-0001,motor,1767600000000,2.13,41.2,11.84,1474
/// ```
enum CSVEncoder {
  static func header(kind: DeviceKind) -> String {
    (["device", "kind", "ts"] + kind.fields.map(\.name)).joined(separator: ",") + "\r\n"
  }

  static func row(device: String, kind: DeviceKind, timestamp: Int64, values: SIMD4<Double>) -> String {
    var bytes = Array(device.utf8)
    bytes.append(UInt8(ascii: ","))
    bytes.append(contentsOf: kind.rawValue.utf8)
    bytes.append(UInt8(ascii: ","))
    JSONBytes.appendInt(timestamp, to: &bytes)
    for (index, field) in kind.fields.enumerated() {
      bytes.append(UInt8(ascii: ","))
      JSONBytes.appendFixed(values[index], decimals: field.decimals, to: &bytes)
    }
    bytes.append(contentsOf: [0x0D, 0x0A])
    return String(decoding: bytes, as: UTF8.self)
  }
}
