import WeirCore

#if canImport(Glibc)
  import Glibc
#endif

/// An append-only file of fixed-size index entries, kept in memory as well. Entries are written
/// with the log data they describe and fsynced with the segment; after a crash the part past the
/// recovery point is dropped and rebuilt from the log (see ``Segment``).
final class IndexFile {
  let path: String
  let entrySize: Int
  private(set) var fd: Int32
  /// Entries already in the file.
  private var persistedCount: Int
  private let pending = ByteBuffer(capacity: 1024)

  /// Opens (creating if needed) and returns the whole file's bytes, trimmed to whole entries.
  init(path: String, entrySize: Int) throws(LogError) {
    self.path = path
    self.entrySize = entrySize
    fd = try Posix.open(path, O_RDWR | O_CREAT)
    let size = try Posix.fileSize(fd, path)
    persistedCount = Int(size) / entrySize
    if Int(size) % entrySize != 0 {
      try Posix.ftruncate(fd, Int64(persistedCount * entrySize), path)
    }
  }

  deinit { Posix.close(fd) }

  /// Reads every entry in the file.
  func readAll() throws(LogError) -> ByteBuffer {
    let buffer = ByteBuffer(capacity: max(64, persistedCount * entrySize))
    let n = try Posix.pread(fd, buffer.base, persistedCount * entrySize, at: 0, path)
    buffer.count = n - n % entrySize
    return buffer
  }

  /// Queues one encoded entry; ``writePending()`` puts it in the file.
  func appendEntry(_ write: (ByteBuffer) -> Void) {
    write(pending)
  }

  func writePending() throws(LogError) {
    guard pending.count > 0 else { return }
    try Posix.pwriteAll(fd, pending.base, pending.count, at: Int64(persistedCount * entrySize), path)
    persistedCount += pending.count / entrySize
    pending.removeAll()
  }

  /// Keeps only the first `count` entries.
  func truncate(toEntries count: Int) throws(LogError) {
    pending.removeAll()
    if count < persistedCount {
      try Posix.ftruncate(fd, Int64(count * entrySize), path)
      persistedCount = count
    }
  }

  func sync() throws(LogError) {
    try writePending()
    try Posix.fdatasync(fd, path: path)
  }

  var fileBytes: Int64 { Int64(persistedCount * entrySize) }
}

/// The sparse offset index (`.index`), as Kafka lays it out: 8-byte big-endian entries of
/// `relativeOffset: UInt32` (the last offset of an indexed batch minus the segment's base offset)
/// and `position: UInt32` (where that batch starts in the `.log`). One entry per ~4 KiB of log.
final class OffsetIndex {
  static let entrySize = 8
  let file: IndexFile
  private(set) var relativeOffsets: [UInt32] = []
  private(set) var positions: [UInt32] = []

  init(path: String) throws(LogError) {
    file = try IndexFile(path: path, entrySize: Self.entrySize)
    let bytes = try file.readAll()
    let n = bytes.count / Self.entrySize
    relativeOffsets.reserveCapacity(n)
    positions.reserveCapacity(n)
    let p = UnsafeRawPointer(bytes.base)
    for i in 0..<n {
      relativeOffsets.append(p.loadBigEndian(at: i * 8, as: UInt32.self))
      positions.append(p.loadBigEndian(at: i * 8 + 4, as: UInt32.self))
    }
  }

  var count: Int { relativeOffsets.count }

  func append(relativeOffset: UInt32, position: UInt32) {
    relativeOffsets.append(relativeOffset)
    positions.append(position)
    file.appendEntry { b in
      b.appendBigEndian(relativeOffset)
      b.appendBigEndian(position)
    }
  }

