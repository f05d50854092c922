import Foundation
import Testing
import WeirTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// The fault suite, disk half: a data directory on a small tmpfs that really fills up (the test
/// mounts it, and skips saying why where it cannot), and an idle daemon that must write nothing.
@Suite(.serialized) struct FaultDiskTests {
  /// ENOSPC with `min_free: 0`: the log refuses records (`reject_new`), SQLite's writes use the
  /// reserve, the daemon keeps serving with `/readyz` 503, and once space returns everything the
  /// devices published comes in.
  @Test func aFullDiskBackPressuresAndRecoversWithoutLosingAnything() async throws {
    guard let disk = SmallDisk(megabytes: 64) else {
      print("skipped: cannot mount a tmpfs here (needs root and mount(2)); the full-disk path is not exercised")
      return
    }
    let h = try FaultHarness(dataDirectory: disk.path + "/data")
    let topics =
      "telemetry: {partitions: 2, fsync: interval, fsync_interval: 20ms, max_age: forever, on_full: reject_new, segment_bytes: 1MiB}"
    try h.configure(topics: topics)
    try await h.start()
    let total = 4000
    let publisher = try h.publish((0..<total).map { FaultHarness.Message.reading($0, device: "dev-\($0 % 5)", pad: 2000) })
    // Another process takes the whole disk while the gateway writes: its writes meet ENOSPC.
    try await Task.sleep(for: .milliseconds(500))
    try disk.fill(leaving: 0)
    let full = await eventually(timeout: 60) {
      let ready = await h.readyz()
      return ready.status == 503 && ready.body.contains("full")
    }
    #expect(full, "\(h.output)")
    try await Task.sleep(for: .seconds(3))
    #expect(h.isRunning, "the daemon stopped on a full disk:\n\(h.output)")
    #expect(await h.metric("weir_log_full") == 1)

    // Space returns.
    try FileManager.default.removeItem(atPath: disk.path + "/filler")
    try await publisher.finish(timeout: 180)
    let back = await eventually(timeout: 60) { await h.readyz().status == 200 }
    let readiness = await h.readyz().body
    #expect(back, "\(readiness)")
    await h.waitUntilQuiet("weir_ingest_records_total")
    #expect(h.isRunning)
    #expect(await h.stop() == 0, "\(h.output)")
    let present = Set(try h.sequences())
    let missing = publisher.acked.subtracting(present)
    #expect(publisher.acked.count == total)
    #expect(missing.isEmpty, "\(missing.count) acknowledged readings missing, e.g. \(missing.sorted().prefix(10))")
  }

  /// The same under `drop_oldest`: retention makes room by itself and ingest goes on; what it
  /// deleted is counted, and the newest readings are all there.
  @Test func aFullDiskUnderDropOldestDeletesOldSegmentsAndGoesOn() async throws {
    guard let disk = SmallDisk(megabytes: 48) else {
      print("skipped: cannot mount a tmpfs here (needs root and mount(2)); the full-disk path is not exercised")
      return
    }
    let h = try FaultHarness(dataDirectory: disk.path + "/data")
    let topics = "telemetry: {partitions: 1, fsync: interval, fsync_interval: 20ms, max_age: forever, segment_bytes: 1MiB}"
    try h.configure(topics: topics)
    try await h.start()
    try disk.fill(leaving: 20 << 20)
    let total = 12_000
    let publisher = try h.publish((0..<total).map { FaultHarness.Message.reading($0, pad: 2000) })
    try await publisher.finish(timeout: 180)
    await h.waitUntilQuiet("weir_ingest_records_total")
    #expect(h.isRunning, "\(h.output)")
    let ready = await h.readyz()
    #expect(ready.status == 200, "\(ready.body)")
    #expect(await h.metric("weir_log_retention_deleted_records_total") > 0)
    #expect(await h.stop() == 0)
    let present = Set(try h.sequences())
    // Retention deletes from the head: whatever is kept is one contiguous newest stretch.
    let newest = present.max() ?? -1
    #expect(newest == total - 1)
    #expect(present.count > 1000)
    #expect(present == Set((total - present.count)..<total), "a hole in the kept readings")
  }

  /// An idle daemon (rules loaded, nothing arriving) leaves every file of its data directory as it
  /// was: no recovery point, checkpoint or cursor is saved when it did not change.
  @Test func anIdleDaemonWritesNothing() async throws {
    let h = try FaultHarness()
    let rules = DaemonHarness.repository + "/config/rules"
    try h.configure(rest: "rules:\n  files: [\(rules)/motors.sql, \(rules)/pumps.sql]")
    try await h.start()
    let publisher = try h.publish((0..<200).map { FaultHarness.Message.reading($0) })
    try await publisher.finish()
    await h.waitUntilQuiet("weir_ingest_records_total")
    try await Task.sleep(for: .seconds(7))  // the first checkpoint after the records
    let before = try Self.snapshot(h.dataDirectory)
    try await Task.sleep(for: .seconds(12))
    let after = try Self.snapshot(h.dataDirectory)
    let changed = after.keys.filter { before[$0] != after[$0] }.sorted()
    #expect(changed.isEmpty, "written while idle: \(changed)")
    #expect(await h.stop() == 0)
  }

  /// Every file's size and modification time.
  static func snapshot(_ directory: String) throws -> [String: String] {
    var out: [String: String] = [:]
    let files = FileManager.default.enumerator(atPath: directory)
    while let name = files?.nextObject() as? String {
      // FileManager rather than stat(2): which module's copy of glibc's `struct stat` Swift sees
      // depends on the modules loaded, and MemberImportVisibility refuses the others' members.
      guard let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/" + name),
        attributes[.type] as? FileAttributeType == .typeRegular, let size = attributes[.size] as? NSNumber,
        let modified = attributes[.modificationDate] as? Date
      else { continue }
      out[name] = "\(size) \(modified.timeIntervalSince1970)"
    }
    return out
  }
}
