import WeirCore

#if canImport(Glibc)
  import Glibc
#endif

/// One segment of a partition: `<base offset, 20 digits>.log` holding whole RecordBatch v2
/// batches back to back, with its sparse `.index` and `.timeindex` (see ``OffsetIndex`` and
/// ``TimeIndex``). Not thread-safe: its ``Partition`` serialises writers and guards the fields
/// readers use with its lock; `pread` on ``fd`` needs no lock.
final class Segment {
  let baseOffset: Int64
  let directory: String
  let fd: Int32
  /// Bytes of whole batches in the `.log`.
  private(set) var size: Int64
  /// The offset after the last batch.
  private(set) var nextOffset: Int64
  private(set) var maxTimestamp: Int64 = -1
  private(set) var offsetOfMaxTimestamp: Int64
  private var bytesSinceLastIndexEntry = 0
  let indexIntervalBytes: Int
  let offsetIndex: OffsetIndex
  let timeIndex: TimeIndex
  /// Wall-clock time (epoch ms) the segment was created or opened, for roll by age.
  let createdAtMs: Int64
  private(set) var sealed = false

  static func fileName(_ baseOffset: Int64, _ suffix: String) -> String {
    let digits = String(baseOffset)
    return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + suffix
  }

  var logPath: String { directory + "/" + Self.fileName(baseOffset, ".log") }
  var name: String { Self.fileName(baseOffset, ".log") }

  private init(
    directory: String, baseOffset: Int64, fd: Int32, size: Int64, indexIntervalBytes: Int, createdAtMs: Int64
  ) throws(LogError) {
    self.directory = directory
    self.baseOffset = baseOffset
    self.fd = fd
    self.size = size
    self.nextOffset = baseOffset
    self.offsetOfMaxTimestamp = baseOffset
    self.indexIntervalBytes = indexIntervalBytes
    self.createdAtMs = createdAtMs
    offsetIndex = try OffsetIndex(path: directory + "/" + Self.fileName(baseOffset, ".index"))
    timeIndex = try TimeIndex(path: directory + "/" + Self.fileName(baseOffset, ".timeindex"))
  }

  deinit { Posix.close(fd) }

  /// Creates a new, empty segment and makes its directory entries durable.
  static func create(directory: String, baseOffset: Int64, indexIntervalBytes: Int, nowMs: Int64) throws(LogError)
    -> Segment
  {
    let path = directory + "/" + fileName(baseOffset, ".log")
    let fd = try Posix.open(path, O_RDWR | O_CREAT | O_TRUNC)
    let segment: Segment
    do {
      segment = try Segment(
        directory: directory, baseOffset: baseOffset, fd: fd, size: 0, indexIntervalBytes: indexIntervalBytes,
        createdAtMs: nowMs)
    } catch {
      Posix.close(fd)
      for suffix in [".log", ".index", ".timeindex"] {
        try? Posix.unlink(directory + "/" + fileName(baseOffset, suffix))
      }
      throw error
    }
    do {
      try segment.offsetIndex.truncate(toEntries: 0)
      try segment.timeIndex.truncate(toEntries: 0)
      try Posix.fdatasync(fd, path: path)
      try Posix.fsyncDirectory(directory)
      return segment
    } catch {
      // A half-made segment (no room for its index files) must not be taken for the active one.
      for suffix in [".log", ".index", ".timeindex"] {
        try? Posix.unlink(directory + "/" + fileName(baseOffset, suffix))
      }
      throw error
    }
  }

  /// Opens an existing sealed segment that ends where `nextOffset` (the next segment's base) starts.
  /// Its indexes are trusted after a cheap consistency check; a missing or inconsistent index is
  /// rebuilt by scanning the segment.
  static func openSealed(directory: String, baseOffset: Int64, nextOffset: Int64, indexIntervalBytes: Int, nowMs: Int64)
    throws(LogError) -> Segment
  {
    let path = directory + "/" + fileName(baseOffset, ".log")
    let fd = try Posix.open(path, O_RDWR)
    let size = try Posix.fileSize(fd, path)
    let segment = try Segment(
      directory: directory, baseOffset: baseOffset, fd: fd, size: size, indexIntervalBytes: indexIntervalBytes,
      createdAtMs: nowMs)
    segment.nextOffset = nextOffset
    let relativeEnd = UInt32(clamping: nextOffset - baseOffset)
    let indexOK = segment.offsetIndex.firstInvalidEntry(logSize: size) == segment.offsetIndex.count
    let timeOK = segment.timeIndex.firstInvalidEntry(relativeEnd: relativeEnd) == segment.timeIndex.count
    if !indexOK || !timeOK || (size > 0 && segment.timeIndex.count == 0) {
      _ = try segment.recover(from: RecoveryPoint(segmentBase: baseOffset, position: 0, offset: baseOffset))
    } else if let last = segment.timeIndex.lastTimestamp {
      segment.maxTimestamp = last
      segment.offsetOfMaxTimestamp = baseOffset + Int64(segment.timeIndex.relativeOffsets.last!)
    }
    segment.sealed = true
    return segment
  }

  /// Opens the active (last) segment; the caller recovers it from its recovery point next.
  static func openActive(directory: String, baseOffset: Int64, indexIntervalBytes: Int, nowMs: Int64) throws(LogError)
    -> Segment
  {
    let path = directory + "/" + fileName(baseOffset, ".log")
    let fd = try Posix.open(path, O_RDWR | O_CREAT)
    let size = try Posix.fileSize(fd, path)
    return try Segment(
      directory: directory, baseOffset: baseOffset, fd: fd, size: size, indexIntervalBytes: indexIntervalBytes,
      createdAtMs: nowMs)
  }

