public import WeirCore

extension ByteBuffer {
  /// Appends a zig-zag varint (Kafka's `varint`/`varlong`).
  @inline(__always)
  public func appendVarint(_ value: Int64) {
    reserve(10)
    count += Varint.write(value, to: base + count)
  }
}

extension UnsafeRawPointer {
  @inline(__always)
  func loadBigEndian<T: FixedWidthInteger>(at offset: Int, as type: T.Type) -> T {
    T(bigEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
  }
}
