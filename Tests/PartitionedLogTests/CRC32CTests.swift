import Testing

@testable import PartitionedLog

@Suite struct CRC32CTests {
  /// RFC 3720 (iSCSI) appendix B.4 vectors and the classic check value.
  static let vectors: [([UInt8], UInt32)] = [
    (Array("123456789".utf8), 0xE306_9283),
    ([UInt8](repeating: 0, count: 32), 0x8A91_36AA),
    ([UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
    ((0..<32).map { UInt8($0) }, 0x46DD_794E),
    ((0..<32).reversed().map { UInt8($0) }, 0x113F_DB5C),
    ([], 0),
    (Array("a".utf8), 0xC1D0_4330),
  ]

  @Test(arguments: 0..<vectors.count)
  func knownVectors(_ i: Int) {
    let (bytes, expected) = Self.vectors[i]
    bytes.withUnsafeBytes { raw in
      #expect(CRC32C.tableChecksum(raw) == expected)
      #expect(CRC32C.checksum(raw) == expected)
      if CRC32C.hardwareAvailable { #expect(CRC32C.hardwareChecksum(raw) == expected) }
    }
  }

  @Test func hardwareAvailableOnThisMachine() {
    // The build machines are x86-64 with SSE4.2; if this fails the fast path is not in use.
    #if arch(x86_64)
      #expect(CRC32C.hardwareAvailable)
    #endif
  }

  @Test func implementationsAgreeOnEveryLengthAndAlignment() {
    var rng = SystemRandomNumberGenerator()
    let data = (0..<1100).map { _ in UInt8.random(in: 0...255, using: &rng) }
    data.withUnsafeBytes { raw in
      for start in 0..<9 {
        for length in stride(from: 0, to: 1000, by: 7) {
          let slice = UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)])
          let table = CRC32C.tableChecksum(slice)
          #expect(CRC32C.checksum(slice) == table)
          if CRC32C.hardwareAvailable { #expect(CRC32C.hardwareChecksum(slice) == table) }
        }
      }
    }
  }

  @Test func continuingEqualsOneShot() {
    let data = Array("The quick brown fox jumps over the lazy dog".utf8)
    data.withUnsafeBytes { raw in
      let whole = CRC32C.checksum(raw)
      let first = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<10]))
      #expect(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[10...]), continuing: first) == whole)
      #expect(CRC32C.tableChecksum(UnsafeRawBufferPointer(rebasing: raw[10...]), continuing: first) == whole)
    }
  }
}
