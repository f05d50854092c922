import WeirCore

/// Where the last read ended, so the next sequential read skips the index lookup.
struct ReadHint {
  var offset: Int64
  var segmentBase: Int64
  var position: Int64
}

/// What one read returned: whole batches, valid until the reader's next read.
public struct ReadResult {
  /// Whole record batches (RecordBatch v2), CRC-checked. The first may start before
  /// ``requestedOffset``: skip its records below it (as Kafka consumers do).
  public var bytes: UnsafeRawBufferPointer
  public var requestedOffset: Int64
  /// The offset after the last batch returned; equal to ``requestedOffset`` when nothing was read.
  public var nextOffset: Int64
  public var highWatermark: Int64
  public var logStartOffset: Int64

  public var isEmpty: Bool { bytes.isEmpty }

  /// Calls `body` for every record at or after ``requestedOffset``.
  @inline(__always)
  public func forEachRecord(_ body: (RecordView) throws -> Void) rethrows {
    var batches = BatchScanner(bytes)
    while let batch = batches.next() {
      var records = batch.records
      while let record = records.next() {
        if record.offset >= requestedOffset { try body(record) }
      }
    }
  }
}

/// Reads one partition's durable records in order, batch-aligned and bounded by bytes, into a
/// buffer it reuses. One reader per consumer; not thread-safe.
/// `@unchecked Sendable`: no lock: one reader per consumer, used by one thread at a time; the partition it reads guards itself.
public final class PartitionReader: @unchecked Sendable {
  public let partition: Partition
  private let buffer: ByteBuffer
  private var hint: ReadHint?

  public init(partition: Partition, bufferCapacity: Int = 1 << 20) {
    self.partition = partition
    self.buffer = ByteBuffer(capacity: bufferCapacity)
  }

  /// Reads whole batches starting with the one that holds `offset`, about `maxBytes` of them
  /// (at least one whole batch, however large). Empty when `offset` is at the high watermark.
  /// Throws ``LogError/Code/offsetOutOfRange`` below the log start (retention deleted it) or
  /// past the log end, and ``LogError/Code/corrupt`` for a batch that fails its CRC.
  public func read(from offset: Int64, maxBytes: Int = 1 << 20) throws(LogError) -> ReadResult {
    buffer.removeAll()
    guard let plan = try partition.plan(offset: offset, hint: hint) else {
      let hw = partition.highWatermark
      return ReadResult(
        bytes: UnsafeRawBufferPointer(start: buffer.base, count: 0), requestedOffset: offset, nextOffset: offset,
        highWatermark: hw, logStartOffset: partition.logStartOffset)
    }
    let segment = plan.segment
    var position = plan.start  // file position of buffer[0]
    var window = Int(min(plan.limit - position, Int64(max(maxBytes, 4096) + segment.indexIntervalBytes)))
    var keepFrom = 0
    var keepTo = 0
    var nextOffset = offset
    while true {
      buffer.removeAll()
      _ = try segment.read(into: buffer, at: position, count: window)
      keepFrom = 0
      keepTo = 0
      var scanner = BatchScanner(buffer.bytes)
      var grow: Int?
      while true {
        if let size = scanner.sizeOfNextBatch(), size > scanner.remaining {
          // A batch past the window: read on only for the first batch we keep.
          if keepTo == keepFrom, size >= RecordBatchView.headerSize,
            Int64(scanner.position + size) <= plan.limit - position
          {
            grow = scanner.position + size
          }
          break
        }
        guard let batch = scanner.next() else { break }
        if batch.nextOffset <= offset {
          keepFrom = scanner.position
          keepTo = keepFrom
          continue
        }
        if let problem = batch.validate() {
          if keepTo > keepFrom { break }  // return what is good; the next read reports it
          throw LogError(
            .corrupt,
            "\(partition.name) segment \(segment.name) at position \(position + Int64(keepFrom)), offset \(batch.baseOffset): \(problem)"
          )
        }
        keepTo = scanner.position
        nextOffset = batch.nextOffset
        if keepTo - keepFrom >= maxBytes { break }
      }
      if keepTo > keepFrom { break }
      if let malformed = scanner.malformed {
        throw LogError(
          .corrupt, "\(partition.name) segment \(segment.name) at position \(position + Int64(keepFrom)): \(malformed)")
      }
      if let grow {
        window = grow
        continue
      }
      // Everything read ended before `offset`: move past it and read again.
      if keepFrom > 0 && position + Int64(keepFrom) < plan.limit {
        position += Int64(keepFrom)
        window = Int(min(plan.limit - position, Int64(max(maxBytes, 4096))))
        continue
      }
      throw LogError(
        .corrupt, "\(partition.name) segment \(segment.name): offset \(offset) not found before position \(plan.limit)")
    }
    hint = ReadHint(offset: nextOffset, segmentBase: segment.baseOffset, position: position + Int64(keepTo))
    return ReadResult(
      bytes: UnsafeRawBufferPointer(start: buffer.base + keepFrom, count: keepTo - keepFrom), requestedOffset: offset,
      nextOffset: nextOffset, highWatermark: plan.highWatermark, logStartOffset: plan.logStartOffset)
  }
}
