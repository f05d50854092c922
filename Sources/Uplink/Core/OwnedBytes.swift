/// Bytes at a fixed address for as long as the object lives, so header values can be handed to a
/// transport as pointers without copying per record.
final class OwnedBytes {
  let base: UnsafeMutableRawPointer
  private(set) var count: Int

  init(_ bytes: [UInt8]) {
    base = .allocate(byteCount: max(1, bytes.count), alignment: 8)
    count = bytes.count
    bytes.withUnsafeBytes { if $0.count > 0 { base.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
  }

  init(count: Int) {
    base = .allocate(byteCount: max(1, count), alignment: 8)
    self.count = count
  }

  convenience init(_ text: String) { self.init(Array(text.utf8)) }

  deinit { base.deallocate() }

  var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

  /// Writes `value` in decimal at the start (the buffer must hold 20 bytes); returns its bytes.
  @inline(__always)
  func formatDecimal(_ value: Int64) -> UnsafeRawBufferPointer {
    var v = value.magnitude
    var digits = 0
    var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
    withUnsafeMutableBytes(of: &scratch) { tmp in
      repeat {
        tmp[23 - digits] = UInt8(truncatingIfNeeded: 48 + v % 10)
        v /= 10
        digits += 1
      } while v > 0
      var at = 0
      if value < 0 {
        base.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 0, as: UInt8.self)
        at = 1
      }
      base.advanced(by: at).copyMemory(from: tmp.baseAddress! + 24 - digits, byteCount: digits)
      digits += at
    }
    return UnsafeRawBufferPointer(start: base, count: digits)
  }
}
