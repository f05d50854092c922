import WeirCore

#if canImport(Glibc)
  import Glibc
#endif

/// One thing wrong in a data directory.
public struct LogProblem: Sendable, CustomStringConvertible {
  public var topic: String
  public var partition: Int32
  public var file: String
  public var offset: Int64?
  public var position: Int64?
  public var message: String

  public var description: String {
    var s = "topic=\(topic) partition=\(partition) file=\(file)"
    if let offset { s += " offset=\(offset)" }
    if let position { s += " position=\(position)" }
    return s + ": " + message
  }
}

/// What ``LogVerifier`` looked at.
public struct VerifySummary: Sendable {
  public var partitions = 0
  public var segments = 0
  public var batches = 0
  public var records: Int64 = 0
  public var bytes: Int64 = 0
  public var problems: [LogProblem] = []
}

/// Checks every batch (framing, CRC, offsets following on across segments) and every index
/// entry of a data directory, read-only. Meant for a stopped log: a daemon writing meanwhile may
/// show a batch in flight at the end of an active segment.
public enum LogVerifier {
  public static func verify(dataDirectory: String, progress: (String) -> Void = { _ in }) throws(LogError)
    -> VerifySummary
  {
    let files = SegmentFiles(dataDirectory: dataDirectory)
    var summary = VerifySummary()
    for (topic, partition) in try files.partitions() {
      summary.partitions += 1
      let dir = files.directory(topic, partition)
      let bases = try files.segmentBases(topic: topic, partition: partition)
      var expected: Int64? = bases.first
      for (i, base) in bases.enumerated() {
        summary.segments += 1
        let name = Segment.fileName(base, ".log")
        progress("\(topic)-\(partition)/\(name)")
        func problem(_ message: String, offset: Int64? = nil, position: Int64? = nil, file: String = name) {
          summary.problems.append(
            LogProblem(
              topic: topic, partition: partition, file: file, offset: offset, position: position, message: message))
        }
        if let e = expected, e != base {
          problem("segment starts at offset \(base) but the previous one ends at \(e)", offset: base)
        }
        let segment: SegmentCheck
        do {
          segment = try SegmentCheck.run(directory: dir, baseOffset: base)
        } catch {
          problem("\(error)")
          expected = nil
          continue
        }
        summary.batches += segment.batches.count
        summary.records += segment.records
        summary.bytes += segment.validEnd
        for (position, offset, message) in segment.problems {
          problem(message + (i < bases.count - 1 ? " (in a sealed segment)" : ""), offset: offset, position: position)
        }
        for p in segment.indexProblems { problem(p, file: Segment.fileName(base, ".index")) }
        for p in segment.timeIndexProblems { problem(p, file: Segment.fileName(base, ".timeindex")) }
        expected = segment.nextOffset
      }
    }
    return summary
  }
}

/// The checks of one segment's files.
struct SegmentCheck {
  /// (position, baseOffset, lastOffset, maxTimestamp) of every valid batch.
  var batches: [(position: Int64, base: Int64, last: Int64, maxTimestamp: Int64)] = []
  var records: Int64 = 0
  var validEnd: Int64 = 0
  var nextOffset: Int64
  /// (position, offset, what): a batch that fails its checks is reported and skipped by its
  /// framing; broken framing ends the scan.
  var problems: [(Int64, Int64, String)] = []
  var indexProblems: [String] = []
  var timeIndexProblems: [String] = []

  static func run(directory: String, baseOffset: Int64) throws(LogError) -> SegmentCheck {
    var check = SegmentCheck(nextOffset: baseOffset)
    let path = directory + "/" + Segment.fileName(baseOffset, ".log")
    let fd = try Posix.open(path, O_RDONLY)
    defer { Posix.close(fd) }
    var cursor = BatchFileCursor(
      fd: fd, path: path, from: 0, to: try Posix.fileSize(fd, path), buffer: ByteBuffer(capacity: 1 << 20))
    // A batch that fails its checks is reported and skipped by its framing; broken framing ends it.
    while let (batch, at) = try cursor.next() {
      if let p = batch.validate() {
        check.problems.append((at, check.nextOffset, p))
      } else if batch.baseOffset != check.nextOffset {
        check.problems.append(
          (at, check.nextOffset, "batch base offset \(batch.baseOffset), expected \(check.nextOffset)"))
      }
      check.batches.append((at, batch.baseOffset, batch.lastOffset, batch.maxTimestamp))
      check.records += Int64(batch.recordCount)
      check.nextOffset = batch.nextOffset
    }
    if let reason = cursor.stopReason { check.problems.append((cursor.position, check.nextOffset, reason)) }
    return check.finish(directory: directory, baseOffset: baseOffset, end: cursor.position)
  }

