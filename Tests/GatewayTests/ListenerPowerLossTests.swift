import Foundation
import Testing
import WeirTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// `weir run` with its own MQTT listener losing power at random moments while a paho-mqtt device
/// publishes at QoS 1: after the last restart, every sequence number the listener PUBACKed is in
/// the log. LazyFS cannot be built here, so the power cut goes through the log's own seam: the
/// daemon journals each fdatasync (`WEIR_TEST_SYNC_JOURNAL`), and a cut is SIGKILL followed by
/// truncating every log file to the size its last fdatasync made durable.
@Suite(.serialized) struct ListenerPowerLossTests {
  @Test(arguments: ["always", "interval"])
  func powerLossLosesNoAcknowledgedMessage(_ fsync: String) async throws {
    let (h, port) = try ListenerCrashTests.harness(fsync: fsync)
    try await h.startJournalingSyncs()
    // Paced so that the device is still publishing at the last cut: unpaced it is done in 3 s.
    let total = 6_000
    let started = Date()
    let publisher = try h.publish((0..<total).map { .reading($0) }, window: 200, ratePerSecond: 600, port: port)
    var random = SystemRandomNumberGenerator()
    var cuts: [PowerCut] = []
    for _ in 0..<4 {
      try await Task.sleep(for: .milliseconds(Int.random(in: 300...1200, using: &random)))
      cuts.append(try await h.cutPower(publisherRunning: publisher.process.isRunning))
      try await h.startJournalingSyncs()
    }
    try await publisher.finish(timeout: 120)
    _ = await h.stop()
    let journal = try h.syncJournal()
    print(
      "listener power-loss test (\(fsync)): \(total) messages in \(Int(Date().timeIntervalSince(started)))s, "
        + "\(journal.lines) fsyncs journaled; cuts dropped "
        + cuts.map(\.summary).joined(separator: ", "))
    #expect(journal.lines > 0, "the daemon journaled its fsyncs")
    #expect(cuts.allSatisfy { $0.publisherRunning }, "every cut came while the device was publishing")
    if fsync == "interval" {
      #expect(cuts.contains { $0.logBytes > 0 }, "at least one cut dropped unsynced log data: \(cuts.map(\.summary))")
    }
    let acked = publisher.acked
    #expect(acked.count == total, "the device finished with every message acknowledged")
    let inLog = Set(try h.sequences())
    let lost = acked.subtracting(inLog)
    #expect(
      lost.isEmpty,
      "\(lost.count) acknowledged messages are not in the log: \(lost.sorted().prefix(10))\n\(h.allOutput.suffix(3000))"
    )
  }
}

/// What one power cut dropped: bytes of segment data (`.log`) and of index files, and the files cut.
private struct PowerCut {
  var logBytes: Int64 = 0
  var indexBytes: Int64 = 0
  var files = 0
  var publisherRunning: Bool

  var summary: String { "\(logBytes) log + \(indexBytes) index bytes in \(files) files" }
}

extension FaultHarness {
  fileprivate var syncJournalPath: String { directory + "/sync-journal" }

  /// `start()` with the fsync journal on: the same `weir run`, and `WEIR_TEST_SYNC_JOURNAL` in
  /// its environment only.
  fileprivate func startJournalingSyncs() async throws {
    runs += 1
    let child = try ChildProcess(
      DaemonHarness.weir, ["run", "--config", configPath], environment: ["WEIR_TEST_SYNC_JOURNAL": syncJournalPath],
      logPath: directory + "/weir-\(runs).log")
    daemon = child
    let up = await eventually(timeout: 30) {
      guard child.isRunning else { return true }
      return await readyz().status == 200
    }
    guard up, child.isRunning else { throw BrokerError("weir did not start:\n\(child.output)") }
  }

  /// The last size each file was fdatasynced at (real paths), and the journal's line count.
  fileprivate func syncJournal() throws -> (synced: [String: Int64], lines: Int) {
    let text = (try? String(contentsOfFile: syncJournalPath, encoding: .utf8)) ?? ""
    var synced: [String: Int64] = [:]
    var lines = 0
    for line in text.split(separator: "\n") {
      let fields = line.split(separator: "\t", maxSplits: 1)
      guard fields.count == 2, let size = Int64(fields[0]) else { throw BrokerError("bad journal line: \(line)") }
      synced[Self.realPath(String(fields[1]))] = size
      lines += 1
    }
    return (synced, lines)
  }

  /// Kills the daemon, then leaves of each log file only what its last fdatasync made durable
  /// (nothing when it was never synced), as a power loss would. SQLite's files (top level) are left alone
  /// (it fsyncs them itself, `synchronous=FULL`), and so is the preallocated metadata reserve.
  fileprivate func cutPower(publisherRunning: Bool) async throws -> PowerCut {
    await kill9()
    let synced = try syncJournal().synced
    var cut = PowerCut(publisherRunning: publisherRunning)
    let untouched: Set<String> = ["weir.db", "weir.db-wal", "weir.db-shm", "weir.reserve"]
    let files = FileManager.default.enumerator(atPath: dataDirectory)
    while let relative = files?.nextObject() as? String {
      guard !untouched.contains(relative) else { continue }
      let path = Self.realPath(dataDirectory + "/" + relative)
      guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
        attributes[.type] as? FileAttributeType == .typeRegular, let size = (attributes[.size] as? NSNumber)?.int64Value
      else { continue }
      let durable = min(size, synced[path] ?? 0)
      guard durable < size else { continue }
      guard truncate(path, off_t(durable)) == 0 else {
        throw BrokerError("truncate \(path): \(String(cString: strerror(errno)))")
      }
      cut.files += 1
      if path.hasSuffix(".log") { cut.logBytes += size - durable } else { cut.indexBytes += size - durable }
    }
    return cut
  }

  fileprivate static func realPath(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
  }
}
