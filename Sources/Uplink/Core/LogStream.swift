import PartitionedLog

/// Reads one partition in offset order from `position`, up to `limit` (or the high watermark),
/// keeping its place inside the batches it read so a full window or an empty token bucket can
/// stop it between any two records. The views it returns are valid until its next read.
final class LogStream {
  let partition: Partition
  private let reader: PartitionReader
  private let readBytes: Int
  /// The next offset to hand out.
  private(set) var position: Int64
  /// Offsets at or above are not this stream's (nil: up to the high watermark).
  private(set) var limit: Int64?
  private var scanner: BatchScanner?
  private var records: RecordIterator?
  private var epoch: Int32 = 0
  private var peeked: RecordView?

  init(partition: Partition, position: Int64, limit: Int64? = nil, readBytes: Int) {
    self.partition = partition
    self.reader = PartitionReader(partition: partition, bufferCapacity: readBytes + 64 * 1024)
    self.readBytes = readBytes
    self.position = position
    self.limit = limit
  }

  /// Moves to `offset` and forgets what was read.
  func reset(to offset: Int64, limit: Int64? = nil) {
    position = offset
    self.limit = limit
    scanner = nil
    records = nil
    peeked = nil
  }

  /// Moves the limit further out, keeping what was read.
  func extend(limit newLimit: Int64) {
    limit = newLimit
  }

  /// Whether the stream has nothing left before its limit (a limited stream is then finished).
  var isFinished: Bool { limit.map { position >= $0 } ?? false }

  /// The next item, without moving past it.
  func peek() -> StreamItem {
    if let peeked {
      if let limit, peeked.offset >= limit { return .end }
      return .record(peeked, epoch: epoch)
    }
    if let limit, position >= limit { return .end }
    while true {
      if var it = records {
        let next = it.next()
        records = it
        if let record = next {
          if record.offset < position { continue }
          if let limit, record.offset >= limit {
            peeked = record  // kept for when the limit moves out
            return .end
          }
          if record.offset > position {
            // The log never skips offsets; a hole means a damaged batch was stepped over.
            return .gap(from: position, to: record.offset, reason: .corrupt)
          }
          peeked = record
          return .record(record, epoch: epoch)
        }
        records = nil
      }
      if var s = scanner {
        let batch = s.next()
        scanner = s
        if let batch {
          if batch.nextOffset <= position { continue }
          epoch = batch.epoch
          records = batch.records
          continue
        }
        scanner = nil
      }
      switch read() {
      case .some(let item): return item
      case .none: continue
      }
    }
  }

  /// Moves past the record just peeked.
  @inline(__always)
  func advance() {
    if let peeked { position = peeked.offset + 1 }
    peeked = nil
  }

  /// Moves past a gap.
  func skip(to offset: Int64) {
    reset(to: offset, limit: limit)
  }

  /// Reads the next batches; returns an item when the read ended the stream or found a gap, nil
  /// when there is data to iterate.
  private func read() -> StreamItem? {
    do {
      switch try reader.readOrSkip(from: position, maxBytes: readBytes, limit: limit) {
      case .batches(let result):
        scanner = BatchScanner(result.bytes)
        return nil
      case .skip(let from, let to, let reason):
        return .gap(from: from, to: to, reason: reason == .retention ? .retention : .corrupt)
      case .caughtUp:
        return .end
      }
    } catch {
      return .end
    }
  }
}
