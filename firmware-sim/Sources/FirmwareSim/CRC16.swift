/// CRC-16/MODBUS: reflected polynomial 0xA001 (0x8005), initial value 0xFFFF, no final XOR.
/// Check value: "123456789" → 0x4B37. On the wire the low byte goes first.
public enum CRC16 {
  private static let table: [UInt16] = (0..<256).map { index in
    var crc = UInt16(index)
    for _ in 0..<8 {
      crc = crc & 1 != 0 ? (crc >> 1) ^ 0xA001 : crc >> 1
    }
    return crc
  }

  public static func modbus<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt16 {
    var crc: UInt16 = 0xFFFF
    for byte in bytes {
      crc = (crc >> 8) ^ table[Int((crc ^ UInt16(byte)) & 0xFF)]
    }
    return crc
  }

  /// Append the CRC of `frame` to it, low byte first.
  public static func appendModbus(to frame: inout [UInt8]) {
    let crc = modbus(frame)
    frame.append(UInt8(crc & 0xFF))
    frame.append(UInt8(crc >> 8))
  }

  /// Whether the last two bytes of `frame` are the CRC of the rest.
  public static func isValidModbusFrame(_ frame: some Collection<UInt8>) -> Bool {
    guard frame.count >= 3 else { return false }
    let body = frame.dropLast(2)
    let low = UInt16(frame[frame.index(frame.endIndex, offsetBy: -2)])
    let high = UInt16(frame[frame.index(frame.endIndex, offsetBy: -1)])
    return modbus(body) == low | high << 8
  }
}
