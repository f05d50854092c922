import WeirCore

/// Where a read starts and how far it may go, taken under the partition lock.
struct ReadPlan {
  var segment: Segment
  var start: Int64
  var limit: Int64
  var highWatermark: Int64
  var logStartOffset: Int64
}

/// A partition's offsets as readers and operators see them.
public struct PartitionState: Sendable, Equatable {
  public var topic: String
  public var partition: Int32
  /// The first offset still in the log (retention advances it).
  public var logStartOffset: Int64
  /// Offsets below are durable and readable.
  public var highWatermark: Int64
  /// The next offset an append gets.
  public var logEndOffset: Int64
  public var segments: Int
  public var sizeBytes: Int64
  /// Newest record timestamp in the oldest segment (what age retention looks at), -1 if none.
  public var oldestSegmentMaxTimestamp: Int64
}

extension Partition {
  /// Offsets and sizes right now.
  public var state: PartitionState {
    lock.withLock {
      PartitionState(
        topic: topic, partition: id, logStartOffset: segments[0].baseOffset, highWatermark: durable.offset,
        logEndOffset: nextOffset, segments: segments.count, sizeBytes: diskBytes,
        oldestSegmentMaxTimestamp: segments[0].maxTimestamp)
    }
  }

  public var highWatermark: Int64 { lock.withLock { durable.offset } }
  public var logStartOffset: Int64 { lock.withLock { segments[0].baseOffset } }

  /// Finds the segment holding `offset` and how far into it a reader may read. nil when the
  /// offset is at the high watermark (nothing to read yet).
  func plan(offset: Int64, hint: ReadHint?) throws(LogError) -> ReadPlan? {
    try lock.withLock { () throws(LogError) -> ReadPlan? in
      let logStart = segments[0].baseOffset
      if offset < logStart {
        throw LogError(
          .offsetOutOfRange, "offset \(offset) of \(name) was deleted by retention (log starts at \(logStart))")
      }
      if offset > nextOffset {
        throw LogError(.offsetOutOfRange, "offset \(offset) of \(name) is past the log end \(nextOffset)")
      }
      if offset >= durable.offset { return nil }
      let index = segmentIndex(containing: offset)
      let segment = segments[index]
      let limit = segment.baseOffset == durable.segmentBase ? durable.position : segment.size
      var start: Int64
      if let hint, hint.offset == offset, hint.segmentBase == segment.baseOffset, hint.position <= limit {
        start = hint.position
      } else {
        start = segment.startPosition(for: offset)
      }
      start = min(start, limit)
      return ReadPlan(
        segment: segment, start: start, limit: limit, highWatermark: durable.offset, logStartOffset: logStart)
    }
  }

  /// Index of the last segment whose base offset is at or below `offset`.
  func segmentIndex(containing offset: Int64) -> Int {
    var lo = 0
    var hi = segments.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if segments[mid].baseOffset <= offset { lo = mid + 1 } else { hi = mid }
    }
    return max(0, lo - 1)
  }

  /// Segments to search for a timestamp, from the first whose newest record is at or after it.
  func segmentsForTimestamp(_ timestamp: Int64) -> (segments: [Segment], durable: LogPoint) {
    lock.withLock {
      let from = segments.firstIndex { $0.maxTimestamp >= timestamp } ?? segments.count
      return (Array(segments[from...]), durable)
    }
  }

  /// The earliest durable offset whose record timestamp is at or after `timestamp`, or nil when
  /// every durable record is older (Kafka's ListOffsets by time).
  public func offset(forTimestamp timestamp: Int64) throws(LogError) -> Int64? {
    let (candidates, durable) = segmentsForTimestamp(timestamp)
    let buffer = ByteBuffer(capacity: 64 * 1024)
    for segment in candidates {
      let start = lock.withLock { segment.startPosition(forTimestamp: timestamp) }
      let limit = segment.baseOffset == durable.segmentBase ? durable.position : segment.size
      var found: Int64?
      let outcome = try segment.scan(from: start, to: limit, expectedOffset: nil, buffer: buffer) { batch, _ in
        guard batch.maxTimestamp >= timestamp else { return true }
        var records = batch.records
        while let record = records.next() {
          if record.timestamp >= timestamp {
            found = record.offset
            return false
          }
        }
        return true
      }
      if let found { return found }
      if outcome.problem != nil, outcome.validEnd < limit {
        throw LogError(
          .corrupt,
          "\(name) segment \(segment.name) at position \(outcome.validEnd): \(outcome.problem!)")
      }
      if segment.baseOffset >= durable.segmentBase { break }
    }
    return nil
  }

  // MARK: Waiting for data

  /// Returns once the high watermark is above `offset`, the partition closes, or the task is
  /// cancelled.
  public func waitForData(after offset: Int64) async {
    let id = lock.withLock { () -> Int in
      nextWaiterID += 1
      return nextWaiterID
    }
    await withTaskCancellationHandler {
      await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        lock.lock()
        if durable.offset > offset || closed || Task.isCancelled {
          lock.unlock()
          continuation.resume()
          return
        }
        waiters[id] = continuation
        lock.unlock()
      }
    } onCancel: {
      let continuation = lock.withLock { waiters.removeValue(forKey: id) }
      continuation?.resume()
    }
  }
}
