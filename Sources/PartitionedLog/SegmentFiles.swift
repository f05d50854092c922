import WeirCore

#if canImport(Glibc)
  import Glibc
#endif

/// Read-only access to a data directory's segment files, for tools that must not change a log
/// (`weir log verify`, `weir log dump`) and may run beside a live daemon.
public struct SegmentFiles: Sendable {
  /// `<data_dir>/log`.
  public let logDirectory: String

  public init(dataDirectory: String) {
    logDirectory = dataDirectory + "/log"
  }

  /// Every `(topic, partition)` that has a directory, sorted.
  public func partitions() throws(LogError) -> [(topic: String, partition: Int32)] {
    var result: [(String, Int32)] = []
    for name in try Posix.listDirectory(logDirectory) {
      guard let dash = name.lastIndex(of: "-"), let id = Int32(name[name.index(after: dash)...]) else { continue }
      result.append((String(name[..<dash]), id))
    }
    return result.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
  }

  func directory(_ topic: String, _ partition: Int32) -> String { logDirectory + "/\(topic)-\(partition)" }

  /// Base offsets of a partition's segments, ascending.
  public func segmentBases(topic: String, partition: Int32) throws(LogError) -> [Int64] {
    try Posix.listDirectory(directory(topic, partition)).compactMap { name -> Int64? in
      name.hasSuffix(".log") ? Int64(name.dropLast(4)) : nil
    }.sorted()
  }

  /// Calls `body` with each whole batch from the one holding `offset` on, validating each, until
  /// `body` returns false or the data ends. Throws at the first invalid batch.
  public func forEachBatch(
    topic: String, partition: Int32, from offset: Int64, _ body: (RecordBatchView) throws -> Bool
  ) throws {
    let bases = try segmentBases(topic: topic, partition: partition)
    guard !bases.isEmpty else { return }
    let first = bases.lastIndex { $0 <= offset } ?? 0
    let buffer = ByteBuffer(capacity: 1 << 20)
    for base in bases[first...] {
      let name = Segment.fileName(base, ".log")
      let path = directory(topic, partition) + "/" + name
      let fd = try Posix.open(path, O_RDONLY)
      defer { Posix.close(fd) }
      var cursor = BatchFileCursor(fd: fd, path: path, from: 0, to: try Posix.fileSize(fd, path), buffer: buffer)
      while let (batch, position) = try cursor.next() {
        if let problem = batch.validate() {
          throw LogError(
            .corrupt, "\(topic)-\(partition)/\(name) offset \(batch.baseOffset) position \(position): \(problem)")
        }
        if batch.nextOffset > offset, try !body(batch) { return }
      }
      if let reason = cursor.stopReason {
        throw LogError(.corrupt, "\(topic)-\(partition)/\(name) position \(cursor.position): \(reason)")
      }
    }
  }
}