  private func finish(directory: String, baseOffset: Int64, end: Int64) -> SegmentCheck {
    var check = self
    check.validEnd = end
    check.checkIndexes(directory: directory, baseOffset: baseOffset)
    return check
  }

  private mutating func checkIndexes(directory: String, baseOffset: Int64) {
    let starts = Dictionary(batches.map { ($0.position, $0) }, uniquingKeysWith: { a, _ in a })
    let byLast = Dictionary(batches.map { ($0.last, $0) }, uniquingKeysWith: { a, _ in a })
    let index: [[UInt8]]
    switch Self.readEntries(directory + "/" + Segment.fileName(baseOffset, ".index"), size: 8) {
    case .success(let entries): index = entries
    case .failure(let message):
      indexProblems.append(message.message)
      return
    }
    var previous: (UInt32, UInt32)?
    for (i, entry) in index.enumerated() {
      let rel = UInt32(bigEndian: entry.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })
      let pos = UInt32(bigEndian: entry.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self) })
      if let (pr, pp) = previous, rel <= pr || pos <= pp {
        indexProblems.append("entry \(i) (offset \(baseOffset + Int64(rel)), position \(pos)) does not increase")
      }
      if let batch = starts[Int64(pos)] {
        if batch.last != baseOffset + Int64(rel) {
          indexProblems.append(
            "entry \(i) maps offset \(baseOffset + Int64(rel)) to position \(pos), whose batch ends at \(batch.last)")
        }
      } else {
        indexProblems.append("entry \(i) points at position \(pos), which is not the start of a valid batch")
      }
      previous = (rel, pos)
    }
    let times: [[UInt8]]
    switch Self.readEntries(directory + "/" + Segment.fileName(baseOffset, ".timeindex"), size: 12) {
    case .success(let entries): times = entries
    case .failure(let message):
      timeIndexProblems.append(message.message)
      return
    }
    var runningMax = Int64.min
    var maxAt: [Int64: Int64] = [:]  // last offset of a batch -> max timestamp up to it
    for b in batches {
      runningMax = max(runningMax, b.maxTimestamp)
      maxAt[b.last] = runningMax
    }
    var previousTime: Int64?
    for (i, entry) in times.enumerated() {
      let ts = Int64(bigEndian: entry.withUnsafeBytes { $0.loadUnaligned(as: Int64.self) })
      let rel = UInt32(bigEndian: entry.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self) })
      let offset = baseOffset + Int64(rel)
      if let p = previousTime, ts <= p { timeIndexProblems.append("entry \(i) timestamp \(ts) does not increase") }
      if byLast[offset] == nil {
        timeIndexProblems.append("entry \(i) names offset \(offset), which ends no valid batch")
      } else if let m = maxAt[offset], ts != m, byLast[offset]!.maxTimestamp != ts {
        timeIndexProblems.append("entry \(i) timestamp \(ts) is not the largest up to offset \(offset) (\(m))")
      }
      previousTime = ts
    }
  }

  struct Unreadable: Error { var message: String }

  static func readEntries(_ path: String, size: Int) -> Result<[[UInt8]], Unreadable> {
    guard let fd = try? Posix.open(path, O_RDONLY) else { return .failure(Unreadable(message: "missing")) }
    defer { Posix.close(fd) }
    guard let length = try? Posix.fileSize(fd, path) else { return .failure(Unreadable(message: "unreadable")) }
    if length == 0 { return .success([]) }
    var bytes = [UInt8](repeating: 0, count: Int(length))
    let n = bytes.withUnsafeMutableBytes { (try? Posix.pread(fd, $0.baseAddress!, Int(length), at: 0, path)) ?? -1 }
    guard n == Int(length) else { return .failure(Unreadable(message: "unreadable")) }
    if n % size != 0 {
      return .failure(Unreadable(message: "size \(n) is not a multiple of the \(size)-byte entry (truncated)"))
    }
    return .success(stride(from: 0, to: n, by: size).map { Array(bytes[$0..<$0 + size]) })
  }
}
