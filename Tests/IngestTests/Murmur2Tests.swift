import Testing

@testable import Ingest

@Suite struct Murmur2Tests {
  /// Kafka's own vectors (`UtilsTest.testMurmur2`).
  static let vectors: [(String, Int32)] = [
    ("21", -973_932_308),
    ("foobar", -790_332_482),
    ("a-little-bit-long-string", -985_981_536),
    ("a-little-bit-longer-string", -1_486_304_829),
    ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
    ("abc", 479_470_107),
  ]

  @Test(arguments: 0..<vectors.count)
  func kafkaVectors(_ i: Int) {
    let (text, expected) = Self.vectors[i]
    #expect(Murmur2.hash(Array(text.utf8)) == expected)
  }

  @Test func partitionIsPositiveModulo() {
    // toPositive(murmur2("foobar")) % 6, as Kafka's default partitioner computes it.
    let h = Int(UInt32(bitPattern: -790_332_482) & 0x7fff_ffff)
    Array("foobar".utf8).withUnsafeBytes { #expect(Murmur2.partition(for: $0, partitions: 6) == h % 6) }
    [UInt8]().withUnsafeBytes { #expect(Murmur2.partition(for: $0, partitions: 3) >= 0) }
  }
}
