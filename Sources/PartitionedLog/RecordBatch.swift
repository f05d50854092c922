/// A view of one Kafka RecordBatch v2 (magic 2) in memory, as Kafka writes it byte for byte.
///
/// Layout (all integers big-endian; `varint` are zig-zag varints):
///
/// ```
/// offset  size  field
///      0     8  baseOffset            first offset in the batch
///      8     4  batchLength           bytes after this field (total size - 12)
///     12     4  partitionLeaderEpoch  Weir writes its log epoch here
///     16     1  magic                 2
///     17     4  crc                   CRC-32C of bytes 21..<end (attributes to the end)
///     21     2  attributes            0: no compression, CreateTime, not transactional
///     23     4  lastOffsetDelta       recordCount - 1
///     27     8  baseTimestamp         the first record's timestamp (ms)
///     35     8  maxTimestamp          the largest record timestamp (ms)
///     43     8  producerId            -1
///     51     2  producerEpoch         -1
///     53     4  baseSequence          -1
///     57     4  recordCount
///     61     …  records
///
/// record:
///   length varint (bytes after this field), attributes int8 (0), timestampDelta varint,
///   offsetDelta varint, keyLength varint (-1: null), key, valueLength varint (-1: null), value,
///   headerCount varint, then per header: keyLength varint, key (UTF-8),
///   valueLength varint (-1: null), value
/// ```
///
/// The CRC does not cover baseOffset, batchLength or partitionLeaderEpoch, so the partition can
/// stamp the offset and epoch into a batch that was encoded and checksummed earlier.
public struct RecordBatchView {
  /// Bytes of the fixed header, before the first record.
  public static let headerSize = 61
  /// Bytes of `baseOffset` and `batchLength`: the part read to find the next batch.
  public static let logOverhead = 12
  public static let magic: UInt8 = 2

  enum Field {
    static let baseOffset = 0
    static let batchLength = 8
    static let partitionLeaderEpoch = 12
    static let magic = 16
    static let crc = 17
    static let attributes = 21
    static let lastOffsetDelta = 23
    static let baseTimestamp = 27
    static let maxTimestamp = 35
    static let producerId = 43
    static let producerEpoch = 51
    static let baseSequence = 53
    static let recordCount = 57
  }

  /// The whole batch, header included.
  public let bytes: UnsafeRawBufferPointer

  /// Wraps `bytes`, which must hold exactly one whole batch (see ``BatchScanner``).
  public init(_ bytes: UnsafeRawBufferPointer) {
    self.bytes = bytes
  }

  @inline(__always) private var p: UnsafeRawPointer { bytes.baseAddress! }

  public var baseOffset: Int64 { p.loadBigEndian(at: Field.baseOffset, as: Int64.self) }
  public var batchLength: Int32 { p.loadBigEndian(at: Field.batchLength, as: Int32.self) }
  /// The Weir log epoch the batch was written in.
  public var epoch: Int32 { p.loadBigEndian(at: Field.partitionLeaderEpoch, as: Int32.self) }
  public var magic: UInt8 { p.load(fromByteOffset: Field.magic, as: UInt8.self) }
  public var crc: UInt32 { p.loadBigEndian(at: Field.crc, as: UInt32.self) }
  public var attributes: Int16 { p.loadBigEndian(at: Field.attributes, as: Int16.self) }
  public var lastOffsetDelta: Int32 { p.loadBigEndian(at: Field.lastOffsetDelta, as: Int32.self) }
  /// Offsets come from disk outside the CRC: wrapping arithmetic here, ``validate()`` refuses
  /// a batch whose offsets do not fit.
  public var lastOffset: Int64 { baseOffset &+ Int64(lastOffsetDelta) }
  public var nextOffset: Int64 { lastOffset &+ 1 }
  public var baseTimestamp: Int64 { p.loadBigEndian(at: Field.baseTimestamp, as: Int64.self) }
  public var maxTimestamp: Int64 { p.loadBigEndian(at: Field.maxTimestamp, as: Int64.self) }
  public var recordCount: Int32 { p.loadBigEndian(at: Field.recordCount, as: Int32.self) }
  public var size: Int { bytes.count }

  /// The CRC the bytes actually have.
  public func computeCRC() -> UInt32 {
    CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[Field.attributes...]))
  }

  /// Checks magic, CRC and the header's internal consistency; returns why it fails, or nil.
  public func validate() -> String? {
    if magic != Self.magic { return "magic \(magic), expected 2" }
    if Int(batchLength) + Self.logOverhead != bytes.count { return "batch length \(batchLength) disagrees with its framing" }
    let stored = crc
    let actual = computeCRC()
    if stored != actual {
      return "CRC mismatch (stored \(hex(stored)), computed \(hex(actual)))"
    }
    if attributes & 0x07 != 0 { return "compressed batches (codec \(attributes & 0x07)) are not written by Weir" }
    if recordCount < 0 || lastOffsetDelta < 0 || recordCount != lastOffsetDelta + 1 {
      return "record count \(recordCount) disagrees with last offset delta \(lastOffsetDelta)"
    }
    if maxTimestamp < baseTimestamp && recordCount > 0 { return "max timestamp below base timestamp" }
    if baseOffset < 0 || baseOffset > Int64.max - 1 - Int64(lastOffsetDelta) {
      return "base offset \(baseOffset) is out of range"
    }
    return nil
  }

  /// The records, parsed lazily from the bytes.
  public var records: RecordIterator {
    RecordIterator(batch: self)
  }

  private func hex(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
  }
}

/// Walks consecutive batches in a buffer, stopping before the first incomplete one.
public struct BatchScanner: IteratorProtocol {
  public let bytes: UnsafeRawBufferPointer
  /// Position of the next batch within `bytes`.
  public private(set) var position: Int = 0
  /// Set when the bytes at `position` cannot be a batch header (negative or absurd length).
  public private(set) var malformed: String?

  public init(_ bytes: UnsafeRawBufferPointer) {
    self.bytes = bytes
  }

  /// Bytes left after the last whole batch returned.
  public var remaining: Int { bytes.count - position }

  public mutating func next() -> RecordBatchView? {
    guard malformed == nil, bytes.count - position >= RecordBatchView.logOverhead,
      let base = bytes.baseAddress
    else { return nil }
    let length = Int(base.loadBigEndian(at: position + RecordBatchView.Field.batchLength, as: Int32.self))
    if length < RecordBatchView.headerSize - RecordBatchView.logOverhead {
      malformed = "batch length \(length) is below the minimum header size"
      return nil
    }
    let total = length + RecordBatchView.logOverhead
    guard bytes.count - position >= total else { return nil }
    let view = RecordBatchView(UnsafeRawBufferPointer(start: base + position, count: total))
    position += total
    return view
  }

  /// Total size of the batch starting at `position`, when its length field is readable.
  public func sizeOfNextBatch() -> Int? {
    guard bytes.count - position >= RecordBatchView.logOverhead, let base = bytes.baseAddress else { return nil }
    let length = Int(base.loadBigEndian(at: position + RecordBatchView.Field.batchLength, as: Int32.self))
    return length + RecordBatchView.logOverhead
  }
}
