import Foundation
#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif
import PartitionedLog
import Testing
import WeirTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// The fault suite, log half: damage under a consumer. The rules must step over what they cannot
/// read (counted, logged once) and never stop the daemon, and must follow the log when recovery
/// cuts it below their checkpoint.
@Suite(.serialized) struct FaultLogTests {
  static let rule = """
    CREATE RULE busy AS
    SELECT device, count(v) AS n FROM telemetry
    GROUP BY device, TUMBLING(1m)
    HAVING n > 1000000
    RAISE ALERT 'warning';
    """

  static let topics =
    "telemetry: {partitions: 1, fsync: interval, fsync_interval: 20ms, max_age: forever, segment_bytes: 32KiB}"

  func withRules(_ h: FaultHarness) throws {
    try Self.rule.write(toFile: h.directory + "/busy.sql", atomically: true, encoding: .utf8)
    try h.configure(topics: Self.topics, rest: "rules:\n  files: [\(h.directory)/busy.sql]")
  }

  /// Records the rules were handed since start, and how many of them they dropped as already seen.
  func rulesStats(_ h: FaultHarness) async -> (processed: Int64, duplicates: Int64) {
    guard let data = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(h.httpPort)/api/v1/rules")!).0,
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { return (-1, -1) }
    return (
      (object["records_processed"] as? NSNumber)?.int64Value ?? -1, (object["duplicates_skipped"] as? NSNumber)?.int64Value ?? -1
    )
  }

  func rulesProcessed(_ h: FaultHarness) async -> Int64 { await rulesStats(h).processed }

  /// One flipped bit in a sealed segment the rules have not read yet: the daemon starts, the rules
  /// skip that batch (counted in `weir_consumer_skipped_records_total`) and read the rest.
  @Test func aFlippedBitInASealedSegmentIsSkippedByTheRules() async throws {
    let h = try FaultHarness()
    try h.configure(topics: Self.topics)
    try await h.start()
    let total = 2000
    let publisher = try h.publish((0..<total).map { FaultHarness.Message.reading($0, pad: 100) })
    try await publisher.finish()
    await h.waitUntilQuiet("weir_ingest_records_total")
    #expect(await h.stop() == 0)

    // Flip a bit in the value bytes of the first sealed segment.
    let dir = h.dataDirectory + "/log/telemetry-0"
    let segments = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".log") }.sorted()
    try #require(segments.count >= 3, "segments: \(segments)")
    let victim = dir + "/" + segments[1]
    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: victim)))
    bytes[bytes.count / 2] ^= 0x04
    try Data(bytes).write(to: URL(fileURLWithPath: victim))

    try withRules(h)
    try await h.start()
    let done = await eventually(timeout: 30) {
      let skipped = await h.metric("weir_consumer_skipped_records_total", ["consumer=\"rules\"", "reason=\"corrupt\""])
      let processed = await rulesProcessed(h)
      return skipped > 0 && processed > 0
    }
    #expect(done, "\(h.output)")
    try await Task.sleep(for: .seconds(2))
    let skipped = await h.metric("weir_consumer_skipped_records_total", ["consumer=\"rules\"", "reason=\"corrupt\""])
    let processed = await rulesProcessed(h)
    #expect(h.isRunning, "\(h.output)")
    #expect(await h.readyz().status == 200)
    #expect(skipped > 0 && skipped < 500, "skipped \(skipped)")
    #expect(processed + Int64(skipped) == Int64(total), "processed \(processed), skipped \(skipped)")
    #expect(h.output.components(separatedBy: "rules skipped records").count == 2, "logged once")
    #expect(await h.stop() == 0)
  }

  /// Recovery truncates the log below the rules' checkpoint: the daemon starts, the rules carry on
  /// from the new log end and process the records that reuse the lost offsets.
  @Test func aTornTailBelowTheRulesCheckpointIsFollowed() async throws {
    let h = try FaultHarness()
    try withRules(h)
    try await h.start()
    let publisher = try h.publish((0..<1000).map { FaultHarness.Message.reading($0, pad: 100) })
    try await publisher.finish()
    let read = await eventually(timeout: 30) { await rulesProcessed(h) >= 1000 }
    #expect(read, "\(h.output)")
    #expect(await h.stop() == 0)  // the final checkpoint: the rules are at offset 1000

    // Cut the active segment in the middle of a batch, as a disk that lost its last writes would.
    let dir = h.dataDirectory + "/log/telemetry-0"
    let active = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".log") }.sorted().last!
    let path = dir + "/" + active
    let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
    try #require(truncate(path, off_t(size / 2)) == 0)

    try await h.start()
    #expect(h.isRunning, "\(h.output)")
    let more = try h.publish((1000..<1300).map { FaultHarness.Message.reading($0, pad: 100) })
    try await more.finish()
    let caughtUp = await eventually(timeout: 30) { await rulesProcessed(h) >= 300 }
    let stats = await rulesStats(h)
    #expect(caughtUp && stats.duplicates == 0, "the rules skipped the reused offsets: \(stats)\n\(h.output)")
    #expect(h.output.contains("the log ends before the rules' position"))
    #expect(await h.readyz().status == 200)
    #expect(await h.stop() == 0)
  }
}
