import Foundation
import WeirCore

@testable import PartitionedLog

/// A partition directory whose segment files are the fuzzer's bytes, reopened as after a crash.
/// `@unchecked Sendable`: libFuzzer calls the harness from one thread; nothing is shared.
private final class SegmentBench: @unchecked Sendable {
  static let shared = SegmentBench()
  let directory =
    (FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm/" : NSTemporaryDirectory())
    + "weir-fuzz-segment-\(getpid())"
  let buffer = ByteBuffer(capacity: 1 << 20)

  /// Bytes 0-3: the lengths (in 256-byte units, low 2 bits of each) of the `.index` and
  /// `.timeindex` parts and a recovery point position; then `.log`, `.index`, `.timeindex`.
  func run(_ data: UnsafeRawBufferPointer) {
    guard data.count >= 4 else { return }
    try? FileManager.default.removeItem(atPath: directory)
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let indexBytes = min(Int(data[0]) * 8, data.count - 4)
    let timeBytes = min(Int(data[1]) * 12, data.count - 4 - indexBytes)
    let recoveryAt = Int64(data[2]) << 6
    let sealedNext = Int64(data[3]) * 37
    let body = UnsafeRawBufferPointer(rebasing: data[4...])
    let log = UnsafeRawBufferPointer(rebasing: body[(indexBytes + timeBytes)...])
    write(log, ".log")
    write(UnsafeRawBufferPointer(rebasing: body[0..<indexBytes]), ".index")
    write(UnsafeRawBufferPointer(rebasing: body[indexBytes..<(indexBytes + timeBytes)]), ".timeindex")

    // As a sealed segment ending at some offset: opened (indexes checked, rebuilt if bad), read.
    if let sealed = try? Segment.openSealed(
      directory: directory, baseOffset: 0, nextOffset: sealedNext, indexIntervalBytes: 64, nowMs: 0)
    {
      readAll(sealed)
      _ = sealed.startPosition(forTimestamp: 1_700_000_000_000)
    }
    // As the active segment after a crash, from a recovery point that may lie anywhere.
    write(log, ".log")
    guard
      let active = try? Segment.openActive(directory: directory, baseOffset: 0, indexIntervalBytes: 64, nowMs: 0)
    else { return }
    let point = RecoveryPoint(segmentBase: 0, position: recoveryAt, offset: Int64(data[2]))
    guard (try? active.recover(from: point)) != nil else { return }
    // Recovery trusts what lies before its point and validates the rest: from there on, what it
    // kept must be whole, valid batches whose offsets follow on.
    let validated = recoveryAt <= Int64(log.count) ? recoveryAt : 0
    var expected = validated == recoveryAt ? point.offset : 0
    var cursor = BatchFileCursor(fd: active.fd, path: active.logPath, from: validated, to: active.size, buffer: buffer)
    while let (batch, _) = try? cursor.next() {
      precondition(batch.validate() == nil, "recovery kept an invalid batch")
      precondition(batch.baseOffset == expected, "recovery kept a batch at offset \(batch.baseOffset), not \(expected)")
      expected = batch.nextOffset
      readRecords(batch)
    }
    precondition(cursor.position == active.size, "recovery kept a partial batch")
    _ = try? SegmentCheck.run(directory: directory, baseOffset: 0)
  }

  private func write(_ bytes: UnsafeRawBufferPointer, _ suffix: String) {
    _ = FileManager.default.createFile(atPath: directory + "/" + Segment.fileName(0, suffix), contents: Data(bytes))
  }

  private func readAll(_ segment: Segment) {
    buffer.removeAll()
    guard (try? segment.read(into: buffer, at: 0, count: Int(min(segment.size, 1 << 20)))) != nil else { return }
    var scanner = BatchScanner(buffer.bytes)
    while let batch = scanner.next() {
      if batch.validate() == nil { readRecords(batch) }
    }
  }

  /// Every field of every record, headers included, as a consumer reads them.
  private func readRecords(_ batch: RecordBatchView) {
    var records = batch.records
    while let record = records.next() {
      var headers = record.headers
      while headers.next() != nil {}
      _ = record.header("weir.error")
    }
  }
}

extension FuzzTargets {
  /// Segment files as a crash or a damaged disk leaves them, through the recovery and reading
  /// paths: sealed-segment index checks, tail recovery from a recovery point, batch and record
  /// framing, headers, `weir log verify`'s segment check.
  static func segmentRecovery(_ data: UnsafeRawBufferPointer) {
    SegmentBench.shared.run(data)
  }
}
