/// CRC-16/MODBUS: polynomial 0x8005 reflected (0xA001), initial value 0xFFFF, no final XOR. It is
/// sent low byte first at the end of every RTU frame. Table-driven, one lookup per byte.
public enum ModbusCRC {
  static let table: [UInt16] = (0..<256).map { byte in
    var crc = UInt16(byte)
    for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xA001 : crc >> 1 }
    return crc
  }

  /// The CRC of `bytes`.
  public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
    var crc: UInt16 = 0xFFFF
    table.withUnsafeBufferPointer { t in
      for b in bytes { crc = (crc >> 8) ^ t[Int(UInt8(truncatingIfNeeded: crc) ^ b)] }
    }
    return crc
  }

  public static func checksum(_ bytes: [UInt8]) -> UInt16 {
    bytes.withUnsafeBytes { checksum($0) }
  }

  /// True when the last two bytes of `frame` are the CRC of the rest, low byte first.
  public static func isValid(_ frame: UnsafeRawBufferPointer) -> Bool {
    guard frame.count >= 3 else { return false }
    let crc = checksum(UnsafeRawBufferPointer(rebasing: frame[..<(frame.count - 2)]))
    return frame[frame.count - 2] == UInt8(truncatingIfNeeded: crc) && frame[frame.count - 1] == UInt8(crc >> 8)
  }
}