  // MARK: Writing

  /// Appends whole, stamped batches at the end of the log and indexes them. Call ``flushIndexes()``
  /// or ``sync()`` to put index entries in their files.
  /// All or nothing: when the write fails (a full disk), the file is cut back to its whole batches
  /// and the segment is as it was.
  func append(_ bytes: UnsafeRawBufferPointer) throws(LogError) {
    precondition(!sealed, "append to a sealed segment")
    guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
    do {
      try Posix.pwriteAll(fd, base, bytes.count, at: size, logPath)
    } catch {
      // Shrinking needs no space, so this works on a full disk too; if it fails, recovery cuts
      // the partial batch at the next start and the next append overwrites it meanwhile.
      try? Posix.ftruncate(fd, size, logPath)
      throw error
    }
    index(bytes, startingAt: size)
    size += Int64(bytes.count)
    do {
      try flushIndexes()
    } catch where error.code == .full {
      // The entries stay queued for the next flush: indexes only speed lookups up, and
      // recovery rebuilds them from the log past the recovery point.
    }
  }

  /// Updates the indexes for whole batches that sit at `position` in the log.
  private func index(_ bytes: UnsafeRawBufferPointer, startingAt position: Int64) {
    var scanner = BatchScanner(bytes)
    var batchPosition = position
    while let batch = scanner.next() {
      noteBatch(batch, at: batchPosition)
      batchPosition += Int64(batch.size)
    }
  }

  @inline(__always)
  private func noteBatch(_ batch: RecordBatchView, at position: Int64) {
    let lastOffset = batch.lastOffset
    let batchMax = batch.maxTimestamp
    if batchMax > maxTimestamp {
      maxTimestamp = batchMax
      offsetOfMaxTimestamp = lastOffset
    }
    if bytesSinceLastIndexEntry > indexIntervalBytes {
      offsetIndex.append(relativeOffset: UInt32(lastOffset - baseOffset), position: UInt32(position))
      timeIndex.maybeAppend(timestamp: maxTimestamp, relativeOffset: UInt32(offsetOfMaxTimestamp - baseOffset))
      bytesSinceLastIndexEntry = 0
    }
    bytesSinceLastIndexEntry += batch.size
    nextOffset = lastOffset + 1
  }

  /// Resets the writer's state to a recovery point before the rest is rescanned.
  func resetForRecovery(size: Int64, nextOffset: Int64, maxTimestamp: Int64, offsetOfMaxTimestamp: Int64) {
    self.size = size
    self.nextOffset = nextOffset
    self.maxTimestamp = maxTimestamp
    self.offsetOfMaxTimestamp = offsetOfMaxTimestamp
    bytesSinceLastIndexEntry = Int(size - Int64(offsetIndex.positions.last ?? 0))
  }

  /// Takes a batch that recovery found valid at `position` (the current end).
  func acceptRecovered(_ batch: RecordBatchView, at position: Int64) {
    noteBatch(batch, at: position)
    size = position + Int64(batch.size)
  }

  func flushIndexes() throws(LogError) {
    try offsetIndex.file.writePending()
    try timeIndex.file.writePending()
  }

  /// fsyncs the log data (the indexes are rebuilt from the recovery point after a crash).
  func syncData() throws(LogError) {
    try Posix.fdatasync(fd, path: logPath)
  }

  /// Seals the segment when it is rolled: a last time index entry, then log and indexes fsynced.
  func seal() throws(LogError) {
    guard !sealed else { return }
    if maxTimestamp >= 0 {
      timeIndex.maybeAppend(timestamp: maxTimestamp, relativeOffset: UInt32(offsetOfMaxTimestamp - baseOffset))
    }
    try sync(strict: true)
    sealed = true
  }

  /// fsyncs the log and both indexes. Index entries a full disk refuses stay queued unless
  /// `strict` (a sealed segment's time index must be complete: age retention reads it).
  func sync(strict: Bool = false) throws(LogError) {
    try syncData()
    do {
      try offsetIndex.file.sync()
      try timeIndex.file.sync()
    } catch where !strict && error.code == .full {
      // Lookups scan a little further meanwhile; recovery rebuilds what is missing.
    }
  }

  /// Deletes the files; the descriptor stays open until the last reader lets go of the segment.
  func deleteFiles() throws(LogError) {
    try Posix.unlink(logPath)
    try Posix.unlink(offsetIndex.file.path)
    try Posix.unlink(timeIndex.file.path)
  }

  /// Bytes on disk, indexes included.
  var diskBytes: Int64 { size + offsetIndex.file.fileBytes + timeIndex.file.fileBytes }

  // MARK: Reading

  /// Where to start scanning for `offset` (the batch that holds it or one before it).
  func startPosition(for offset: Int64) -> Int64 {
    if offset <= baseOffset { return 0 }
    return Int64(offsetIndex.lookup(UInt32(clamping: offset - baseOffset)))
  }

  /// Where to start scanning for the first record with a timestamp at or after `timestamp`.
  func startPosition(forTimestamp timestamp: Int64) -> Int64 {
    guard let relative = timeIndex.lookup(timestamp) else { return 0 }
    return Int64(offsetIndex.lookup(relative))
  }

  func read(into buffer: ByteBuffer, at position: Int64, count: Int) throws(LogError) -> Int {
    buffer.reserve(count)
    let n = try Posix.pread(fd, buffer.base + buffer.count, count, at: position, logPath)
    buffer.count += n
    return n
  }
}
