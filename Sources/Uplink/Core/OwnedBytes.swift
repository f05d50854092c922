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

/// Header names Weir adds, at fixed addresses.
enum WeirHeader {
  static let gateway = Static("weir.gateway")
  static let epoch = Static("weir.epoch")
  static let topic = Static("weir.topic")
  static let partition = Static("weir.partition")
  static let offset = Static("weir.offset")
  static let replayed = Static("weir.replayed")
  static let gap = Static("weir.gap")
  static let gapReason = Static("weir.gap.reason")
  static let trueValue = Static("true")

  /// Immutable bytes allocated once and never freed.
  struct Static: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer

    init(_ text: String) {
      let utf8 = Array(text.utf8)
      let base = UnsafeMutableRawPointer.allocate(byteCount: utf8.count, alignment: 1)
      utf8.withUnsafeBytes { base.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
      bytes = UnsafeRawBufferPointer(start: base, count: utf8.count)
    }
  }
}

/// A reusable array of ``HeaderRef`` for one send.
final class HeaderBuffer {
  private(set) var base: UnsafeMutablePointer<HeaderRef>
  private(set) var capacity: Int
  var count = 0

  init(capacity: Int = 32) {
    self.capacity = capacity
    base = .allocate(capacity: capacity)
  }

  deinit { base.deallocate() }

  @inline(__always)
  func reset(reserving needed: Int) {
    count = 0
    if needed > capacity {
      base.deallocate()
      capacity = max(needed, capacity * 2)
      base = .allocate(capacity: capacity)
    }
  }

  @inline(__always)
  func append(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer?) {
    (base + count).initialize(to: HeaderRef(name: name, value: value))
    count += 1
  }

  var buffer: UnsafeBufferPointer<HeaderRef> { UnsafeBufferPointer(start: base, count: count) }
}
