/// Maps group-key bytes to dense ids without allocating for keys it has seen before.
///
/// An open-addressing table over an append-only byte arena: a lookup hashes the bytes and compares them in place,
/// so the hot path never builds an Array or a String; only a new key is copied (once) into the arena.
struct KeyInterner {
  private(set) var arena: [UInt8] = []
  private(set) var starts: [Int] = [0]
  private var hashes: [UInt64] = []
  private var table: [Int32] = Array(repeating: -1, count: 64)

  var count: Int { hashes.count }

  /// The bytes of key `id`.
  func bytes(of id: Int) -> ArraySlice<UInt8> { arena[starts[id]..<starts[id + 1]] }

  @inline(__always) static func hash(_ p: UnsafeRawBufferPointer) -> UInt64 {
    // FNV-1a over 8-byte words, then a final avalanche; keys are short device names.
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    var i = 0
    let n = p.count
    while i + 8 <= n {
      h = (h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x0000_0100_0000_01B3
      i += 8
    }
    var tail: UInt64 = 0
    var shift: UInt64 = 0
    while i < n {
      tail |= UInt64(p[i]) << shift
      shift += 8
      i += 1
    }
    h = (h ^ tail ^ UInt64(n)) &* 0x0000_0100_0000_01B3
    h ^= h >> 33
    h = h &* 0xff51_afd7_ed55_8ccd
    h ^= h >> 33
    return h
  }

  /// Returns the key's id and whether it was new.
  @inline(__always) mutating func intern(_ key: UnsafeRawBufferPointer) -> (id: Int, isNew: Bool) {
    let h = KeyInterner.hash(key)
    let mask = table.count - 1
    var slot = Int(truncatingIfNeeded: h) & mask
    while true {
      let id = Int(table[slot])
      if id < 0 { break }
      if hashes[id] == h, equal(id, key) { return (id, false) }
      slot = (slot + 1) & mask
    }
    let id = hashes.count
    hashes.append(h)
    arena.append(contentsOf: key)
    starts.append(arena.count)
    table[slot] = Int32(id)
    if hashes.count * 2 > table.count { grow() }
    return (id, true)
  }

  @inline(__always) private func equal(_ id: Int, _ key: UnsafeRawBufferPointer) -> Bool {
    let start = starts[id]
    let length = starts[id + 1] - start
    guard length == key.count else { return false }
    if length == 0 { return true }
    return arena.withUnsafeBytes { Scalar.memcmpBytes($0.baseAddress! + start, key.baseAddress!, length) == 0 }
  }

  private mutating func grow() {
    table = Array(repeating: -1, count: table.count * 2)
    let mask = table.count - 1
    for (id, h) in hashes.enumerated() {
      var slot = Int(truncatingIfNeeded: h) & mask
      while table[slot] >= 0 { slot = (slot + 1) & mask }
      table[slot] = Int32(id)
    }
  }
}
