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
