import Foundation
import Testing
import WeirCore

@testable import PartitionedLog

@Suite struct RecordBatchTests {
  /// The records of Fixtures/make_golden.py.
  static let goldenRecords: [TestRecord] = [
    TestRecord(
      timestamp: 1_700_000_000_000, key: Array("motor-0001".utf8), value: Array("{\"vibration\":4.2}".utf8),
      headers: [
        ("mqtt.topic", Array("sensors/motor-0001/telemetry".utf8)), ("content-type", Array("application/json".utf8)),
      ]),
    TestRecord(timestamp: 1_700_000_000_500, key: nil, value: Array("raw bytes ".utf8) + [0, 1, 0xFF]),
    TestRecord(timestamp: 1_699_999_999_000, key: [], value: nil, headers: [("null", nil)]),
    TestRecord(
      timestamp: 1_700_000_100_000, key: [UInt8](repeating: UInt8(ascii: "k"), count: 200),
      value: Array((0..<512).map { UInt8($0 % 256) }), headers: [("h", Array("v".utf8))]),
  ]

  static var goldenPath: String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
      "Fixtures/kafka-python-batch.bin"
    )
    .path
  }

  @Test func builderWritesKafkaBytesExactly() {
    let golden = fileBytes(Self.goldenPath)
    #expect(golden.count == 929)
    let builder = RecordBatchBuilder()
    for r in Self.goldenRecords { builder.append(r) }
    #expect(Array(builder.bytes) == golden)
  }

  @Test func viewParsesKafkaBatch() {
    let golden = fileBytes(Self.goldenPath)
    golden.withUnsafeBytes { raw in
      let batch = RecordBatchView(raw)
      #expect(batch.validate() == nil)
      #expect(batch.magic == 2)
      #expect(batch.recordCount == 4)
      #expect(batch.lastOffsetDelta == 3)
      #expect(batch.baseTimestamp == 1_700_000_000_000)
      #expect(batch.maxTimestamp == 1_700_000_100_000)
      var records: [TestRecord] = []
      var offsets: [Int64] = []
      var it = batch.records
      while let r = it.next() {
        records.append(TestRecord(r))
        offsets.append(r.offset)
      }
      #expect(it.malformed == nil)
      #expect(records == Self.goldenRecords)
      #expect(offsets == [0, 1, 2, 3])
    }
  }

  @Test func everyFlippedBitIsCaught() {
    let golden = fileBytes(Self.goldenPath)
    // Bits from `attributes` on are covered by the CRC; the CRC field itself too.
    for byte in stride(from: RecordBatchView.Field.crc, to: golden.count, by: 13) {
      var bad = golden
      bad[byte] ^= 0x10
      bad.withUnsafeBytes { raw in
        #expect(RecordBatchView(raw).validate() != nil, "flip at byte \(byte) not detected")
      }
    }
  }

  @Test func headerFieldsOutsideTheCRCAreStampable() {
    let builder = RecordBatchBuilder()
    builder.append(TestRecord.sample(1))
    _ = builder.bytes
    builder.buffer.setBigEndian(Int64(123_456), at: RecordBatchView.Field.baseOffset)
    builder.buffer.setBigEndian(Int32(7), at: RecordBatchView.Field.partitionLeaderEpoch)
    let batch = RecordBatchView(builder.buffer.bytes)
    #expect(batch.validate() == nil)
    #expect(batch.baseOffset == 123_456)
    #expect(batch.epoch == 7)
    var it = batch.records
    #expect(it.next()?.offset == 123_456)
  }

  @Test func headerLookup() {
    let builder = RecordBatchBuilder()
    builder.append(Self.goldenRecords[0])
    var it = RecordBatchView(builder.bytes).records
    let r = it.next()!
    #expect(r.header("content-type").map { String(decoding: $0, as: UTF8.self) } == "application/json")
    #expect(r.header("missing") == nil)
  }

  @Test func scannerStopsAtIncompleteAndMalformed() {
    let builder = RecordBatchBuilder()
    builder.append(TestRecord.sample(1))
    let one = Array(builder.bytes)
    let two = one + one
    two.withUnsafeBytes { raw in
      var scanner = BatchScanner(UnsafeRawBufferPointer(rebasing: raw[0..<(two.count - 1)]))
      #expect(scanner.next() != nil)
      #expect(scanner.next() == nil)
      #expect(scanner.malformed == nil)
      #expect(scanner.remaining == one.count - 1)
    }
    let zeros = one + [UInt8](repeating: 0, count: 64)
    zeros.withUnsafeBytes { raw in
      var scanner = BatchScanner(raw)
      #expect(scanner.next() != nil)
      #expect(scanner.next() == nil)
      #expect(scanner.malformed != nil)
    }
  }
}