  /// The position of the batch to start scanning at for `relativeOffset`: that of the last entry
  /// whose offset is at or below it (its batch ends at or before the target), else the segment
  /// start (Kafka's `OffsetIndex.lookup`).
  func lookup(_ relativeOffset: UInt32) -> Int {
    var lo = 0
    var hi = relativeOffsets.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if relativeOffsets[mid] <= relativeOffset { lo = mid + 1 } else { hi = mid }
    }
    return lo == 0 ? 0 : Int(positions[lo - 1])
  }

  /// Index of the first entry that fails the invariants (strictly increasing offsets and
  /// positions, positions inside the log), or `count` when all hold.
  func firstInvalidEntry(logSize: Int64) -> Int {
    for i in 0..<count {
      if Int64(positions[i]) >= logSize { return i }
      if i > 0 && (relativeOffsets[i] <= relativeOffsets[i - 1] || positions[i] <= positions[i - 1]) { return i }
    }
    return count
  }

  /// Keeps the entries whose batch starts before `position`.
  func truncate(toPositionsBelow position: Int64) throws(LogError) {
    var keep = 0
    while keep < count && Int64(positions[keep]) < position { keep += 1 }
    try truncate(toEntries: keep)
  }

  func truncate(toEntries keep: Int) throws(LogError) {
    relativeOffsets.removeSubrange(keep...)
    positions.removeSubrange(keep...)
    try file.truncate(toEntries: keep)
  }
}

/// The time index (`.timeindex`), as Kafka lays it out: 12-byte big-endian entries of
/// `timestamp: Int64` (the largest timestamp so far in the segment) and `relativeOffset: UInt32`
/// (the offset of the record that has it, minus the base offset). Timestamps strictly increase.
final class TimeIndex {
  static let entrySize = 12
  let file: IndexFile
  private(set) var timestamps: [Int64] = []
  private(set) var relativeOffsets: [UInt32] = []

  init(path: String) throws(LogError) {
    file = try IndexFile(path: path, entrySize: Self.entrySize)
    let bytes = try file.readAll()
    let n = bytes.count / Self.entrySize
    let p = UnsafeRawPointer(bytes.base)
    for i in 0..<n {
      timestamps.append(p.loadBigEndian(at: i * 12, as: Int64.self))
      relativeOffsets.append(p.loadBigEndian(at: i * 12 + 8, as: UInt32.self))
    }
  }

  var count: Int { timestamps.count }
  var lastTimestamp: Int64? { timestamps.last }

  /// Adds an entry when `timestamp` is above the last one (Kafka's `maybeAppend`).
  func maybeAppend(timestamp: Int64, relativeOffset: UInt32) {
    if let last = timestamps.last, timestamp <= last { return }
    if let last = relativeOffsets.last, relativeOffset < last { return }
    timestamps.append(timestamp)
    relativeOffsets.append(relativeOffset)
    file.appendEntry { b in
      b.appendBigEndian(timestamp)
      b.appendBigEndian(relativeOffset)
    }
  }

  /// The offset to start scanning at for the first record with a timestamp at or after `target`:
  /// the last entry whose timestamp is below it (every record up to it is below `target`).
  func lookup(_ target: Int64) -> UInt32? {
    var lo = 0
    var hi = timestamps.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if timestamps[mid] < target { lo = mid + 1 } else { hi = mid }
    }
    return lo == 0 ? nil : relativeOffsets[lo - 1]
  }

  func firstInvalidEntry(relativeEnd: UInt32) -> Int {
    for i in 0..<count {
      if relativeOffsets[i] >= relativeEnd { return i }
      if i > 0 && (timestamps[i] <= timestamps[i - 1] || relativeOffsets[i] < relativeOffsets[i - 1]) { return i }
    }
    return count
  }

  func truncate(toOffsetsBelow relativeOffset: UInt32) throws(LogError) {
    var keep = 0
    while keep < count && relativeOffsets[keep] < relativeOffset { keep += 1 }
    try truncate(toEntries: keep)
  }

  func truncate(toEntries keep: Int) throws(LogError) {
    timestamps.removeSubrange(keep...)
    relativeOffsets.removeSubrange(keep...)
    try file.truncate(toEntries: keep)
  }
}
