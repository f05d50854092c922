import Foundation
import Gateway
public import PartitionedLog
import Payload
import WeirCore

/// The writer that crash tests and the recovery benchmark kill with SIGKILL: appends batches and
/// reports each acknowledged offset on stdout, unbuffered, so the killer knows what was acked.
public enum DebugAppender {
  public static func run(
    directory: String, topic: String, partitions: Int, fsync: FsyncPolicy, batch: Int, recordBytes: Int,
    records: Int, bytes: Int64, printAcks: Bool, hold: Bool
  ) throws {
    let store = try LogStore.open(directory: directory, options: LogOptions(minFreeBytes: 0))
    let t = try store.createTopic(
      topic, config: TopicConfig(partitions: partitions, fsync: fsync, segmentBytes: 128 << 20, maxAgeMs: nil))
    let pool = ValuePool(recordBytes: recordBytes, variants: 256)
    let builder = RecordBatchBuilder()
    var appended = 0
    var appendedBytes: Int64 = 0
    var announced = false
    var timestamp = Int64(Date().timeIntervalSince1970 * 1000)
    while records == 0 || appended < records {
      let p = appended / batch % partitions
      builder.reset()
      for i in 0..<batch {
        pool.withRecord(appended + i) { k, v in builder.append(timestamp: timestamp, key: k, value: v) }
        timestamp += 1
      }
      let result = try t.partitions[p].append(builder)
      appended += batch
      appendedBytes += Int64(builder.byteCount)
      if printAcks { writeLine("acked \(p) \(result.lastOffset)") }
      if bytes > 0 && appendedBytes >= bytes && !announced {
        try store.flush()
        writeLine("filled \(appendedBytes)")
        announced = true
        if !hold { break }
      }
    }
    try store.close()
    writeLine("closed")
  }

  static func writeLine(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { buffer in
      var done = 0
      while done < buffer.count {
        let n = write(1, buffer.baseAddress! + done, buffer.count - done)
        if n <= 0 { return }
        done += n
      }
    }
  }
}

/// `weir bench recovery`: a child fills a log and keeps appending; it is killed with SIGKILL in
/// the middle of a write; the reopen (recovery of the tail) is timed.
public enum RecoveryBenchmark {
  public static func run(
    directory: String, bytes: Int64, recordBytes: Int, progress: @escaping @Sendable (String) -> Void
  )
    throws -> String
  {
    let dir = directory + "/weir-bench-recovery-\(getpid())"
    try? FileManager.default.removeItem(atPath: dir)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let child = Process()
    child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    child.arguments = [
      "debug", "append", "--dir", dir, "--fsync", "interval", "--batch", "1000", "--record-bytes", "\(recordBytes)",
      "--bytes", "\(bytes)", "--hold",
    ]
    let pipe = Pipe()
    child.standardOutput = pipe
    progress("filling \(bytes) bytes in a child process")
    try child.run()
    var line = ""
    let handle = pipe.fileHandleForReading
    while !line.hasPrefix("filled") {
      let data = handle.availableData
      if data.isEmpty { throw BenchmarkError("the writer exited before filling the log") }
      line += String(decoding: data, as: UTF8.self)
      if let nl = line.firstIndex(of: "\n"), !line.hasPrefix("filled") { line = String(line[line.index(after: nl)...]) }
    }
    // Let it append a little more so the kill lands mid-write, then kill -9.
    usleep(200_000)
    kill(child.processIdentifier, SIGKILL)
    child.waitUntilExit()
    progress("writer killed; reopening")
    let start = Monotonic.seconds()
    let store = try LogStore.open(directory: dir)
    let seconds = Monotonic.seconds() - start
    let truncated = store.recoveryEvents.reduce(Int64(0)) { $0 + $1.truncatedBytes }
    let total = store.totalBytes
    let epoch = store.epoch
    let unclean = store.recoveredFromUncleanStop
    try store.close()
    let json = JSONWriter.object()
    json.add("benchmark", "recovery")
    json.add("log_bytes", total)
    json.add("record_bytes", recordBytes)
    json.add("reopen_seconds", seconds)
    json.add("truncated_bytes", truncated)
    json.add("unclean", unclean)
    json.add("epoch", Int64(epoch))
    return json.result
  }
}
