/// Records read by a ``TailSequence``: whole batches copied out of the reader's buffer.
public struct LogChunk: Sendable {
  /// Whole record batches; the first may start before ``firstOffset``.
  public let bytes: [UInt8]
  /// The first offset this chunk delivers.
  public let firstOffset: Int64
  /// The offset after the chunk: where the next one starts.
  public let nextOffset: Int64
  public let highWatermark: Int64

  /// Calls `body` for every record from ``firstOffset`` on.
  public func forEachRecord(_ body: (RecordView) throws -> Void) rethrows {
    try bytes.withUnsafeBytes { raw in
      let result = ReadResult(
        bytes: raw, requestedOffset: firstOffset, nextOffset: nextOffset, highWatermark: highWatermark,
        logStartOffset: 0)
      try result.forEachRecord(body)
    }
  }
}

/// Follows a partition's tail: yields chunks of durable records from an offset on, waiting for
/// more when it reaches the high watermark, until the task is cancelled or the partition closes.
public struct TailSequence: AsyncSequence, Sendable {
  public typealias Element = LogChunk
  let partition: Partition
  let start: Int64
  let maxBytes: Int

  public init(partition: Partition, from offset: Int64, maxBytes: Int = 1 << 20) {
    self.partition = partition
    self.start = offset
    self.maxBytes = maxBytes
  }

  public func makeAsyncIterator() -> Iterator {
    Iterator(reader: PartitionReader(partition: partition, bufferCapacity: maxBytes + 64 * 1024), offset: start, maxBytes: maxBytes)
  }

  public struct Iterator: AsyncIteratorProtocol {
    let reader: PartitionReader
    var offset: Int64
    let maxBytes: Int

    public mutating func next() async throws -> LogChunk? {
      while !Task.isCancelled {
        let result = try reader.read(from: offset, maxBytes: maxBytes)
        if !result.isEmpty {
          let chunk = LogChunk(
            bytes: Array(result.bytes), firstOffset: offset, nextOffset: result.nextOffset,
            highWatermark: result.highWatermark)
          offset = result.nextOffset
          return chunk
        }
        if reader.partition.isClosed { return nil }
        await reader.partition.waitForData(after: offset)
      }
      return nil
    }
  }
}

extension Partition {
  /// Follows the tail from `offset` (see ``TailSequence``).
  public func follow(from offset: Int64, maxBytes: Int = 1 << 20) -> TailSequence {
    TailSequence(partition: self, from: offset, maxBytes: maxBytes)
  }

  var isClosed: Bool { lock.withLock { closed } }
}
