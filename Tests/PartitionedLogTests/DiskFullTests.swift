import Foundation
import Testing

@testable import PartitionedLog

#if canImport(Glibc)
  import Glibc
#endif

/// A file system that really runs out of space (a tmpfs the test mounts), with the free-space
/// estimate left stale so that writes meet ENOSPC itself: the log must call it full, not broken.
@Suite(.serialized) struct DiskFullTests {
  /// A tmpfs of `megabytes`, or nil (the test then says it skipped) where mounting is not allowed.
  final class Disk {
    let path: String
    init?(megabytes: Int) {
      path = NSTemporaryDirectory() + "weir-enospc-\(UUID().uuidString)"
      try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
      guard mount("tmpfs", path, "tmpfs", 0, "size=\(megabytes)m") == 0 else {
        try? FileManager.default.removeItem(atPath: path)
        return nil
      }
    }
    deinit {
      umount2(path, Int32(MNT_DETACH))
      try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes a file until `leave` bytes are free.
    func fill(_ name: String, leaving leave: Int64) {
      let fd = open(path + "/" + name, O_WRONLY | O_CREAT, 0o644)
      defer { close(fd) }
      let chunk = [UInt8](repeating: 1, count: 64 << 10)
      while ((try? Posix.freeBytes(path)) ?? 0) > leave + Int64(chunk.count), write(fd, chunk, chunk.count) > 0 {}
    }
  }

  /// The estimate is measured only at open (retention checks once an hour), so appends run into
  /// ENOSPC. They fail as `.full`, nothing is fenced, the partition keeps every record it
  /// acknowledged, cursors still commit (from the reserve), and when space returns the log takes
  /// records again after a retention pass.
  @Test func enospcIsAFullLogThatRecovers() throws {
    guard let disk = Disk(megabytes: 40) else {
      print("skipped: cannot mount a tmpfs here (needs root); ENOSPC is not exercised")
      return
    }
    let options = LogOptions(minFreeBytes: 0, retentionCheckMs: 3_600_000, recoveryPointSaveMs: 3_600_000)
    let store = try LogStore.open(directory: disk.path + "/data", options: options)
    let p = try store.createTopic("t", config: TopicConfig(segmentBytes: 1 << 20, maxAgeMs: nil, onFull: .rejectNew))
      .partitions[0]
    disk.fill("filler", leaving: 2 << 20)
    var acknowledged = 0
    var failure: LogError?
    let builder = RecordBatchBuilder()
    while failure == nil && acknowledged < 1_000_000 {
      builder.reset()
      for i in 0..<50 {
        let value = Array("{\"seq\":\(acknowledged + i),\"pad\":\"\(String(repeating: "y", count: 400))\"}".utf8)
        builder.append(timestamp: TestRecord.recent, key: nil, value: value)
      }
      do {
        try p.append(builder)
        acknowledged += 50
      } catch {
        failure = error
      }
    }
    #expect(failure?.code == .full, "\(String(describing: failure))")
    #expect(acknowledged > 1000, "the disk filled before any append")
    #expect(store.failure == nil, "a full disk fenced the partition")
    #expect(store.fullReason != nil)
    // The metadata database still takes a cursor: the reserve is given to it.
    try store.metadata.commit(cursor: "c", [("t", 0, Int64(acknowledged))], now: 0)
    #expect(store.metadata.cursor("c", topic: "t", partition: 0) == Int64(acknowledged))
    // Appends stay refused while the disk is full...
    #expect(throws: LogError.self) { try p.append(builder) }
    // ...and are taken again once space returns and retention has looked.
    try FileManager.default.removeItem(atPath: disk.path + "/filler")
    store.runRetention()
    #expect(store.fullReason == nil)
    try p.append(builder)
    acknowledged += 50
    try store.close()

    let reopened = try LogStore.open(directory: disk.path + "/data", options: options)
    let records = try reopened.partition("t", 0)!.readAll()
    #expect(records.count == acknowledged)
    #expect(records.map(\.0) == (0..<Int64(acknowledged)).map { $0 })
    #expect(reopened.metadata.cursor("c", topic: "t", partition: 0) == Int64(acknowledged - 50))
    try reopened.close()
  }
}
