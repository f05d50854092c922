import WeirCore

/// Where a partition's log is known to be durable and valid: recovery after an unclean stop
/// validates only what lies after it. Stored in the metadata database.
public struct RecoveryPoint: Sendable, Equatable {
  /// Base offset of the segment the point is in.
  public var segmentBase: Int64
  /// Byte position in that segment's `.log`.
  public var position: Int64
  /// The offset of the first record at `position`.
  public var offset: Int64
  /// The segment's largest timestamp up to `position` (-1 when none), so that recovery need not
  /// read what lies before the point.
  public var maxTimestamp: Int64 = -1
  public var offsetOfMaxTimestamp: Int64 = -1
}

/// What scanning a stretch of a segment found.
struct ScanOutcome {
  /// End of the valid prefix.
  var validEnd: Int64
  /// Why the scan stopped before the end of the range, if it did.
  var problem: String?
}

extension Segment {
  /// Validates every batch from `point` to the end of the file (framing, CRC, offsets following
  /// on without gaps), rebuilds the indexes from there, and truncates at the first invalid byte.
  /// Returns the bytes truncated and why.
  func recover(from point: RecoveryPoint) throws(LogError) -> (truncated: Int64, problem: String?) {
    let fileSize = try Posix.fileSize(fd, logPath)
    let start = min(point.position, fileSize)
    let startOffset = start == point.position ? point.offset : baseOffset
    let from = start == point.position ? start : 0
    try offsetIndex.truncate(toPositionsBelow: from)
    try offsetIndex.truncate(toEntries: offsetIndex.firstInvalidEntry(logSize: max(from, 1)))
    let relativeStart = UInt32(clamping: startOffset - baseOffset)
    try timeIndex.truncate(toOffsetsBelow: relativeStart)
    try timeIndex.truncate(toEntries: timeIndex.firstInvalidEntry(relativeEnd: max(relativeStart, 1)))
    resetForRecovery(
      size: from, nextOffset: startOffset,
      maxTimestamp: from == 0 ? -1 : point.maxTimestamp,
      offsetOfMaxTimestamp: from == 0 ? baseOffset : max(point.offsetOfMaxTimestamp, baseOffset))
    let buffer = ByteBuffer(capacity: 1 << 20)
    let outcome = try scan(from: from, to: fileSize, expectedOffset: startOffset, buffer: buffer) { batch, position in
      self.acceptRecovered(batch, at: position)
      return true
    }
    let truncated = fileSize - outcome.validEnd
    if truncated > 0 {
      try Posix.ftruncate(fd, outcome.validEnd, logPath)
    }
    try flushIndexes()
    return (truncated, truncated > 0 ? (outcome.problem ?? "torn tail") : nil)
  }

  /// Validates each batch of `[from, to)` in turn (and, when `expectedOffset` is given, that
  /// offsets follow on without gaps); calls `body` for each valid one with its position until it
  /// returns false. Stops at the first invalid or incomplete batch.
  func scan(
    from: Int64, to end: Int64, expectedOffset: Int64?, buffer: ByteBuffer,
    _ body: (RecordBatchView, Int64) -> Bool
  ) throws(LogError) -> ScanOutcome {
    var cursor = BatchFileCursor(fd: fd, path: logPath, from: from, to: end, buffer: buffer)
    var expected = expectedOffset
    while let (batch, position) = try cursor.next() {
      if let problem = batch.validate() { return ScanOutcome(validEnd: position, problem: problem) }
      if let e = expected, batch.baseOffset != e {
        return ScanOutcome(validEnd: position, problem: "batch base offset \(batch.baseOffset), expected \(e)")
      }
      expected = batch.nextOffset
      if !body(batch, position) { break }
    }
    return ScanOutcome(validEnd: cursor.position, problem: cursor.stopReason)
  }
}
