/// One send awaiting its delivery report: a record, or a gap marker covering `offset..<next`.
struct InFlightEntry {
  enum State: UInt8 { case pending, done }
  var offset: Int64
  var next: Int64
  var timestamp: Int64
  /// Monotonic time it was handed to the transport.
  var sentAtNs: Int64
  var bytes: Int32
  var state: State
}

/// A partition's sends in the order they were handed to the transport, addressed by a sequence
/// number that travels in the per-message opaque. Done entries leave from the front.
struct InFlightRing {
  static let sequenceBits: UInt64 = 40
  static let sequenceMask: UInt64 = (1 << sequenceBits) - 1

  private var storage: [InFlightEntry] = []
  private var head = 0
  private(set) var count = 0
  /// Sequence number of the entry at the front.
  private(set) var headSequence: UInt64 = 0

  var isEmpty: Bool { count == 0 }
  var first: InFlightEntry? { count > 0 ? storage[head] : nil }

  /// Appends an entry; returns its sequence number (masked to ``sequenceBits``).
  mutating func push(_ entry: InFlightEntry) -> UInt64 {
    if count == storage.count { grow() }
    storage[(head + count) & (storage.count - 1)] = entry
    let sequence = (headSequence &+ UInt64(count)) & Self.sequenceMask
    count += 1
    return sequence
  }

  /// Takes back the entry just pushed (its send did not happen).
  mutating func removeLast() {
    if count > 0 { count -= 1 }
  }

  /// Position from the front of the entry with `sequence`, nil when it is not in the ring.
  @inline(__always)
  func position(of sequence: UInt64) -> Int? {
    let relative = (sequence &- headSequence) & Self.sequenceMask
    return relative < UInt64(count) ? Int(relative) : nil
  }

  subscript(position: Int) -> InFlightEntry {
    get { storage[(head + position) & (storage.count - 1)] }
    set { storage[(head + position) & (storage.count - 1)] = newValue }
  }

  /// Drops done entries from the front.
  mutating func popDone() {
    while count > 0 && storage[head].state == .done {
      head = (head + 1) & (storage.count - 1)
      count -= 1
      headSequence &+= 1
    }
  }

  /// Forgets everything; later sequence numbers continue from here so late reports miss.
  mutating func removeAll() {
    headSequence &+= UInt64(count)
    head = 0
    count = 0
  }

  private mutating func grow() {
    let newCapacity = max(64, storage.count * 2)
    var bigger: [InFlightEntry] = []
    bigger.reserveCapacity(newCapacity)
    for i in 0..<count { bigger.append(storage[(head + i) & (storage.count - 1)]) }
    let filler = InFlightEntry(offset: 0, next: 0, timestamp: 0, sentAtNs: 0, bytes: 0, state: .done)
    bigger.append(contentsOf: repeatElement(filler, count: newCapacity - count))
    storage = bigger
    head = 0
  }
}
