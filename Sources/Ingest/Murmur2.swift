/// Kafka's default partitioner hash (`Utils.murmur2`, seed 0x9747b28c), so a key lands in the same
/// partition number here as in a Kafka cluster with the same partition count.
public enum Murmur2 {
  public static func hash(_ data: UnsafeRawBufferPointer) -> Int32 {
    let length = data.count
    let m: UInt32 = 0x5bd1_e995
    var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: length)
    guard let p = data.baseAddress else { return finish(h, m) }
    let blocks = length / 4
    for i in 0..<blocks {
      var k = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
      k = k &* m
      k ^= k >> 24
      k = k &* m
      h = h &* m
      h ^= k
    }
    let tail = blocks * 4
    switch length % 4 {
    case 3:
      h ^= UInt32(p.load(fromByteOffset: tail + 2, as: UInt8.self)) << 16
      fallthrough
    case 2:
      h ^= UInt32(p.load(fromByteOffset: tail + 1, as: UInt8.self)) << 8
      fallthrough
    case 1:
      h ^= UInt32(p.load(fromByteOffset: tail, as: UInt8.self))
      h = h &* m
    default: break
    }
    return finish(h, m)
  }

  @inline(__always)
  private static func finish(_ hash: UInt32, _ m: UInt32) -> Int32 {
    var h = hash
    h ^= h >> 13
    h = h &* m
    h ^= h >> 15
    return Int32(bitPattern: h)
  }

  /// The partition for `key` among `partitions`: `toPositive(murmur2(key)) % partitions`.
  public static func partition(for key: UnsafeRawBufferPointer, partitions: Int) -> Int {
    Int(UInt32(bitPattern: hash(key)) & 0x7fff_ffff) % partitions
  }

  public static func hash(_ bytes: [UInt8]) -> Int32 { bytes.withUnsafeBytes { hash($0) } }
}
