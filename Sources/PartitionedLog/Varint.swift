/// Kafka's zig-zag varints (protobuf style): `varint` for 32-bit and `varlong` for 64-bit fields
/// share one encoding, so one pair of functions serves both.
public enum Varint {
  /// Bytes needed to encode `value`.
  @inline(__always)
  public static func size(_ value: Int64) -> Int {
    var v = UInt64(bitPattern: (value << 1) ^ (value >> 63))
    var n = 1
    while v >= 0x80 {
      v >>= 7
      n += 1
    }
    return n
  }

  /// Writes `value` at `pointer`; returns the bytes written (at most 10).
  @inline(__always)
  public static func write(_ value: Int64, to pointer: UnsafeMutableRawPointer) -> Int {
    var v = UInt64(bitPattern: (value << 1) ^ (value >> 63))
    var i = 0
    while v >= 0x80 {
      pointer.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, toByteOffset: i, as: UInt8.self)
      v >>= 7
      i += 1
    }
    pointer.storeBytes(of: UInt8(v), toByteOffset: i, as: UInt8.self)
    return i + 1
  }

  /// Reads a varint at `position` of `bytes`, advancing `position`; nil when truncated or longer
  /// than 10 bytes.
  @inline(__always)
  public static func read(_ bytes: UnsafeRawPointer, _ end: Int, _ position: inout Int) -> Int64? {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while position < end {
      let byte = bytes.load(fromByteOffset: position, as: UInt8.self)
      position += 1
      result |= UInt64(byte & 0x7f) << shift
      if byte < 0x80 {
        return Int64(bitPattern: result >> 1) ^ -Int64(bitPattern: result & 1)
      }
      shift += 7
      if shift > 63 { return nil }
    }
    return nil
  }
}
