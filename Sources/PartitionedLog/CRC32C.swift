import CWeirCRC32C

/// CRC-32C (Castagnoli), the checksum of Kafka's RecordBatch v2: the SSE4.2 `crc32` instruction
/// where the CPU has it, a slicing-by-8 table elsewhere.
public enum CRC32C {
  /// Whether this CPU computes it in hardware.
  public static let hardwareAvailable: Bool = weir_crc32c_hardware_available() != 0

  /// The CRC of `bytes`, continuing from `crc` (0 to start).
  public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
    guard let base = bytes.baseAddress else { return crc }
    return weir_crc32c(crc, base, bytes.count)
  }

  /// The table implementation alone (tests check both against known vectors).
  public static func tableChecksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
    guard let base = bytes.baseAddress else { return crc }
    return weir_crc32c_table(crc, base, bytes.count)
  }

  /// The hardware implementation alone; only valid when ``hardwareAvailable``.
  public static func hardwareChecksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
    guard let base = bytes.baseAddress else { return crc }
    return weir_crc32c_hardware(crc, base, bytes.count)
  }
}
