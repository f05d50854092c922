/// A growable, contiguous byte buffer that keeps its memory between uses, so a batch is built,
/// written and read without a heap allocation per record. Not thread-safe: one owner at a time.
///
/// `@unchecked Sendable` carries no lock: a buffer moves between threads only with its owner (a batch handed to
/// the log's writer), never shared. The hot methods are `@inlinable` so every module's appends compile inline.
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
  @inlinable public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

  @inlinable public func removeAll() { count = 0 }

  /// Makes room for `extra` more bytes past `count`.
  @inlinable @inline(__always)
  public func reserve(_ extra: Int) {
    if count + extra > capacity { grow(to: count + extra) }
  }

  @usableFromInline @inline(never)
  func grow(to needed: Int) {
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

  @inlinable @inline(__always)
  public func append(_ source: UnsafeRawBufferPointer) {
    guard let src = source.baseAddress, source.count > 0 else { return }
    reserve(source.count)
    (base + count).copyMemory(from: src, byteCount: source.count)
    count += source.count
  }

  @inlinable @inline(__always)
  public func appendByte(_ byte: UInt8) {
    reserve(1)
    base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
    count += 1
  }

  @inlinable @inline(__always)
  public func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
    reserve(MemoryLayout<T>.size)
    base.storeBytes(of: value.bigEndian, toByteOffset: count, as: T.self)
    count += MemoryLayout<T>.size
  }

  /// Overwrites a big-endian integer already in the buffer.
  @inlinable @inline(__always)
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
