/// A growable, contiguous byte buffer that keeps its memory between uses, so a batch is built,
/// written and read without a heap allocation per record. Not thread-safe: one owner at a time.
public final class ByteBuffer: @unchecked Sendable {
  public private(set) var base: UnsafeMutableRawPointer
  public private(set) var capacity: Int
  /// Bytes in use, from `base`.
  public var count: Int = 0

  public init(capacity: Int = 64 * 1024) {
    self.capacity = max(capacity, 64)
    self.base = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 16)
  }

  deinit { base.deallocate() }

  /// The bytes in use.
  public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

  public func removeAll() { count = 0 }

  /// Makes room for `extra` more bytes past `count`.
  @inline(__always)
  public func reserve(_ extra: Int) {
    if count + extra > capacity { grow(to: count + extra) }
  }

  @inline(never)
  private func grow(to needed: Int) {
    var newCapacity = capacity * 2
    while newCapacity < needed { newCapacity *= 2 }
    let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
    newBase.copyMemory(from: base, byteCount: count)
    base.deallocate()
    base = newBase
    capacity = newCapacity
  }

  /// Shrinks the buffer back when one large use left it much bigger than it usually needs.
  public func shrink(to target: Int) {
    guard capacity > target * 4, count <= target else { return }
    let newBase = UnsafeMutableRawPointer.allocate(byteCount: target, alignment: 16)
    newBase.copyMemory(from: base, byteCount: count)
    base.deallocate()
    base = newBase
    capacity = target
  }

  @inline(__always)
  public func append(_ source: UnsafeRawBufferPointer) {
    guard let src = source.baseAddress, source.count > 0 else { return }
    reserve(source.count)
    (base + count).copyMemory(from: src, byteCount: source.count)
    count += source.count
  }

  @inline(__always)
  public func appendByte(_ byte: UInt8) {
    reserve(1)
    base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
    count += 1
  }

  @inline(__always)
  public func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
    reserve(MemoryLayout<T>.size)
    base.storeBytes(of: value.bigEndian, toByteOffset: count, as: T.self)
    count += MemoryLayout<T>.size
  }

  /// Appends a zig-zag varint (Kafka's `varint`/`varlong`).
  @inline(__always)
  public func appendVarint(_ value: Int64) {
    reserve(10)
    count += Varint.write(value, to: base + count)
  }

  /// Overwrites a big-endian integer already in the buffer.
  @inline(__always)
  public func setBigEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
    base.storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
  }

  /// Removes the first `n` bytes, moving the rest to the front.
  public func removeFirst(_ n: Int) {
    precondition(n <= count)
    if n < count { base.copyMemory(from: base + n, byteCount: count - n) }
    count -= n
  }
}

extension UnsafeRawPointer {
  @inline(__always)
  func loadBigEndian<T: FixedWidthInteger>(at offset: Int, as type: T.Type) -> T {
    T(bigEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
  }
}
