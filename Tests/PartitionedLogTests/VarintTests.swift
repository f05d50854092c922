import Testing
import WeirCore

@testable import PartitionedLog

@Suite struct VarintTests {
  /// Zig-zag encodings as Kafka's ByteUtils writes them.
  static let cases: [(Int64, [UInt8])] = [
    (0, [0x00]), (-1, [0x01]), (1, [0x02]), (-2, [0x03]), (63, [0x7E]), (-64, [0x7F]), (64, [0x80, 0x01]),
    (-65, [0x81, 0x01]), (300, [0xD8, 0x04]), (Int64(Int32.max), [0xFE, 0xFF, 0xFF, 0xFF, 0x0F]),
    (Int64(Int32.min), [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
    (Int64.max, [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
    (Int64.min, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
  ]

  @Test(arguments: 0..<cases.count)
  func encodeAndDecode(_ i: Int) {
    let (value, bytes) = Self.cases[i]
    let buffer = ByteBuffer()
    buffer.appendVarint(value)
    #expect(Array(buffer.bytes) == bytes)
    #expect(Varint.size(value) == bytes.count)
    var position = 0
    #expect(Varint.read(buffer.base, buffer.count, &position) == value)
    #expect(position == bytes.count)
  }

  @Test func truncatedIsRejected() {
    let bytes: [UInt8] = [0x80, 0x80]
    bytes.withUnsafeBytes { raw in
      var position = 0
      #expect(Varint.read(raw.baseAddress!, raw.count, &position) == nil)
    }
  }
}
